"""Random numbers: Generator, manual_seed, the RNG state, and the random factories and fills.

A Generator draws PyTorch's CPU streams (``_rng_streams.py``): the same Mersenne Twister, seeded the
same way, turned into values by the same rules, so ``manual_seed(s)`` gives the numbers PyTorch gives
for ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, the
in-place fills (``uniform_``, ``normal_``, ``random_``, ``bernoulli_``, ``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``), ``poisson`` and what is built on them (``nn.init``,
every layer's initialisation, dropout, ``RandomSampler``, ``random_split``, the distributions).
float32 normals agree to a few units in the last place (both libraries compute them with float32
vector math of their own); float16/bfloat16 normals to a few of theirs. CUDA tensors are filled on
the CPU and moved.
"""

from __future__ import annotations

import builtins

import numpy as np

from . import _rng_streams as _rs
from ._device import _default, as_device, move_array
from ._dtype import as_dtype, from_np, get_default_dtype, int64, scalar_name, to_np
from ._factory import _size, _size_args
from ._tensor import Tensor, _wrap

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
           "multinomial", "rand_like", "randn_like", "randint_like", "poisson", "fork_rng"]

# the seed of a Generator nobody seeded: PyTorch's old fixed default. (torch 2.13 seeds its default
# generator from the OS at start-up, so unseeded PyTorch runs differ; ferrum's repeat.)
_DEFAULT_SEED = 67280421310721


class Generator:
    """A pseudo-random number generator (``ferrum.Generator(device='cpu')``): PyTorch's CPU stream."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._stream = _rs.Stream(_DEFAULT_SEED)

    @property
    def _np(self) -> np.random.Generator:
        """NumPy's samplers over this generator's stream (for draws PyTorch has no rule for)."""
        return self._stream.numpy

    def manual_seed(self, seed: int) -> "Generator":
        seed = builtins.int(seed)
        if seed < -0x8000_0000_0000_0000 or seed > 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError(f"Overflow when unpacking long: seed {seed} out of range")
        self._stream.reseed(seed & 0xFFFF_FFFF_FFFF_FFFF)
        return self

    def seed(self) -> int:
        s = builtins.int.from_bytes(np.random.SeedSequence().generate_state(2, np.uint32).tobytes(),
                                    "little") & 0x7FFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._stream.seed

    def get_state(self) -> Tensor:
        """The state as a uint8 tensor of PyTorch's layout (5056 bytes; restorable with ``set_state``,
        here or in PyTorch)."""
        return _wrap(np.frombuffer(self._stream.get_state(), dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> "Generator":
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        d = np.ascontiguousarray(new_state.detach().cpu()._data)
        if d.size != _rs.STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_rs.STATE_BYTES} but found the "
                               f"input RNG state size to be {d.size} (RNG state is wrong size)")
        self._stream.set_state(d.tobytes())
        return self

    def __repr__(self) -> str:
        return f"<ferrum.Generator object at {hex(id(self))}>"


default_generator = Generator()


def _generator(generator) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a ferrum.Generator, got {type(generator).__name__}")
    return generator


def _stream(generator) -> _rs.Stream:
    return _generator(generator)._stream


def _gen(generator) -> np.random.Generator:
    """NumPy's samplers over ``generator``'s stream (the default generator's for None)."""
    return _generator(generator)._np


def int64_seed(generator) -> int:
    """``empty((), dtype=int64).random_(generator=generator).item()``: how PyTorch's data loading
    derives a seed (a sampler's generator, the workers' base seed) from a generator."""
    return builtins.int(_rs.random_default(_stream(generator), 1, np.dtype(np.int64))[0])


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


_COMPLEX_PART = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}


