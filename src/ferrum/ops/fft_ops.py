"""The discrete Fourier transforms behind ``ferrum.fft`` (torch.fft's namespace; ``ferrum/fft.py`` is the
face that re-exports them): three differentiable primitives and the public transforms built on them.

Every transform is one of three kinds, each one node, computed by SciPy's pocketfft (CuPy's cuFFT for
cuda arrays):

- ``_c2c``: complex to complex over ``axes`` (fft, ifft, fft2, fftn, ...). Real input is accepted (torch
  allows it); its gradient is the real part.
- ``_r2c``: real to the one-sided half spectrum, the last of ``axes`` holding ``n // 2 + 1`` bins (rfft,
  rfftn; ihfft, ihfftn are its inverse-direction twin, ``conj(rfftn(x))`` with the inverse's scaling).
- ``_c2r``: a one-sided Hermitian spectrum to a real signal (irfft, irfftn; hfft, hfftn are the
  forward-direction twin).

Each transform is a linear map ``scale * W`` with ``scale`` 1, ``1/sqrt(N)`` or ``1/N`` (``norm``); its
adjoint is the transform of the opposite direction with the *same* scale, i.e. the opposite direction and
the swapped norm ("backward" <-> "forward", "ortho" stays). So every backward is another transform of the
three kinds (plus ``_resize``, the zero-padding/trimming that ``n``/``s`` ask for, whose adjoint is the
opposite resize), and every order of derivative works. Under torch's conjugate Wirtinger convention:

- c2c: ``gx = resize(c2c_opposite(g))`` (``real(...)`` for a real input);
- r2c: the half spectrum is the first ``n // 2 + 1`` bins of a full c2c, so ``gx = real(c2c_opposite(g
  zero-padded to n))``, which is ``c2r_opposite(g / w)`` for the weights ``w`` of the next line (a
  c2r reads the half spectrum as a whole Hermitian one): half the work of the complex transform
  (benchmarks/fft_speed.py --grad: rfft of 8x16000 float32 forward and backward 1687 -> 827 us, torch
  1411);
- c2r: ``x`` reads bin ``k`` of the half spectrum once for ``k = 0`` (and ``n / 2`` for even ``n``) and
  twice otherwise (``y_k`` and its mirror ``conj(y_k)``), and ignores the imaginary part of the bins read
  once, so ``gy = w * r2c_opposite(g)`` with ``w = 2`` on bins ``1 .. n - (n // 2 + 1)`` and 1 elsewhere
  (the r2c of a real ``g`` is real on the bins read once, which zeroes those imaginary gradients).

Why SciPy and not NumPy: both are pocketfft and both compute float32 in single precision (rounding within
2x of torch's MKL results), but NumPy 2.4's n-dimensional transforms loop over the axes in Python with
copies: measured on this machine (one thread, best of 5), fftn over 2 axes of a 64x64x64 float32 array
NumPy 5.3 ms, SciPy 0.90 ms, torch 0.60 ms; rfft of 8x16000 float32 NumPy 1017 us, SciPy 186 us, torch
262 us. ``workers=2`` was slower (1.46 ms for the fftn above) on this shared two-core machine, so SciPy's
default single thread is kept (benchmarks/fft_speed.py).

Under autocast the transforms torch lists (all but hfft2/hfftn/ihfft2/ihfftn, as in torch 2.13) compute
float16/bfloat16 input in float32 (``@autocast_op``), as torch does.

Differences from PyTorch: a transform of a tensor with zero elements in a batch dimension returns an
empty result (torch's MKL build raises "MKL FFT error: Inconsistent configuration parameters", its
pocketfft build returns the empty result); float16/bfloat16 raise "Unsupported dtype" as torch's CPU
build does.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import get_default_dtype, scalar_name, to_np
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from ._autocast import autocast_op
from ._common import _write_out, canon_dim, xp_of
from .complex_ops import real

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq",
           "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_CPLX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}
_REAL = {c: r for r, c in _CPLX.items()}

_scipy_fft = None


def _backend(a):
    """scipy.fft for NumPy arrays (imported on first use, not with ferrum: 200-370 ms measured here, on a
    loaded machine), cupyx.scipy.fft for CuPy's."""
    global _scipy_fft
    if a.__class__ is np.ndarray:
        if _scipy_fft is None:
            import scipy.fft
            _scipy_fft = scipy.fft
        return _scipy_fft
    import cupyx.scipy.fft
    return cupyx.scipy.fft


