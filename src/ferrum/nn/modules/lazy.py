"""Lazy modules: layers whose input size (in_channels, num_features) is read from the first input.

``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``, ``LazyBatchNorm1d/2d/3d`` and
``LazyInstanceNorm1d/2d/3d`` start with ``UninitializedParameter`` / ``UninitializedBuffer``
placeholders (empty tensors of the requested dtype and device, as ``LazyLinear``'s). A forward
pre-hook (``_initialize_hook``) runs ``initialize_parameters(input)`` on the first call: it gives
the placeholders their shapes in place (the same Parameter objects, so an optimizer built before
the first call keeps working), runs ``reset_parameters`` and swaps the instance's class for
``cls_to_become`` (``LazyConv2d`` becomes ``Conv2d``), as ``LazyLinear`` does. Loading a state dict
into a lazy module gives the placeholders the checkpoint's shapes first (``_load_hook``).

The classes are also reachable at torch's paths (``nn.modules.conv.LazyConv2d``,
``nn.modules.batchnorm.LazyBatchNorm2d``, ``nn.modules.instancenorm.LazyInstanceNorm2d``): they are
set on those modules at the end of this file, which keeps the import order free of cycles.

Differences from PyTorch: an uninitialized parameter is an empty tensor rather than one whose
every attribute access raises (torch raises on ``.shape`` before the first forward; ferrum returns
``(0,)``). ``nn.parameter.is_lazy`` does not know these classes yet; use this module's ``is_lazy``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ... import _factory
from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter
from . import batchnorm, conv, instancenorm
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _NormBase
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["LazyModuleMixin", "UninitializedParameter", "UninitializedBuffer",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


# --------------------------------------------------------------------------- placeholders
class UninitializedTensorMixin:
    """A tensor without a shape yet: ``materialize(shape)`` allocates it and makes it a plain
    ``cls_to_become`` (Parameter or Tensor)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self._data = _factory.empty(tuple(shape), device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    def __repr__(self, *args, **kwargs) -> str:
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is set by the lazy module's first forward (see the module docstring)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return Parameter.__new__(cls, _factory.empty((0,), device=device, dtype=dtype), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is set by the lazy module's first forward."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None, persistent: bool = True):
        t = _wrap(_factory.empty((0,), device=device, dtype=dtype)._data)
        t.__class__ = cls
        if requires_grad:
            t.requires_grad_(True)
        return t


def is_lazy(t: Any) -> bool:
    """Whether ``t`` is a placeholder not materialised yet."""
    return isinstance(t, UninitializedTensorMixin)


# --------------------------------------------------------------------------- the mixin
class LazyModuleMixin:
    """Infers the parameters' shapes from the first input (``initialize_parameters``), then
    becomes ``cls_to_become``."""

    cls_to_become: type | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # placeholders are saved as themselves, so a lazy state dict reloads into a lazy module
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if (keep_vars or is_lazy(p)) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if (keep_vars or is_lazy(b)) else b.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs) -> None:
        for name, t in list(self._parameters.items()) + list(self._buffers.items()):
            key = prefix + name
            if t is not None and key in state_dict and is_lazy(t):
                value = state_dict[key]
                if isinstance(value, Tensor) and not is_lazy(value):
                    with no_grad():
                        t.materialize(value.shape)

    def _apply(self, fn, recurse: bool = True):
        # a placeholder buffer stays one through .to()/.double() (its dtype and device follow)
        lazy = [k for k, b in self._buffers.items() if is_lazy(b)]
        super()._apply(fn, recurse)
        for k in lazy:
            b = self._buffers[k]
            if not is_lazy(b):
                self._buffers[k] = UninitializedBuffer(device=b.device, dtype=b.dtype)
        return self

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer is still a placeholder."""
        return any(is_lazy(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. "
                           "Run a dummy forward pass to correctly initialize the modules")


# --------------------------------------------------------------------------- convolutions
class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        with no_grad():
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        unbatched = self._nd + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                               f"{self.__class__.__name__}, but got input of size: {input.shape}")
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]


def _lazy_conv(base: type, nd: int) -> type:
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        kw = {"device": device, "dtype": dtype}
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, **kw)
        _conv_placeholders(self, out_channels, bias, kw)

    return _conv_class(base, nd, __init__)


def _lazy_conv_transpose(base: type, nd: int) -> type:
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        kw = {"device": device, "dtype": dtype}
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
                      padding_mode, **kw)
        _conv_placeholders(self, out_channels, bias, kw)

    return _conv_class(base, nd, __init__)


def _conv_placeholders(self, out_channels: int, bias: bool, kw: dict) -> None:
    # the base was built with 0 channels and no bias: the real ones are placeholders until the first call
    self.weight = UninitializedParameter(**kw)
    self.out_channels = out_channels
    if bias:
        self.bias = UninitializedParameter(**kw)


def _conv_class(base: type, nd: int, init) -> type:
    doc = (f"A {base.__name__} whose in_channels is inferred from the first input (input.size(1)); "
           f"becomes {base.__name__}.")
    return type(f"Lazy{base.__name__}", (_LazyConvXdMixin, base),
                {"__init__": _mixin_init(init), "cls_to_become": base, "__doc__": doc, "_nd": nd})


def _mixin_init(init):
    """Runs the class's own constructor, then registers the mixin's hooks (what the mixin's
    ``__init__`` does when it sits in the MRO of torch's hand-written classes)."""
    def __init__(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)
    __init__.__signature__ = inspect.signature(init)
    __init__.__doc__ = init.__doc__
    return __init__


# --------------------------------------------------------------------------- normalization
class _LazyNormBase(LazyModuleMixin):
    def _lazy_norm_init(self, base: type, eps: float, momentum, affine: bool, track_running_stats: bool,
                        device, dtype) -> None:
        kw = {"device": device, "dtype": dtype}
        # affine and track_running_stats False here: nothing is allocated that the first input replaces
        _NormBase.__init__(self, 0, eps, momentum, False, False, **kw)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(**kw)
            self.bias = UninitializedParameter(**kw)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**kw)
            self.running_var = UninitializedBuffer(**kw)
            self.num_batches_tracked = _factory.tensor(0, dtype=_factory.int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        with no_grad():
            if self.affine:
                self.weight.materialize((self.num_features,))
                self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(base: type, default_affine: bool = True, default_track: bool = True) -> type:
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = default_affine,
                 track_running_stats: bool = default_track, device=None, dtype=None) -> None:
        self._lazy_norm_init(base, eps, momentum, affine, track_running_stats, device, dtype)

    doc = (f"A {base.__name__} whose num_features is inferred from the first input (input.size(1)); "
           f"becomes {base.__name__}.")
    return type(f"Lazy{base.__name__}", (_LazyNormBase, base),
                {"__init__": _mixin_init(__init__), "cls_to_become": base, "__doc__": doc})


LazyConv1d = _lazy_conv(Conv1d, 1)
LazyConv2d = _lazy_conv(Conv2d, 2)
LazyConv3d = _lazy_conv(Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose(ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose(ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose(ConvTranspose3d, 3)
LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)

# torch's paths: nn.modules.conv.LazyConv2d, nn.modules.batchnorm.LazyBatchNorm2d, ...
for _home, _classes in ((conv, (LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
                                LazyConvTranspose2d, LazyConvTranspose3d)),
                        (batchnorm, (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d)),
                        (instancenorm, (LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d))):
    for _cls in _classes:
        _cls.__module__ = _home.__name__
        setattr(_home, _cls.__name__, _cls)
del _home, _classes, _cls
