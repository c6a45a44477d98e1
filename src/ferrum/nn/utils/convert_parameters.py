"""Flattening parameters into one vector and back (PyTorch's
``torch.nn.utils.convert_parameters``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.shape import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_param_device: int | None) -> int:
    """The device index shared by the parameters so far (-1 for cpu); TypeError on a mix."""
    if old_param_device is None:
        return param.get_device() if param.is_cuda else -1
    if param.is_cuda:
        mixed = param.get_device() != old_param_device
    else:
        mixed = old_param_device != -1
    if mixed:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_param_device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened and concatenated in order
    (differentiable: it is ``cat([p.view(-1) for p in parameters])``)."""
    device = None
    flat = []
    for p in parameters:
        device = _check_param_device(p, device)
        flat.append(p.view(-1))
    return cat(flat)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in ("", "builtins") else f"{module}.{name}"


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-D ``vec`` into ``parameters`` (each parameter's
    ``.data`` becomes a view of ``vec``, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected ferrum.Tensor, but got: {_typename(vec)}")
    device = None
    pointer = 0
    with no_grad():
        for param in parameters:
            device = _check_param_device(param, device)
            n = param.numel()
            param.data = vec[pointer:pointer + n].view_as(param).data
            pointer += n