def _call(d, name: str, s: tuple, axes: tuple, norm: str):
    """SciPy's transform ``name`` over ``axes``: its one-axis function for one axis (4 us less per call
    than the n-dimensional one's argument handling, measured on a 1024-point rfft: 9.6 -> 5.6 us)."""
    m = _backend(d)
    if len(axes) == 1:
        return getattr(m, name)(d, s[0], axes[0], norm=norm)
    return getattr(m, name + "n")(d, s, axes, norm=norm)


def _shape_with(shape, axes, sizes) -> tuple:
    out = list(shape)
    for a, n in zip(axes, sizes):
        out[a] = n
    return tuple(out)


# --------------------------------------------------------------------------- resize (n / s)
class _ResizeBackward(Node, name="ConstantPadNdBackward0"):
    def backward_t(self, g):
        return (_resize(g, self.axes, self.sizes),)


def _resize(t: Tensor, axes, sizes) -> Tensor:
    """``t`` trimmed or zero-padded at the end of each of ``axes`` to ``sizes``; its adjoint is the
    opposite resize, so it is differentiable to every order."""
    d = t._data
    if all(d.shape[a] == n for a, n in zip(axes, sizes)):
        return t
    shape = _shape_with(d.shape, axes, sizes)
    r = xp_of(d).zeros(shape, d.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(d.shape, shape))
    r[common] = d[common]
    return record(r, _ResizeBackward, (t,), axes=axes, sizes=tuple(d.shape[a] for a in axes))


# --------------------------------------------------------------------------- the three primitives
class _C2CBackward(Node, name="FftC2CBackward0"):
    def backward_t(self, g):
        gx = _resize(_c2c(g, self.axes, self.s, not self.forward, _SWAP[self.norm]), self.axes, self.in_sizes)
        return (real(gx) if self.real_in else gx,)


class _R2CBackward(Node, name="FftR2CBackward0"):
    def backward_t(self, g):
        # real(c2c_opposite(g zero-padded to s[-1] bins)) is the c2r of the half spectrum g with its
        # mirrored bins halved (the c2r counts them twice): half the work of the complex transform
        w = _mirror_weight(g._data, self.s[-1], self.axes[-1], 0.5)
        h = g * w if w is not None else g
        gx = _c2r(h, self.axes, self.s, not self.forward, _SWAP[self.norm])
        return (_resize(gx, self.axes, self.in_sizes),)


class _C2RBackward(Node, name="FftC2RBackward0"):
    def backward_t(self, g):
        gy = _r2c(g, self.axes, self.s, not self.forward, _SWAP[self.norm])
        w = _mirror_weight(g._data, self.s[-1], self.axes[-1], 2.0)
        if w is not None:
            gy = gy * w
        gy = _resize(gy, self.axes, self.in_sizes)
        return (real(gy) if self.real_in else gy,)


def _c2c(t: Tensor, axes: tuple, s: tuple, forward: bool, norm: str) -> Tensor:
    """The complex transform of ``t`` (complex or real float) over ``axes`` with sizes ``s`` (trimming
    or zero-padding the input first); ``forward`` picks the sign of the exponent."""
    d = t._data
    real_in = d.dtype.kind != "c"
    cdt = _CPLX[d.dtype] if real_in else d.dtype
    shape = _shape_with(d.shape, axes, s)
    if d.size == 0 or 0 in shape:  # zero-padding of nothing: zeros, or an empty batch
        r = xp_of(d).zeros(shape, cdt)
    elif not axes:
        r = d.astype(cdt, copy=True)
    else:
        r = _call(d, ("fft", "ifft")[not forward], s, axes, norm)
    return record(r, _C2CBackward, (t,), axes=axes, s=s, forward=forward, norm=norm,
                  in_sizes=tuple(d.shape[a] for a in axes), real_in=real_in)