def _draw(stream, shape, npd, kind, a=0.0, b=1.0, contiguous=True):
    """Samples for a tensor of ``shape`` and NumPy dtype ``npd``, in memory order: ``kind`` "uniform"
    (in [a, b)) or "normal" (mean a, std b). Complex tensors draw their interleaved real and
    imaginary parts as PyTorch does (normals scaled by 1/sqrt(2), so that E|z|^2 = std^2)."""
    n = 1
    for k in shape:
        n *= k
    part = _COMPLEX_PART.get(np.dtype(npd))
    if part is not None:
        if kind == "uniform":
            r = _rs.uniform(stream, 2 * n, part, a, b)
        else:
            r = _rs.normal(stream, 2 * n, part, 0.0, 1.0, contiguous)
            r *= part.type(b / np.sqrt(2.0))
            if a != 0:
                r[0::2] += part.type(np.real(a))
                r[1::2] += part.type(np.imag(a))
        return r.view(npd).reshape(shape)
    if kind == "uniform":
        r = _rs.uniform(stream, n, np.dtype(npd), a, b)
    else:
        r = _rs.normal(stream, n, np.dtype(npd), a, b, contiguous)
    return r.reshape(shape)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    d = _float_dtype(dtype, "rand")
    arr = _draw(_stream(generator), _size_args(size, "rand"), to_np(d), "uniform")
    return _out(out, _place(arr, device, requires_grad))


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: builtins.bool = False, pin_memory=False) -> Tensor:
    """Standard normal samples."""
    d = _float_dtype(dtype, "randn")
    arr = _draw(_stream(generator), _size_args(size, "randn"), to_np(d), "normal")
    return _out(out, _place(arr, device, requires_grad))


def _out(out, t):
    if out is None:
        return t
    from .ops.elementwise import _write_out
    return _write_out(out, t)


def _check_range(low, high) -> None:
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")


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
    low, high = builtins.int(low), builtins.int(high)
    _check_range(low, high)
    d = as_dtype(dtype) if dtype is not None else int64
    shape = _size(tuple(size), "randint")
    arr = _rs.integers(_stream(generator), builtins.int(np.prod(shape)), low, high).reshape(shape)
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
    arr = _rs.randperm(_stream(generator), builtins.int(n))
    return _out(out, _place(arr.astype(to_np(d)), device, requires_grad))


def rand_like(input, *, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def _host(a):
    return a.get() if hasattr(a, "get") else a


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad: builtins.bool = False) -> Tensor:
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``.
    With tensors the standard normals are drawn for the broadcast shape, then scaled and shifted."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal(): with float mean and std, 'size' is required")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        d = _float_dtype(dtype, "normal")
        arr = _draw(_stream(generator), _size(tuple(size), "normal"), to_np(d), "normal", mean, std)
        return _out(out, _place(arr, device, requires_grad))
    m = _host(mean._data) if mt else mean
    s = _host(std._data) if st else std
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    ref = mean if mt else std
    npd = ref._data.dtype
    if npd.kind not in "fcV":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{scalar_name(ref.dtype)}'")
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    z = _draw(_stream(generator), shape, npd, "normal")
    arr = (z * np.asarray(s, dtype=npd) + np.asarray(m, dtype=npd)).astype(npd, copy=False)
    return _out(out, _place(arr, ref.device, requires_grad))


def _probabilities(p: np.ndarray, op: str) -> np.ndarray:
    if np.any((p < 0) | (p > 1)) or np.isnan(p).any():
        raise RuntimeError(f"{op}: all probabilities must be in [0, 1]" if op == "bernoulli" else
                           f"{op}_ expects p to be in [0, 1], but got p={p}")
    return p


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """Samples 0/1 with probabilities ``input`` (or the number ``p``), in input's dtype."""
    s = _stream(generator)
    if p is None:
        probs = _host(input._data)
        if probs.dtype.kind != "f":
            probs = probs.astype(np.float32)
        r = _rs.bernoulli_tensor(s, _probabilities(probs, "bernoulli"))
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        r = _rs.bernoulli_scalar(s, builtins.int(np.prod(input.shape)), p).reshape(input.shape)
    return _out(out, _place(r.astype(input._data.dtype), input.device, False))


