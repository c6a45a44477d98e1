"""Activation functions (``torch.nn.functional``'s relu, gelu, silu, elu, softplus, ...).

Most activations are one node each: the forward is a few NumPy calls on the raw array, and the
backward is a formula that works on raw arrays (the fast path, no recording) and on Tensors (the
``create_graph`` path, so every activation is differentiable twice). The formulas receive
``(g, x, y)``: the incoming gradient, the saved input and the saved output, the latter two only
when the op asks for them. Rarely used activations are composed from ferrum ops instead.

Conventions shared with PyTorch's kernels:
- a 0-d input runs as a 1-element array (NumPy's ufuncs turn 0-d arrays into scalars, which
  ``out=`` cannot write to) and its result is reshaped back;
- piecewise gradients *select* (a NaN/inf in the incoming gradient at an element whose derivative
  is 0 gives 0, as PyTorch) and NaN inputs take the branch PyTorch's comparison sends them to
  (``x <= t ? a : b`` puts NaN in ``b``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _special, _state
from .._dtype import float32, from_np, np_finfo, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record, sum_to
from . import _parallel as _par
from . import elementwise as E
from ._common import p_exp, p_where, zeros_like_layout
from .inplace import apply_inplace, writable
from ._promote import _cast
from .nn_misc import _uniform
from .softmax import log_softmax, softmax
from ._autocast import autocast_op

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_", "hardsigmoid",
    "hardswish", "softplus", "softsign", "tanhshrink", "threshold", "threshold_", "softmin", "glu",
    "logsigmoid", "hardshrink", "softshrink", "rrelu", "rrelu_", "softmax", "log_softmax",
]

_new = object.__new__
_np_sigmoid = E._np_sigmoid
sigmoid = E.sigmoid
tanh = E.tanh

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K_TANH = math.sqrt(2.0 / math.pi)
_C_TANH = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# --------------------------------------------------------------------------- helpers
def _check(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _float_data(input, op: str):
    """The input's array (a 0-d one as 1 element, see the module docstring); NotImplementedError
    for integer and bool tensors, as PyTorch."""
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        _check(input, op)
    d = input._data
    if d.dtype.kind not in "fV":
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(from_np(d.dtype))}'")
    return d if d.ndim else d.reshape(1)


def _act(input: Tensor, r, grad, save_x: bool, save_y: bool, name: str) -> Tensor:
    """Wraps result array ``r`` and records one UnaryBackward node running ``grad(g, x, y)``."""
    d = input._data
    dt = d.dtype
    if r.dtype != dt:  # bfloat16 arithmetic with Python floats promotes to float64
        r = r.astype(dt)
    if not d.ndim:
        r = r.reshape(())
    res = _wrap(r)
    if input.requires_grad and _state.grad_enabled and r.dtype.kind in "fV":
        E.record_unary(input, res, grad, save_x, save_y, name)
    return res


def _is_t(a) -> bool:
    return a.__class__ is Tensor


def _p_sigmoid(x):
    return x.sigmoid() if x.__class__ is Tensor else _np_sigmoid(x)


def _p_tanh(x):
    return x.tanh() if x.__class__ is Tensor else np.tanh(x)


def _p_erf(x):
    if x.__class__ is Tensor:
        return x.erf()
    if isinstance(x, np.generic):  # arithmetic on a 0-d array gives a NumPy scalar
        x = np.asarray(x)  # (_special reads anything but an ndarray as a CuPy array)
    return _special.erf(x)


def _zero(d):
    return d.dtype.type(0)


_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}


def _zero_where(g, drop):
    """``g`` with 0 where the boolean ``drop`` is True: a select, so a NaN/inf of ``g`` at a dropped
    element gives 0 (as PyTorch) where ``g * ~drop`` would give NaN. On arrays it is done with a
    bit mask (all ones where kept) and-ed into g's bits: as fast as the multiplication, where
    np.where is up to 10x slower on an unpredictable mask. ``drop`` has g's shape."""
    if g.__class__ is Tensor:
        return E.where(drop if drop.__class__ is Tensor else _wrap(drop), 0.0, g)
    it = _INT_OF_SIZE[g.dtype.itemsize]
    m = drop.astype(it)
    m -= 1  # 0 where dropped, -1 (all bits set) where kept
    m &= g.view(it)
    return m.view(g.dtype)


