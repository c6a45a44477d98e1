"""Random numbers: Generator, manual_seed, the RNG state, and the random factories and fills.

Each Generator wraps NumPy's PCG64. Streams are reproducible for a given seed but differ from
PyTorch's (PyTorch uses Mersenne Twister/Philox with its own transforms).
"""

from __future__ import annotations

import builtins

import numpy as np

from ._device import _default, as_device, move_array
from ._dtype import as_dtype, from_np, get_default_dtype, int64, scalar_name, to_np
from ._factory import _size, _size_args
from ._tensor import Tensor, _wrap

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
           "multinomial", "rand_like", "randn_like", "randint_like", "poisson", "fork_rng"]

_STATE_WORDS = 6  # state(2x64), inc(2x64), has_uint32, uinteger


class Generator:
    """A pseudo-random number generator (``ferrum.Generator(device='cpu')``)."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = 67280421310721
        self._npg = None  # numpy.random is imported on first use, to keep `import ferrum` light

    @property
    def _np(self) -> np.random.Generator:
        g = self._npg
        if g is None:
            g = self._npg = np.random.Generator(np.random.PCG64(self._seed))
        return g

    @_np.setter
    def _np(self, value) -> None:
        self._npg = value

    def manual_seed(self, seed: int) -> "Generator":
        seed = builtins.int(seed)
        if seed < -0x8000_0000_0000_0000 or seed > 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError(f"Overflow when unpacking long: seed {seed} out of range")
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self._np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        s = builtins.int.from_bytes(np.random.SeedSequence().generate_state(2, np.uint32).tobytes(),
                                    "little")
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor (restorable with ``set_state``)."""
        st = self._np.bit_generator.state
        s, inc = st["state"]["state"], st["state"]["inc"]
        words = [s & (2**64 - 1), s >> 64, inc & (2**64 - 1), inc >> 64, st["has_uint32"],
                 st["uinteger"]]
        arr = np.array(words + [self._seed], dtype=np.uint64).view(np.uint8)
        return _wrap(arr.copy())

    def set_state(self, new_state: Tensor) -> "Generator":
        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("set_state expects a uint8 tensor from get_state()")
        d = np.ascontiguousarray(new_state._data)
        if d.size != (_STATE_WORDS + 1) * 8:
            raise RuntimeError(f"RNG state is wrong size: expected {(_STATE_WORDS + 1) * 8} bytes, "
                               f"got {d.size}")
        w = [builtins.int(x) for x in d.view(np.uint64)]
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64", "state": {"state": w[0] | (w[1] << 64),
                                                        "inc": w[2] | (w[3] << 64)},
                    "has_uint32": w[4], "uinteger": w[5]}
        self._np = np.random.Generator(bg)
        self._seed = w[6]
        return self

    def __repr__(self) -> str:
        return f"<ferrum.Generator object at {hex(id(self))}>"


default_generator = Generator()


def _gen(generator) -> np.random.Generator:
    if generator is None:
        return default_generator._np
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a ferrum.Generator, got {type(generator).__name__}")
    return generator._np


def manual_seed(seed: int) -> Generator:
    """Seeds the default generator (and every CUDA device's, when present)."""
    default_generator.manual_seed(seed)
    from . import cuda
    cuda.manual_seed_all(seed)
    return default_generator


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


class fork_rng:
    """Context manager that restores the default generator's state on exit."""

    def __init__(self, devices=None, enabled: bool = True, **kwargs):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._state = get_rng_state()

    def __exit__(self, *exc):
        if self.enabled:
            set_rng_state(self._state)
        return False


def _float_dtype(dtype, op):
    d = as_dtype(dtype) if dtype is not None else get_default_dtype()
    if d.category < 2:
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(d)}'")
    return d