def _r2c(t: Tensor, axes: tuple, s: tuple, forward: bool, norm: str) -> Tensor:
    """The one-sided transform of real ``t`` over ``axes`` (sizes ``s``; the last axis keeps
    ``s[-1] // 2 + 1`` bins): rfftn for ``forward``, ihfftn otherwise."""
    d = t._data
    shape = _shape_with(d.shape, axes, s[:-1] + (s[-1] // 2 + 1,))
    if d.size == 0 or 0 in shape:
        r = xp_of(d).zeros(shape, _CPLX[d.dtype])
    else:
        r = _call(d, ("rfft", "ihfft")[not forward], s, axes, norm)
    return record(r, _R2CBackward, (t,), axes=axes, s=s, forward=forward, norm=norm,
                  in_sizes=tuple(d.shape[a] for a in axes))


def _c2r(t: Tensor, axes: tuple, s: tuple, forward: bool, norm: str) -> Tensor:
    """The real signal of the one-sided Hermitian spectrum ``t`` over ``axes`` (output sizes ``s``; the
    last axis of ``t`` is trimmed or zero-padded to ``s[-1] // 2 + 1`` bins): hfftn for ``forward``,
    irfftn otherwise. A real ``t`` is read as complex with zero imaginary part."""
    d = t._data
    real_in = d.dtype.kind != "c"
    if real_in:
        d = d.astype(_CPLX[d.dtype])
    rdt = _REAL[d.dtype]
    shape = _shape_with(d.shape, axes, s)
    xp = xp_of(d)
    if d.size == 0 or 0 in shape:
        r = xp.zeros(shape, rdt)
    else:
        r = _call(d, ("hfft", "irfft")[not forward], s, axes, norm)
    return record(r, _C2RBackward, (t,), axes=axes, s=s, forward=forward, norm=norm,
                  in_sizes=tuple(d.shape[a] for a in axes), real_in=real_in)


def _mirror_weight(a, n: int, axis: int, value: float):
    """A constant broadcasting along ``axis`` of ``a``'s shape over the ``n // 2 + 1`` bins of a half
    spectrum of ``n`` points: ``value`` on the bins that stand for themselves and their mirror image
    (``1 .. n - (n // 2 + 1)``), 1 on bin 0 (and n / 2); None when no bin is mirrored (n <= 2)."""
    bins = n // 2 + 1
    if n - bins <= 0:
        return None
    rdt = a.dtype if a.dtype.kind != "c" else _REAL[a.dtype]
    w = xp_of(a).ones(bins, rdt)
    w[1:n - bins + 1] = value
    return _wrap(w.reshape((bins,) + (1,) * (a.ndim - 1 - axis)))


# --------------------------------------------------------------------------- arguments
def _input(x, op: str) -> Tensor:
    """``x`` as a float or complex tensor: integers and bool become the default float dtype (torch's
    promotion); float16/bfloat16 raise as on torch's CPU."""
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    d = x._data
    if d.dtype.kind in "biu":
        x = _wrap(d.astype(to_np(get_default_dtype())))
        d = x._data
    if d.dtype not in _CPLX and d.dtype not in _REAL:
        raise RuntimeError(f"Unsupported dtype {scalar_name(x.dtype)}")
    return x


def _norm(norm, op: str) -> str:
    if norm is None:
        return "backward"
    if not isinstance(norm, str):
        raise TypeError(f"fft_{op}(): argument 'norm' must be str, not {type(norm).__name__}")
    if norm not in _NORMS:
        raise RuntimeError(f'fft_{op}(): Invalid normalization mode: "{norm}" (expected "backward", "ortho" '
                           'or "forward")')
    return norm


def _int(v, op: str, name: str) -> int:
    if isinstance(v, (builtins.int, np.integer)) and not isinstance(v, (builtins.bool, np.bool_)):
        return builtins.int(v)
    raise TypeError(f"fft_{op}(): argument '{name}' must be int, not {type(v).__name__}")


def _ints(v, op: str, name: str) -> list:
    if isinstance(v, (list, tuple)):
        return [_int(e, op, name) for e in v]
    if isinstance(v, (builtins.int, np.integer)) and not isinstance(v, (builtins.bool, np.bool_)):
        return [builtins.int(v)]
    raise TypeError(f"fft_{op}(): argument '{name}' must be tuple of ints, not {type(v).__name__}")


def _dims_1d(x: Tensor, n, dim, op: str) -> tuple:
    """(axes, s) of a one-dimensional transform."""
    dim = _int(dim, op, "dim")
    nd = x._data.ndim
    if nd == 0:
        raise IndexError(f"fft_{op}(): Dimension specified as {dim} but tensor has no dimensions")
    axis = canon_dim(dim, nd, f"fft_{op}")
    if n is not None:
        n = _int(n, op, "n")
        if n < 1:  # -1 does not mean "the input's size" here, as it does in s
            raise RuntimeError(f"fft_{op}(): Invalid number of data points ({n}) specified")
    return (axis,), None if n is None else [n]


def _dims_nd(x: Tensor, s, dim, op: str) -> tuple:
    """(axes, s) of an n-dimensional transform: all dims by default, the last ``len(s)`` when only
    ``s`` is given; the order of ``dim`` is kept (the last one is the halved one of r2c/c2r)."""
    nd = x._data.ndim
    s = None if s is None else _ints(s, op, "s")
    if dim is not None:
        dims = _ints(dim, op, "dim")
        if nd == 0 and dims:
            raise IndexError(f"fft_{op}(): Dimension specified as {dims[0]} but tensor has no dimensions")
        axes = tuple(canon_dim(d, nd, f"fft_{op}") for d in dims)
        if s is not None and len(s) != len(axes):
            raise RuntimeError(f"fft_{op}(): When given, dim and shape arguments must have the same length "
                               f"(got s of length {len(s)} and dim of length {len(axes)})")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"fft_{op}(): Got shape with {len(s)} values but input tensor only has {nd} "
                               "dimensions.")
        axes = tuple(range(nd - len(s), nd))
    else:
        axes = tuple(range(nd))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"fft_{op}(): FFT dims must be unique, got {list(axes)}")
    return axes, s


