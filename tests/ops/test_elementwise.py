"""Elementwise ops: every function in ``ferrum.ops.elementwise.__all__`` and the operators, forward
against NumPy and PyTorch over dtypes, promotion, broadcasting, non-contiguous and 0-d inputs,
Python scalars on either side, ``out=`` and in-place forms; gradients (gradcheck, gradgradcheck and
PyTorch's); errors."""

# Lambdas built in loops are called at once (by compare / grads_match): the late binding
# B023 warns about cannot bite.
# ruff: noqa: B023

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck
from ferrum.ops import elementwise as E

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
FLOATS = ["float16", "bfloat16", "float32", "float64"]
TOL = {"float16": (4e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (2e-5, 1e-6),
       "float64": (1e-10, 1e-12), "complex64": (2e-5, 1e-6), "complex128": (1e-10, 1e-12)}


def fd(name):
    return getattr(ferrum, name)


def tname(torch_dtype) -> str:
    return str(torch_dtype).split(".")[1]


def np_of(t):
    """A float64 (or bool/complex) NumPy copy of a ferrum or torch tensor."""
    if isinstance(t, ferrum.Tensor):
        if t.dtype in (ferrum.float16, ferrum.bfloat16):
            t = t.to(ferrum.float64)
        return np.array(t.detach().numpy())
    import torch
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.double()
    return t.detach().numpy().copy()


def assert_same(f, t, rtol=None, atol=None):
    """ferrum result ``f`` matches torch result ``t``: dtype, shape and values (NaN == NaN)."""
    assert isinstance(f, ferrum.Tensor), type(f)
    assert f.dtype.name == tname(t.dtype), (f.dtype, t.dtype)
    assert tuple(f.shape) == tuple(t.shape), (f.shape, t.shape)
    r, a = TOL.get(f.dtype.name, (0, 0))
    np.testing.assert_allclose(np_of(f), np_of(t), rtol=r if rtol is None else rtol,
                               atol=a if atol is None else atol, equal_nan=True)


def pair(data, name, torch):
    """The same data as a ferrum and a torch tensor of dtype ``name``."""
    return ferrum.tensor(data).to(fd(name)), torch.tensor(data).to(getattr(torch, name))


def outcome(fn):
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - compared with the other library's outcome
        return None, e


def compare(ffn, tfn, rtol=None, atol=None):
    """Same result, or the same exception type (ferrum's may be a subclass of torch's)."""
    t, te = outcome(tfn)
    f, fe = outcome(ffn)
    if te is not None:
        assert fe is not None, f"torch raised {te!r}, ferrum returned {f!r}"
        assert isinstance(fe, type(te)), (fe, te)
        return
    assert fe is None, f"ferrum raised {fe!r}, torch returned {t!r}"
    assert_same(f, t, rtol, atol)


# --------------------------------------------------------------------------- unary ops
POS = [0.25, 0.5, 1.0, 2.0, 3.5, 7.0]
UNIT = [-0.9, -0.5, -0.1, 0.0, 0.3, 0.8]
ANY = [-3.0, -1.5, -0.25, 0.0, 0.5, 2.0, 4.75]
ABOVE1 = [1.0, 1.25, 2.0, 3.0, 5.0, 10.0]
PROB = [0.05, 0.2, 0.5, 0.7, 0.95]
UNARY = {  # name -> values in the op's domain
    "neg": ANY, "negative": ANY, "positive": ANY, "abs": ANY, "absolute": ANY, "sign": ANY,
    "sgn": ANY, "exp": ANY, "exp2": ANY, "expm1": ANY, "log": POS, "log2": POS, "log10": POS,
    "log1p": POS + [-0.5], "sqrt": POS + [0.0], "rsqrt": POS, "reciprocal": POS + [-2.0],
    "square": ANY, "sin": ANY, "cos": ANY, "tan": UNIT, "asin": UNIT, "acos": UNIT, "atan": ANY,
    "arcsin": UNIT, "arccos": UNIT, "arctan": ANY, "sinh": ANY, "cosh": ANY, "tanh": ANY,
    "asinh": ANY, "acosh": ABOVE1, "atanh": UNIT, "sigmoid": ANY, "relu": ANY, "erf": ANY,
    "erfc": ANY, "erfinv": UNIT, "floor": ANY + [2.5, -2.5], "ceil": ANY + [2.5],
    "round": ANY + [2.5, -0.5, 1.5],
    "trunc": ANY + [-2.7], "fix": ANY, "frac": ANY + [-2.7], "isnan": ANY, "isinf": ANY,
    "isfinite": ANY, "isposinf": ANY, "isneginf": ANY, "isreal": ANY, "logical_not": ANY,
    "bitwise_not": [0, 1, 5, 100], "nan_to_num": ANY, "sinc": ANY, "deg2rad": ANY, "rad2deg": ANY,
    "logit": PROB, "signbit": ANY, "clone": ANY,
}
UNARY_INT_DOMAIN = {"log", "log2", "log10", "sqrt", "rsqrt", "acosh", "logit", "reciprocal"}
# ferrum accepts these where PyTorch refuses the dtype (it promotes to float instead)
def test_every_function_in_all_is_tested():
    tested = set(UNARY) | set(BINARY) | set(COMPARE) | {"clamp", "clip", "clamp_min", "clamp_max", "where",
                                                        "lerp", "isclose", "allclose", "equal", "pow",
                                                        "float_power", "add", "sub", "subtract", "mul",
                                                        "multiply", "div", "divide", "true_divide",
                                                        "heaviside", "floor_divide",
                                                        "xlogy_"}  # test_binary.py::test_top_level_xlogy_
    assert set(E.__all__) - tested == set()
    for name in E.__all__:
        assert getattr(ferrum, name) is getattr(E, name)


def _unary_values(name, dt):
    vals = UNARY[name]
    if dt in ("uint8", "bool") or (dt.startswith("int") and name in UNARY_INT_DOMAIN):
        vals = [abs(v) for v in vals]
    if dt == "bool":
        vals = [0.0, 1.0, 1.0, 0.0]
    if dt.startswith(("int", "uint")) and name in UNARY_INT_DOMAIN:
        vals = [v + 1 for v in vals]
    return vals


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(torch, name, dt):
    vals = _unary_values(name, dt)
    f, t = pair(vals, dt, torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda: getattr(ferrum, name)(f), lambda: getattr(torch, name)(t))
        # the method form, and 0-d / 2-d inputs
        if hasattr(t, name) and name not in ("positive",):
            compare(lambda: getattr(f, name)(), lambda: getattr(t, name)())
        compare(lambda: getattr(ferrum, name)(f[1]), lambda: getattr(torch, name)(t[1]))
        f2, t2 = pair([vals[:2], vals[2:4]], dt, torch)
        compare(lambda: getattr(ferrum, name)(f2), lambda: getattr(torch, name)(t2))


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"bitwise_not"}))  # float special values
def test_unary_special_values_match_torch(torch, name):
    vals = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e30, -1e30, 1e-30]
    f, t = pair(vals, "float32", torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda: getattr(ferrum, name)(f), lambda: getattr(torch, name)(t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "sigmoid", "abs", "sqrt", "neg", "floor", "log1p"])
