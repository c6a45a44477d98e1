"""Registry entries: elementwise arithmetic, unary math, comparisons, selection."""

from __future__ import annotations

import numpy as np

from .core import ALL, SPECIALS, FLOATS, INTS, Sample, binary, register, unary, values

NUMERIC = FLOATS + INTS  # bool refused by torch for several ops
POS = (0.1, 3.0)
UNIT = (-0.9, 0.9)


def _un(name, fn=None, domain=None, gdomain=None, dtypes=ALL, grad=True, kwargs=({},), **kw):
    fn = fn or (lambda T, x, _n=name, **k: getattr(T, _n)(x, **k))
    register(
        name,
        fn,
        unary(domain, kwargs),
        dtypes=dtypes,
        grad=grad,
        kind="unary",
        domain=gdomain,
        grad_samples=unary(gdomain, kwargs, special=False) if gdomain else None,
        **kw,
    )


for _name, _gd in [
    ("sin", None),
    ("cos", None),
    ("tan", (-1.2, 1.2)),
    ("asin", UNIT),
    ("acos", UNIT),
    ("atan", None),
    ("sinh", None),
    ("cosh", None),
    ("tanh", None),
    ("asinh", None),
    ("acosh", (1.1, 3.0)),
    ("atanh", UNIT),
    ("exp", None),
    ("exp2", None),
    ("expm1", None),
    ("log", POS),
    ("log2", POS),
    ("log10", POS),
    ("log1p", (-0.5, 2.0)),
    ("sqrt", POS),
    ("rsqrt", POS),
    ("sigmoid", None),
    ("erf", None),
    ("erfc", None),
    ("erfinv", UNIT),
    ("reciprocal", POS),
    ("deg2rad", None),
    ("rad2deg", None),
    ("sinc", (0.1, 2.0)),
    ("logit", (0.05, 0.95)),
]:
    _un(_name, gdomain=_gd)

for _name in ("ceil", "floor", "round", "trunc", "frac", "sign", "fix"):
    _un(_name, dtypes=NUMERIC)
_un("sgn", dtypes=NUMERIC)
_un("abs", dtypes=NUMERIC)
_un("neg", dtypes=NUMERIC)
_un("square", dtypes=NUMERIC)
_un("positive", dtypes=NUMERIC)
_un("relu", dtypes=NUMERIC)
_un("round_decimals", lambda T, x: T.round(x, decimals=1), dtypes=FLOATS, rtol=1e-6)
_un("logit_eps", lambda T, x: T.logit(x, eps=0.1), gdomain=(0.2, 0.8))
_un("nan_to_num", lambda T, x: T.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-3.0), dtypes=FLOATS)
for _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not"):
    _un(_name, grad=False, dtypes=ALL if _name != "signbit" else NUMERIC)
_un("bitwise_not", grad=False, dtypes=INTS + ("bool",))
_un("clamp", lambda T, x: T.clamp(x, -0.5, 0.7), dtypes=NUMERIC)
_un("clamp_min", lambda T, x: T.clamp_min(x, 0.25), dtypes=NUMERIC)
_un("clamp_max", lambda T, x: T.clamp_max(x, 0.25), dtypes=NUMERIC)
_un("clone", lambda T, x: T.clone(x))
_un("pow_scalar", lambda T, x: T.pow(x, 3), dtypes=NUMERIC)
_un("pow_half", lambda T, x: T.pow(x, 0.5), dtypes=FLOATS, gdomain=POS)
_un("rpow", lambda T, x: T.pow(2.0, x), dtypes=FLOATS)
_un("mul_scalar", lambda T, x: x * 2.5, dtypes=ALL)
_un("add_scalar_alpha", lambda T, x: T.add(x, 3, alpha=2), dtypes=NUMERIC)
_un("rsub", lambda T, x: 1.5 - x, dtypes=NUMERIC)
_un("rdiv", lambda T, x: 1.0 / x, dtypes=FLOATS, gdomain=POS)
_un("floordiv_scalar", lambda T, x: x // 0.3, dtypes=FLOATS, grad=False)
_un("remainder_scalar", lambda T, x: T.remainder(x, 0.7), dtypes=FLOATS)


def _bin(
    name,
    fn=None,
    dtypes=NUMERIC,
    grad=True,
    gdomain=None,
    rhs_gdomain=None,
    scalars=(2, -1.5),
    special_values=None,
    **kw,
):
    fn = fn or (lambda T, a, b, _n=name: getattr(T, _n)(a, b))
    gs = (
        binary(gdomain, scalars=(), special=False, mixed=False, rhs_domain=rhs_gdomain)
        if (gdomain or rhs_gdomain)
        else None
    )
    register(
        name,
        fn,
        binary(scalars=scalars, special_values=special_values),
        dtypes=dtypes,
        grad=grad,
        grad_samples=gs,
        kind="binary",
        **kw,
    )


_bin("add")
_bin("sub")
_bin("mul", dtypes=ALL)
_bin("div", dtypes=ALL, rhs_gdomain=(0.5, 2.0), gdomain=(-2.0, 2.0))
_bin("div_trunc", lambda T, a, b: T.div(a, b, rounding_mode="trunc"), grad=False)
_bin("div_floor", lambda T, a, b: T.div(a, b, rounding_mode="floor"), grad=False)
_bin("floor_divide", grad=False)
_bin("remainder", gdomain=(0.1, 2.0), rhs_gdomain=(2.5, 3.0))
_bin("fmod", gdomain=(0.1, 2.0), rhs_gdomain=(2.5, 3.0))
_bin("pow", gdomain=(0.5, 2.0), rhs_gdomain=(-1.0, 2.0), scalars=(2, 0.5))
_bin("float_power", gdomain=(0.5, 2.0), rhs_gdomain=(-1.0, 2.0), scalars=(2, 0.5))
_bin("atan2", gdomain=(0.2, 2.0), scalars=())
_bin("hypot", dtypes=FLOATS, gdomain=(0.2, 2.0), scalars=())
# the sign bit of a NaN is not a value: torch's bfloat16 conversion sets it, ml_dtypes' clears it
_bin("copysign", gdomain=(0.2, 2.0), scalars=(-1.0, 2), special_values=[v for v in SPECIALS if v == v])
_bin("fmax", scalars=())
_bin("fmin", scalars=())
_bin("maximum", scalars=())
_bin("minimum", scalars=())
_bin("logaddexp", dtypes=FLOATS, scalars=())
_bin("xlogy", gdomain=(0.2, 2.0), scalars=(2, 0.5))
_bin("heaviside", grad=False, scalars=())
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    _bin(_name, dtypes=ALL, grad=False)
for _name in ("logical_and", "logical_or", "logical_xor"):
    _bin(_name, dtypes=ALL, grad=False, scalars=())
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    _bin(_name, dtypes=INTS + ("bool",), grad=False, scalars=(3,))
_bin("bitwise_left_shift", dtypes=INTS, grad=False, scalars=(1,))
_bin("bitwise_right_shift", dtypes=INTS, grad=False, scalars=(1,))
_bin("isclose", dtypes=NUMERIC, grad=False, scalars=())
_bin("add_alpha", lambda T, a, b: T.add(a, b, alpha=2), dtypes=NUMERIC)
_bin("sub_alpha", lambda T, a, b: T.sub(a, b, alpha=3))


def _ternary(rng, dtype):
    for sa, sb, sc in [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), ()), ((0, 2), (1, 2), (2,)), ((), (), ())]:
        yield Sample((values(rng, sa, dtype), values(rng, sb, dtype), values(rng, sc, dtype, (0.0, 1.0))))
    yield Sample((values(rng, (3, 4), dtype), values(rng, (3, 4), dtype), 0.3))
    yield Sample((values(rng, (3, 4), dtype), values(rng, (3, 4), dtype), 1.0))