def _sizes(x: Tensor, axes: tuple, s, op: str, c2r: bool = False) -> tuple:
    """The transform sizes: ``s[i]``, or the input's size where ``s`` is None or -1 (for c2r, the last
    defaults to ``2 * (m - 1)``); each must be at least 1."""
    shape = x._data.shape
    out = []
    for i, a in enumerate(axes):
        n = -1 if s is None else s[i]
        if n == -1:
            n = 2 * (shape[a] - 1) if c2r and i == len(axes) - 1 else shape[a]
        if n < 1:
            raise RuntimeError(f"fft_{op}(): Invalid number of data points ({n}) specified")
        out.append(n)
    return tuple(out)


def _out(res: Tensor, out, op: str) -> Tensor:
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"fft_{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    kind = out._data.dtype.kind
    if res._data.dtype.kind == "c" and kind != "c":
        raise RuntimeError(f"{op} expects a complex output tensor, but got {scalar_name(out.dtype)}")
    if res._data.dtype.kind != "c" and (kind != "f" or out._data.dtype not in _CPLX):
        raise RuntimeError(f"{op} expects a floating point output tensor, but got {scalar_name(out.dtype)}")
    return _write_out(out, res)


def _run_c2c(input, axes, s, norm, out, forward: bool, op: str) -> Tensor:
    x = _input(input, op)
    nm = _norm(norm, op)
    return _out(_c2c(x, axes, _sizes(x, axes, s, op), forward, nm), out, op)


def _run_r2c(input, axes, s, norm, out, forward: bool, op: str) -> Tensor:
    x = _input(input, op)
    nm = _norm(norm, op)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{op} expects a real input tensor, but got {scalar_name(x.dtype)}")
    if not axes:
        raise RuntimeError(f"{op} must transform at least one axis")
    return _out(_r2c(x, axes, _sizes(x, axes, s, op), forward, nm), out, op)


def _run_c2r(input, axes, s, norm, out, forward: bool, op: str) -> Tensor:
    x = _input(input, op)
    nm = _norm(norm, op)
    if not axes:
        raise RuntimeError(f"{op} must transform at least one axis")
    return _out(_c2r(x, axes, _sizes(x, axes, s, op, c2r=True), forward, nm), out, op)