def test_unary_non_contiguous_input_matches_numpy(name):
    a = np.random.default_rng(0).uniform(0.1, 3.0, (4, 6))
    npf = {"sin": np.sin, "exp": np.exp, "tanh": np.tanh, "abs": np.abs, "sqrt": np.sqrt, "neg": np.negative,
           "floor": np.floor, "log1p": np.log1p, "sigmoid": lambda x: 1 / (1 + np.exp(-x))}[name]
    for view in (a.T, a[::2, 1::2], a[:, 2]):
        r = getattr(ferrum, name)(ferrum.from_numpy(view))
        np.testing.assert_allclose(r.numpy(), npf(view), rtol=1e-12)
    # large enough for the two-thread path
    big = np.random.default_rng(1).uniform(0.1, 3.0, (400, 300)).T
    np.testing.assert_allclose(getattr(ferrum, name)(ferrum.from_numpy(big)).numpy(), npf(big), rtol=1e-12)


def test_sigmoid_is_stable_at_extremes(torch):
    v = [-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0]
    for dt in ("float32", "float64", "float16"):
        f, t = pair(v, dt, torch)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            assert_same(ferrum.sigmoid(f), torch.sigmoid(t))


def test_round_with_decimals_matches_torch(torch):
    v = [1.2345, -2.5551, 0.005, 123.456, 2.5, 3.5]
    for d in (0, 1, 2, -1):
        f, t = pair(v, "float64", torch)
        assert_same(ferrum.round(f, decimals=d), torch.round(t, decimals=d), rtol=1e-12, atol=1e-12)


def test_nan_to_num_options_match_torch(torch):
    v = [float("nan"), float("inf"), -float("inf"), 1.5]
    for dt in ("float32", "float64", "float16", "bfloat16"):
        f, t = pair(v, dt, torch)
        assert_same(ferrum.nan_to_num(f), torch.nan_to_num(t))
        assert_same(ferrum.nan_to_num(f, nan=2.0, posinf=9.0, neginf=-9.0),
                    torch.nan_to_num(t, nan=2.0, posinf=9.0, neginf=-9.0))
    f, t = pair([1, 2], "int64", torch)
    assert_same(ferrum.nan_to_num(f), torch.nan_to_num(t))


def test_logit_eps_matches_torch(torch):
    f, t = pair([0.0, 0.01, 0.5, 1.0], "float64", torch)
    assert_same(ferrum.logit(f, eps=0.05), torch.logit(t, eps=0.05))


def test_unary_errors(torch):
    for name, x in [("neg", [True]), ("positive", [True]), ("abs", [True]), ("bitwise_not", [1.5]),
                    ("floor", [True]), ("round", [True])]:
        fx, tx = pair(x, "bool" if x == [True] else "float32", torch)
        with pytest.raises(RuntimeError):
            getattr(torch, name)(tx)
        with pytest.raises(RuntimeError):
            getattr(ferrum, name)(fx)
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -ferrum.tensor([True])
    with pytest.raises(NotImplementedError, match="bitwise_not_cpu.*'Float'"):
        ferrum.bitwise_not(ferrum.tensor([1.5]))
    with pytest.raises(TypeError, match="exp"):
        ferrum.exp([1.0, 2.0])
    with pytest.raises(TypeError):
        torch.exp([1.0, 2.0])


# --------------------------------------------------------------------------- binary ops
A2 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
B1 = [2.0, 1.0, 3.0]
BINARY = {  # name -> (a values, b values)
    "add": (A2, B1), "sub": (A2, B1), "subtract": (A2, B1), "mul": (A2, B1), "multiply": (A2, B1),
    "div": (A2, B1), "divide": (A2, B1), "true_divide": (A2, B1), "floor_divide": (A2, B1),
    "remainder": (A2, B1), "fmod": (A2, B1), "pow": (A2, B1), "float_power": (A2, B1),
    "atan2": (A2, B1), "arctan2": (A2, B1), "maximum": (A2, B1), "minimum": (A2, B1), "fmax": (A2, B1),
    "fmin": (A2, B1), "hypot": (A2, B1), "copysign": ([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], [-2.0, 1.0, 3.0]),
    "xlogy": ([[0.0, 2.0, 3.0], [4.0, 0.0, 6.0]], B1), "logaddexp": (A2, B1),
    "logical_and": ([[0.0, 2.0, 3.0], [4.0, 0.0, 6.0]], [2.0, 0.0, 3.0]),
    "logical_or": ([[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]], [0.0, 0.0, 3.0]),
    "logical_xor": ([[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]], [0.0, 1.0, 3.0]),
    "bitwise_and": (A2, B1), "bitwise_or": (A2, B1), "bitwise_xor": (A2, B1),
    "bitwise_left_shift": (A2, B1), "bitwise_right_shift": ([[8.0, 20.0, 3.0], [64.0, 5.0, 6.0]], B1),
}
COMPARE = {"eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
           "not_equal"}
for _c in COMPARE:
    BINARY[_c] = ([[1.0, 2.0, 3.0], [3.0, 1.0, 6.0]], [2.0, 1.0, 3.0])
# ferrum computes these where PyTorch refuses the dtypes (it promotes instead)
BIN_LENIENT = {"hypot", "logaddexp", "heaviside"}


@pytest.mark.parametrize("shapes", ["dd", "d0", "0d", "00"])
@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_dtype_pairs_match_torch(torch, name, a, shapes):
    """Every dtype pair, with dimensioned and 0-d operands: PyTorch's result dtype and values."""
    av, bv = BINARY[name]
    if shapes[0] == "0":
        av = av[1][1]
    if shapes[1] == "0":
        bv = bv[0]
    for b in DTYPES:
        if name in BIN_LENIENT and (a not in FLOATS or b not in FLOATS):
            continue
        if name in ("pow", "remainder", "fmod", "floor_divide", "float_power") and a == b == "bool":
            continue  # PyTorch refuses; ferrum computes
        fa, ta = pair(av, a, torch)
        fb, tb = pair(bv, b, torch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(lambda: getattr(ferrum, name)(fa, fb), lambda: getattr(torch, name)(ta, tb))


@pytest.mark.parametrize("name", ["add", "mul", "sub", "div", "maximum", "atan2", "pow", "remainder",
                                  "eq", "lt", "logical_and", "bitwise_xor", "hypot", "copysign", "fmod"])
def test_binary_method_and_broadcasting_match_torch(torch, name):
    rng = np.random.default_rng(3)
    for sa, sb in [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((1,), (5,)), ((), (2, 3)), ((2, 1, 3), (4, 1)),
                   ((0, 3), (1, 3))]:
        av = rng.uniform(0.5, 3.0, sa)
        bv = rng.uniform(0.5, 3.0, sb)
        dt = "int64" if name.startswith("bitwise") else "float64"
        fa, ta = pair(av, dt, torch)
        fb, tb = pair(bv, dt, torch)
        compare(lambda: getattr(fa, name)(fb), lambda: getattr(ta, name)(tb))
        compare(lambda: getattr(ferrum, name)(fb, fa), lambda: getattr(torch, name)(tb, ta))


@pytest.mark.parametrize("name", ["add", "mul", "sub", "div", "maximum", "pow", "eq", "atan2"])
def test_binary_non_contiguous_inputs_match_numpy(name):
    npf = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "div": np.divide, "maximum": np.maximum,
           "pow": np.power, "eq": np.equal, "atan2": np.arctan2}[name]
    rng = np.random.default_rng(5)
    base = rng.uniform(0.5, 2.0, (6, 8))
    other = rng.uniform(0.5, 2.0, (8, 6))
    for x, y in [(base.T, other), (base[::2, ::2], other[::3, 1:5]), (base[:, 1], other[1]),
                 (base.T[:, :1], other.T[0])]:
        r = getattr(ferrum, name)(ferrum.from_numpy(x), ferrum.from_numpy(y))
        np.testing.assert_allclose(np_of(r), npf(x, y), rtol=1e-12)
    big_a = rng.uniform(0.5, 2.0, (300, 400)).T
    big_b = rng.uniform(0.5, 2.0, (400, 300))
    r = getattr(ferrum, name)(ferrum.from_numpy(big_a), ferrum.from_numpy(big_b))
    np.testing.assert_allclose(np_of(r), npf(big_a, big_b), rtol=1e-12)


