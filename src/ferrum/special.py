"""``ferrum.special``: torch.special's names, each taking ``out=`` where torch's does.

The new functions live in ``ops/special_fn.py`` (differentiable) and ``ops/special_bessel.py``
(the Bessel functions and orthogonal polynomials, which PyTorch does not differentiate); the rest
are ferrum's existing ops under torch.special's names (``expit`` is sigmoid, ``gammaln`` lgamma,
``psi`` digamma, ``multigammaln`` mvlgamma ...).
"""

from __future__ import annotations

from ._tensor import Tensor
from .ops import unary as _unary
from .ops._common import _write_out
from .ops.binary import xlogy as _xlogy
from .ops.reduce import logsumexp as _logsumexp
from .ops.softmax import log_softmax as _log_softmax
from .ops.softmax import softmax as _softmax
from .ops.special_bessel import (  # noqa: F401
    airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, chebyshev_polynomial_t, chebyshev_polynomial_u,
    chebyshev_polynomial_v, chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he,
    laguerre_polynomial_l, legendre_polynomial_p, modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
    modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1, shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)
from .ops.special_fn import (  # noqa: F401
    digamma, entr, erfcx, i0, i0e, i1, i1e, log_ndtr, ndtr, ndtri, polygamma, xlog1py, zeta,
)
from .ops.special_fn import igamma as _igamma
from .ops.special_fn import igammac as _igammac
from .ops.special_fn import lgamma as _lgamma
from .ops.special_fn import mvlgamma as _mvlgamma

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf",
    "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln",
    "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l",
    "legendre_polynomial_p", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
    "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w", "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]

erf = _unary.erf
erfc = _unary.erfc
erfinv = _unary.erfinv
exp2 = _unary.exp2
expm1 = _unary.expm1
log1p = _unary.log1p
expit = _unary.sigmoid
psi = digamma


def gammaln(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log |Gamma(input)|: :func:`ferrum.lgamma`."""
    return _lgamma(input, out=out)


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma of dimension ``p``: :func:`ferrum.mvlgamma`."""
    return _mvlgamma(input, p, out=out)


def gammainc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularised lower incomplete gamma function: :func:`ferrum.igamma`."""
    _tensors("special_gammainc", input, other)
    return _igamma(input, other, out=out)


def gammaincc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularised upper incomplete gamma function: :func:`ferrum.igammac`."""
    _tensors("special_gammaincc", input, other)
    return _igammac(input, other, out=out)


def _tensors(op: str, input, other) -> None:
    # torch.special's own name in the TypeError (special_gammainc(), not igamma())
    for arg, pos, v in (("input", 1, input), ("other", 2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given."""
    r = _unary.logit(input, eps)
    return r if out is None else _write_out(out, r)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Rounds half to even (to ``decimals`` places)."""
    r = _unary.round(input, decimals=decimals)
    return r if out is None else _write_out(out, r)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0."""
    r = _unary.sinc(input)
    return r if out is None else _write_out(out, r)


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), 0 where input == 0 (unless other is nan)."""
    r = _xlogy(input, other)
    return r if out is None else _write_out(out, r)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """log(sum(exp(input), dim)), computed stably."""
    return _logsumexp(input, dim, keepdim, out=out)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """exp(input) / sum(exp(input), dim); ``dtype`` casts the input first."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """log(softmax(input, dim)), computed stably; ``dtype`` casts the input first."""
    return _log_softmax(input, dim, dtype=dtype)