def _check(run, input, op: str) -> None:
    """The input checks torch makes before it looks at the dims: a tensor, a supported dtype, real for
    the r2c transforms."""
    x = _input(input, op)
    if run is _run_r2c and x._data.dtype.kind == "c" and op not in ("ihfft2", "ihfftn"):  # those: after dims
        raise RuntimeError(f"{op} expects a real input tensor, but got {scalar_name(x.dtype)}")


def _one(run, input, n, dim, norm, out, forward: bool, op: str) -> Tensor:
    _check(run, input, op)
    axes, s = _dims_1d(input, n, dim, op)
    return run(input, axes, s, norm, out, forward, op)


def _many(run, input, s, dim, norm, out, forward: bool, op: str) -> Tensor:
    _check(run, input, op)
    axes, s = _dims_nd(input, s, dim, op)
    return run(input, axes, s, norm, out, forward, op)


# --------------------------------------------------------------------------- the public transforms
_NORM_DOC = """``norm``: "backward" (default: no scaling forward, 1/n inverse), "ortho" (1/sqrt(n) both
    ways) or "forward" (1/n forward, none inverse)."""


@autocast_op("fft_fft")
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The one-dimensional discrete Fourier transform along ``dim``, of size ``n`` (the input is
    zero-padded or trimmed to it; default: its size). Real input is allowed; float32 gives complex64,
    float64 complex128."""
    return _one(_run_c2c, input, n, dim, norm, out, True, "fft")


@autocast_op("fft_ifft")
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of :func:`fft` (``norm`` "backward" scales by 1/n)."""
    return _one(_run_c2c, input, n, dim, norm, out, False, "ifft")


@autocast_op("fft_fft2")
def fft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`fftn` over the last two dims by default."""
    return _many(_run_c2c, input, s, dim, norm, out, True, "fft2")


@autocast_op("fft_ifft2")
def ifft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`ifftn` over the last two dims by default."""
    return _many(_run_c2c, input, s, dim, norm, out, False, "ifft2")


@autocast_op("fft_fftn")
def fftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-dimensional transform over ``dim`` (default: all dims, or the last ``len(s)``), of sizes
    ``s`` (-1 keeps a dim's size). ``dim=()`` returns a complex copy."""
    return _many(_run_c2c, input, s, dim, norm, out, True, "fftn")


@autocast_op("fft_ifftn")
def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of :func:`fftn`."""
    return _many(_run_c2c, input, s, dim, norm, out, False, "ifftn")


@autocast_op("fft_rfft")
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The transform of a real signal, one-sided: ``n // 2 + 1`` bins along ``dim`` (the others are the
    conjugates of these)."""
    return _one(_run_r2c, input, n, dim, norm, out, True, "rfft")


@autocast_op("fft_irfft")
def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of :func:`rfft`: a real signal of length ``n`` (default ``2 * (m - 1)`` for ``m``
    input bins) from its one-sided spectrum; the imaginary parts of bin 0 (and n/2) are ignored."""
    return _one(_run_c2r, input, n, dim, norm, out, False, "irfft")


@autocast_op("fft_rfft2")
def rfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`rfftn` over the last two dims by default."""
    return _many(_run_r2c, input, s, dim, norm, out, True, "rfft2")


@autocast_op("fft_irfft2")
def irfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`irfftn` over the last two dims by default."""
    return _many(_run_c2r, input, s, dim, norm, out, False, "irfft2")


@autocast_op("fft_rfftn")
def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-dimensional transform of a real signal; the last of ``dim`` keeps ``s[-1] // 2 + 1``
    bins."""
    return _many(_run_r2c, input, s, dim, norm, out, True, "rfftn")


@autocast_op("fft_irfftn")
def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of :func:`rfftn`: real output of sizes ``s`` (the last defaults to ``2 * (m - 1)``)."""
    return _many(_run_c2r, input, s, dim, norm, out, False, "irfftn")


@autocast_op("fft_hfft")
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its one-sided half: real output of
    length ``n`` (default ``2 * (m - 1)``); ``irfft(input.conj())`` with the forward scaling."""
    return _one(_run_c2r, input, n, dim, norm, out, True, "hfft")


@autocast_op("fft_ihfft")
def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out=None) -> Tensor:
    """The inverse of :func:`hfft`: the one-sided inverse transform of a real signal,
    ``rfft(input).conj()`` with the inverse scaling."""
    return _one(_run_r2c, input, n, dim, norm, out, False, "ihfft")


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`hfftn` over the last two dims by default."""
    return _many(_run_c2r, input, s, dim, norm, out, True, "hfft2")


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None, *, out=None) -> Tensor:
    """:func:`ihfftn` over the last two dims by default."""
    return _many(_run_r2c, input, s, dim, norm, out, False, "ihfft2")


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-dimensional :func:`hfft`: real output, the last of ``dim`` of size ``s[-1]`` (default
    ``2 * (m - 1)``)."""
    return _many(_run_c2r, input, s, dim, norm, out, True, "hfftn")


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None, *, out=None) -> Tensor:
    """The n-dimensional :func:`ihfft`: the last of ``dim`` keeps ``s[-1] // 2 + 1`` bins."""
    return _many(_run_r2c, input, s, dim, norm, out, False, "ihfftn")