def test_div_rounding_modes_match_torch(torch):
    av = [[7.0, -7.0, 7.5, -7.5], [0.0, 3.0, -3.0, 9.0]]
    bv = [2.0, 2.0, -2.0, 4.0]
    for dt in ("int64", "int32", "float32", "float64", "int8", "float16"):
        for mode in (None, "trunc", "floor"):
            fa, ta = pair(av, dt, torch)
            fb, tb = pair(bv, dt, torch)
            compare(lambda: ferrum.div(fa, fb, rounding_mode=mode),
                    lambda: torch.div(ta, tb, rounding_mode=mode))
            compare(lambda: fa.div(3, rounding_mode=mode), lambda: ta.div(3, rounding_mode=mode))
            compare(lambda: ferrum.divide(fa, -3, rounding_mode=mode),
                    lambda: torch.divide(ta, -3, rounding_mode=mode))
    with pytest.raises(ValueError, match="rounding_mode"):
        ferrum.div(ferrum.ones(2), 2, rounding_mode="round")


def test_integer_division_by_zero(torch):
    a, b = ferrum.tensor([1, 2]), ferrum.tensor([1, 0])
    for fn in (lambda x, y: ferrum.div(x, y, rounding_mode="floor"), ferrum.floor_divide, ferrum.remainder,
               ferrum.fmod, lambda x, y: ferrum.div(x, y, rounding_mode="trunc")):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn(a, b)
    with pytest.raises(RuntimeError):
        torch.floor_divide(torch.tensor([1, 2]), torch.tensor([1, 0]))
    # true division gives inf/nan like PyTorch
    assert_same(a / b, torch.tensor([1, 2]) / torch.tensor([1, 0]))
    assert_same(ferrum.tensor([0.0, 1.0]) / 0, torch.tensor([0.0, 1.0]) / 0)
    assert_same(ferrum.tensor([0.0, 1.0]) / 0.0, torch.tensor([0.0, 1.0]) / 0.0)


def test_remainder_fmod_signs_match_torch(torch):
    av = [-7.0, -3.5, 0.0, 3.5, 7.0]
    for dt in ("float32", "int64", "float64"):
        fa, ta = pair(av, dt, torch)
        for s in (3, -3, 2.5, -2.5):
            compare(lambda: fa % s, lambda: ta % s)
            compare(lambda: ferrum.fmod(fa, s), lambda: torch.fmod(ta, s))
            compare(lambda: s % fa, lambda: s % ta)


def test_pow_forms_match_torch(torch):
    for dt in DTYPES:
        vals = [0.0, 1.0, 2.0, 3.0] if dt in ("uint8", "bool") else [-2.0, 0.0, 1.5, 3.0]
        f, t = pair(vals, dt, torch)
        for e in (2, 3, 0, 1, 0.5, 2.5, -1.0, True, -2):
            compare(lambda: f ** e, lambda: t ** e)
            compare(lambda: ferrum.pow(f, e), lambda: torch.pow(t, e))
        for s in (2, 2.5, 0, -1.5):
            compare(lambda: s ** f, lambda: s ** t)
    f, t = pair([[1.0, 2.0], [3.0, 4.0]], "float64", torch)
    assert_same(f ** f, t ** t)
    assert_same(ferrum.float_power(f, 2), torch.float_power(t, 2))
    assert_same(ferrum.float_power(f.float(), f.int()), torch.float_power(t.float(), t.int()))
    fi, ti = pair([1, 2, 3], "int64", torch)
    assert_same(ferrum.float_power(fi, 0.5), torch.float_power(ti, 0.5))
    assert_same(ferrum.square(fi), torch.square(ti))


def test_pow_integer_errors(torch):
    for dt in ("int64", "int32", "uint8", "int8", "bool"):
        f, t = pair([1, 2], dt, torch)
        with pytest.raises(RuntimeError):
            t ** -1
        with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
            f ** -1
        with pytest.raises(RuntimeError, match="negative integer powers"):
            ferrum.pow(f, -2)
    # a tensor exponent may be negative: PyTorch's integer results (1, +-1 or 0)
    base, exps = [2, 3, 1, -1, -1, 0], [1, -1, -5, -3, -2, -1]
    assert_same(ferrum.tensor(base) ** ferrum.tensor(exps), torch.tensor(base) ** torch.tensor(exps))
    for s in (2, 1, -1, 0, -2):
        assert_same(s ** ferrum.tensor(exps), s ** torch.tensor(exps))
        assert_same(ferrum.pow(s, ferrum.tensor(exps, dtype=ferrum.int8)),
                    torch.pow(s, torch.tensor(exps, dtype=torch.int8)))
    with pytest.raises(RuntimeError, match="overflow"):
        ferrum.tensor([1, 2], dtype=ferrum.int8) ** 1000
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2], dtype=torch.int8) ** 1000


def test_min_max_nan_handling_match_torch(torch):
    nan = float("nan")
    f1, t1 = pair([1.0, nan, 3.0, nan], "float32", torch)
    f2, t2 = pair([nan, 2.0, 1.0, nan], "float32", torch)
    for name in ("maximum", "minimum", "fmax", "fmin"):
        assert_same(getattr(ferrum, name)(f1, f2), getattr(torch, name)(t1, t2))


def test_heaviside_and_copysign_match_torch(torch):
    f, t = pair([-1.5, 0.0, -0.0, 2.0], "float32", torch)
    v, tv = pair([0.5, 0.5, 0.25, 0.5], "float32", torch)
    assert_same(ferrum.heaviside(f, v), torch.heaviside(t, tv))
    s, ts = pair([1.0, -1.0, -0.0, 0.0], "float32", torch)
    assert_same(ferrum.copysign(f, s), torch.copysign(t, ts))
    assert_same(ferrum.copysign(f, -1.0), torch.copysign(t, -1.0))
    fi, ti = pair([1, -2], "int64", torch)
    assert_same(ferrum.copysign(fi, -1), torch.copysign(ti, -1))


def test_bitwise_ops_on_bools_and_shifts_match_torch(torch):
    fa, ta = pair([True, False, True], "bool", torch)
    fb, tb = pair([True, True, False], "bool", torch)
    for op in (operator.and_, operator.or_, operator.xor):
        assert_same(op(fa, fb), op(ta, tb))
        assert_same(op(fa, True), op(ta, True))
    assert_same(~fa, ~ta)
    fi, ti = pair([1, -8, 255], "int64", torch)
    assert_same(~fi, ~ti)
    assert_same(fi << 2, ti << 2)
    assert_same(fi >> 1, ti >> 1)
    assert_same(3 << ferrum.tensor([1, 2]), 3 << torch.tensor([1, 2]))
    assert_same(64 >> ferrum.tensor([1, 2]), 64 >> torch.tensor([1, 2]))
    assert_same(ferrum.tensor([True]) << 1, torch.tensor([True]) << 1)
    with pytest.raises(NotImplementedError):
        ferrum.tensor([True]) << True
    with pytest.raises(NotImplementedError):
        torch.tensor([True]) << True


