"""dtypes: ferrum's dtype objects, their NumPy counterparts, and PyTorch's type promotion."""

from __future__ import annotations

import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "half", "bfloat16", "float32", "float", "float64", "double",
    "int8", "int16", "int32", "int", "int64", "long", "uint8", "bool", "complex64",
    "complex128", "cfloat", "cdouble", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "can_cast", "finfo", "iinfo",
]

# categories, in promotion order
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type (``ferrum.float32``, ``ferrum.int64``, ...)."""

    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_np_name")

    def __init__(self, name: str, np_name: str, itemsize: int, category: int, signed: bool):
        self.name = name
        self._np_name = np_name
        self.np = None if np_name == "bfloat16" else np.dtype(np_name)
        self.itemsize = itemsize
        self.category = category
        self.is_signed = signed

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    def to_complex(self) -> "dtype":
        return complex128 if self is float64 else complex64

    def to_real(self) -> "dtype":
        return float64 if self is complex128 else (float32 if self is complex64 else self)

    def __repr__(self) -> str:
        return "ferrum." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float16 = dtype("float16", "float16", 2, _FLOAT, True)
bfloat16 = dtype("bfloat16", "bfloat16", 2, _FLOAT, True)
float32 = dtype("float32", "float32", 4, _FLOAT, True)
float64 = dtype("float64", "float64", 8, _FLOAT, True)
complex64 = dtype("complex64", "complex64", 8, _COMPLEX, True)
complex128 = dtype("complex128", "complex128", 16, _COMPLEX, True)
int8 = dtype("int8", "int8", 1, _INT, True)
int16 = dtype("int16", "int16", 2, _INT, True)
int32 = dtype("int32", "int32", 4, _INT, True)
int64 = dtype("int64", "int64", 8, _INT, True)
uint8 = dtype("uint8", "uint8", 1, _INT, False)
bool = dtype("bool", "bool", 1, _BOOL, False)  # noqa: A001 - torch.bool
half, float, double = float16, float32, float64  # noqa: A001
int, long = int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

_ALL = (float16, bfloat16, float32, float64, complex64, complex128, int8, int16, int32, int64,
        uint8, bool)
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, int=int32, long=int64,
                cfloat=complex64, cdouble=complex128)
# numpy dtype -> ferrum dtype; extended with bfloat16 once ml_dtypes is loaded
FROM_NP: dict = {d.np: d for d in _ALL if d.np is not None}
FROM_NP.update({np.dtype("uint16"): int32, np.dtype("uint32"): int64, np.dtype("uint64"): int64})


# PyTorch's ScalarType names, as its error messages spell them ("... not implemented for 'Half'")
# and as its legacy tensor types are named ("torch.HalfTensor"): the one copy of this table
_SCALAR_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                 "complex64": "ComplexFloat", "complex128": "ComplexDouble", "int8": "Char",
                 "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_BY_SCALAR_NAME = {v: k for k, v in _SCALAR_NAMES.items()}


def scalar_name(d) -> str:
    """PyTorch's name for ``d`` (a ferrum dtype or a NumPy dtype) in error messages: 'Float',
    'Long', 'Half', 'Bool', ...; a dtype PyTorch has no name for keeps its own."""
    return _SCALAR_NAMES.get(d.name, d.name)


def type_name(d, cuda: builtins.bool = False) -> str:
    """The legacy tensor type name of ``d`` (ferrum or NumPy dtype): 'ferrum.FloatTensor',
    'ferrum.cuda.LongTensor' (``Tensor.type()``, saved-tensor version errors)."""
    return ("ferrum.cuda." if cuda else "ferrum.") + scalar_name(d) + "Tensor"


def from_scalar_name(name: str) -> dtype | None:
    """The dtype named by a PyTorch ScalarType or legacy type name ('Float', 'FloatTensor',
    'torch.cuda.FloatTensor'); None when it names none."""
    key = name.rsplit(".", 1)[-1]
    key = key[:-len("Tensor")] if key.endswith("Tensor") else key
    n = _BY_SCALAR_NAME.get(key)
    return _BY_NAME[n] if n is not None else None


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def _load_bfloat16() -> np.dtype:
    try:
        import ml_dtypes
    except ImportError as e:  # pragma: no cover - ml_dtypes is a dependency
        raise RuntimeError("bfloat16 needs the ml_dtypes package (pip install ml_dtypes)") from e
    npd = np.dtype(ml_dtypes.bfloat16)
    bfloat16.np = npd
    FROM_NP[npd] = bfloat16
    return npd


def to_np(d: dtype) -> np.dtype:
    """The NumPy dtype that stores ferrum dtype ``d``."""
    n = d.np
    return n if n is not None else _load_bfloat16()


def from_np(npd) -> dtype:
    """The ferrum dtype of a NumPy dtype; raises TypeError for unsupported ones."""
    try:
        return FROM_NP[npd]
    except KeyError:
        pass
    npd = np.dtype(npd)
    if npd in FROM_NP:
        return FROM_NP[npd]
    if npd.name == "bfloat16":
        _load_bfloat16()
        return bfloat16
    raise TypeError(f"can't convert np.ndarray of type {npd}. The only supported types are: "
                    "float64, float32, float16, complex64, complex128, int64, int32, int16, "
                    "int8, uint8, and bool.")


def as_dtype(d) -> dtype:
    """Accepts a ferrum dtype, a NumPy dtype / type, a Python type or a dtype name."""
    if d.__class__ is dtype:
        return d
    if d is None:
        raise TypeError("dtype must not be None")
    if isinstance(d, str):
        if d in _BY_NAME:
            return _BY_NAME[d]
        if d.startswith(("torch.", "ferrum.")) and d.split(".", 1)[1] in _BY_NAME:
            return _BY_NAME[d.split(".", 1)[1]]
    if d is _pyfloat:  # Python's types are double precision, as in PyTorch
        return float64
    if d is _pyint:
        return int64
    if d is _pybool:
        return bool
    if d is _pycomplex:
        return complex128
    if getattr(d, "__module__", "") == "torch" or type(d).__module__ == "torch":
        return _BY_NAME[str(d).split(".")[-1]]
    try:
        return from_np(np.dtype(d))
    except TypeError:
        raise
    except Exception:
        raise TypeError(f"not a dtype: {d!r}") from None


_pyfloat, _pyint, _pybool, _pycomplex = builtins.float, builtins.int, builtins.bool, complex

_default = [float32]


def get_default_dtype() -> dtype:
    """The default floating point dtype (``float32`` unless changed)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """Sets the default floating point dtype; must be float16, bfloat16, float32 or float64."""
    d = as_dtype(d)
    if d.category != _FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def default_complex() -> dtype:
    return complex128 if _default[0] is float64 else complex64