def poisson(input, generator=None) -> Tensor:
    """Poisson samples with rates ``input`` (PyTorch's sampler, element by element: ``_rng_samplers``)."""
    from ._rng_samplers import torch_poisson
    rates = _host(input.detach()._data)
    if rates.dtype.kind not in "fV":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{scalar_name(input.dtype)}'")
    if np.any(rates < 0) or np.isnan(rates).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    drawn = torch_poisson(_stream(generator), rates.astype(np.float64))
    return _place(np.asarray(drawn).astype(input._data.dtype), input.device, False)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None) -> Tensor:
    """Indices sampled from the rows of ``input`` (unnormalized weights), int64. Without replacement
    (or for one sample) the largest ``w / e`` with ``e`` exponential, as PyTorch draws; with
    replacement, a 53-bit uniform searched in each row's normalized cumulative sum."""
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{scalar_name(input.dtype)}")
    w = _host(input.detach()._data)
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
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    s = _stream(generator)
    if not replacement or num_samples == 1:
        if not replacement and np.any(np.count_nonzero(rows, axis=1) < num_samples):
            raise RuntimeError("multinomial: invalid multinomial distribution (with replacement=False, "
                               "not enough non-negative category to sample)")
        calc = rows.dtype if rows.dtype.kind == "f" and rows.dtype.itemsize >= 4 else np.dtype(np.float32)
        e = _rs.exponential(s, rows.size, 1.0).astype(calc).reshape(rows.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = rows.astype(calc) / e
        res = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    else:
        calc = np.float64 if rows.dtype == np.float64 else np.float32
        cdf = np.cumsum(rows.astype(calc), axis=1)
        cdf /= cdf[:, -1:]
        u = _rs.unit_uniform(s, rows.shape[0] * num_samples, np.dtype(np.float64))
        u = u.reshape(rows.shape[0], num_samples)
        res = np.stack([np.searchsorted(c, ur, side="left") for c, ur in zip(cdf, u)])
        np.minimum(res, rows.shape[1] - 1, out=res)
    res = res.astype(np.int64)
    if w.ndim == 1:
        res = res[0]
    return _out(out, _place(res, input.device, False))


# --------------------------------------------------------------------------- in-place fills
def _fill(self: Tensor, arr, op: str) -> Tensor:
    """Writes ``arr`` (self's shape) into self, checked as an in-place op."""
    from .ops.inplace import check_inplace
    check_inplace(self, op)
    d = self._data
    if d.__class__ is np.ndarray:
        np.copyto(d, arr, casting="unsafe")
    else:
        d[...] = move_array(np.asarray(arr, dtype=d.dtype), self.device)
    self._version[0] += 1
    return self


def _fill_memory_order(self: Tensor, op: str, draw) -> Tensor:
    """Fills self in its memory order (the order PyTorch's kernels draw in): ``draw(flat, contiguous)``
    writes the samples into the 1-D array ``flat``."""
    from .ops.inplace import check_inplace
    check_inplace(self, op)
    d = self._data
    host = d.__class__ is np.ndarray
    contiguous = d.flags.c_contiguous
    if host and contiguous and d.flags.writeable:
        draw(d.reshape(-1), True)
    else:
        view = _rs.memory_order(d)
        flat = np.empty(d.size, d.dtype if host else np.dtype(d.dtype))
        draw(flat, contiguous)
        if host:
            view[...] = flat.reshape(view.shape)
        else:
            view[...] = move_array(flat.reshape(view.shape), self.device)
    self._version[0] += 1
    return self


def _float_fill_check(self, op: str) -> None:
    if from_np(self._data.dtype).category < 2:
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(self.dtype)}'")


def _complex_fill(self, kind, a, b, generator, op):
    arr = _draw(_stream(generator), self._data.shape, self._data.dtype, kind, a, b)
    return _fill(self, arr, op)


def _check_bounds(self, a, b) -> None:
    """PyTorch's range check of uniform_: both ends finite and within the dtype."""
    d = self._data.dtype
    if d.kind in "fV":
        top = float(np.finfo(d).max) if d.kind == "f" else 3.3895313892515355e38  # bfloat16's max
        name = {2: "c10::Half" if d.kind == "f" else "c10::BFloat16", 4: "float", 8: "double"}.get(
            d.itemsize, "float")
        for end, v in (("from", a), ("to", b)):
            if not -top <= v <= top:  # False for nan and inf
                raise RuntimeError(f"{end} is out of bounds for {name}")


