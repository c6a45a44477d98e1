"""``nn.Parameter`` (a Tensor that a Module registers as a parameter) and ``nn.Buffer``."""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype, to_np
from .._tensor import Tensor, _wrap

__all__ = ["Parameter", "Buffer", "is_lazy"]

_new = object.__new__


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning one as a Module attribute registers it.

    ``Parameter(data=None, requires_grad=True)`` shares ``data``'s memory (an empty tensor when
    ``data`` is None). Results of ops on a Parameter are plain Tensors.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=to_np(get_default_dtype()))
            ver = [0]
        elif isinstance(data, Tensor):
            arr = data._data
            ver = data._version
        else:
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        t = _new(cls)
        t._data = arr
        t.requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._version = ver
        t._view = None
        t._hooks = None
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __repr__(self, *, tensor_contents=None) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (type(self), np.asarray(self.detach().cpu()._data), self.requires_grad,
                                     self.device.type))

    def __deepcopy__(self, memo):
        # as PyTorch: the data is copied, not the grad
        if id(self) in memo:
            return memo[id(self)]
        p = type(self)(_wrap(self._data.copy()), self.requires_grad)
        memo[id(self)] = p
        return p


def _rebuild_parameter(cls, array, requires_grad, device_type="cpu"):
    t = _wrap(np.array(array))
    if device_type != "cpu":
        t = t.to(device_type)
    return cls(t, requires_grad)


class _BufferMeta(type):
    # a Buffer is a plain Tensor marked by Buffer(...): isinstance looks at the mark
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor to register as a buffer when assigned to a Module attribute
    (``persistent=False`` keeps it out of the state_dict).

    ``Buffer(data)`` returns a plain Tensor sharing ``data``'s memory (``requires_grad`` kept),
    marked so that ``isinstance(t, nn.Buffer)`` holds, as in PyTorch.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _wrap(np.empty((0,), dtype=to_np(get_default_dtype())))
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): argument 'data' must be Tensor, not {type(data).__name__}")
        t = _wrap(data._data, data._version)
        t.requires_grad = data.requires_grad
        t.persistent = persistent
        t._is_buffer = True
        return t


def is_lazy(param) -> bool:
    return False