# --------------------------------------------------------------------------- Python scalars
OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
       "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "eq": operator.eq,
       "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
       "and": operator.and_, "or": operator.or_, "xor": operator.xor, "lshift": operator.lshift,
       "rshift": operator.rshift}
SCALARS = [2, 3.5, True, False, -1, 0, 0.0, 1000, 1j, -2.25]


def _scalar_case_skipped(op, dt, s):
    if isinstance(s, complex) and (dt in ("float16", "bfloat16") or op in ("floordiv", "mod", "lt", "le",
                                                                           "gt", "ge")):
        return True  # complex32 (and bfloat16 rounding) in PyTorch / ordering of complex numbers
    if op in ("lt", "le", "gt", "ge", "eq", "ne") and dt in ("int8", "uint8") and s in (1000, -1, -2.25):
        return True  # PyTorch wraps the scalar into the tensor's dtype before comparing; ferrum does not
    if op in ("floordiv", "mod", "pow", "lshift", "rshift") and dt == "bool" and isinstance(s, bool):
        return True  # PyTorch refuses bool with bool; ferrum computes
    return False


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("op", sorted(OPS))
def test_operators_with_python_scalars_match_torch(torch, op, dt):
    fn = OPS[op]
    for s, side, shape in itertools.product(SCALARS, "lr", ("dim", "0d")):
        if _scalar_case_skipped(op, dt, s):
            continue
        v = [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] if shape == "dim" else 3.0
        f, t = pair(v, dt, torch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if side == "l":
                compare(lambda: fn(f, s), lambda: fn(t, s))
            else:
                compare(lambda: fn(s, f), lambda: fn(s, t))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "atan2", "maximum", "minimum", "remainder",
                                  "fmod", "eq", "lt", "logical_and", "bitwise_and", "hypot", "xlogy",
                                  "copysign", "pow", "floor_divide", "fmax", "logaddexp"])
def test_functional_forms_with_scalars_match_torch(torch, name):
    for dt in ("float32", "int64", "float64", "int32", "bool", "float16"):
        if name in BIN_LENIENT and dt not in FLOATS:
            continue
        f, t = pair([[1.0, 2.0, 0.0], [3.0, 1.0, 2.0]], dt, torch)
        for s in (2, 1.5, True):
            if name in ("bitwise_and",) and isinstance(s, float):
                continue
            if name not in ("fmax", "maximum", "minimum", "hypot", "logical_and", "logaddexp", "atan2"):
                # (PyTorch wants tensors for those; ferrum also takes numbers)
                compare(lambda: getattr(ferrum, name)(f, s), lambda: getattr(torch, name)(t, s))
            tz = torch.tensor(s)
            fz = ferrum.tensor(s)
            compare(lambda: getattr(ferrum, name)(fz, f), lambda: getattr(torch, name)(tz, t))


def test_numpy_scalars_act_like_python_scalars(torch):
    f, t = pair([1, 2], "int32", torch)
    assert_same(f * np.float64(1.5), t * 1.5)
    assert_same(np.int64(3) + f, 3 + t)
    fb, tb = pair([1.0, 2.0], "bfloat16", torch)
    assert_same(fb * np.float32(2.0), tb * 2.0)


def test_add_sub_alpha_match_torch(torch):
    for dt in ("float32", "int64", "float64"):
        fa, ta = pair([[1.0, 2.0], [3.0, 4.0]], dt, torch)
        fb, tb = pair([1.0, -1.0], dt, torch)
        for alpha in (2, -1, 0):
            assert_same(ferrum.add(fa, fb, alpha=alpha), torch.add(ta, tb, alpha=alpha))
            assert_same(ferrum.sub(fa, fb, alpha=alpha), torch.sub(ta, tb, alpha=alpha))
            assert_same(fa.add(3, alpha=alpha), ta.add(3, alpha=alpha))
            assert_same(ferrum.sub(fa, 3, alpha=alpha), torch.sub(ta, 3, alpha=alpha))
            assert_same(ferrum.add(2, fa, alpha=alpha), torch.add(torch.tensor(2), ta, alpha=alpha))
    assert_same(ferrum.add(ferrum.ones(2), ferrum.ones(2), alpha=0.5),
                torch.add(torch.ones(2), torch.ones(2), alpha=0.5))


def test_numpy_array_operands():
    t = ferrum.tensor([1.0, 2.0])
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow):
        r = op(t, np.array([2.0, 4.0]))
        np.testing.assert_allclose(r.numpy(), op(np.array([1.0, 2.0]), np.array([2.0, 4.0])))
        r = op(np.array([2.0, 4.0]), t)
        assert isinstance(r, ferrum.Tensor)
        np.testing.assert_allclose(r.numpy(), op(np.array([2.0, 4.0]), np.array([1.0, 2.0])))
    assert ferrum.add(t, np.ones(2)).dtype is ferrum.float64


# --------------------------------------------------------------------------- hypothesis
@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       st.sampled_from(["add", "mul", "sub", "where"]), st.sampled_from(["float64", "int64", "float32"]))
def test_broadcasting_matches_numpy(shapes, op, dt):
    rng = np.random.default_rng(0)
    sa, sb = shapes.input_shapes
    a = np.asarray(rng.integers(-5, 5, sa)).astype(dt)
    b = np.asarray(rng.integers(-5, 5, sb)).astype(dt)
    fa, fb = ferrum.from_numpy(a), ferrum.from_numpy(b)
    if op == "where":
        cond = np.asarray(rng.random(shapes.result_shape) > 0.5)
        r = ferrum.where(ferrum.from_numpy(cond), fa, fb)
        expected = np.where(cond, a, b)
    else:
        r = {"add": operator.add, "mul": operator.mul, "sub": operator.sub}[op](fa, fb)
        expected = {"add": np.add, "mul": np.multiply, "sub": np.subtract}[op](a, b)
        r2 = getattr(ferrum, op)(fa, fb)
        np.testing.assert_array_equal(r2.numpy(), expected)
    assert r.shape == expected.shape == shapes.result_shape
    assert r.dtype.name == dt
    np.testing.assert_array_equal(r.numpy(), expected)


@settings(max_examples=30, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3))
def test_broadcast_backward_reduces_to_input_shapes(shapes):
    sa, sb = shapes.input_shapes
    a = ferrum.ones(sa, dtype=ferrum.float64, requires_grad=True)
    b = ferrum.full(sb, 2.0, dtype=ferrum.float64, requires_grad=True)
    out = a * b + a - b
    out.backward(ferrum.ones_like(out))
    n = int(np.prod(shapes.result_shape))
    assert a.grad.shape == sa and b.grad.shape == sb
    assert float(a.grad.numpy().sum()) == pytest.approx(3.0 * n)
    assert float(b.grad.numpy().sum()) == pytest.approx(0.0 * n)


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                  elements=st.floats(-50, 50)), st.floats(-10, 10))
def test_scalar_arithmetic_matches_numpy(a, s):
    t = ferrum.from_numpy(a)
    np.testing.assert_allclose((t + s).numpy(), a + s)
    np.testing.assert_allclose((s - t).numpy(), s - a)
    np.testing.assert_allclose((t * s).numpy(), a * s)
    np.testing.assert_allclose(ferrum.clamp(t, -1.0, 2.0).numpy(), np.clip(a, -1.0, 2.0))


