"""Special functions with autograd: the gamma family (lgamma, digamma, polygamma, mvlgamma), the
modified Bessel functions of order 0 and 1 (i0, i0e, i1, i1e), the normal distribution's ndtr,
ndtri and log_ndtr, erfcx, entr, xlog1py, Hurwitz zeta, the regularised incomplete gamma
functions, and the number/float helpers logaddexp2, gcd, lcm, frexp and ldexp.

Forward values come from SciPy's ufuncs (a runtime dependency; cupyx.scipy.special for cuda
arrays) where they agree with PyTorch's numerics; where PyTorch's kernels give a different,
defined answer, the difference is written here:

- trigamma (``polygamma(1, x)``): PyTorch sums six steps of the recurrence psi1(x) = psi1(x+1) +
  1/x^2 before a four-term asymptotic series, with the reflection formula below 1/2; its value
  differs from SciPy's by up to 5e-10 relative and is large but finite at the poles (sin(pi x) is
  not exactly 0 there). The same scheme is evaluated here in the input's dtype, so the values and
  the poles agree with PyTorch's.
- float32 ``i0``/``i1`` overflow to +-inf where PyTorch's float32 ``exp(|x|)`` does
  (|x| > 88.72), not at float32's own limit as a double-precision value would.
- ``ndtr`` is PyTorch's composite ``(1 + erf(x / sqrt 2)) / 2``, so its left tail underflows to 0
  where PyTorch's does (x < -8.3 in float64), and its gradient comes from the composite.
- ``zeta(x, q)``, ``gammainc``/``gammaincc``: PyTorch's answers for infinite and nan arguments
  (``zeta(x, inf)`` is nan; ``gammainc(inf, nan)`` is 0 ...) are selected before SciPy's values.

Every backward is written with the ops of this module (digamma's gradient is polygamma(1, x),
polygamma(n)'s is polygamma(n + 1), i0's is i1 ...), so every order of derivative works. As in
PyTorch, ``zeta``, ``gammainc`` and ``gammaincc`` have no derivative with respect to their first
argument: backward through it raises NotImplementedError.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .._dtype import from_np, get_default_dtype, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record, sum_to
from ._common import _write_out, xp_of
from ._promote import _cast, _coerce_pair, _float_dt, _require_tensors, _shape_error
from ._reduce_common import _return_type, return_types
from .arith import pow
from .select import where
from .unary import abs, erf, exp, exp2, log, sgn

_pyint = builtins.int

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "i0", "i0_", "logaddexp2", "gcd", "gcd_", "lcm",
           "lcm_", "frexp", "ldexp", "ldexp_", "igamma", "igammac"]

_SQRT1_2 = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2 * math.pi)
_2_SQRTPI = 2.0 / math.sqrt(math.pi)

return_types.frexp = _return_type("frexp", ("mantissa", "exponent"))


def _sc(a):
    """scipy.special for NumPy arrays, cupyx.scipy.special for CuPy (cuda) ones."""
    if isinstance(a, (np.ndarray, np.generic, float)):
        import scipy.special as sc
        return sc
    import cupyx.scipy.special as cs
    return cs


def _check_tensor(input, op: str, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(input).__name__}")


def _kernel_error(kernel: str, d) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_name(from_np(d.dtype))}'")


def _float_array(input: Tensor, kernel: str, half: bool = True):
    """(array to compute on, dtype of the result): integers and bool give the default float dtype;
    float16/bfloat16 are computed in float32 (or refused when PyTorch has no kernel: ``half``)."""
    d = input._data
    k = d.dtype.kind
    if k == "c" or (not half and d.dtype.itemsize < 4 and k in "fV"):
        raise _kernel_error(kernel, d)
    if k not in "fV":
        d = d.astype(_float_dt())
        return d, d.dtype
    if d.dtype.itemsize < 4:
        return d.astype(np.float32), d.dtype
    return d, d.dtype


def _apply(fn, d, dt):
    with np.errstate(all="ignore"):  # overflow to inf in the cast to float16 is the value, as in PyTorch
        return xp_of(d).asarray(fn(d)).astype(dt, copy=False)


# --------------------------------------------------------------------------- unary nodes
class _UnaryBackward(Node):
    """``self.fn(g, x, y)`` with Tensors (x the input, y the output): differentiable."""

    def backward_t(self, g, x, y):
        return (self.fn(g, x, y),)


def _unary(input, out, op: str, kernel: str, fwd, node, grad_fn, half: bool = True) -> Tensor:
    _check_tensor(input, op)
    if out is not None:
        return _write_out(out, _unary(input, None, op, kernel, fwd, node, grad_fn, half))
    d, dt = _float_array(input, kernel, half)
    r = _apply(fwd, d, dt)
    return record(r, node, (input,), save=(input,), save_output=True, fn=grad_fn)


# --------------------------------------------------------------------------- gamma family
def _np_lgamma(d):
    r = _sc(d).gammaln(d)
    return np.where(d == -np.inf, np.inf, r)  # PyTorch: lgamma(-inf) = +inf (log |Gamma|)


def _np_trigamma(d):
    # the reflection formula below 1/2, six recurrence steps, then the asymptotic series:
    # PyTorch's scheme (see the module docstring), in d's own dtype
    x = d.copy()
    neg = x < 0.5
    res = np.zeros_like(x)
    if neg.any():
        s = np.sin(x[neg] * x.dtype.type(math.pi))
        res[neg] = -(x.dtype.type(math.pi) ** 2) / (s * s)
        x[neg] = 1 - x[neg]
    for _ in range(6):
        res += 1 / (x * x)
        x += 1
    ixx = 1 / (x * x)
    res += (1 + 1 / (2 * x) + ixx * (1 / 6 - ixx * (1 / 30 - ixx * (1 / 42)))) / x
    return np.where(neg, -res, res)


def _np_zeta(x, q):
    r = _sc(q).zeta(x, q)
    # PyTorch's Euler-Maclaurin sum (in double for float32 as well) gives nan where SciPy gives 0:
    # q = inf (0 * inf in its tail term), and where q^-x underflows to 0 while the tail's rising
    # factorial x (x+1) ... (x+22) overflows (x > ~2.5e13, or x = inf): 0 * inf again
    xp = xp_of(q)
    x64, q64 = xp.broadcast_arrays(xp.asarray(x, xp.float64), xp.asarray(q, xp.float64))
    nan = (q64 == np.inf) & (x64 > 1)
    under = (q64 > 0) & (x64 > 1) & (np.power(q64, -x64) == 0)
    if under.any():
        xs = x64[under]
        big = np.isinf(xs) | (sum(np.log(xs + j) for j in range(23)) > _LOG_DBL_MAX)
        nan[under] |= big
    return np.where(nan, np.nan, r)


_LOG_DBL_MAX = math.log(np.finfo(np.float64).max)


def _np_polygamma(n: int):
    def f(d):
        if n == 0:
            return _sc(d).psi(d)
        if n == 1:
            return _np_trigamma(d)
        # (-1)^(n+1) n! zeta(n + 1, x), in float64 and rounded once
        z = _np_zeta(np.float64(n + 1), d.astype(np.float64))
        return (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0)) * z
    return f


_LgammaBackward = _UnaryBackward.named("LgammaBackward0")
_DigammaBackward = _UnaryBackward.named("DigammaBackward0")
_PolygammaBackward = _UnaryBackward.named("PolygammaBackward0")


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log |Gamma(input)| elementwise (+inf at 0 and the negative integers); gradient digamma."""
    return _unary(input, out, "lgamma", "lgamma_vml_cpu", _np_lgamma, _LgammaBackward,
                  lambda g, x, y: g * digamma(x))


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """psi(input) = d/dx log Gamma(x) elementwise (-inf at +0, +inf at -0, nan at the negative
    integers, as PyTorch); gradient polygamma(1, x)."""
    return _unary(input, out, "digamma", "digamma", lambda d: _sc(d).psi(d), _DigammaBackward,
                  lambda g, x, y: g * polygamma(1, x))


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The n-th derivative of digamma, elementwise (n >= 0, an int); gradient polygamma(n + 1)."""
    if isinstance(n, builtins.bool) or not isinstance(n, (_pyint, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    n = _pyint(n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _unary(input, out, "polygamma", "polygamma", _np_polygamma(n), _PolygammaBackward,
                  lambda g, x, y: g * polygamma(n + 1, x))


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma of dimension ``p`` elementwise:
    sum_{i<p} lgamma(x - i/2) + p (p - 1) / 4 log(pi). Composed of differentiable ops."""
    _check_tensor(input, "mvlgamma")
    if out is not None:
        return _write_out(out, mvlgamma(input, p))
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = input
    if x._data.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if x._data.dtype.kind == "c":
        raise _kernel_error("arange_cpu", x._data)
    if x._data.dtype.kind not in "fV":
        x = _cast(x, get_default_dtype())
    offs = _wrap(-(np.arange(p, dtype=np.float64) * 0.5).astype(x._data.dtype))
    s = lgamma(x.unsqueeze(-1) + offs).sum(-1)
    return s + p * (p - 1) * math.log(math.pi) / 4


