"""Binary math functions without a hot path: atan2, hypot, logaddexp, xlogy, copysign,
heaviside, lerp, float_power.

They are kept apart from ``arith`` (the hand-written hot nodes and the operators) because none
of them is on a measured path: each either records one ``record``/``backward_t`` node through
``_binary_record`` or is composed of differentiable ferrum ops. Which of them accept a Python
number follows PyTorch: atan2, hypot, logaddexp and heaviside take only tensors (a TypeError
otherwise, as in PyTorch), copysign takes a number as ``other`` only, xlogy and lerp take
numbers where PyTorch does.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._dtype import complex128, float32, float64, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record, sum_to
from ._common import _write_out, xp_of
from ._promote import (
    _binary_record, _cast, _coerce_pair, _not_implemented, _require_tensors, _shape_error,
)
from .arith import pow
from .select import where
from ._autocast import autocast_op

_pyint, _pyfloat = builtins.int, builtins.float

__all__ = ["atan2", "arctan2", "hypot", "logaddexp", "xlogy", "xlogy_", "copysign", "heaviside", "lerp",
           "float_power"]


class _Atan2Backward(Node, name="Atan2Backward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        den = a * a + b * b
        origin = den == 0  # PyTorch's gradient at (0, 0) is 0, not 0/0
        den = where(origin, 1.0, den)
        return sum_to(where(origin, 0.0, g * b / den), sa), sum_to(where(origin, 0.0, -g * a / den), sb)


@autocast_op("atan2")
def atan2(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise arctan(input / other) with the quadrant of (other, input); broadcasting,
    integer inputs promote to the default float dtype. Both arguments must be tensors."""
    _require_tensors("atan2", input, other)
    if out is not None:
        return _write_out(out, atan2(input, other))
    return _binary_record("atan2", input, other, np.arctan2, _Atan2Backward, float_only=True)


arctan2 = atan2


class _HypotBackward(Node, name="HypotBackward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        h = hypot(a, b)
        return sum_to(g * a / h, sa), sum_to(g * b / h, sb)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input**2 + other**2) elementwise with broadcasting; both arguments must be tensors."""
    _require_tensors("hypot", input, other)
    return _binary_record("hypot", input, other, np.hypot, _HypotBackward, float_only=True)


class _LogaddexpBackward(Node, name="LogaddexpBackward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        # PyTorch's formula: exact 1 and 0 for an infinite input beside a finite one
        # (conj: complex inputs follow PyTorch's convention g * conj(df/dz); no-op for real)
        return sum_to(g / (1 + (b - a).exp()).conj(), sa), sum_to(g / (1 + (a - b).exp()).conj(), sb)


def _np_logaddexp(a, b):
    if a.dtype.kind == "c":  # NumPy has no complex logaddexp: the larger real part factored out
        m = np.where(a.real >= b.real, a, b)
        with np.errstate(all="ignore"):
            return (m + np.log1p(np.exp(a + b - m - m))).astype(a.dtype, copy=False)
    if a.dtype.itemsize < 4:  # float16/bfloat16 in float32, as PyTorch
        return np.logaddexp(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return np.logaddexp(a, b)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), computed stably; both arguments must be tensors (broadcast,
    promoted)."""
    _require_tensors("logaddexp", input, other)
    return _binary_record("logaddexp", input, other, _np_logaddexp, _LogaddexpBackward)