def test_binary_shape_mismatch_is_runtime_error_naming_op(torch):
    a, b = ferrum.ones(2, 3), ferrum.ones(4)
    for name in ("add", "sub", "mul", "div", "atan2", "maximum", "pow", "eq", "lt", "remainder",
                 "bitwise_and", "logical_and"):
        x, y = (a.long(), b.long()) if name.startswith("bitwise") else (a, b)
        with pytest.raises(RuntimeError, match=name):
            getattr(ferrum, name)(x, y)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.lt):
        with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
            op(a, b)
        with pytest.raises(RuntimeError):
            op(torch.ones(2, 3), torch.ones(4))
    with pytest.raises(RuntimeError, match="where"):
        ferrum.where(ferrum.ones(3) > 0, a, b)


def test_bad_operand_types_are_type_errors(torch):
    t = ferrum.ones(2)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.lt,
               operator.floordiv, operator.mod):
        with pytest.raises(TypeError):
            op(t, "a")
        if op is not operator.mod:  # "a" % t is string formatting
            with pytest.raises(TypeError):
                op("a", t)
        with pytest.raises(TypeError):
            op(torch.ones(2), "a")
    for name in ("add", "sub", "mul", "div"):
        with pytest.raises(TypeError, match=name):
            getattr(ferrum, name)(t, "a")
        with pytest.raises(TypeError, match=name):
            getattr(ferrum, name)("a", [1])
    with pytest.raises(TypeError, match="eq"):
        ferrum.eq(t, "a")
    with pytest.raises(TypeError):
        ferrum.atan2(1.0, 2.0)
    with pytest.raises(TypeError):
        t + [1, 2]


def test_bool_subtraction_is_runtime_error(torch):
    b = ferrum.tensor([True, False])
    cases = [lambda L, x: x - x, lambda L, x: x - 1, lambda L, x: 1 - x, lambda L, x: L.ones(2) - x,
             lambda L, x: x - L.ones(2), lambda L, x: L.ones(2) - True, lambda L, x: L.sub(x, x),
             lambda L, x: x.sub(1.5), lambda L, x: L.tensor([1, 2]) - L.tensor(True)]
    tb = torch.tensor([True, False])
    for mk in cases:
        with pytest.raises(RuntimeError):
            mk(torch, tb)
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with"):
            mk(ferrum, b)
    assert (b + b).tolist() == [True, False] and (b * b).dtype is ferrum.bool


def test_bitwise_on_floats_is_not_implemented(torch):
    for op in (operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift):
        with pytest.raises(NotImplementedError):
            op(torch.ones(2), 1)
        with pytest.raises(NotImplementedError, match="'Float'"):
            op(ferrum.ones(2), 1)
        with pytest.raises(NotImplementedError, match="'Half'"):
            op(ferrum.ones(2, dtype=ferrum.float16), ferrum.ones(2, dtype=ferrum.float16))


# --------------------------------------------------------------------------- where / clamp / lerp
def test_where_forms_match_torch(torch):
    cond = [True, False, True]
    fc, tc = ferrum.tensor(cond), torch.tensor(cond)
    for av, bv, da, db in [([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], "float32", "float32"),
                           ([1, 2, 3], [4.0, 5.0, 6.0], "int64", "float64"),
                           ([1, 2, 3], [4, 5, 6], "int8", "uint8"),
                           ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], "float16", "bfloat16")]:
        fa, ta = pair(av, da, torch)
        fb, tb = pair(bv, db, torch)
        assert_same(ferrum.where(fc, fa, fb), torch.where(tc, ta, tb))
        assert_same(ferrum.where(fc, fa, 0.5), torch.where(tc, ta, 0.5))
        assert_same(ferrum.where(fc, 7, fb), torch.where(tc, 7, tb))
        assert_same(fa.where(fc, fb), ta.where(tc, tb))
    assert_same(ferrum.where(fc, 1.0, 0.0), torch.where(tc, 1.0, 0.0))
    assert_same(ferrum.where(fc, 1, 0), torch.where(tc, 1, 0))
    assert_same(ferrum.where(fc[1], ferrum.ones(2, 3), 0.0), torch.where(tc[1], torch.ones(2, 3), 0.0))
    # integer condition, broadcasting condition
    assert_same(ferrum.where(ferrum.tensor([[1], [0]]).bool(), fa, fb),
                torch.where(torch.tensor([[1], [0]]).bool(), ta, tb))


def test_where_condition_must_be_bool(torch):
    with pytest.raises(RuntimeError):
        torch.where(torch.tensor([1.0, 0.0]), torch.ones(2), torch.zeros(2))
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor.*Float"):
        ferrum.where(ferrum.tensor([1.0, 0.0]), ferrum.ones(2), ferrum.zeros(2))


def test_where_single_argument():
    idx = ferrum.where(ferrum.tensor([[0, 1], [1, 0]]) > 0)
    assert [i.tolist() for i in idx] == [[0, 1], [1, 0]]


def test_clamp_forms_match_torch(torch):
    v = [[-2.0, -0.5, 0.0], [0.5, 1.5, 3.0]]
    for dt in ("float32", "float64", "int64", "int32", "uint8", "float16", "bfloat16"):
        vals = [[abs(x) for x in r] for r in v] if dt == "uint8" else v
        f, t = pair(vals, dt, torch)
        for lo, hi in [(-1, 1), (0.5, None), (None, 0.25), (2, 1), (-1.5, 2.5), (1000, None), (0, 0)]:
            if dt == "uint8" and not 0 <= (lo or 0) <= 255:
                continue  # PyTorch wraps -1 to 255 (and refuses 1000) for uint8; ferrum saturates
            compare(lambda: ferrum.clamp(f, lo, hi), lambda: torch.clamp(t, lo, hi))
            compare(lambda: f.clip(lo, hi), lambda: t.clip(lo, hi))
        compare(lambda: ferrum.clamp_min(f, 0), lambda: torch.clamp_min(t, 0))
        compare(lambda: ferrum.clamp_max(f, 1), lambda: torch.clamp_max(t, 1))
        flo, tlo = pair([0.0, 1.0, -1.0], dt if dt != "uint8" else "int64", torch)
        compare(lambda: ferrum.clamp(f, flo), lambda: torch.clamp(t, tlo))
        compare(lambda: ferrum.clamp(f, flo, flo + 2), lambda: torch.clamp(t, tlo, tlo + 2))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        ferrum.clamp(ferrum.ones(2))
    with pytest.raises(RuntimeError):
        torch.clamp(torch.ones(2))


def test_lerp_matches_torch(torch):
    fa, ta = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float64", torch)
    fb, tb = pair([10.0, 0.0, -3.0], "float64", torch)
    fw, tw = pair([0.25, 0.5, 1.0], "float64", torch)
    for w in (0.5, 0.0, 1.0, 1.5):
        assert_same(ferrum.lerp(fa, fb, w), torch.lerp(ta, tb, w))
        assert_same(fa.lerp(fb, w), ta.lerp(tb, w))
    assert_same(ferrum.lerp(fa, fb, fw), torch.lerp(ta, tb, tw))