# --------------------------------------------------------------------------- Bessel I0, I1
def _f32_exp_overflow(d):
    """Where PyTorch's float32 kernels overflow computing exp(|x|) (|x| > 88.72)."""
    with np.errstate(over="ignore"):
        return np.isinf(np.exp(np.abs(d.astype(np.float32))))


def _np_i0(d):
    r = _sc(d).i0(d)
    if d.dtype == np.float32:  # PyTorch's float32 kernel: inf past exp's overflow, inf / inf = nan at +-inf
        r = np.where(np.isinf(d), np.nan, np.where(_f32_exp_overflow(d), np.inf, r))
    return r


def _np_i1(d):
    r = _sc(d).i1(d)
    if d.dtype == np.float32:
        r = np.where(np.isinf(d), np.nan, np.where(_f32_exp_overflow(d), np.copysign(np.inf, d), r))
    return r


def _tiny_safe(x):
    """(|x| <= eps, x with those elements replaced by eps): i1's and i1e's gradients at 0."""
    eps = float(np.finfo(x._data.dtype).eps)
    tiny = abs(x) <= eps
    return tiny, where(tiny, eps, x)


def _i1_grad(g, x, y):
    tiny, safe = _tiny_safe(x)
    return g * where(tiny, 0.5, i0(safe) - y / safe)


