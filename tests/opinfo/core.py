"""The op registry: one entry per op, from which the parity, error, gradient and differential tests
are generated (tests/ops/test_opinfo.py, tests/ops/test_differential.py).

An entry says how to call the op and what to call it with; nothing else:

- ``fn(T, *args, **kwargs)`` calls the op through module ``T``, which is ``torch`` or ``ferrum``, so
  one lambda serves both frameworks (``lambda T, x: T.nn.functional.gelu(x)``).
- ``samples(rng, dtype)`` yields :class:`Sample`s: arrays (turned into tensors of ``dtype`` in both
  frameworks, contiguous or as a strided view), Python scalars, and keyword arguments. The family
  helpers below (``unary``, ``binary``, ``reduction``) cover shapes with 0-size and 0-d tensors,
  broadcasting, non-contiguous layouts and special values (nan, inf, -0.0).
- ``errors(rng)`` yields bad inputs: both frameworks must raise, with the same exception type.
- ``grad``/``gradgrad``: ferrum's gradcheck and gradgradcheck in float64 on every float64 sample
  (``grad_samples`` when the op needs inputs away from kinks), and the gradients equal torch's.

What is compared for a sample: raised or not and the exception type; then each output's shape,
dtype and values (nan equal to nan, inf to inf, dtype-dependent tolerances). Ops whose result is
not defined by torch for an input (ties in argmax, sort order of equal keys) get inputs without
ties, so that no test depends on undefined behaviour.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

import numpy as np

FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("int64", "int32", "int16", "int8", "uint8")
ALL = FLOATS + INTS + ("bool",)
F64 = ("float64",)
SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.0, 1e4, -1e4, math.inf, -math.inf, math.nan)


@dataclasses.dataclass
class Sample:
    """One call: ``args`` holds arrays (made tensors), Python scalars and other values as they are."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    strided: bool = False  # arrays become non-contiguous views (every other element of the last dim)
    dtypes: tuple | None = None  # per-array dtype names, overriding the test's dtype

    def __repr__(self) -> str:
        parts = [f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else repr(a) for a in self.args]
        return f"Sample({', '.join(parts)}, {self.kwargs}{', strided' if self.strided else ''})"


@dataclasses.dataclass
class OpInfo:
    name: str
    fn: Callable
    samples: Callable[[np.random.Generator, str], Iterator[Sample]]
    dtypes: tuple = FLOATS
    grad: bool = True
    gradgrad: bool = True
    grad_samples: Callable | None = None  # float64 samples for gradcheck; default: samples(rng, "float64")
    errors: Callable | None = None
    rtol: float | None = None  # extra tolerance on top of the dtype's
    atol: float | None = None
    kind: str = "other"  # "unary", "binary" or "reduction": the differential test builds its own inputs
    domain: tuple | None = None  # (low, high) of generated values for float inputs


REGISTRY: dict[str, OpInfo] = {}


def register(name: str, fn: Callable, samples: Callable, **kw) -> OpInfo:
    if name in REGISTRY:
        raise ValueError(f"op {name!r} registered twice")
    info = OpInfo(name, fn, samples, **kw)
    REGISTRY[name] = info
    return info


# --------------------------------------------------------------------------- values
def values(rng: np.random.Generator, shape, dtype: str, domain=None, distinct: bool = False) -> np.ndarray:
    """Random values of ``shape`` as a float64/int64/bool array, representable in ``dtype``."""
    return np.asarray(_values(rng, shape, dtype, domain, distinct))


def _values(rng, shape, dtype, domain, distinct):
    size = int(np.prod(shape))
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in INTS:
        lo, hi = (0, 11) if dtype == "uint8" else (-5, 6)
        if distinct:
            return (rng.permutation(max(size, 1))[:size] + lo).reshape(shape).astype(np.int64)
        return rng.integers(lo, hi, size=shape).astype(np.int64)
    lo, hi = domain if domain is not None else (-2.0, 2.0)
    if distinct:
        v = lo + (hi - lo) * (rng.permutation(max(size, 1))[:size] + 0.3) / max(size, 1)
        v = v.reshape(shape)
    else:
        v = rng.uniform(lo, hi, size=shape)
    if dtype in ("float16", "bfloat16"):  # exactly representable: both sides start from the same value
        v = np.round(v * 64) / 64
    return v


