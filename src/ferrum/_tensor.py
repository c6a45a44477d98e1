"""The Tensor: one NumPy (or CuPy) array plus autograd state.

This module holds what is not an op: construction, metadata, conversion to Python and NumPy,
printing, and the autograd entry points. Ops (operators included) are attached to the class by
the modules under ``ferrum.ops``, each next to its implementation.
"""

from __future__ import annotations

import builtins
import weakref

import numpy as np

from ._casting import cast_array
from ._device import CPU, device_of_array
from ._dtype import FROM_NP, from_np, get_default_dtype

__all__ = ["Tensor"]

_new = object.__new__
_ndarray = np.ndarray
_generic = np.generic


def _wrap(data, version=None) -> "Tensor":
    """A new Tensor around array ``data`` (no autograd history). The hot-path constructor."""
    if data.__class__ is not _ndarray and isinstance(data, _generic):
        data = np.asarray(data)
    t = _new(Tensor)
    t._data = data
    t.requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._version = [0] if version is None else version
    t._view = None
    t._hooks = None
    return t


class Tensor:
    """A multi-dimensional array with autograd support, following ``torch.Tensor``.

    ``Tensor(data)`` / ``Tensor(*sizes)`` are the legacy constructors (float32, or the default dtype).
    """

    __slots__ = ("_data", "requires_grad", "_grad", "grad_fn", "_version", "_view", "_hooks",
                 "__weakref__", "__dict__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators
    __array_priority__ = 1000
    is_sparse = False
    _is_node = False  # a leaf tensor as a graph edge (autograd nodes say True)
    is_quantized = False
    is_meta = False
    is_nested = False
    layout = "strided"

    def __new__(cls, *args, **kwargs):
        from ._factory import legacy_new
        data = legacy_new(get_default_dtype(), args, kwargs)
        t = _new(cls)
        t._data = data
        t.requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._version = [0]
        t._view = None
        t._hooks = None
        return t

    def __init__(self, *args, **kwargs):
        pass

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a ``ferrum.Size``, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_canon_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return FROM_NP[self._data.dtype]

    @property
    def device(self):
        d = self._data
        return CPU if d.__class__ is _ndarray else device_of_array(d)

    @property
    def is_cuda(self) -> bool:
        return self._data.__class__ is not _ndarray

    @property
    def is_cpu(self) -> bool:
        return self._data.__class__ is _ndarray

    @property
    def is_xpu(self) -> bool:
        """False: ferrum has no Intel GPU (XPU) backend."""
        return False

    @property
    def is_mps(self) -> bool:
        """False: ferrum has no Apple Metal (MPS) backend."""
        return False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        """Strides in elements (not bytes), as in PyTorch."""
        d = self._data
        st = tuple(s // d.itemsize for s in d.strides)
        if d.size <= 1 or 0 in d.shape:
            st = _contiguous_strides(d.shape) if d.size == 0 or d.size == 1 else st
        if dim is None:
            return st
        return st[_canon_dim(dim, d.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        return builtins.bool(self._data.flags.c_contiguous)

    def storage_offset(self) -> int:
        d = self._data
        base = d
        while base.base is not None and isinstance(base.base, type(d)):
            base = base.base
        return (_ptr(d) - _ptr(base)) // d.itemsize if base is not d else 0

    def data_ptr(self) -> int:
        return _ptr(self._data)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype.category == 2

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def get_device(self) -> int:
        return -1 if self.is_cpu else self.device.index

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _base(self):
        """The tensor this one is a view of (the root of a chain of views), or None."""
        v = self._view
        if v is None:
            return None
        b = v[0]
        while b._view is not None:
            b = b._view[0]
        return b

    @property
    def _is_view(self) -> bool:
        return self._view is not None

    def is_view(self) -> bool:
        return self._view is not None

    def is_inference(self) -> bool:
        """Always False: ferrum does not mark tensors made under inference_mode."""
        return False

    def is_shared(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (non-zero only for multi-output Functions)."""
        f = self.grad_fn
        if f is None:
            return 0
        from .autograd.function import _OutputNode
        return f.index if f.__class__ is _OutputNode else 0

    @property
    def _version_value(self) -> int:
        return self._version[0]

    # ------------------------------------------------------------------ grad
    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad "
                                   f"{list(value._data.shape)}, tensor {list(self._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: grad "
                                   f"{value.dtype}, tensor {self.dtype}")
            if value.device != self.device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def data(self) -> "Tensor":
        """The same array without autograd history (in-place changes through it are untracked: it
        has its own version counter, as in PyTorch)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Sets ``requires_grad`` in place (only on leaves, as in PyTorch)."""
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fcV" and from_np(self._data.dtype).category < 2:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> "Tensor":
        """A tensor sharing this data, cut from the graph."""
        t = _wrap(self._data, self._version)
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keeps ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn.__dict__["_retained"] = weakref.ref(self)
            self.grad_fn._has_hooks = True

    @property
    def retains_grad(self) -> builtins.bool:
        f = self.grad_fn
        return f is not None and "_retained" in f.__dict__ and f.__dict__["_retained"]() is self

    def register_hook(self, hook):
        """Registers ``hook(grad) -> Tensor or None``, called with this tensor's gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .utils.hooks import RemovableHandle as _RemovableHandle
        if self.grad_fn is not None:
            hooks = self.grad_fn.__dict__.setdefault("_tensor_hooks", [])
            self.grad_fn._has_hooks = True
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Registers ``hook(tensor)``, called on this leaf after its ``.grad`` was accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .utils.hooks import RemovableHandle as _RemovableHandle
        hooks = self.__dict__.setdefault("_post_acc_hooks", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None):
        """Accumulates the gradient of this tensor into the ``.grad`` of the graph's leaves."""
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force: builtins.bool = False) -> np.ndarray:
        """The NumPy array behind this CPU tensor (shared memory)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        d = self._data
        if d.__class__ is not _ndarray:
            if not force:
                raise TypeError("can't convert cuda tensor to numpy. Use Tensor.cpu() to copy the "
                                "tensor to host memory first.")
            return d.get()
        return d

    def __array__(self, dtype=None, copy=None):
        d = self._data if self._data.__class__ is _ndarray else self._data.get()
        if dtype is not None:
            if np.dtype(dtype) == d.dtype:
                return d.copy() if copy else d
            return cast_array(d, dtype)  # the defined float -> int rule, not NumPy's C cast
        return d.copy() if copy else d

    def item(self):
        """The value of a one-element tensor as a Python number."""
        d = self._data
        if d.size != 1:
            raise RuntimeError(f"a Tensor with {d.size} elements cannot be converted to Scalar")
        return d.reshape(()).item() if d.__class__ is _ndarray else d.reshape(()).get().item()

    def tolist(self):
        d = self._data
        return (d if d.__class__ is _ndarray else d.get()).tolist()

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return builtins.float(self._scalar())

    def __int__(self) -> int:
        return builtins.int(self._scalar())

    def __bool__(self) -> builtins.bool:
        d = self._data
        if d.size != 1:
            raise RuntimeError("Boolean value of Tensor with " + ("no values" if d.size == 0 else
                               "more than one value") + " is ambiguous")
        return builtins.bool(self.item())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __index__(self) -> int:
        d = self._data
        if d.size != 1 or d.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)  # str(self); TypeError for a non-empty spec

    def __len__(self) -> int:
        d = self._data
        if d.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return d.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element) -> builtins.bool:
        if isinstance(element, (Tensor, builtins.int, builtins.float, builtins.bool)):
            return builtins.bool((self == element).any().item())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                           f"{type(element).__name__}.")

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._repr import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (_rebuild, (self.__array__(), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.")
        if id(self) in memo:
            return memo[id(self)]
        t = _new(type(self))
        t._data = self._data.copy()
        t.requires_grad = self.requires_grad
        t._grad = None if self._grad is None else self._grad.__deepcopy__(memo)
        t.grad_fn = None
        t._version = [0]
        t._view = None
        t._hooks = None
        for k, v in getattr(self, "__dict__", {}).items():
            import copy
            t.__dict__[k] = copy.deepcopy(v, memo)
        memo[id(self)] = t
        return t

    def __copy__(self):
        raise RuntimeError("use .clone() or copy.deepcopy() to copy a tensor")


def _rebuild(array, requires_grad):
    t = _wrap(np.array(array))
    t.requires_grad = requires_grad
    return t


def _ptr(a) -> int:
    if a.__class__ is _ndarray:
        return a.__array_interface__["data"][0]
    return a.data.ptr


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for n in reversed(shape):
        st.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(st))


def _canon_dim(dim, ndim: int, op: str = "") -> int:
    """Wraps a negative ``dim``; IndexError naming the op and the valid range when out of range."""
    n = ndim if ndim > 0 else 1
    if dim.__class__ is not builtins.int:
        if isinstance(dim, Tensor) or hasattr(dim, "__index__"):
            dim = dim.__index__()
        else:
            raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}")
    if dim < -n or dim >= n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


class Size(tuple):
    """The shape of a tensor: a tuple of ints (``torch.Size``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ferrum.Size([{', '.join(str(n) for n in self)}])"

    def numel(self) -> int:
        r = 1
        for n in self:
            r *= n
        return r

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))