class _XlogyBackward(Node, name="XlogyBackward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            # PyTorch: xlogy(g, other), and 0 where self == 0 and other <= 0
            ga = sum_to(where((a == 0) & (b <= 0), 0.0, xlogy(g, b)), sa)
        if self.next[1] is not None:
            gb = sum_to(g * a / b, sb)
        return ga, gb


def xlogy_(input, other) -> Tensor:
    """``torch.xlogy_``: ``input.xlogy_(other)``, in place."""
    return input.xlogy_(other)


def _np_xlogy(a, b):
    return np.where((a == 0) & ~np.isnan(b), 0, a * np.log(b)).astype(a.dtype, copy=False)


def xlogy(input, other) -> Tensor:
    """input * log(other), 0 where input == 0 (unless other is nan). Either may be a Python
    number; integers promote to the default float dtype before the log (so a negative number
    beside an unsigned tensor gives nan, as in PyTorch)."""
    return _binary_record("xlogy", input, other, _np_xlogy, _XlogyBackward, float_only=True)


class _CopysignBackward(Node, name="CopysignBackward0"):
    def backward_t(self, g):
        ga = g * _wrap(self.ratio)
        gb = None
        if self.next[1] is not None:  # PyTorch: zeros (the sign source is piecewise constant)
            gb = _wrap(xp_of(g._data).zeros(self.shapes[1], g._data.dtype))
        return sum_to(ga, self.shapes[0]), gb


def copysign(input: Tensor, other) -> Tensor:
    """|input| with the sign bit of other (also of -0.0, +-inf and nan); broadcasting, integers
    promote to the default float dtype. ``other`` may be a Python number, ``input`` may not."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    a, b = _coerce_pair(input, other, "copysign", True)
    ad, bd = a._data, b._data
    if ad.dtype.kind == "c":
        raise _not_implemented("copysign_cpu", a)
    try:
        if ad.dtype.itemsize < 4:  # float16/bfloat16 in float32, exact
            r = np.copysign(ad.astype(np.float32), bd.astype(np.float32)).astype(ad.dtype)
        else:
            r = np.copysign(ad, bd)
    except ValueError:
        raise _shape_error("copysign", ad, bd) from None
    with np.errstate(invalid="ignore", divide="ignore"):
        # PyTorch's gradient: result / input, 0 where input == 0 (nan for nan and +-inf inputs)
        ratio = np.where(ad == 0, 0, r / ad).astype(r.dtype, copy=False)
    return record(r, _CopysignBackward, (a, b), ratio=ratio, shapes=(ad.shape, bd.shape))


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (nan counts as not
    positive: 0, as in PyTorch). Both must be tensors of one dtype; broadcasting."""
    _require_tensors("heaviside", input, values, "values")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input._data.dtype.kind == "c":
        raise _not_implemented("heaviside_cpu", input)
    x, v = input._data, values._data
    try:
        r = np.where(x == 0, v, (x > 0).astype(x.dtype))
    except ValueError:
        raise _shape_error("heaviside", x, v) from None
    return _wrap(r.astype(x.dtype, copy=False))


def _check_lerp(input, end, weight) -> None:
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        bad, name = (input, "input") if not isinstance(input, Tensor) else (end, "end")
        raise TypeError(f"lerp(): argument '{name}' must be Tensor, not {type(bad).__name__}")
    dt = input.dtype
    if input._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{scalar_name(dt)}'")
    if end.dtype is not dt:
        raise RuntimeError(f"expected dtype {scalar_name(dt).lower()} for `end` but got dtype "
                           f"{scalar_name(end.dtype).lower()}")
    if isinstance(weight, Tensor) and weight.dtype is not dt:
        raise RuntimeError(f"expected dtype {scalar_name(dt).lower()} for `weight` but got dtype "
                           f"{scalar_name(weight.dtype).lower()}")


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input), with PyTorch's two-sided formula: for weight >= 0.5 it is
    end - (end - input) * (1 - weight), exact at weight == 1. input and end: tensors of one
    floating dtype (broadcast); weight: a number or a tensor of that dtype."""
    _check_lerp(input, end, weight)
    dt = input.dtype
    if input._data.dtype.itemsize < 4:  # float16/bfloat16: computed in float32, as PyTorch does
        input, end = _cast(input, float32), _cast(end, float32)
        weight = _cast(weight, float32) if isinstance(weight, Tensor) else weight
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is PyTorch's nan, silently
        if not isinstance(weight, Tensor):
            low = (builtins.abs(weight) if _is_complex(weight) else weight) < 0.5
            r = input + weight * (end - input) if low else end - (end - input) * (1 - weight)
        else:  # PyTorch compares |weight| for complex weights
            low = (weight.abs() if _is_complex(weight) else weight) < 0.5
            r = where(low, input + weight * (end - input), end - (end - input) * (1 - weight))
    return _cast(r, dt)


def _is_complex(x) -> bool:
    if isinstance(x, Tensor):
        return x._data.dtype.kind == "c"
    return isinstance(x, (complex, np.complexfloating))


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64, or complex128 when either operand is complex.
    Either (not both) may be a Python number."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected at least one Tensor argument")
    cplx = _is_complex(input) or _is_complex(exponent)
    dt, conv = (complex128, complex) if cplx else (float64, _pyfloat)
    a = _cast(input, dt) if isinstance(input, Tensor) else conv(input)
    e = _cast(exponent, dt) if isinstance(exponent, Tensor) else conv(exponent)
    return pow(a, e)


def _attach() -> None:
    for name in __all__:
        setattr(Tensor, name, globals()[name])


_attach()
