"""Complex-number constructors and views: ``view_as_real``, ``view_as_complex``, ``complex``,
``polar`` and ``angle``, all differentiable with PyTorch's complex convention.

PyTorch's convention ("Autograd for Complex Numbers"): the gradient that flows into a complex
input is the conjugate Wirtinger derivative of the (real) loss, ``dL/dx + i dL/dy``; for a
holomorphic op that is ``g * conj(f'(z))`` (``ops/arith.py`` and the unary table conjugate
there), for the ops here it is spelled out per op. ``view_as_real`` and ``view_as_complex`` are
views sharing memory with their input (NumPy reinterprets the buffer: a complex array's ``.real``
has the same strides, one more axis of half the itemsize gives the (re, im) pairs), so they are
each other's backward, as in PyTorch. ComplexHalf does not exist in NumPy, so float16 inputs
raise where PyTorch would make a complex32 tensor.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record, sum_to
from ._common import xp_of
from ._promote import _float_dt, _float_kinds
from .select import where
from .unary import _zero_grad, sgn
from ._autocast import autocast_op

__all__ = ["view_as_real", "view_as_complex", "complex", "polar", "angle", "is_conj", "is_neg", "resolve_neg",
           "real", "imag"]

_CPLX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}


def _as_view(out: Tensor, base: Tensor, fn) -> Tensor:
    out._version = base._version
    out._view = (base, fn)
    return out


def _vc_view(t: Tensor) -> Tensor:
    """``view_as_complex`` as the view protocol re-applies it; in-place's bool mask of a real base
    (ops/inplace.py) has its (re, im) flag pairs viewed as one uint16 each, so that clearing an
    element of the view clears both flags. (A complex base's mask is complex: one flag per part.)"""
    d = t._data
    if d.dtype == np.bool_:
        return _wrap(d.view(np.uint16)[..., 0])
    return view_as_complex(t)


class _ViewAsRealBackward(Node, name="ViewAsRealBackward0"):
    def backward_t(self, g):
        return (view_as_complex(g.contiguous()),)


class _ViewAsComplexBackward(Node, name="ViewAsComplexBackward0"):
    def backward_t(self, g):
        return (view_as_real(g),)


def view_as_real(input: Tensor) -> Tensor:
    """A real view of a complex tensor: shape ``(*, 2)`` holding (real, imag) pairs, sharing memory
    with ``input`` (writes through either are seen by the other)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_real(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input._data
    if d.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    r = np.lib.stride_tricks.as_strided(d.real, d.shape + (2,), d.strides + (d.itemsize // 2,),
                                        writeable=d.flags.writeable)
    return _as_view(record(r, _ViewAsRealBackward, (input,)), input, view_as_real)


@autocast_op("view_as_complex")
def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a real tensor of shape ``(*, 2)`` (the last dim holds real and imaginary
    parts; it must have stride 1, every other stride and the storage offset must be even),
    sharing memory with ``input``. float32 gives complex64, float64 complex128."""
    if not isinstance(input, Tensor):
        raise TypeError(f"view_as_complex(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input._data
    if d.dtype not in _CPLX:
        if d.dtype == np.float16:
            raise RuntimeError("view_as_complex: ComplexHalf (complex32) is not supported by ferrum")
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got "
                           f"a tensor of scalar type: {scalar_name(input.dtype)}")
    if d.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    st = input.stride()
    if st[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s, n in zip(st[:-1], d.shape[:-1]) if n != 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    cdt = _CPLX[d.dtype]
    if d.size == 0:
        r = xp_of(d).empty(d.shape[:-1], cdt)
    else:
        # the last axis is contiguous (stride 1), so the buffer reinterprets in place
        r = d.view(cdt)[..., 0]
    return _as_view(record(r, _ViewAsComplexBackward, (input,)), input, _vc_view)


def real(input: Tensor) -> Tensor:
    """The real part: for a complex tensor a view sharing its memory (``x.real.add_(1)`` changes
    ``x``, as PyTorch), differentiable to every order; a real tensor itself."""
    if input._data.dtype.kind != "c":
        return input
    return view_as_real(input).select(-1, 0)


def imag(input: Tensor) -> Tensor:
    """The imaginary part, a view of a complex tensor; RuntimeError for other dtypes (PyTorch's)."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return view_as_real(input).select(-1, 1)


class _ComplexBackward(Node, name="ComplexBackward0"):
    def backward_t(self, g):
        sr, si = self.shapes
        gr = sum_to(real(g), sr) if self.next[0] is not None else None
        gi = sum_to(imag(g), si) if self.next[1] is not None else None
        return gr, gi


def _check_pair(op: str, a, b, first: str, second: str) -> None:
    for name, t in ((first, a), (second, b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    da, db = a._data.dtype, b._data.dtype
    if da not in _CPLX and da != np.float16 or db not in _CPLX and db != np.float16:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{scalar_name(a.dtype)} and {scalar_name(b.dtype)}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {scalar_name(a.dtype)} but got scalar type "
                           f"{scalar_name(b.dtype)} for second argument")
    if da == np.float16:
        raise RuntimeError(f"{op}: ComplexHalf (complex32) is not supported by ferrum")
    try:
        np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}(): the shapes of {first} {tuple(a.shape)} and {second} {tuple(b.shape)} "
                           f"cannot be broadcast together") from None


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """``real + 1j * imag`` with broadcasting; both float32 (complex64) or both float64
    (complex128). Differentiable: the real and imaginary parts of the gradient go to ``real``
    and ``imag``."""
    _check_pair("complex", real, imag, "real", "imag")
    rd, idt = real._data, imag._data
    shape = np.broadcast_shapes(rd.shape, idt.shape)
    r = xp_of(rd).empty(shape, _CPLX[rd.dtype])
    r.real = rd
    r.imag = idt
    return record(r, _ComplexBackward, (real, imag), shapes=(rd.shape, idt.shape))


class _PolarBackward(Node, name="PolarBackward0"):
    def backward_t(self, g, y):
        # PyTorch's gradient: Re(conj(g) sgn(y)) for abs (so 0 where abs is 0, and the sign
        # flipped where abs < 0, off the domain) and Re(conj(g) i y) for angle
        sa, sb = self.shapes
        gc = g.conj()
        ga = sum_to(real(gc * sgn(y)), sa) if self.next[0] is not None else None
        gb = sum_to(real(gc * (y * 1j)), sb) if self.next[1] is not None else None
        return ga, gb


@autocast_op("polar")
def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """``abs * (cos(angle) + 1j * sin(angle))`` with broadcasting; both float32 or both float64,
    giving complex64 or complex128. Differentiable in both arguments."""
    _check_pair("polar", abs, angle, "abs", "angle")
    ad, bd = abs._data, angle._data
    shape = np.broadcast_shapes(ad.shape, bd.shape)
    r = xp_of(ad).empty(shape, _CPLX[ad.dtype])
    r.real = ad * np.cos(bd)
    r.imag = ad * np.sin(bd)
    return record(r, _PolarBackward, (abs, angle), save_output=True, shapes=(ad.shape, bd.shape))


class _AngleBackward(Node, name="AngleBackward0"):
    def backward_t(self, g, z):
        if z._data.dtype.kind != "c":  # piecewise constant: zeros (a nan in g must not leak)
            return (_zero_grad(g, None, None),)
        # PyTorch's gradient: g * i z / |z|^2 (0 at z = 0)
        a2 = real(z) * real(z) + imag(z) * imag(z)
        safe = where(a2 == 0, 1.0, a2)
        return (where(a2 == 0, 0.0, (z * 1j) * (g / safe)),)


def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument of each element in radians (float for complex input); for real input 0
    for x >= 0 (-0.0 included), pi for x < 0 and nan for nan, as PyTorch. Integer inputs give the
    default float dtype."""
    if out is not None:
        from ._common import _write_out
        return _write_out(out, angle(input))
    d = input._data
    if d.dtype.kind == "c":
        r = np.angle(d)
    else:
        if d.dtype.kind not in _float_kinds:
            d = d.astype(_float_dt())
        f = d.astype(np.float32) if d.dtype.itemsize < 4 else d
        r = np.where(np.isnan(f), f, np.where(f < 0, math.pi, 0.0)).astype(d.dtype)
    return record(r, _AngleBackward, (input,), save=(input,))


def is_conj(input: Tensor) -> bool:
    """False: ferrum's ``conj`` computes the conjugate at once (PyTorch may return a lazy view with
    the conjugate bit set); code that checks it and calls ``resolve_conj`` works unchanged."""
    return False


def is_neg(input: Tensor) -> bool:
    """False: ferrum has no lazy negative bit (see :func:`is_conj`)."""
    return False


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: ferrum has no lazy negative bit to materialise."""
    return input


Tensor.angle = angle
Tensor.real = property(real)
Tensor.imag = property(imag)
Tensor.is_neg = is_neg
Tensor.resolve_neg = resolve_neg