# --------------------------------------------------------------------------- relu family
# a NumPy scalar of the array's own dtype: comparing with a Python int costs a promotion lookup
# that doubles the time of a small np.maximum
_ZERO = {np.dtype(t): np.dtype(t).type(0) for t in (np.float32, np.float64, np.float16, np.int64,
                                                     np.int32, np.int16, np.int8, np.uint8)}


class _ReluBackward(Node, name="ReluBackward0"):
    """Hot node: grad = g where y > 0, else 0 (selected: PyTorch's ``y <= 0 ? 0 : g``, so a NaN
    output passes g through); on raw arrays or (create_graph) on Tensors."""

    __slots__ = ("y", "yver", "z")
    _saved = ("y",)

    def backward(self, g):
        y = self.checked_output(self.y, self.yver)
        # the mask is piecewise constant: no graph through it
        if y.dtype.kind == "V" and y.__class__ is np.ndarray:  # bfloat16: compared in float32 (_lowp)
            from ._lowp import widen
            return (_zero_where(g, widen(y) <= 0.0),)
        return (_zero_where(g, y <= self.z),)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise; any shape and any real dtype except bool. ``torch.relu`` and
    ``Tensor.relu`` are this function."""
    if inplace:
        return relu_(input)
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        raise TypeError(f"relu(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    d = input._data
    z = _ZERO.get(d.dtype)
    if z is None:
        z = _relu_zero(d)
    if d.dtype.kind == "V" and d.__class__ is np.ndarray and d.ndim:  # bfloat16 (ops/_lowp.py)
        from ._lowp import relu as _lowp_relu
        r = _lowp_relu(d)
    else:
        r = np.maximum(d, zeros_like_layout(d, z))
    if r.__class__ is not d.__class__:  # a 0-d input gives a NumPy scalar
        r = np.asarray(r)
    res = _wrap(r)
    if input.requires_grad and _state.grad_enabled and r.dtype.kind in "fV":
        node = attach(res, _ReluBackward, (input,))
        node.y = r
        node.yver = res._version
        node.z = z
    return res


def _relu_zero(d):
    """The zero of a dtype outside the table (bfloat16), or PyTorch's error for bool and complex."""
    k = d.dtype.kind
    if k == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if k == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return d.dtype.type(0)


def _relu_owned(input: Tensor) -> Tensor:
    """relu written into ``input``'s own array, recorded as the out-of-place relu. Only for a
    fresh intermediate that nothing else references or saved (``Sequential``'s Linear outputs)."""
    d = input._data
    z = _ZERO.get(d.dtype)
    if z is None or d.__class__ is not np.ndarray or not d.ndim:
        return relu(input)
    np.maximum(d, zeros_like_layout(d, z), out=d)
    res = _wrap(d)
    if input.grad_fn is not None and input.requires_grad and z.dtype.kind == "f":
        attach(res, _ReluBackward, (input,), y=d, yver=res._version, z=z)
    return res


def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    if input.requires_grad and _state.grad_enabled:
        return apply_inplace(input, relu, "relu_", reads_self=False)  # relu's backward reads its output
    _check(input, "relu_")
    d = writable(input, "relu_")  # a view of an expanded tensor: writable unless elements overlap
    z = _ZERO.get(d.dtype)
    np.maximum(d, _relu_zero(d) if z is None else z, out=d)
    input._version[0] += 1
    return input


def _inplace(input, fn, op: str) -> Tensor:
    _check(input, op)
    return apply_inplace(input, fn, op)