_promote_cache: dict = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` can be cast to, by PyTorch's rules."""
    key = (a, b)
    r = _promote_cache.get(key)
    if r is not None:
        return r
    if a is b:
        r = a
    elif a.category != b.category:
        # the higher category wins whatever the sizes (int32 + float16 -> float16); only
        # complex64 with float64 widens, to complex128
        hi, lo = (a, b) if a.category > b.category else (b, a)
        r = complex128 if hi is complex64 and lo is float64 else hi
    elif a is bfloat16 or b is bfloat16:
        o = b if a is bfloat16 else a
        r = float32 if o is float16 else o
    else:
        r = FROM_NP[np.promote_types(a.np, b.np)]
    _promote_cache[key] = r
    return r


def _scalar_category(x) -> int:
    t = type(x)
    if t is _pybool:
        return _BOOL
    if t is _pyint:
        return _INT
    if t is _pyfloat:
        return _FLOAT
    if t is _pycomplex:
        return _COMPLEX
    if isinstance(x, np.generic):
        return from_np(x.dtype).category
    raise TypeError(f"unsupported scalar type {t.__name__}")


def _default_for_category(c: int) -> dtype:
    return (bool, int64, _default[0], default_complex())[c]


def _combine(hi, lo):
    """PyTorch's merge of a higher-priority dtype ``hi`` with a lower-priority one ``lo``: ``lo``
    counts only when it is of a higher category (complex keeps ``hi``'s float precision)."""
    if hi is None:
        return lo
    if lo is None or hi.category == _COMPLEX:
        return hi
    if lo.category == _COMPLEX:
        return hi.to_complex() if hi.category == _FLOAT else lo
    if hi.category == _FLOAT:
        return hi
    if hi is bool or lo.category == _FLOAT:
        return promote_types(hi, lo)
    return hi


def result_type(*operands) -> dtype:
    """The dtype of an elementwise op over tensors and Python scalars (PyTorch's rules:
    dimensioned tensors outrank 0-d tensors, which outrank Python scalars, unless a
    lower-priority operand is of a higher category)."""
    dims = zeros = scal = None
    for x in operands:
        d = getattr(x, "_data", None)
        if d is None:
            if isinstance(x, np.ndarray):
                d = x
            else:
                sd = _default_for_category(_scalar_category(x))
                scal = sd if scal is None else promote_types(scal, sd)
                continue
        dt = from_np(d.dtype)
        if d.ndim:
            dims = dt if dims is None else promote_types(dims, dt)
        else:
            zeros = dt if zeros is None else promote_types(zeros, dt)
    return _combine(dims, _combine(zeros, scal))


def can_cast(from_: dtype, to: dtype) -> bool:
    """PyTorch's can_cast: casting is allowed unless it lowers the category."""
    return as_dtype(from_).category <= as_dtype(to).category


def float_to_int(arr: np.ndarray, npd: np.dtype) -> np.ndarray:
    """Floating array -> integer dtype ``npd`` by ferrum's one defined rule (``_casting``: truncate,
    out-of-range and nan through the x86 intermediate, then wrap), never NumPy's C cast, which is
    undefined outside the target's range."""
    from ._casting import cast_array  # _casting is below _dtype in spirit but imports nothing of it
    return cast_array(np.asarray(arr), npd)


def np_finfo(npd):
    """``np.finfo`` that also knows bfloat16 (through ml_dtypes)."""
    if npd.kind == "V":
        import ml_dtypes
        return ml_dtypes.finfo(npd)
    return np.finfo(npd)


class finfo:
    """Machine limits for floating point dtypes (bits, eps, max, min, tiny, resolution)."""

    def __init__(self, type: dtype | None = None):  # noqa: A002
        d = as_dtype(type) if type is not None else _default[0]
        if d.category not in (_FLOAT, _COMPLEX):
            raise TypeError(f"finfo expects a floating point dtype, got {d}")
        fi = np_finfo(to_np(d.to_real()))
        self.dtype = d.to_real().name
        self.bits = fi.bits
        self.eps = _pyfloat(fi.eps)
        self.max = _pyfloat(fi.max)
        self.min = _pyfloat(fi.min)
        self.tiny = _pyfloat(fi.tiny)
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -_pyint(fi.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.tiny}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """Machine limits for integer dtypes (bits, max, min)."""

    def __init__(self, type: dtype):  # noqa: A002
        d = as_dtype(type)
        if d.category not in (_INT, _BOOL):
            raise TypeError(f"iinfo expects an integer dtype, got {d}")
        ii = np.iinfo(d.np) if d is not bool else None
        self.dtype = d.name
        self.bits = ii.bits if ii else 8
        self.max = _pyint(ii.max) if ii else 1
        self.min = _pyint(ii.min) if ii else 0

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