def specials(dtype: str) -> np.ndarray:
    """Special values of a float dtype: signed zeros, infinities, nan, halves (rounding ties)."""
    return np.array(SPECIALS, dtype=np.float64)


# --------------------------------------------------------------------------- families
UNARY_SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)]
BINARY_SHAPES = [
    ((), ()),
    ((4,), ()),
    ((), (4,)),
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4, 1, 3), (2, 1)),
    ((0, 3), (1, 3)),
    ((2, 3), (2, 1)),
]
REDUCE_SHAPES = [(), (5,), (3, 4), (2, 3, 4), (0,), (2, 0, 3)]


def unary(domain=None, kwargs=({},), special=True, distinct=False, special_values=None):
    """Samples for an elementwise op of one tensor; ``special_values`` replaces SPECIALS where torch's
    result for one of them is a quirk of its vectorised kernels, not a defined value."""

    def gen(rng, dtype):
        for kw in kwargs:
            for shape in UNARY_SHAPES:
                yield Sample((values(rng, shape, dtype, domain, distinct),), dict(kw))
            yield Sample((values(rng, (3, 4), dtype, domain, distinct),), dict(kw), strided=True)
            if special and dtype in FLOATS:
                sp = specials(dtype) if special_values is None else np.array(special_values, dtype=np.float64)
                yield Sample((sp,), dict(kw))

    return gen


def binary(domain=None, scalars=(2, -1.5), special=True, mixed=True, kwargs=({},), rhs_domain=None,
           special_values=None):
    """Samples for an elementwise op of two tensors: broadcasting, 0-size, strided, a Python scalar
    as the second operand, special values against each other (``special_values`` replaces
    SPECIALS), and mixed dtypes (promotion)."""

    def gen(rng, dtype):
        for kw in kwargs:
            for sa, sb in BINARY_SHAPES:
                yield Sample(
                    (values(rng, sa, dtype, domain), values(rng, sb, dtype, rhs_domain or domain)), dict(kw)
                )
            yield Sample(
                (values(rng, (3, 4), dtype, domain), values(rng, (3, 4), dtype, rhs_domain or domain)),
                dict(kw),
                strided=True,
            )
            for s in scalars:
                yield Sample((values(rng, (3, 4), dtype, domain), s), dict(kw))
            if special and dtype in FLOATS:
                sp = specials(dtype) if special_values is None else np.array(special_values, dtype=np.float64)
                yield Sample((np.repeat(sp, len(sp)), np.tile(sp, len(sp))), dict(kw))
            if mixed:
                other = "float64" if dtype != "float64" else "int32"
                yield Sample(
                    (values(rng, (2, 3), dtype, domain), values(rng, (3,), other, rhs_domain or domain)),
                    dict(kw),
                    dtypes=(dtype, other),
                )

    return gen


def reduction(dims=(None, 0, -1, (0, 1)), keepdim=True, extra=({},), distinct=False, domain=None, empty=True):
    """Samples for a reduction: over all elements (no dim argument) and over dims, with keepdim."""

    def gen(rng, dtype):
        for kw in extra:
            for shape in REDUCE_SHAPES:
                if not empty and 0 in shape:
                    continue
                x = values(rng, shape, dtype, domain, distinct)
                for d in dims:
                    if d is None:
                        yield Sample((x,), dict(kw))
                        continue
                    ds = d if isinstance(d, tuple) else (d,)
                    if any(not -max(len(shape), 1) <= i < max(len(shape), 1) for i in ds):
                        continue
                    for k in (False, True) if keepdim else (False,):
                        yield Sample((x,), dict(kw, dim=d, keepdim=k) if keepdim else dict(kw, dim=d))
            strided_kw = dict(kw, dim=1) if any(d is not None for d in dims) else dict(kw)
            yield Sample((values(rng, (3, 4), dtype, domain, distinct),), strided_kw, strided=True)

    return gen