def _hardtanh(input, lo, hi) -> Tensor:
    _check(input, "hardtanh")
    d = input._data
    k = d.dtype.kind
    if k == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if k == "u" and lo < 0:
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative lower bound.")
    r = np.clip(d if d.ndim else d.reshape(1), lo, hi)
    if r.dtype != d.dtype:
        r = r.astype(d.dtype)

    def grad(g, x, y):
        # PyTorch: x <= lo || x >= hi ? 0 : g (a NaN input passes g)
        return _zero_where(g, (x <= lo) | (x >= hi))
    return _act(input, r, grad, True, False, "HardtanhBackward0")


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamps to [min_val, max_val]; the gradient is 0 outside the open interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, lambda a: _hardtanh(a, min_val, max_val), "hardtanh_")
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_relu(input, slope) -> Tensor:
    d = _float_data(input, "leaky_relu")
    with np.errstate(invalid="ignore"):
        r = d * slope  # inf * 0 is NaN, but only where x <= 0 is r kept
    if 0.0 < slope <= 1.0:
        np.maximum(d, r, out=r)
    else:
        r = np.where(d > 0, d, r)

    def grad(g, x, y):
        return p_where(x > 0, g, g * slope)
    return _act(input, r, grad, True, False, "LeakyReluBackward0")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    if inplace:
        return _inplace(input, lambda a: _leaky_relu(a, negative_slope), "leaky_relu_")
    return _leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