def _i1e_grad(g, x, y):
    tiny, safe = _tiny_safe(x)
    return g * where(tiny, 0.5, i0e(safe) - y * (sgn(safe) + 1 / safe))


_I0Backward = _UnaryBackward.named("I0Backward0")
_I0eBackward = _UnaryBackward.named("SpecialI0EBackward0")
_I1Backward = _UnaryBackward.named("SpecialI1Backward0")
_I1eBackward = _UnaryBackward.named("SpecialI1EBackward0")


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise; gradient i1."""
    return _unary(input, out, "i0", "i0_vml_cpu", _np_i0, _I0Backward, lambda g, x, y: g * i1(x))


def i0_(input: Tensor) -> Tensor:
    """In-place :func:`i0`."""
    from .inplace import apply_inplace
    return apply_inplace(input, i0, "i0_")


def i0e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(-|x|) i0(x), elementwise."""
    return _unary(input, out, "i0e", "i0e_cpu", lambda d: _sc(d).i0e(d), _I0eBackward,
                  lambda g, x, y: g * (i1e(x) - sgn(x) * y))


def i1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind of order 1, elementwise."""
    return _unary(input, out, "i1", "i1_cpu", _np_i1, _I1Backward, _i1_grad)


def i1e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(-|x|) i1(x), elementwise."""
    return _unary(input, out, "i1e", "i1e_cpu", lambda d: _sc(d).i1e(d), _I1eBackward, _i1e_grad)


# --------------------------------------------------------------------------- normal distribution, erfcx, entr
_NdtriBackward = _UnaryBackward.named("SpecialNdtriBackward0")
_LogNdtrBackward = _UnaryBackward.named("SpecialLogNdtrBackward0")
_ErfcxBackward = _UnaryBackward.named("SpecialErfcxBackward0")
_EntrBackward = _UnaryBackward.named("SpecialEntrBackward0")


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF, PyTorch's composite (1 + erf(x / sqrt 2)) / 2."""
    _check_tensor(input, "special_ndtr")
    if out is not None:
        return _write_out(out, ndtr(input))
    if input._data.dtype.kind == "c":
        raise _kernel_error("erf_vml_cpu", input._data)
    return (1 + erf(input * _SQRT1_2)) * 0.5


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ndtr (the standard normal quantile), elementwise."""
    return _unary(input, out, "special_ndtri", "ndtri_cpu", lambda d: _sc(d).ndtri(d), _NdtriBackward,
                  lambda g, x, y: g * _SQRT_2PI * exp(y * y * 0.5), half=False)


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(ndtr(x)), accurate in both tails, elementwise."""
    return _unary(input, out, "special_log_ndtr", "log_ndtr_cpu", lambda d: _sc(d).log_ndtr(d),
                  _LogNdtrBackward, lambda g, x, y: g / _SQRT_2PI * exp(-(y + x * x * 0.5)), half=False)