def fixed(*samples_fn):
    """Samples given by functions of (rng, dtype) returning Samples."""

    def gen(rng, dtype):
        for f in samples_fn:
            s = f(rng, dtype)
            if s is not None:
                yield s

    return gen


def shapes(*shape_list, domain=None, distinct=False, kwargs=({},)):
    """One sample per shape tuple (each a tuple of array shapes) and per kwargs."""

    def gen(rng, dtype):
        for kw in kwargs:
            for shp in shape_list:
                yield Sample(tuple(values(rng, s, dtype, domain, distinct) for s in shp), dict(kw))

    return gen


# --------------------------------------------------------------------------- conversion
def to_tensor(T, a: np.ndarray, dtype: str, strided: bool = False):
    """A tensor of ``T`` (torch or ferrum) with the values of ``a`` in ``dtype``; with ``strided``
    a non-contiguous view (every other element of a doubled last dim)."""
    a = np.asarray(a)
    if strided and a.ndim >= 1:
        big = np.repeat(a, 2, axis=-1)
        return T.tensor(big).to(getattr(T, dtype))[..., ::2]
    return T.tensor(a).to(getattr(T, dtype))


def make_args(T, sample: Sample, dtype: str, requires_grad: bool = False) -> tuple:
    """The sample's arguments for framework ``T``."""
    out = []
    k = 0
    for a in sample.args:
        if isinstance(a, np.ndarray):
            dt = sample.dtypes[k] if sample.dtypes else dtype
            k += 1
            t = to_tensor(T, a, dt, sample.strided)
            if requires_grad and dt in FLOATS:
                t = t.detach().requires_grad_(True)
            out.append(t)
        elif isinstance(a, list) and a and all(isinstance(e, np.ndarray) for e in a):  # a tensor list
            out.append([to_tensor(T, e, dtype, sample.strided) for e in a])
        else:
            out.append(a)
    return tuple(out)


# --------------------------------------------------------------------------- comparison
TOL = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
    "float32": (2e-5, 1e-5),
    "float64": (1e-10, 1e-10),
    "complex64": (2e-5, 1e-5),
    "complex128": (1e-10, 1e-10),
}


def as_numpy(x) -> np.ndarray:
    """The values of a ferrum/torch tensor as float64 (floats, ints) or bool NumPy arrays."""
    if hasattr(x, "detach"):
        x = x.detach()
        name = str(x.dtype).split(".")[-1]
        if name in ("bfloat16", "float16"):
            x = x.float()
        if hasattr(x, "resolve_conj"):
            x = x.resolve_conj()
        return np.asarray(x.numpy()), name
    return np.asarray(x), type(x).__name__


def base_exception(e: BaseException) -> str:
    """The name of the first builtin exception class in the MRO (torch's LinAlgError is a
    RuntimeError, and so is ferrum's): what code written for torch can catch."""
    names = [c.__name__ for c in type(e).__mro__]
    if any(n.endswith("LinAlgError") for n in names):  # torch's class is torch._C._LinAlgError
        return "LinAlgError"
    for c in type(e).__mro__:
        if c.__module__ == "builtins":
            return c.__name__
    return type(e).__name__


# torch raises NotImplementedError (a RuntimeError) for an op not implemented for a dtype; ferrum's
# RuntimeError with the same message is caught by the same `except RuntimeError`
_EQUIVALENT = {("RuntimeError", "NotImplementedError")}


def same_exception(ef: BaseException, et: BaseException) -> bool:
    """ferrum's exception ``ef`` is of torch's type (compared by builtin base class)."""
    a, b = base_exception(ef), base_exception(et)
    return a == b or (a, b) in _EQUIVALENT