@autocast_op("prelu")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x, with ``weight`` one value or one per channel (dim 1).

    input (N, C, *) or any shape when weight has one element; weight (1,) or (C,).
    """
    _check(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' (position 2) must be Tensor, not "
                        f"{type(weight).__name__}")
    _float_data(input, "prelu")
    n = weight.numel()
    if n != 1:
        ch = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or n != ch:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {ch}.")
        w = weight.reshape((n,) + (1,) * (input.ndim - 2))
    else:
        w = weight.reshape(())
    d, wd = input._data, w._data
    with np.errstate(invalid="ignore"):
        r = np.where(d > 0, d, d * wd)
    return record(r, _PreluBackward, (input, w), save=(input, w))


class _PreluBackward(Node, name="PreluKernelBackward0"):
    """dx = g where x > 0 else g w; dw = the sum of g x where x <= 0, both selected, so that a NaN
    weight does not reach the gradient of positive inputs."""

    def backward_t(self, g, x, w):
        pos = x > 0
        gx = gw = None
        if self.next[0] is not None:
            gx = E.where(pos, g, g * w)
        if self.next[1] is not None:
            gw = sum_to(E.where(pos, 0.0, g * x), w.shape)
        return gx, gw


# --------------------------------------------------------------------------- elu family
def _elu_core(input, alpha, scale, input_scale, op: str, node_name: str) -> Tensor:
    # PyTorch's elu kernel: scale * x for x > 0, else scale * alpha * (exp(x * input_scale) - 1)
    d = _float_data(input, op)
    neg = np.minimum(d, _zero(d))
    if input_scale != 1.0:
        neg *= input_scale
    np.expm1(neg, out=neg)
    neg *= scale * alpha
    r = np.where(d <= 0, neg, d * scale if scale != 1.0 else d)
    sa = scale * alpha

    def grad(g, x, y):
        # on the negative side dy/dx = input_scale * (y + scale * alpha); PyTorch tests x <= 0,
        # so a NaN input takes the positive side
        return p_where(x <= 0, g * ((y + sa) * input_scale), g * scale)
    return _act(input, r, grad, True, True, node_name)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1)."""
    if inplace:
        return _inplace(input, lambda a: _elu_core(a, alpha, 1.0, 1.0, "elu", "EluBackward0"), "elu_")
    return _elu_core(input, alpha, 1.0, 1.0, "elu", "EluBackward0")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalizing constants (alpha ~ 1.6733, scale ~ 1.0507)."""
    def fn(a):
        return _elu_core(a, _SELU_ALPHA, _SELU_SCALE, 1.0, "selu", "EluBackward0")
    return _inplace(input, fn, "selu_") if inplace else fn(input)


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")

    def fn(a):
        return _elu_core(a, alpha, 1.0, 1.0 / alpha, "celu", "CeluBackward0")
    return _inplace(input, fn, "celu_") if inplace else fn(input)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, True)


# --------------------------------------------------------------------------- smooth gates
def _gelu_grad(g, x, y):
    cdf = 0.5 * (1.0 + _p_erf(x * _SQRT1_2))
    pdf = p_exp(x * x * -0.5) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _gelu_tanh_grad(g, x, y):
    x2 = x * x
    t = _p_tanh((x + x2 * x * _C_TANH) * _K_TANH)
    dinner = (1.0 + x2 * (3.0 * _C_TANH)) * _K_TANH
    return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)


_F32 = np.dtype(np.float32)
_CHUNK = 1 << 16  # elements per pass: a chunk's five float32 temporaries (1.25 MiB) stay in L2
_M_HALF32 = np.float32(-0.5)
_INV_SQRT_2PI32 = np.float32(_INV_SQRT_2PI)


class _GeluBackward(Node, name="GeluBackward0"):
    """Hot node of the exact float32 GELU (``_gelu_f32``): saves the input and Phi(x) of the forward
    (flat, contiguous). The raw gradient is g (Phi + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi):
    seven passes over 64K-element chunks; under create_graph the Tensor formula ``_gelu_grad``
    (differentiable again). x^2 is recomputed rather than saved: one pass over a chunk in cache
    against a saved array of the input's size; no time difference measurable (1024 x 512 float32,
    each call after a 16 MB cache flush, one thread, medians of 40, two runs: forward + node backward
    2702 and 2599 us against 2834 and 2403 us saving x^2), a quarter less memory kept per GELU."""

    __slots__ = ("x", "vx", "xf", "cdf")
    _saved = ("x", "xf", "cdf")

    def backward(self, g):
        x = self.checked_input(self.x, self.vx)
        if g.__class__ is Tensor:
            return (_gelu_grad(g, x, None),)
        xf = self.unreleased(self.xf)
        cdf = self.unreleased(self.cdf)
        gf = np.ascontiguousarray(g, dtype=_F32).reshape(-1)
        res = np.empty(x._data.shape, _F32)
        of = res.reshape(-1)

        def part(lo, hi):
            with np.errstate(over="ignore", invalid="ignore"):  # x^2 overflows to inf, inf * 0 is NaN
                for i in range(lo, hi, _CHUNK):
                    j = min(hi, i + _CHUNK)
                    o = of[i:j]
                    xs = xf[i:j]
                    np.multiply(xs, xs, out=o)
                    o *= _M_HALF32
                    np.exp(o, out=o)
                    o *= xs
                    o *= _INV_SQRT_2PI32
                    o += cdf[i:j]
                    o *= gf[i:j]

        _par.halves(part, of.size, of.size, _par.NORM_MIN_SIZE)
        return (res,)


def _gelu_f32(input: Tensor, d) -> Tensor:
    """Exact GELU x Phi(x) of a float32 array ``d`` (the input's, 0-d as one element) with the fast
    float32 Phi of ``_special.ndtr_f32_into``, in chunks, the halves on two threads when allowed
    (``_parallel.halves``). Phi is kept for the backward only when one is recorded. The split pays
    only on an idle second core: on the shared machine (load 4, 1024 x 512, two threads allowed,
    medians of 60, us) 1272, 1284, 1186 split against 1203, 1220, 1152 on one thread, and right
    after a GEMM on OpenBLAS's two threads 1922, 3027, 1728 against 1486, 1423, 1406."""
    xf = np.ascontiguousarray(d).reshape(-1)
    n = xf.size
    res = np.empty(input._data.shape, _F32)
    yf = res.reshape(-1)
    keep = input.requires_grad and _state.grad_enabled
    cdf = np.empty(n, _F32) if keep else None

    def part(lo, hi):
        m = min(_CHUNK, hi - lo)
        x2 = np.empty(m, _F32)
        c = None if keep else np.empty(m, _F32)
        with np.errstate(over="ignore", invalid="ignore"):  # x^2 overflows to inf, -inf * 0 is NaN
            for i in range(lo, hi, _CHUNK):
                j = min(hi, i + _CHUNK)
                if keep:
                    c = cdf[i:j]
                _special.ndtr_f32_into(xf[i:j], c[:j - i], x2[:j - i])
                np.multiply(xf[i:j], c[:j - i], out=yf[i:j])

    _par.halves(part, n, n, _par.NORM_MIN_SIZE)
    out = _wrap(res)
    if keep:
        node = attach(out, _GeluBackward, (input,))
        node.x = input
        node.vx = input._version[0]
        node.xf = xf
        node.cdf = cdf
    return out


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). float32 CPU inputs compute Phi with the fast
    float32 approximation of ``_special.ndtr_f32_into`` (the erf inside within 4 ulp of the exact
    value), other dtypes with erf itself."""
    d = _float_data(input, "gelu")
    if d.dtype.itemsize == 2 and d.__class__ is np.ndarray:
        # float16/bfloat16: through float32 and back, 10x faster than erf on these dtypes (ops/_lowp.py)
        return _cast(gelu(_cast(input, float32), approximate), input.dtype)
    if approximate == "none":
        if d.dtype is _F32 and d.__class__ is np.ndarray:
            return _gelu_f32(input, d)
        r = _special.erf(d * _SQRT1_2)
        if r.dtype != d.dtype:
            r = r.astype(d.dtype)
        r += 1.0
        r *= d
        r *= 0.5
        return _act(input, r, _gelu_grad, True, False, "GeluBackward0")
    if approximate == "tanh":
        r = d * d
        r *= d * _C_TANH
        r += d
        r *= _K_TANH
        np.tanh(r, out=r)
        r += 1.0
        r *= d
        r *= 0.5
        return _act(input, r, _gelu_tanh_grad, True, False, "GeluBackward0")
    raise RuntimeError("approximate argument must be either none or tanh.")


def _silu_grad(g, x, y):
    s = _p_sigmoid(x)
    return g * (s * (1.0 + x * (1.0 - s)))


def _silu(input) -> Tensor:
    d = _float_data(input, "silu")
    r = _np_sigmoid(d)
    r *= d
    return _act(input, r, _silu_grad, True, False, "SiluBackward0")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (swish)."""
    return _inplace(input, _silu, "silu_") if inplace else _silu(input)