def erfcx(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The scaled complementary error function exp(x^2) erfc(x), elementwise."""
    return _unary(input, out, "special_erfcx", "erfcx_cpu", lambda d: _sc(d).erfcx(d), _ErfcxBackward,
                  lambda g, x, y: g * (2 * x * y - _2_SQRTPI), half=False)


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0, elementwise."""
    return _unary(input, out, "special_entr", "entr_cpu", lambda d: _sc(d).entr(d), _EntrBackward,
                  lambda g, x, y: g * -(1 + log(x)))


# --------------------------------------------------------------------------- binary
def _binary(op: str, kernel: str, a, b, fwd, node, tensors_only=False, float_only=True, half=True,
            out=None, **attrs) -> Tensor:
    if tensors_only:
        _require_tensors(op, a, b)
    if out is not None:
        return _write_out(out, _binary(op, kernel, a, b, fwd, node, tensors_only, float_only, half, **attrs))
    a, b = _coerce_pair(a, b, op, float_only)
    ad, bd = a._data, b._data
    if ad.dtype.kind not in "fV" or (not half and ad.dtype.itemsize < 4):
        raise _kernel_error(kernel, ad)
    dt = ad.dtype
    if dt.itemsize < 4:
        ad, bd = ad.astype(np.float32), bd.astype(np.float32)
    try:
        np.broadcast_shapes(ad.shape, bd.shape)
    except ValueError:
        raise _shape_error(op, ad, bd) from None
    with np.errstate(all="ignore"):
        r = xp_of(ad).asarray(fwd(ad, bd)).astype(dt, copy=False)
    return record(r, node, (a, b), save=(a, b), shapes=(a._data.shape, b._data.shape), **attrs)


class _Xlog1pyBackward(Node, name="SpecialXlog1PyBackward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(where((a == 0) & (b <= -1), 0.0, xlog1py(g, b)), sa)
        if self.next[1] is not None:
            gb = sum_to(g * a / (b + 1), sb)
        return ga, gb


def xlog1py(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log1p(other), 0 where input == 0 (unless other is nan); either may be a number."""
    return _binary("special_xlog1py", "xlog1py_cpu", input, other, lambda a, b: _sc(a).xlog1py(a, b),
                   _Xlog1pyBackward, out=out)


class _ZetaBackward(Node, name="SpecialZetaBackward0"):
    def backward_t(self, g, x, q):
        if self.next[0] is not None:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, sum_to(g * -x * zeta(x + 1.0, q), self.shapes[1])


def zeta(input, other, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function sum_k (k + other)^-input, elementwise (either may be a number).
    Differentiable in ``other`` only, as in PyTorch."""
    return _binary("special_zeta", "zeta_cpu", input, other, _np_zeta, _ZetaBackward, half=False, out=out)


class _IgammaBackward(Node):
    def backward_t(self, g, a, x):
        if self.next[0] is not None:
            raise NotImplementedError(f"the derivative for '{self.fname}: input' is not implemented.")
        d = exp((a - 1) * log(x) - x - lgamma(a))
        return None, sum_to(g * d if self.fname == "igamma" else -g * d, self.shapes[1])


def _np_igamma(upper: bool):
    def f(a, x):
        sc = _sc(a)
        r = sc.gammaincc(a, x) if upper else sc.gammainc(a, x)
        # PyTorch's order of special cases (comparisons with nan are false)
        lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
        neg = (x < 0) | (a < 0)
        conds = [neg, a == 0, x == 0, np.isinf(a), np.isinf(x)]
        vals = [np.nan, np.where(x > 0, hi, np.nan), lo, np.where(np.isinf(x), np.nan, lo), hi]
        return np.select(conds, vals, r)
    return f


_IgammaB = _IgammaBackward.named("IgammaBackward0")
_IgammacB = _IgammaBackward.named("IgammacBackward0")


def igamma(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other) (floating tensors).
    Differentiable in ``other`` only, as in PyTorch."""
    return _binary("igamma", "igamma_cpu", input, other, _np_igamma(False), _IgammaB, tensors_only=True,
                   float_only=False, out=out, fname="igamma")


def igammac(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P."""
    return _binary("igammac", "igammac_cpu", input, other, _np_igamma(True), _IgammacB, tensors_only=True,
                   float_only=False, out=out, fname="igammac")


class _Logaddexp2Backward(Node, name="Logaddexp2Backward0"):
    def backward_t(self, g, a, b):
        sa, sb = self.shapes
        return sum_to(g / (1 + pow(2.0, b - a)), sa), sum_to(g / (1 + pow(2.0, a - b)), sb)


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log2(2**input + 2**other), computed stably (floating tensors, broadcast)."""
    return _binary("logaddexp2", "logaddexp2_cpu", input, other, np.logaddexp2, _Logaddexp2Backward,
                   tensors_only=True, float_only=False, out=out)


# --------------------------------------------------------------------------- integers and float parts
def _int_binary(op: str, input, other, fwd, out) -> Tensor:
    _require_tensors(op, input, other)
    if out is not None:
        return _write_out(out, _int_binary(op, input, other, fwd, None))
    a, b = _coerce_pair(input, other, op)
    ad, bd = a._data, b._data
    if ad.dtype.kind not in "iu":
        raise _kernel_error(f"{op}_cpu", ad)
    try:
        np.broadcast_shapes(ad.shape, bd.shape)
    except ValueError:
        raise _shape_error(op, ad, bd) from None
    with np.errstate(all="ignore"):
        return _wrap(xp_of(ad).asarray(fwd(ad, bd)).astype(ad.dtype, copy=False))


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The greatest common divisor, elementwise, of integer tensors (non-negative; gcd(0, 0) = 0)."""
    return _int_binary("gcd", input, other, np.gcd, out)


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The least common multiple, elementwise, of integer tensors (non-negative; 0 if either is 0)."""
    return _int_binary("lcm", input, other, np.lcm, out)


def _inplace(fn, name):
    def op(self, other):
        from .inplace import apply_inplace
        return apply_inplace(self, fn, name, other)
    op.__name__ = name
    op.__doc__ = f"In-place {name[:-1]}."
    return op


gcd_ = _inplace(gcd, "gcd_")
lcm_ = _inplace(lcm, "lcm_")


class _FrexpBackward(Node, name="FrexpBackward0"):
    def backward_t(self, g):
        return (g / exp2(_wrap(self.exponent.astype(g._data.dtype))),)


def frexp(input: Tensor, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2**exponent, 0.5 <= |mantissa| < 1 (0, inf and
    nan keep their value with exponent 0); the exponent is int32. Floating tensors only."""
    _check_tensor(input, "frexp")
    d = input._data
    if d.dtype.kind not in "fV" or d.dtype.kind == "c":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    if out is not None:
        m, e = frexp(input)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("frexp(): argument 'out' must be a tuple of 2 Tensors")
        return return_types.frexp(_write_out(out[0], m), _write_out(out[1], e))
    w = d.astype(np.float32) if d.dtype.kind == "V" else d
    m, e = np.frexp(w)
    m = xp_of(w).asarray(m).astype(d.dtype, copy=False)
    e = xp_of(w).asarray(e).astype(np.int32, copy=False)
    mt = record(m, _FrexpBackward, (input,), exponent=e)
    return return_types.frexp(mt, _wrap(e))


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input * 2**other in the promoted dtype of the two (integers give the default float dtype).

    Differences from PyTorch: the gradient with respect to ``input`` is 2**other for every
    exponent; torch 2.13 evaluates that power in an integer ``other``'s own dtype, so its gradient
    is 0 wherever an integer exponent is negative."""
    _require_tensors("ldexp", input, other)
    if out is not None:
        return _write_out(out, ldexp(input, other))
    if other._data.dtype.kind == "b":
        raise _kernel_error("ldexp_cpu_exp", other._data)
    a, e = _coerce_pair(input, other, "ldexp", True)  # the promoted dtype, integers to the default float
    return a * pow(2.0, e)


def ldexp_(input: Tensor, other: Tensor) -> Tensor:
    """In-place :func:`ldexp`."""
    from .inplace import apply_inplace
    return apply_inplace(input, ldexp, "ldexp_", other)


def _attach() -> None:
    from .inplace import apply_inplace

    def unary_(fn, name):
        def op(self, *args):
            return apply_inplace(self, lambda s: fn(s, *args), name)
        op.__name__ = name
        return op

    for name in ("lgamma", "digamma", "i0", "logaddexp2", "gcd", "lcm", "frexp", "ldexp", "igamma",
                 "igammac"):
        setattr(Tensor, name, globals()[name])
    Tensor.polygamma = lambda self, n: polygamma(n, self)
    Tensor.mvlgamma = lambda self, p: mvlgamma(self, p)
    Tensor.lgamma_ = unary_(lgamma, "lgamma_")
    Tensor.digamma_ = unary_(digamma, "digamma_")
    Tensor.i0_ = unary_(i0, "i0_")
    Tensor.mvlgamma_ = unary_(mvlgamma, "mvlgamma_")
    Tensor.polygamma_ = lambda self, n: apply_inplace(self, lambda s: polygamma(n, s), "polygamma_")
    Tensor.gcd_ = gcd_
    Tensor.lcm_ = lcm_
    Tensor.ldexp_ = ldexp_
    Tensor.igamma_ = _inplace(igamma, "igamma_")
    Tensor.igammac_ = _inplace(igammac, "igammac_")


_attach()