def assert_same_errors(ferrum_calls, torch_calls) -> None:
    """Each pair of calls (ferrum's, torch's) raises the same type of exception with the same text."""
    import pytest
    for ff, tf in zip(ferrum_calls, torch_calls):
        with pytest.raises(Exception) as et:
            tf()
        with pytest.raises(Exception) as ef:
            ff()
        assert same_exception(ef.value, et.value), (ef.value, et.value)
        assert str(ef.value) == str(et.value)


def assert_same(rf, rt, info: OpInfo, path: str = "result") -> None:
    """ferrum's result ``rf`` equals torch's ``rt``: structure, shapes, dtypes, values."""
    if isinstance(rt, (tuple, list)):
        assert isinstance(rf, (tuple, list)), f"{path}: torch gives a {type(rt).__name__}, ferrum {type(rf)}"
        assert len(rf) == len(rt), f"{path}: {len(rt)} results from torch, {len(rf)} from ferrum"
        for i, (a, b) in enumerate(zip(rf, rt)):
            assert_same(a, b, info, f"{path}[{i}]")
        return
    if not hasattr(rt, "detach"):
        if isinstance(rt, float) and math.isnan(rt):
            assert isinstance(rf, float) and math.isnan(rf), f"{path}: torch nan, ferrum {rf!r}"
            return
        assert type(rf) is type(rt) or (isinstance(rt, (int, float)) and isinstance(rf, (int, float))), (
            f"{path}: torch {rt!r}, ferrum {rf!r}"
        )
        if isinstance(rt, float):
            assert math.isclose(rf, rt, rel_tol=1e-6, abs_tol=1e-6), f"{path}: torch {rt!r}, ferrum {rf!r}"
        else:
            assert rf == rt, f"{path}: torch {rt!r}, ferrum {rf!r}"
        return
    assert hasattr(rf, "detach"), f"{path}: torch gives a tensor, ferrum {type(rf).__name__}"
    assert tuple(rf.shape) == tuple(rt.shape), f"{path}: shape {tuple(rf.shape)}, torch {tuple(rt.shape)}"
    xf, nf = as_numpy(rf)
    xt, nt = as_numpy(rt)
    assert nf == nt, f"{path}: dtype {nf}, torch {nt}"
    if xt.dtype == np.bool_ or xt.dtype.kind in "iu":
        np.testing.assert_array_equal(xf, xt, err_msg=path)
        return
    rtol, atol = TOL.get(nt, (0, 0))
    rtol += info.rtol or 0
    atol += info.atol or 0
    np.testing.assert_allclose(xf, xt, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)


def call(T, info: OpInfo, sample: Sample, dtype: str, requires_grad: bool = False):
    """(args, result or None, exception or None) of calling the op through ``T``."""
    args = make_args(T, sample, dtype, requires_grad)
    try:
        return args, info.fn(T, *args, **sample.kwargs), None
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return args, None, e


def check_parity(torch, ferrum, info: OpInfo, sample: Sample, dtype: str) -> None:
    """The op behaves as torch's on ``sample``: the same exception type, or the same results."""
    _, rt, et = call(torch, info, sample, dtype)
    _, rf, ef = call(ferrum, info, sample, dtype)
    if et is not None or ef is not None:
        assert et is not None, f"{info.name}{sample}: torch returns, ferrum raises {type(ef).__name__}: {ef}"
        assert ef is not None, f"{info.name}{sample}: torch raises {type(et).__name__}: {et}; ferrum returns"
        assert same_exception(ef, et), (
            f"{info.name}{sample}: torch raises {type(et).__name__} ({et}), ferrum {type(ef).__name__} ({ef})"
        )
        return
    try:
        assert_same(rf, rt, info)
    except AssertionError as e:
        raise AssertionError(f"{info.name}{sample} [{dtype}]: {e}") from None


def first_float_outputs(r):
    """The float tensors of a result (a tensor or a tuple of them): what gradients flow from."""
    items = r if isinstance(r, (tuple, list)) else (r,)
    return [x for x in items if hasattr(x, "dtype") and "float" in str(x.dtype)]