def _place(arr, device, requires_grad):
    if device is None:
        device = _default[0]
    if as_device(device).type != "cpu":
        arr = move_array(arr, as_device(device))
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _fill_float(g, size, npd, kind):
    if npd in (np.float32, np.float64):
        if kind == "uniform":
            return g.random(size, dtype=npd)
        return g.standard_normal(size, dtype=npd)
    r = g.random(size) if kind == "uniform" else g.standard_normal(size)
    return r.astype(npd)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    d = _float_dtype(dtype, "rand")
    return _out(out, _place(_fill_float(_gen(generator), _size_args(size, "rand"), to_np(d), "uniform"),
                            device, requires_grad))


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """Standard normal samples."""
    d = _float_dtype(dtype, "randn")
    return _out(out, _place(_fill_float(_gen(generator), _size_args(size, "randn"), to_np(d), "normal"),
                            device, requires_grad))


def _out(out, t):
    if out is None:
        return t
    from .ops.elementwise import _write_out
    return _write_out(out, t)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: builtins.bool = False) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    if isinstance(size, builtins.int):
        raise TypeError("randint(): argument 'size' must be tuple of ints, not int")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    d = as_dtype(dtype) if dtype is not None else int64
    arr = _gen(generator).integers(low, high, _size(tuple(size), "randint"), dtype=np.int64)
    return _out(out, _place(arr.astype(to_np(d)), device, requires_grad))


def randint_like(input, low=0, high=None, *, dtype=None, device=None, **kw) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    d = as_dtype(dtype) if dtype is not None else int64
    return _out(out, _place(_gen(generator).permutation(n).astype(to_np(d)), device, requires_grad))


def rand_like(input, *, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad: builtins.bool = False) -> Tensor:
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``."""
    g = _gen(generator)
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal(): with float mean and std, 'size' is required")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        d = _float_dtype(dtype, "normal")
        arr = _fill_float(g, _size(tuple(size), "normal"), to_np(d), "normal") * std + mean
        return _out(out, _place(arr.astype(to_np(d)), device, requires_grad))
    m = mean._data if mt else mean
    s = std._data if st else std
    if np.any(np.asarray(s if not st else std.cpu()._data) < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    ref = mean if mt else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    npd = ref._data.dtype
    arr = (_fill_float(g, shape, npd if npd.kind == "f" else np.float32, "normal")
           * (s.get() if hasattr(s, "get") else s) + (m.get() if hasattr(m, "get") else m))
    return _out(out, _place(np.asarray(arr, dtype=npd), ref.device, requires_grad))


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """Samples 0/1 with probabilities ``input`` (or the scalar ``p``), same dtype as input."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    pa = probs if isinstance(probs, np.ndarray) else probs.get()
    if np.any((pa < 0) | (pa > 1)):
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    r = (_gen(generator).random(pa.shape) < pa).astype(input._data.dtype)
    return _out(out, _place(r, input.device, False))


