"""``nn.Parameter`` (a Tensor that a Module registers as a parameter) and ``nn.Buffer``."""

from __future__ import annotations

import numpy as np

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
            arr = np.empty((0,), dtype=np.float32)
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
        return (_rebuild_parameter, (np.asarray(self.detach().cpu()._data), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(_wrap(self._data.copy()), self.requires_grad)
        if self._grad is not None:
            p._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p


def _rebuild_parameter(array, requires_grad):
    return Parameter(_wrap(np.array(array)), requires_grad)


class Buffer(Tensor):
    """Marks a tensor to register as a buffer when assigned to a Module attribute
    (``persistent=False`` keeps it out of the state_dict). What is stored is a plain Tensor."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = _wrap(np.empty((0,), dtype=np.float32))
        t = _new(cls)
        t._data = data._data
        t.requires_grad = data.requires_grad
        t._grad = None
        t.grad_fn = None
        t._version = data._version
        t._view = None
        t._hooks = None
        t.persistent = persistent
        return t


def is_lazy(param) -> bool:
    return False