def _np_softplus(d):
    # log(1 + exp(x)) without overflow
    return np.logaddexp(_zero(d), d)


def _mish_grad(g, x, y):
    if g.__class__ is Tensor:
        t = softplus(x).tanh()
    else:
        t = np.tanh(_np_softplus(x))
    return g * (t + x * (1.0 - t * t) * _p_sigmoid(x))


def _mish(input) -> Tensor:
    d = _float_data(input, "mish")
    r = np.tanh(_np_softplus(d))
    r *= d
    return _act(input, r, _mish_grad, True, False, "MishBackward0")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    return _inplace(input, _mish, "mish_") if inplace else _mish(input)


@autocast_op("softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta; reverts to x where beta x > threshold."""
    d = _float_data(input, "softplus")
    z = d * beta if beta != 1.0 else d
    sp = _np_softplus(z)
    if beta != 1.0:
        sp /= beta
    r = np.where(z > threshold, d, sp)

    def grad(g, x, y):
        zx = x * beta if beta != 1.0 else x
        return p_where(zx > threshold, g, g * _p_sigmoid(zx))
    return _act(input, r, grad, True, False, "SoftplusBackward0")


def _logsigmoid_grad(g, x, y):
    return g * _p_sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed stably."""
    d = _float_data(input, "log_sigmoid")
    r = np.minimum(d, _zero(d))
    r -= np.log1p(np.exp(-np.abs(d)))
    return _act(input, r, _logsigmoid_grad, True, False, "LogSigmoidBackward0")


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    _check(input, "softsign")
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    _check(input, "tanhshrink")
    return input - input.tanh()


# --------------------------------------------------------------------------- piecewise linear
def _hs_grad(g, x, y):
    # PyTorch: g / 6 on the open interval (-3, 3), else 0
    return _zero_where(g * (1.0 / 6.0), ~((x > -3.0) & (x < 3.0)))


def _hardsigmoid(input) -> Tensor:
    d = _float_data(input, "hardsigmoid")
    r = d + 3.0
    np.clip(r, 0.0, 6.0, out=r)
    r /= 6.0
    return _act(input, r, _hs_grad, True, False, "HardsigmoidBackward0")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return _inplace(input, _hardsigmoid, "hardsigmoid_") if inplace else _hardsigmoid(input)


def _hsw_grad(g, x, y):
    # PyTorch 2.13: 0 for x <= -3, x / 3 + 1/2 on (-3, 3), 1 for x >= 3 (and NaN)
    mid = p_where(x < 3.0, g * (x / 3.0 + 0.5), g)
    return _zero_where(mid, x <= -3.0)


def _hardswish(input) -> Tensor:
    d = _float_data(input, "hardswish")
    r = d + 3.0
    np.clip(r, 0.0, 6.0, out=r)
    r *= d
    r /= 6.0
    return _act(input, r, _hsw_grad, True, False, "HardswishBackward0")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    return _inplace(input, _hardswish, "hardswish_") if inplace else _hardswish(input)


def _threshold(input, th, value) -> Tensor:
    _check(input, "threshold")
    d = input._data
    if d.dtype.kind == "b":
        raise NotImplementedError("\"threshold\" not implemented for 'Bool'")
    # PyTorch: x <= threshold ? value : x, so NaN stays NaN
    r = np.where(d <= th, np.asarray(value).astype(d.dtype), d)

    def grad(g, x, y):
        return _zero_where(g, x <= th)
    return _act(input, r, grad, True, False, "ThresholdBackward0")


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value."""
    if inplace:
        return _inplace(input, lambda a: _threshold(a, threshold, value), "threshold_")
    return _threshold(input, threshold, value)


_threshold_api = threshold


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return _threshold_api(input, threshold, value, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd else 0."""
    d = _float_data(input, "hardshrink")
    # PyTorch: -lambd <= x <= lambd ? 0 : x, so NaN stays NaN
    r = np.where((d >= -lambd) & (d <= lambd), _zero(d), d)
    return _act(input, r, _shrink_grad(lambd), True, False, "HardshrinkBackward0")


def _shrink_grad(lambd: float):
    def grad(g, x, y):
        return _zero_where(g, (x >= -lambd) & (x <= lambd))
    return grad



def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0 (lambd >= 0)."""
    d = _float_data(input, "softshrink")
    if not lambd >= 0:
        fi = np_finfo(d.dtype)
        raise RuntimeError(f"lambda must be in range [0, {float(fi.max):g}] for input dtype "
                           f"{scalar_name(from_np(d.dtype))}, but found {lambd:g}")
    r = d - np.clip(d, -lambd, lambd)
    return _act(input, r, _shrink_grad(lambd), True, False, "SoftshrinkBackward0")


# --------------------------------------------------------------------------- rrelu
class _RReLUBackward(Node, name="RreluWithNoiseBackward0"):
    # the noise is the derivative itself (1 or the drawn slope, never a 0/1 mask)
    def backward_t(self, g):
        return (g * _wrap(self.noise),)


def _rrelu_train(input, lower, upper) -> Tensor:
    d = _float_data(input, "rrelu")
    u = _uniform(d, lower, upper)
    noise = np.where(d <= 0, u, d.dtype.type(1))
    shape = input._data.shape
    return record((d * noise).reshape(shape), _RReLUBackward, (input,), noise=noise.reshape(shape))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky relu: in training each negative element gets a slope drawn from
    U(lower, upper) (ferrum's global generator); in eval the slope is (lower + upper) / 2."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2.0, inplace)
    if inplace:
        return _inplace(input, lambda a: _rrelu_train(a, lower, upper), "rrelu_")
    return _rrelu_train(input, lower, upper)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


# --------------------------------------------------------------------------- along a dim
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    _check(input, "softmin")
    return softmax(-input, dim, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where a, b are the two halves of ``input`` along ``dim``.

    input (*, 2N, *) -> (*, N, *).
    """
    _float_data(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    from ._common import canon_dim
    d = canon_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


# torch.relu, Tensor.relu and F.relu are one function recording one node
Tensor.relu = relu
Tensor.relu_ = relu_