def test_isclose_allclose_equal_match_torch(torch):
    fa, ta = pair([1.0, 1.0 + 1e-6, float("nan"), 2.0, float("inf")], "float64", torch)
    fb, tb = pair([1.0, 1.0, float("nan"), 2.1, float("inf")], "float64", torch)
    assert_same(ferrum.isclose(fa, fb), torch.isclose(ta, tb))
    assert_same(ferrum.isclose(fa, fb, equal_nan=True), torch.isclose(ta, tb, equal_nan=True))
    assert_same(ferrum.isclose(fa, fb, rtol=0.1), torch.isclose(ta, tb, rtol=0.1))
    assert_same(fa.isclose(fb, atol=0.2), ta.isclose(tb, atol=0.2))
    assert ferrum.allclose(fa[:2], fb[:2]) == torch.allclose(ta[:2], tb[:2]) is True
    assert ferrum.allclose(fa, fb) == torch.allclose(ta, tb) is False
    assert ferrum.allclose(fa, fb, equal_nan=True, rtol=0.1) == torch.allclose(ta, tb, equal_nan=True,
                                                                               rtol=0.1)
    assert ferrum.equal(fa[:2], fa[:2]) and not ferrum.equal(fa[:2], fb[:2])
    assert not ferrum.equal(ferrum.ones(2), ferrum.ones(3))
    assert ferrum.equal(ferrum.tensor([1, 2]), ferrum.tensor([1, 2]))
    assert isinstance(ferrum.allclose(fa, fb), bool) and isinstance(ferrum.equal(fa, fa), bool)


def test_comparisons_return_bool_and_mixed_dtypes_match_torch(torch):
    for op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
        for da, db in [("int64", "float32"), ("uint8", "int8"), ("bool", "int32"), ("float16", "float64")]:
            fa, ta = pair([0.0, 1.0, 2.0], da, torch)
            fb, tb = pair([1.0, 1.0, 0.0], db, torch)
            assert_same(op(fa, fb), op(ta, tb))
        fn, tn = pair([float("nan"), 1.0], "float32", torch)
        assert_same(op(fn, fn), op(tn, tn))


# --------------------------------------------------------------------------- out= / in-place forms
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "atan2", "maximum", "minimum",
                                  "remainder", "fmod", "floor_divide", "eq", "lt", "logical_and",
                                  "bitwise_and", "exp", "sin", "sqrt", "abs", "neg", "clamp", "where"])
def test_out_argument_matches_torch(torch, name):
    fa, ta = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32", torch)
    fb, tb = pair([2.0, 1.0, 3.0], "float32", torch)
    if name.startswith("bitwise"):
        fa, ta, fb, tb = fa.long(), ta.long(), fb.long(), tb.long()
    if name in ("exp", "sin", "sqrt", "abs", "neg"):
        fargs, targs = (fa,), (ta,)
    elif name == "clamp":
        fargs, targs = (fa, 1.5, 4.5), (ta, 1.5, 4.5)
    elif name == "where":
        fargs, targs = (fa > 2, fa, fb), (ta > 2, ta, tb)
    else:
        fargs, targs = (fa, fb), (ta, tb)
    expected = getattr(torch, name)(*targs)
    out = ferrum.empty(2, 3, dtype=fd(tname(expected.dtype)))
    r = getattr(ferrum, name)(*fargs, out=out)
    assert r is out
    assert_same(out, expected)
    v = out._version_value
    resized = ferrum.empty(0, dtype=out.dtype)  # an empty out is resized
    getattr(ferrum, name)(*fargs, out=resized)
    assert_same(resized, expected)
    getattr(ferrum, name)(*fargs, out=out)
    assert out._version_value == v + 1


def test_out_errors(torch):
    with pytest.raises(RuntimeError, match="can't be cast"):
        ferrum.add(ferrum.ones(2), 1.5, out=ferrum.zeros(2, dtype=ferrum.int64))
    with pytest.raises(RuntimeError):
        torch.add(torch.ones(2), 1.5, out=torch.zeros(2, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="can't be cast"):
        ferrum.add(ferrum.ones(3), 1.5, out=ferrum.zeros(2, dtype=ferrum.int64))
    x = ferrum.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic differentiation"):
        ferrum.mul(x, 2, out=ferrum.zeros(2))
    with pytest.raises(RuntimeError):
        torch.mul(torch.ones(2, requires_grad=True), 2, out=torch.zeros(2))
    with ferrum.no_grad():
        o = ferrum.zeros(2)
        ferrum.mul(x, 2, out=o)
        assert o.tolist() == [2.0, 2.0]
    with pytest.raises(TypeError):
        ferrum.add(ferrum.ones(2), 1, out=[0, 0])
    o = ferrum.zeros(2, dtype=ferrum.float64)  # same category: cast into out's dtype
    ferrum.add(ferrum.ones(2), 1, out=o)
    assert o.dtype is ferrum.float64 and o.tolist() == [2.0, 2.0]


INPLACE_BINARY = ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "floor_divide", "atan2",
                  "hypot", "maximum", "minimum", "fmax", "fmin", "copysign", "xlogy", "float_power",
                  "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                  "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
                  "subtract", "multiply", "divide", "true_divide", "arctan2", "heaviside"]


@pytest.mark.parametrize("name", INPLACE_BINARY)
def test_inplace_binary_methods_match_torch(torch, name):
    dts = ["int64", "int32"] if name.startswith("bitwise") else ["float32", "float64"]
    if name == "float_power":
        dts = ["float64"]
    for dt in dts:
        for other in ([2.0, 1.0, 3.0], 2):
            fa, ta = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dt, torch)
            fb, tb = pair(other, dt, torch) if isinstance(other, list) else (other, other)
            v = fa._version_value
            if not hasattr(ta, name + "_"):
                continue
            t_res, te = outcome(lambda: getattr(ta, name + "_")(tb))
            if isinstance(te, TypeError) and not isinstance(other, list):
                continue  # PyTorch wants a tensor here; ferrum also takes a number
            assert te is None
            r = getattr(fa, name + "_")(fb)
            assert r is fa and fa._version_value == v + 1
            assert_same(fa, ta)


INPLACE_UNARY = ["neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
                 "rsqrt", "reciprocal", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                 "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "relu", "erf", "erfc", "erfinv",
                 "floor", "ceil", "round", "trunc", "frac", "nan_to_num", "sinc", "deg2rad", "rad2deg",
                 "logit", "negative", "absolute", "fix", "sgn", "arcsin", "arccos", "arctan"]


@pytest.mark.parametrize("name", [n for n in INPLACE_UNARY if hasattr(ferrum.Tensor, n + "_")])
def test_inplace_unary_methods_match_torch(torch, name):
    vals = {"acosh": [1.5, 2.0, 3.0]}.get(name, [0.25, 0.5, 0.75])
    for dt in ("float32", "float64", "float16"):
        f, t = pair(vals, dt, torch)
        view_base = f  # the same array is updated
        arr = f._data
        r = getattr(f, name + "_")()
        getattr(t, name + "_")()
        assert r is f and f._data is arr and view_base._version_value == 1
        assert_same(f, t)


def test_augmented_assignment_matches_torch(torch):
    for dt in ("float32", "int64", "float64", "int32"):
        for op in ("+=", "-=", "*=", "/=", "//=", "%=", "**=", "&=", "|=", "^="):
            for other in (2, [1, 2, 3]):
                fa, ta = pair([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], dt, torch)
                fo = ferrum.tensor(other).to(fd(dt)) if isinstance(other, list) else other
                to = torch.tensor(other).to(getattr(torch, dt)) if isinstance(other, list) else other
                fid = id(fa)
                env_f, env_t = {"x": fa, "o": fo}, {"x": ta, "o": to}
                ft, te = outcome(lambda: exec(f"x {op} o", env_f))
                tt, tte = outcome(lambda: exec(f"x {op} o", env_t))
                if tte is not None:
                    assert te is not None and isinstance(te, type(tte)), (op, dt, te, tte)
                    continue
                assert te is None, (op, dt, te)
                assert id(env_f["x"]) == fid
                assert_same(env_f["x"], env_t["x"])


