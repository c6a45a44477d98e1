"""Registry entries: special functions (ferrum.lgamma ..., ferrum.special.*).

Special values are chosen per op where PyTorch's result for one of SPECIALS is a quirk of its
kernel rather than a defined value (its float32 Bessel functions at 1e4, its incomplete gamma near
a = x = 1e4, its float16 i0 past 12), so that no entry depends on them.
"""

from __future__ import annotations

import numpy as np

from .core import ALL, FLOATS, INTS, SPECIALS, Sample, binary, register, unary, values

F32_64 = ("float32", "float64")
POS = (0.2, 3.0)
_SP_SMALL = [v for v in SPECIALS if abs(v) < 1e4]  # without +-1e4 (see the module docstring)


def _un(name, fn, domain=None, gdomain=None, dtypes=ALL, grad=True, kwargs=({},), special_values=None, **kw):
    register(
        name,
        fn,
        unary(domain, kwargs, special_values=special_values),
        dtypes=dtypes,
        grad=grad,
        grad_samples=unary(gdomain, kwargs, special=False) if gdomain else None,
        **kw,
    )


_un("lgamma", lambda T, x: T.lgamma(x), gdomain=POS)
_un("digamma", lambda T, x: T.digamma(x), gdomain=POS)
_un("polygamma", lambda T, x, n: T.polygamma(n, x), domain=(0.1, 3.0), gdomain=POS,
    kwargs=({"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}))
_un("mvlgamma", lambda T, x, p: T.mvlgamma(x, p), domain=(1.1, 4.0), gdomain=(1.2, 3.0),
    kwargs=({"p": 1}, {"p": 3}), special_values=[1.5, 2.5, 4.0, np.inf, np.nan])
_un("i0", lambda T, x: T.i0(x), gdomain=(-2.0, 2.0))
_un("special_i0e", lambda T, x: T.special.i0e(x))
_un("special_i1", lambda T, x: T.special.i1(x))
_un("special_i1e", lambda T, x: T.special.i1e(x))
_un("special_ndtr", lambda T, x: T.special.ndtr(x))
_un("special_ndtri", lambda T, x: T.special.ndtri(x), domain=(0.02, 0.98), gdomain=(0.1, 0.9))
_un("special_log_ndtr", lambda T, x: T.special.log_ndtr(x))
_un("special_erfcx", lambda T, x: T.special.erfcx(x))
_un("special_entr", lambda T, x: T.special.entr(x), gdomain=POS)
_un("special_gammaln", lambda T, x: T.special.gammaln(x), dtypes=F32_64, gdomain=POS)
_un("special_psi", lambda T, x: T.special.psi(x), dtypes=F32_64, gdomain=POS)
_un("special_multigammaln", lambda T, x: T.special.multigammaln(x, 2), domain=(1.1, 3.0), dtypes=F32_64,
    special_values=[1.5, 2.5, np.inf, np.nan])
_un("frexp", lambda T, x: tuple(T.frexp(x)), dtypes=FLOATS + ("int64",), gradgrad=False)

# not differentiable in PyTorch (no grad_fn): forward parity only
for _n in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"):
    # PyTorch's J/Y and Ai are less accurate than SciPy's (ops/special_bessel.py): 1e-7 relative, 1e-6 abs
    _un("special_" + _n, lambda T, x, _n=_n: getattr(T.special, _n)(x), dtypes=ALL, grad=False,
        special_values=_SP_SMALL, rtol=1e-7, atol=2e-6, domain=(-4.0, 4.0))


def _bin(name, fn, dtypes=FLOATS, grad=True, scalars=(2, -1.5), domain=None, rhs_domain=None, gdomain=None,
         rhs_gdomain=None, special_values=None, **kw):
    gs = binary(gdomain, scalars=(), special=False, mixed=False, rhs_domain=rhs_gdomain) if gdomain else None
    register(name, fn, binary(domain, scalars=scalars, rhs_domain=rhs_domain, special_values=special_values),
             dtypes=dtypes, grad=grad, grad_samples=gs, **kw)


_bin("logaddexp2", lambda T, a, b: T.logaddexp2(a, b), scalars=())
_bin("special_xlog1py", lambda T, a, b: T.special.xlog1py(a, b), scalars=(2, 0.5), gdomain=(-2.0, 2.0),
     rhs_gdomain=(0.2, 2.0))
_bin("special_zeta", lambda T, a, b: T.special.zeta(a, b), domain=(1.2, 4.0), rhs_domain=(0.2, 3.0),
     scalars=(2, 2.5), grad=False)
_bin("igamma", lambda T, a, b: T.igamma(a, b), domain=(0.2, 4.0), scalars=(), grad=False,
     special_values=_SP_SMALL)
_bin("igammac", lambda T, a, b: T.igammac(a, b), domain=(0.2, 4.0), scalars=(), grad=False,
     special_values=_SP_SMALL)
_bin("special_gammainc", lambda T, a, b: T.special.gammainc(a, b), domain=(0.2, 4.0), scalars=(2,),
     grad=False, special_values=_SP_SMALL)
_bin("gcd", lambda T, a, b: T.gcd(a, b), dtypes=INTS + ("bool", "float32"), grad=False, scalars=())
_bin("lcm", lambda T, a, b: T.lcm(a, b), dtypes=INTS + ("bool", "float32"), grad=False, scalars=())


def _second_only(fn):
    """Samples whose first argument is a constant tensor (a one-element list: no gradient), for the
    ops PyTorch differentiates in the second argument only."""

    def gen(rng, dtype):
        for sa, sb in [((3, 4), (3, 4)), ((4,), (3, 4)), ((), (5,)), ((3, 1), (1, 4))]:
            yield Sample(([values(rng, sa, dtype, (1.3, 4.0))], values(rng, sb, dtype, (0.3, 3.0))))

    return gen


for _n, _f in [
    ("zeta_q", lambda T, a, q: T.special.zeta(a[0], q)),
    ("igamma_x", lambda T, a, x: T.igamma(a[0], x)),
    ("igammac_x", lambda T, a, x: T.igammac(a[0], x)),
    ("special_gammaincc_x", lambda T, a, x: T.special.gammaincc(a[0], x)),
]:
    register(_n, _f, _second_only(_f), dtypes=F32_64)


def _ldexp(rng, dtype):
    for sa, sb in [((3, 4), (3, 4)), ((4,), (3, 4)), ((), ()), ((0, 2), (2,))]:
        yield Sample((values(rng, sa, dtype), values(rng, sb, "int32")), dtypes=(dtype, "int32"))
    yield Sample((values(rng, (5,), dtype), values(rng, (5,), dtype)))


register("ldexp", lambda T, x, e: T.ldexp(x, e), _ldexp, dtypes=FLOATS + ("int64",))


def _poly(rng, dtype):
    xs = values(rng, (6, 5), dtype, (-1.5, 1.5))
    ns = np.array([0, 1, 2, 3, 5, 7, 9, 12, 2.7, -1.0]).reshape(10, 1, 1)
    yield Sample((xs, ns))
    yield Sample((xs, 4))
    edges = np.array([-1.0, 1.0, 0.0, 0.5, 2.0, -2.0, np.inf, -np.inf])
    yield Sample((edges, np.arange(10.0).reshape(10, 1)))
    yield Sample((values(rng, (3,), dtype), values(rng, (3,), "int64", (0, 6))), dtypes=(dtype, "int64"))


_CHEB = tuple(f"{s}chebyshev_polynomial_{k}" for s in ("", "shifted_") for k in "tuvw")
for _n in _CHEB + ("hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"):
    register("special_" + _n, lambda T, x, n, _n=_n: getattr(T.special, _n)(x, n), _poly,
             dtypes=FLOATS + ("int64",), grad=False, rtol=1e-6)