def _uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fills with samples uniform in [a, b)."""
    _float_fill_check(self, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    _check_bounds(self, a, b)
    if self._data.dtype.kind == "c":
        return _complex_fill(self, "uniform", a, b, generator, "uniform_")
    s = _stream(generator)
    return _fill_memory_order(self, "uniform_", lambda flat, c: _rs.uniform_into(s, flat, a, b))


def _normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fills with normal samples."""
    _float_fill_check(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if self._data.dtype.kind == "c":
        return _complex_fill(self, "normal", mean, std, generator, "normal_")
    s = _stream(generator)
    return _fill_memory_order(self, "normal_", lambda flat, c: _rs.normal_into(s, flat, mean, std, c))


def _random_(self, from_=0, to=None, *, generator=None):
    """``random_()``: [0, 2**mantissa] for floating dtypes, [0, max] for integers;
    ``random_(to)``: [0, to); ``random_(from, to)``: [from, to)."""
    s = _stream(generator)
    dt = self._data.dtype
    if to is None and not from_:
        return _fill_memory_order(self, "random_", lambda flat, c: flat.__setitem__(
            Ellipsis, _rs.random_default(s, flat.size, np.dtype(dt))))
    if to is None:
        from_, to = 0, from_
    from_, to = builtins.int(from_), builtins.int(to)
    _check_range(from_, to)
    return _fill_memory_order(self, "random_", lambda flat, c: flat.__setitem__(
        Ellipsis, _rs.integers(s, flat.size, from_, to).astype(dt)))


def _bernoulli_(self, p=0.5, *, generator=None):
    s = _stream(generator)
    if isinstance(p, Tensor):
        probs = np.broadcast_to(_host(p._data), self._data.shape)
        if not self._data.flags.c_contiguous and probs.ndim > 1:
            probs = probs.transpose(_rs.memory_axes(self._data))
        drawn = _rs.bernoulli_tensor(s, _probabilities(np.ascontiguousarray(probs), "bernoulli"))
        return _fill_memory_order(self, "bernoulli_", lambda flat, c: flat.__setitem__(
            Ellipsis, drawn.reshape(-1)))
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _fill_memory_order(self, "bernoulli_", lambda flat, c: flat.__setitem__(
        Ellipsis, _rs.bernoulli_scalar(s, flat.size, p)))


def _exponential_(self, lambd: float = 1.0, *, generator=None):
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    s = _stream(generator)
    return _fill_memory_order(self, "exponential_", lambda flat, c: flat.__setitem__(
        Ellipsis, _rs.exponential(s, flat.size, lambd)))


def _geometric_(self, p: float, *, generator=None):
    """Geometric samples (trials to the first success): ``ceil(log(u) / log(1 - p))``, 53-bit u."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    s = _stream(generator)

    def draw(flat, c):
        u = _rs.unit_uniform(s, flat.size, np.dtype(np.float64))
        with np.errstate(divide="ignore"):
            flat[...] = np.ceil(np.log(u) / np.log1p(-p))
    return _fill_memory_order(self, "geometric_", draw)


def _log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
    """``exp(N(mean, std))`` from the serial (cached Box-Muller) normals, as PyTorch's kernel."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    s = _stream(generator)
    return _fill_memory_order(self, "log_normal_", lambda flat, c: flat.__setitem__(
        Ellipsis, np.exp(_rs.serial_normal(s, flat.size) * std + mean)))


def _cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    """``median + sigma * tan(pi (u - 1/2))`` with 53-bit uniforms, as PyTorch's kernel."""
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    s = _stream(generator)

    def draw(flat, c):
        u = _rs.unit_uniform(s, flat.size, np.dtype(np.float64))
        flat[...] = median + sigma * np.tan(np.pi * (u - 0.5))
    return _fill_memory_order(self, "cauchy_", draw)


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