def test_inplace_cast_rules_match_torch(torch):
    for mk in [lambda L: L.tensor([1, 2]).add_(1.5), lambda L: L.tensor([1, 2]).div_(2),
               lambda L: L.tensor([True]).add_(1), lambda L: L.tensor([1, 2]).exp_(),
               lambda L: L.zeros(2, dtype=L.int32).add_(L.tensor(2.0)),
               lambda L: L.ones(2).add_(L.ones(3)), lambda L: L.ones(2).add_(L.ones(2, 2)),
               lambda L: L.ones(2, dtype=L.float16).add_(L.tensor([2.5, 1.0], dtype=L.float64)),
               lambda L: L.ones(2, 2).add_(L.tensor([1.0, 2.0])),
               lambda L: L.tensor([1.0, 2.0]).add_(L.tensor([1, 2])),
               lambda L: L.tensor([1, 2], dtype=L.uint8).sub_(3)]:
        compare(lambda: mk(ferrum), lambda: mk(torch))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ferrum.tensor([1, 2]).add_(1.5)
    with pytest.raises(RuntimeError, match=r"add_.*\[2\].*\[2, 2\]"):
        ferrum.ones(2).add_(ferrum.ones(2, 2))


# --------------------------------------------------------------------------- gradients
def _f64(vals, requires_grad=True):
    return ferrum.tensor(vals, dtype=ferrum.float64, requires_grad=requires_grad)


GRAD_UNARY = {  # name -> values inside the domain, away from kinks
    "neg": ANY, "negative": ANY, "positive": ANY, "abs": [-2.0, -0.5, 0.3, 1.7], "absolute": [-1.0, 0.5],
    "exp": ANY, "exp2": ANY, "expm1": ANY, "log": POS, "log2": POS, "log10": POS, "log1p": POS + [-0.5],
    "sqrt": POS, "rsqrt": POS, "reciprocal": POS + [-2.0], "square": ANY, "sin": ANY, "cos": ANY,
    "tan": UNIT, "asin": UNIT, "acos": UNIT, "atan": ANY, "arcsin": UNIT, "arccos": UNIT, "arctan": ANY,
    "sinh": ANY, "cosh": ANY, "tanh": ANY, "asinh": ANY, "acosh": [1.25, 2.0, 3.0], "atanh": UNIT,
    "sigmoid": ANY, "relu": [-2.0, -0.5, 0.3, 1.7], "erf": ANY, "erfc": ANY, "erfinv": UNIT,
    "frac": [-2.7, -0.25, 0.5, 1.3], "sinc": [-1.3, -0.4, 0.25, 0.7, 2.2], "deg2rad": ANY, "rad2deg": ANY,
    "logit": PROB, "clone": ANY, "nan_to_num": ANY, "floor": [0.3, 1.7], "ceil": [0.3, 1.7],
    "round": [0.3, 1.7], "trunc": [0.3, -1.7], "fix": [0.3], "sign": [-1.0, 2.0], "sgn": [-1.0, 2.0],
}


@pytest.mark.parametrize("name", sorted(GRAD_UNARY))
def test_unary_gradcheck_and_gradgradcheck(name):
    x = _f64(GRAD_UNARY[name])
    fn = getattr(ferrum, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(GRAD_UNARY))
def test_unary_gradients_match_torch(torch, name):
    vals = GRAD_UNARY[name]
    g = [0.5 + i for i in range(len(vals))]
    x, xt = _f64(vals), torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    getattr(ferrum, name)(x).backward(ferrum.tensor(g, dtype=ferrum.float64))
    getattr(torch, name)(xt).backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(force=True), rtol=1e-10, atol=1e-12)
    # float32: the raw fast path
    x32, xt32 = ferrum.tensor(vals, requires_grad=True), torch.tensor(vals, requires_grad=True)
    getattr(ferrum, name)(x32).backward(ferrum.tensor(g))
    getattr(torch, name)(xt32).backward(torch.tensor(g))
    assert x32.grad.dtype is ferrum.float32
    np.testing.assert_allclose(x32.grad.numpy(), xt32.grad.numpy(force=True), rtol=1e-5, atol=1e-6)


GRAD_BINARY = {  # name -> (a, b) inside the domain, away from ties and discontinuities
    "add": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]), "sub": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
    "mul": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]), "div": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
    "true_divide": ([1.0, 2.0], [0.5, -1.5]), "subtract": ([1.0], [2.0]), "multiply": ([1.0], [2.0]),
    "divide": ([1.0], [2.0]), "pow": ([0.5, 1.5, 2.0], [1.5, -0.5, 2.0]),
    "float_power": ([0.5, 1.5, 2.0], [1.5, -0.5, 2.0]), "atan2": ([1.0, -2.0, 0.5], [0.5, 1.5, -1.0]),
    "arctan2": ([1.0, -2.0], [0.5, 1.5]), "remainder": ([5.3, -2.2, 7.1], [2.0, 1.5, -3.0]),
    "fmod": ([5.3, -2.2, 7.1], [2.0, 1.5, -3.0]), "maximum": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
    "minimum": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]), "fmax": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
    "fmin": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]), "hypot": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
    "logaddexp": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]), "xlogy": ([1.0, -2.0, 3.0], [0.5, 1.5, 2.0]),
    "copysign": ([1.0, -2.0, 3.0], [0.5, 1.5, -1.0]),
}


TENSOR_ONLY = ("atan2", "arctan2", "maximum", "minimum", "fmax", "fmin", "hypot", "logaddexp")


@pytest.mark.parametrize("name", sorted(GRAD_BINARY))
def test_binary_gradcheck_and_gradgradcheck(name):
    av, bv = GRAD_BINARY[name]
    a, b = _f64(av), _f64(bv)
    fn = getattr(ferrum, name)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))
    # broadcasting, and a Python scalar on either side
    a2 = _f64([av, [v * 0.5 + 0.25 for v in av]])
    assert gradcheck(fn, (a2, b))
    if name not in ("copysign",):
        # the functions PyTorch takes only tensors for get a 0-d tensor instead of the number
        other = ferrum.tensor(1.3, dtype=ferrum.float64) if name in TENSOR_ONLY else 1.3
        assert gradcheck(lambda x: fn(x, other), (a,))
    if name in ("add", "sub", "mul", "div", "pow", "atan2", "maximum", "remainder"):
        assert gradcheck(lambda x: fn(ferrum.tensor(1.3, dtype=ferrum.float64), x), (b,))