for _f in (fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, hfft, ihfft, hfft2,
           ihfft2, hfftn, ihfftn):
    _f.__doc__ += "\n\n    " + _NORM_DOC + "\n    "
del _f


# --------------------------------------------------------------------------- frequencies and shifts
def _freq(op: str, n, d, out, dtype, device, requires_grad, onesided: bool) -> Tensor:
    from .._dtype import as_dtype
    from .._factory import _finish, _xp_dt
    n = _int(n, op, "n")
    # rfftfreq's length is n / 2 + 1 in C's truncating division, as torch's (rfftfreq(-1) has one element)
    count = (-(-n // 2) if n < 0 else n // 2) + 1 if onesided else n
    if count < 0:
        raise RuntimeError(f"fft_{op}(): Trying to create tensor with negative dimension {count}: [{count}]")
    if dtype is None and out is not None:
        dtype = out.dtype
    xp, dt, dev = _xp_dt(as_dtype(dtype) if dtype is not None else None, device)
    if dt.kind in "biu":
        raise RuntimeError(f"{op} requires a floating point or complex dtype")
    if dt.kind == "c":
        raise NotImplementedError(f"fft_{op}(): not implemented for '{scalar_name(as_dtype(dtype))}' "
                                  "(torch's arange has no complex kernel)")
    # torch's order of operations: integer bin numbers in the dtype, times 1 / (n * d) computed in double
    # and rounded to the dtype, the product computed in float32 for float16/bfloat16 and rounded once
    cdt = np.dtype(np.float64) if dt == np.float64 else np.dtype(np.float32)
    k = xp.arange(count, dtype=cdt)
    if not onesided:
        k[(n + 1) // 2:] -= n
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.float64(1.0) / (np.float64(n) * np.float64(float(d)))
        r = (k * np.asarray(scale).astype(dt).astype(cdt)).astype(dt)
    res = _finish(r, requires_grad, dev)
    return res if out is None else _write_out(out, res)


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an :func:`fft` of size ``n`` with sample spacing ``d``:
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``."""
    return _freq("fftfreq", n, d, out, dtype, device, requires_grad, False)


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an :func:`rfft` of a signal of size ``n``: ``[0, 1, ..., n // 2] /
    (d * n)``."""
    return _freq("rfftfreq", n, d, out, dtype, device, requires_grad, True)


def _shift(input, dim, op: str, inverse: bool) -> Tensor:
    from .rearrange import roll
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    nd = input._data.ndim
    if dim is None:
        dims = list(range(nd))
    else:
        dims = _ints(dim, op, "dim")
        if nd == 0 and dims:
            raise IndexError(f"fft_{op}(): Dimension specified as {dims[0]} but tensor has no dimensions")
        dims = [canon_dim(k, nd, f"fft_{op}") for k in dims]
    if not dims:
        raise RuntimeError(f"fft_{op}(): `shifts` required (no dim to shift)")
    shape = input._data.shape
    shifts = [(shape[k] + 1) // 2 if inverse else shape[k] // 2 for k in dims]
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Rolls each of ``dim`` (default: all) by half its size, so that the zero frequency of an
    :func:`fftn` spectrum moves to the centre."""
    return _shift(input, dim, "fftshift", False)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of :func:`fftshift` (they differ for odd sizes)."""
    return _shift(input, dim, "ifftshift", True)