register("lerp", lambda T, a, b, w: T.lerp(a, b, w), _ternary, dtypes=FLOATS)


def _where(rng, dtype):
    for sc, sa, sb in [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), ()), ((0, 2), (1, 2), (2,)), ((), (), ())]:
        yield Sample(
            (np.asarray(rng.random(sc) > 0.5), values(rng, sa, dtype), values(rng, sb, dtype)),
            dtypes=("bool", dtype, dtype),
        )
    yield Sample((rng.random((3, 4)) > 0.5, values(rng, (3, 4), dtype), 0.5), dtypes=("bool", dtype))


register("where", lambda T, c, a, b: T.where(c, a, b), _where, dtypes=ALL)


def _clamp_t(rng, dtype):
    yield Sample(
        (
            values(rng, (3, 4), dtype),
            values(rng, (4,), dtype, (-1.0, 0.0)),
            values(rng, (3, 1), dtype, (0.0, 1.0)),
        )
    )
    yield Sample((values(rng, (2, 3), dtype), values(rng, (), dtype), values(rng, (), dtype)))


register("clamp_tensor", lambda T, x, lo, hi: T.clamp(x, lo, hi), _clamp_t, dtypes=NUMERIC)


def _ilshift(rng, dtype):
    yield Sample((values(rng, (3, 4), dtype), 1))


def _inplace(op):
    def f(T, x, s):
        y = x.clone()
        v = y[:2]
        getattr(v, op)(s)
        return y

    return f


for _op in ("__ilshift__", "__irshift__", "__iand__", "__ior__", "__ixor__"):
    register(_op, _inplace(_op), _ilshift, dtypes=INTS, grad=False)
for _op in ("__iadd__", "__isub__", "__imul__"):
    register(
        _op,
        _inplace(_op),
        lambda rng, dtype: iter([Sample((values(rng, (3, 4), dtype), 2))]),
        dtypes=NUMERIC,
        grad=False,
    )

for _op in ("add_", "sub_"):
    register(
        _op + "alpha_narrow",
        lambda T, x, o, _op=_op: getattr(x.clone(), _op)(o, alpha=3),
        lambda rng, dtype: iter(
            [Sample((values(rng, (4,), dtype), np.array([100, -100, 7, 0])), dtypes=(dtype, "int8"))]
        ),
        dtypes=("float64", "float32"),
        grad=False,
    )
register(
    "fill_",
    lambda T, x: (x * 1).fill_(3.0),
    lambda rng, dtype: iter([Sample((np.array([np.inf, -np.inf, np.nan, 1.0]),))]),
    dtypes=FLOATS,
)
register(
    "zero_",
    lambda T, x: (x * 1).zero_(),
    lambda rng, dtype: iter([Sample((np.array([np.inf, -np.inf, np.nan, 1.0]),))]),
    dtypes=FLOATS,
)