@pytest.mark.parametrize("name", sorted(GRAD_BINARY))
def test_binary_gradients_match_torch(torch, name):
    av, bv = GRAD_BINARY[name]
    a2 = [av, [v * 0.5 + 0.25 for v in av]]
    fa, fb = _f64(a2), _f64(bv)
    ta = torch.tensor(a2, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(bv, dtype=torch.float64, requires_grad=True)
    g = [[0.5 + i + 2 * j for i in range(len(av))] for j in range(2)]
    getattr(ferrum, name)(fa, fb).backward(ferrum.tensor(g, dtype=ferrum.float64))
    getattr(torch, name)(ta, tb).backward(torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(fa.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fb.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_operator_gradients_with_scalars_match_torch(torch, op):
    for s in (2, 1.5, -0.5):
        for left in (True, False):
            expr = f"x {op} {s}" if left else f"{s} {op} x"
            if op == "**" and not left and s < 0:
                continue
            x = _f64([0.5, 1.5, 2.5])
            xt = torch.tensor([0.5, 1.5, 2.5], dtype=torch.float64, requires_grad=True)
            eval(expr, {"x": x}).backward(ferrum.ones(3, dtype=ferrum.float64))
            eval(expr, {"x": xt}).backward(torch.ones(3, dtype=torch.float64))
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
            assert gradgradcheck(lambda v: eval(expr, {"x": v}), (_f64([0.5, 1.5, 2.5]),))


def test_gradcheck_where_clamp_lerp():
    c = ferrum.tensor([True, False, True])
    a, b = _f64([1.0, 2.0, 3.0]), _f64([-1.0, 0.5, 4.0])
    assert gradcheck(lambda x, y: ferrum.where(c, x, y), (a, b))
    assert gradgradcheck(lambda x, y: ferrum.where(c, x, y), (a, b))
    assert gradcheck(lambda x: ferrum.where(c, x, 0.0), (a,))
    assert gradcheck(lambda x: ferrum.clamp(x, 0.0, 2.5), (_f64([-1.0, 1.0, 2.0, 3.0]),))
    assert gradgradcheck(lambda x: ferrum.clamp(x, 0.0, 2.5), (_f64([-1.0, 1.0, 2.0, 3.0]),))
    lo = _f64([0.0, 1.5, 2.5])
    assert gradcheck(lambda x, m: ferrum.clamp(x, min=m), (_f64([-1.0, 1.0, 3.0]), lo))
    w = _f64([0.25, 0.5, 0.75])
    assert gradcheck(lambda x, y, ww: ferrum.lerp(x, y, ww), (a, b, w))
    assert gradgradcheck(lambda x, y: ferrum.lerp(x, y, 0.3), (a, b))


def test_gradients_through_mixed_dtypes_match_torch(torch):
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    for L, v in ((ferrum, x), (torch, xt)):
        i = L.tensor([3, 4])
        h = L.tensor([0.5, 0.25], dtype=L.float64)
        (v * i + v * h + v.double() / 3).backward(L.ones(2, dtype=L.float64))
    assert x.grad.dtype is ferrum.float32
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_gradient_of_non_contiguous_leaf():
    a = np.arange(1.0, 7.0).reshape(2, 3).T  # (3, 2), non-contiguous
    x = ferrum.from_numpy(a).requires_grad_()
    (x * x).backward(ferrum.ones(3, 2, dtype=ferrum.float64))
    np.testing.assert_allclose(x.grad.numpy(), 2 * a)
    assert gradcheck(lambda v: v.sin() * v, (ferrum.from_numpy(a.copy().T.copy().T).requires_grad_(),))


def test_grad_fn_names_match_torch(torch):
    exprs = ["x*2", "2*x", "x+2", "x-2", "2-x", "x/2", "2/x", "x**2", "2**x", "x**x", "-x", "x*x", "x+x",
             "x-x", "x/x", "x.float()", "x.clone()", "x.abs()", "x.clamp(0, 1)", "L.where(x > 1, x, 0.)",
             "x.sqrt()", "x.sigmoid()", "x.tanh()", "x.relu()", "x.maximum(x)", "x.minimum(x)",
             "L.atan2(x, x)", "x.remainder(2)", "x.floor()", "x.log1p()", "x.hypot(x)", "x.nan_to_num()",
             "x.exp()", "x.erfinv()"]
    for e in exprs:
        names = []
        for L in (torch, ferrum):
            x = L.tensor([1.5, 2.0], dtype=L.float64, requires_grad=True)
            names.append(eval(e, {"x": x, "L": L}).grad_fn.name())
        assert names[0] == names[1], e


def test_integer_and_bool_results_do_not_require_grad():
    x = ferrum.tensor([1.5, -2.0], requires_grad=True)
    for r in (x > 0, x == x, x.isnan(), ferrum.signbit(x), x.long(), ferrum.isclose(x, x)):
        assert not r.requires_grad and r.grad_fn is None
    assert (x.floor() * x).requires_grad


def test_no_grad_records_nothing():
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    with ferrum.no_grad():
        for y in (x * 2, x + x, x.exp(), x / 3, -x, ferrum.where(x > 1, x, 0.0), x ** 2):
            assert not y.requires_grad and y.grad_fn is None


def test_float_results_cast_each_operand_directly(torch):
    """An integer result type promoted to float: each operand is cast on its own (no wrap-around
    through the integer result type first)."""
    fa, ta = pair([[1.0, -2.0], [3.0, 4.0]], "int8", torch)
    fb, tb = ferrum.tensor(254, dtype=ferrum.uint8), torch.tensor(254, dtype=torch.uint8)
    for name in ("div", "true_divide", "atan2", "copysign", "hypot", "xlogy"):
        if name in BIN_LENIENT:
            assert_same(getattr(ferrum, name)(fa.float(), fb), getattr(torch, name)(ta.float(), tb))
            continue
        assert_same(getattr(ferrum, name)(fa, fb), getattr(torch, name)(ta, tb))
    assert_same(fa / fb, ta / tb)
    assert_same(fb / fa, tb / ta)


def test_scalar_out_of_dtype_range_wraps_like_torch(torch):
    for dt, s in (("int8", 1000), ("uint8", -1), ("uint8", 1000), ("int16", 70000)):
        f, t = pair([1.0, 2.0, 3.0], dt, torch)
        for op in (operator.add, operator.mul, operator.floordiv, operator.and_, operator.truediv):
            compare(lambda: op(f, s), lambda: op(t, s))
            compare(lambda: op(s, f), lambda: op(s, t))
    with pytest.raises(RuntimeError, match="overflow"):
        ferrum.tensor([1, 2], dtype=ferrum.int8) & 2**70


def test_edge_cases_found_by_fuzzing(torch):
    for mk in [lambda L: L.tensor([], dtype=L.int8) // 0, lambda L: L.tensor([], dtype=L.int64) % 0,
               lambda L: L.fmod(L.zeros(0, dtype=L.int32), L.tensor(0, dtype=L.int32)),
               lambda L: L.tensor([3.0, -2.0]) / -0.0, lambda L: L.tensor(3.0, dtype=L.float16) / -0.0,
               lambda L: L.tensor([3, 0]) / 0, lambda L: L.tensor([True, False]) ** False,
               lambda L: L.tensor([True, False]) ** True, lambda L: L.tensor([True, False]) ** 2,
               lambda L: L.sign(L.tensor([float("nan"), -0.0, 2.0])),
               lambda L: L.nan_to_num(L.tensor([float("inf"), float("nan")], dtype=L.bfloat16)),
               lambda L: L.isposinf(L.tensor([float("inf"), 1.0], dtype=L.bfloat16)),
               lambda L: L.rsqrt(L.tensor([4.0], dtype=L.bfloat16)),
               lambda L: L.logit(L.tensor([0, 1, 2], dtype=L.uint8))]:
        compare(lambda: mk(ferrum), lambda: mk(torch))
    x = ferrum.tensor([1.0, 2.0], requires_grad=True)
    (x / -0.0).backward(ferrum.ones(2))
    assert x.grad.tolist() == [-float("inf")] * 2