def poisson(input, generator=None) -> Tensor:
    return _place(_gen(generator).poisson(input.cpu()._data).astype(input._data.dtype), input.device,
                  False)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None) -> Tensor:
    """Indices sampled from the rows of ``input`` (unnormalized weights), int64."""
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{scalar_name(input.dtype)}")
    w = input.detach().cpu()._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    g = _gen(generator)
    out_rows = []
    for r in rows:
        s = r.sum()
        if s <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out_rows.append(g.choice(r.size, num_samples, replace=True, p=r / s))
        else:
            # Efraimidis-Spirakis: keys u^(1/w), take the largest; zero weights never chosen
            if np.count_nonzero(r) < num_samples:
                raise RuntimeError("multinomial: invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
            u = g.random(r.size)
            with np.errstate(divide="ignore"):
                keys = np.where(r > 0, np.log(u) / r, -np.inf)
            out_rows.append(np.argsort(-keys, kind="stable")[:num_samples])
    res = np.stack(out_rows).astype(np.int64)
    if w.ndim == 1:
        res = res[0]
    return _out(out, _place(res, input.device, False))


# --------------------------------------------------------------------------- in-place fills
def _fill(self: Tensor, arr, op: str) -> Tensor:
    from .ops.inplace import check_inplace
    check_inplace(self, op)
    d = self._data
    if d.__class__ is np.ndarray:
        np.copyto(d, arr, casting="unsafe")
    else:
        d[...] = move_array(np.asarray(arr, dtype=d.dtype), self.device)
    self._version[0] += 1
    return self


def _affine_inplace(r: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """``r * scale + shift`` in r's own memory: init of a VGG-16 (138M parameters) fills 10^8 elements,
    where two full-size temporaries cost as much as drawing the samples."""
    if scale != 1.0:
        np.multiply(r, scale, out=r)
    if shift != 0.0:
        np.add(r, shift, out=r)
    return r


def _float_fill_check(self, op: str) -> None:
    if from_np(self._data.dtype).category < 2:
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(self.dtype)}'")


def _fill_direct(self: Tensor, generator, kind: str, scale: float, shift: float, op: str) -> builtins.bool:
    """Draws straight into a contiguous float32/float64 NumPy buffer and scales it in place: the
    same values as drawing a fresh array (the generator fills ``out=`` in the same order), without
    the two full-size temporaries. Building vgg16 (138M parameters, mostly ``normal_``/
    ``kaiming_uniform_`` fills) went from 8.3 s to 3.5 s with it (torch: 1.8 s; the rest is NumPy's
    generator itself). False when the buffer does not qualify (other dtypes, strided views, cuda
    arrays): the caller fills as before."""
    d = self._data
    if d.__class__ is not np.ndarray or d.dtype not in (np.float32, np.float64) or not d.flags.c_contiguous \
            or not d.flags.writeable or d.ndim == 0:
        return False
    from .ops.inplace import check_inplace
    check_inplace(self, op)
    g = _gen(generator)
    if kind == "uniform":
        g.random(dtype=d.dtype, out=d)
    else:
        g.standard_normal(dtype=d.dtype, out=d)
    if scale != 1.0:
        np.multiply(d, d.dtype.type(scale), out=d)
    if shift != 0.0:
        np.add(d, d.dtype.type(shift), out=d)
    self._version[0] += 1
    return True


def _uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fills with samples uniform in [a, b)."""
    _float_fill_check(self, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    if _fill_direct(self, generator, "uniform", b - a, a, "uniform_"):
        return self
    npd = self._data.dtype
    r = _fill_float(_gen(generator), self._data.shape, npd if npd in (np.float32, np.float64)
                    else np.float64, "uniform")
    return _fill(self, _affine_inplace(r, b - a, a), "uniform_")


def _normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fills with normal samples."""
    _float_fill_check(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if _fill_direct(self, generator, "normal", std, mean, "normal_"):
        return self
    npd = self._data.dtype
    r = _fill_float(_gen(generator), self._data.shape, npd if npd in (np.float32, np.float64)
                    else np.float64, "normal")
    return _fill(self, _affine_inplace(r, std, mean), "normal_")


def _random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, (from_ if from_ else (2**24 if self._data.dtype.kind == "f" else 2**31))
    return _fill(self, _gen(generator).integers(from_, to, self._data.shape), "random_")


def _bernoulli_(self, p=0.5, *, generator=None):
    pp = p._data if isinstance(p, Tensor) else p
    return _fill(self, _gen(generator).random(self._data.shape) < pp, "bernoulli_")


def _exponential_(self, lambd: float = 1.0, *, generator=None):
    return _fill(self, _gen(generator).exponential(1.0 / lambd, self._data.shape), "exponential_")


def _geometric_(self, p: float, *, generator=None):
    return _fill(self, _gen(generator).geometric(p, self._data.shape), "geometric_")


def _log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
    return _fill(self, _gen(generator).lognormal(mean, std, self._data.shape), "log_normal_")


def _cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    return _fill(self, median + sigma * _gen(generator).standard_cauchy(self._data.shape), "cauchy_")


def _attach():
    T = Tensor
    T.uniform_ = _uniform_
    T.normal_ = _normal_
    T.random_ = _random_
    T.bernoulli_ = _bernoulli_
    T.exponential_ = _exponential_
    T.geometric_ = _geometric_
    T.log_normal_ = _log_normal_
    T.cauchy_ = _cauchy_
    T.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
    T.multinomial = multinomial


_attach()
