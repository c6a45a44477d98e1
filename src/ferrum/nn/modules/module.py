"""``nn.Module``: the base class of every layer, following ``torch.nn.Module``.

PyTorch keeps all of ``Module`` and its global hooks in one file; ferrum splits it to stay under
its 800-line budget for a source file, along the two parts that are self-contained:

- ``_module_hooks``: the global ``register_module_*`` hooks and their registries (and the
  ``_global_hooks_on`` flag ``__call__`` tests);
- ``_module_state_dict``: ``state_dict`` / ``load_state_dict``, the extra-state protocol and the
  state-dict hooks, as ``_StateDictMixin``, a base class of :class:`Module`, plus
  ``_IncompatibleKeys``.

This file keeps ``Module`` itself: construction, ``__call__`` and the per-module hooks,
attribute registration (``__setattr__`` / ``__getattr__``), traversal, modes, device and dtype
moves, printing and pickling. The hot paths (``__call__``, ``__getattr__``, ``__setattr__``) are
all here and read the hook registries as module globals, as before. Every name the split files
define stays importable from this module (``ferrum.nn.modules.module.register_module_forward_hook``,
``_IncompatibleKeys``, ``_global_hooks_on``, ...).
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from typing import Any, Callable, Iterator

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...utils.hooks import RemovableHandle
from ..parameter import Buffer, Parameter
from ._module_hooks import (  # noqa: F401  (the face: these were defined in this module)
    _add_hook, _global_backward_hooks, _global_backward_pre_hooks, _global_forward_hooks,
    _global_forward_hooks_always_called, _global_forward_hooks_with_kwargs, _global_forward_pre_hooks,
    _global_hooks_on, _refresh_global_flag, register_module_forward_hook, register_module_forward_pre_hook,
    register_module_full_backward_hook, register_module_full_backward_pre_hook)
from ._module_state_dict import _IncompatibleKeys, _PublicStateDictHook, _StateDictMixin  # noqa: F401

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook"]

# reprs and pickles name this module, as before the split and as PyTorch's does
_IncompatibleKeys.__module__ = __name__

_setattr = object.__setattr__


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _type_name(value: Any) -> str:
    """PyTorch's ``typename``: the legacy tensor type (ferrum.FloatTensor) or the class name."""
    if not isinstance(value, Tensor):
        return type(value).__name__
    from ...autograd.function import _dtype_name
    return _dtype_name(value._data)


class Module(_StateDictMixin):
    """Base class for all neural-network modules.

    Subclasses call ``super().__init__()`` and assign Parameters, buffers and submodules as
    attributes; they are then registered and found by ``parameters()``, ``state_dict()``,
    ``to()`` and the rest. ``forward`` defines the computation; call the module, not forward.
    """

    training: bool
    _version: int = 1
    call_super_init: bool = False
    dump_patches: bool = False

    def __init__(self, *args, **kwargs) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        _setattr(self, "training", True)
        _setattr(self, "_parameters", OrderedDict())
        _setattr(self, "_buffers", OrderedDict())
        _setattr(self, "_non_persistent_buffers_set", set())
        _setattr(self, "_modules", OrderedDict())
        _setattr(self, "_forward_pre_hooks", OrderedDict())
        _setattr(self, "_forward_pre_hooks_with_kwargs", {})
        _setattr(self, "_forward_hooks", OrderedDict())
        _setattr(self, "_forward_hooks_with_kwargs", {})
        _setattr(self, "_forward_hooks_always_called", {})
        _setattr(self, "_backward_hooks", OrderedDict())
        _setattr(self, "_backward_pre_hooks", OrderedDict())
        _setattr(self, "_state_dict_hooks", OrderedDict())
        _setattr(self, "_state_dict_pre_hooks", OrderedDict())
        _setattr(self, "_load_state_dict_pre_hooks", OrderedDict())
        _setattr(self, "_load_state_dict_post_hooks", OrderedDict())
        _setattr(self, "_is_full_backward_hook", None)
        _setattr(self, "_has_hooks", False)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" '
                                  "function")

    def __call__(self, *args, **kwargs):
        if self._has_hooks or _global_hooks_on[0]:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    _call_impl = __call__

    def _update_hook_flag(self) -> None:
        _setattr(self, "_has_hooks", bool(self._forward_pre_hooks or self._forward_hooks
                                          or self._backward_hooks or self._backward_pre_hooks))

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """``__call__`` when a hook is registered (here or globally): pre-hooks, backward-hook
        wrapping, forward, forward hooks; ``always_call`` hooks also run when something raised."""
        result = None
        called_always: set = set()
        try:
            for hid, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                             self._forward_pre_hooks.items()):
                if hid in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {res}.")
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            state = None
            if self._backward_hooks or self._backward_pre_hooks or _global_backward_hooks \
                    or _global_backward_pre_hooks:
                from ._backward_hooks import BackwardHookState
                state = BackwardHookState(
                    self, [*_global_backward_hooks.values(), *self._backward_hooks.values()],
                    [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()])
                args = state.wrap_inputs(args)
            result = self.forward(*args, **kwargs)
            for hid, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called or hid in _global_forward_hooks_always_called:
                    called_always.add(hid)
                if hid in self._forward_hooks_with_kwargs or hid in _global_forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
            if state is not None:
                result = state.wrap_outputs(result)
            return result
        except Exception:
            for hid, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
                always = (hid in self._forward_hooks_always_called
                          or hid in _global_forward_hooks_always_called)
                if not always or hid in called_always:
                    continue
                try:
                    if hid in self._forward_hooks_with_kwargs or hid in _global_forward_hooks_with_kwargs:
                        res = hook(self, args, kwargs, result)
                    else:
                        res = hook(self, args, result)
                    if res is not None:
                        result = res
                except Exception as e:  # noqa: BLE001 - the forward's error is the one raised
                    warnings.warn("forward hook with ``always_call=True`` raised an exception that was "
                                  f"silenced as another error was raised in forward: {e}", stacklevel=2)
            raise

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args) -> None or new args`` (``hook(module, args, kwargs) -> None or
        (args, kwargs)`` with ``with_kwargs``), run before forward."""
        h = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, module=self)
        _add_hook(self._forward_pre_hooks, hook, prepend, h)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[h.id] = True
        self._update_hook_flag()
        return h

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output) -> None or new output``, run after forward."""
        h = RemovableHandle(self._forward_hooks, self._forward_hooks_with_kwargs,
                            self._forward_hooks_always_called, module=self)
        _add_hook(self._forward_hooks, hook, prepend, h)
        if with_kwargs:
            self._forward_hooks_with_kwargs[h.id] = True
        if always_call:
            self._forward_hooks_always_called[h.id] = True
        self._update_hook_flag()
        return h

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None or new grad_input``, run when the
        gradients with respect to the module's inputs have been computed."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        _setattr(self, "_is_full_backward_hook", True)
        h = RemovableHandle(self._backward_hooks, module=self)
        _add_hook(self._backward_hooks, hook, prepend, h)
        self._update_hook_flag()
        return h

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output) -> None or new grad_output``, run when the gradients with
        respect to the module's outputs have been computed."""
        h = RemovableHandle(self._backward_pre_hooks, module=self)
        _add_hook(self._backward_pre_hooks, hook, prepend, h)
        self._update_hook_flag()
        return h

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated in PyTorch; here it behaves as ``register_full_backward_hook``."""
        return self.register_full_backward_hook(hook)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(self, name, d, "_buffers", "_modules", "_non_persistent_buffers_set")
            d.pop(name, None)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' "
                                f"as parameter '{name}' (ferrum.nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(self, name, d, "_parameters", "_buffers", "_non_persistent_buffers_set")
            d.pop(name, None)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' "
                                "(ferrum.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                                "(ferrum.nn.Buffer, ferrum.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self.register_buffer(name, value, persistent)
            return
        _setattr(self, name, value)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        p = d.get("_parameters")
        if p is not None and name in p:
            return p[name]
        b = d.get("_buffers")
        if b is not None and name in b:
            return b[name]
        m = d.get("_modules")
        if m is not None and name in m:
            return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del self._parameters[name]
        elif name in d.get("_buffers", ()):
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in d.get("_modules", ()):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    def _check_name(self, name, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Adds parameter ``param`` (or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' "
                            f"object to parameter '{name}' (ferrum.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                             f"be created explicitly. To express '{name}' as a function of another Tensor, "
                             "compute the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Adds buffer ``tensor`` (state that is not a parameter, such as running statistics);
        ``persistent=False`` leaves it out of ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                            "(ferrum Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Adds child ``module`` under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        """The submodule at dotted path ``target`` ("" is this module); AttributeError otherwise."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Puts ``module`` at dotted path ``target`` (its parent must exist)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        prefix, _, name = target.rpartition(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self.get_submodule(prefix)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def _get_member(self, target: str, cls_check, what: str):
        prefix, _, name = target.rpartition(".")
        mod = self.get_submodule(prefix)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        value = getattr(mod, name)
        if not cls_check(mod, name, value):
            raise AttributeError(f"`{name}` is not {what}")
        return value

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (``"block.fc.weight"``)."""
        return self._get_member(target, lambda m, n, v: isinstance(v, Parameter), "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``."""
        return self._get_member(target, lambda m, n, v: n in m._buffers, "a buffer")

    # ------------------------------------------------------------------ traversal
    def _named_members(self, get_members, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The module's parameters (and its submodules' when ``recurse``), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, names dotted like ``layer1.weight``."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Sets training mode (``eval()`` is ``train(False)``) here and in every submodule."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        _setattr(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters (to None by default, else to zeros in place)."""
        for p in self.parameters():
            g = p._grad
            if g is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                with no_grad():
                    g.zero_()

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Calls ``fn`` on every submodule (children first) and then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def share_memory(self) -> "Module":
        return self

    # ------------------------------------------------------------------ device and dtype
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Module":
        if recurse:
            for m in self.children():
                m._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            with no_grad():
                new = fn(p)
            # the same Parameter object keeps living, so optimizers holding it stay valid
            if new._data is not p._data:
                p._data = new._data
            if p._grad is not None:
                with no_grad():
                    g = fn(p._grad)
                p._grad = g if g._data.dtype == p._data.dtype else g.to(p.dtype)
        for key, b in self._buffers.items():
            if b is not None:
                self._buffers[key] = fn(b)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """``to(device=None, dtype=None, non_blocking=False)``, ``to(dtype)`` or ``to(tensor)``:
        moves parameters and buffers in place (the Parameter objects stay the same, so an
        optimizer built before keeps working); ``dtype`` casts only the floating-point ones."""
        device, dtype = _parse_to(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")

        def convert(t: Tensor) -> Tensor:
            if dtype is not None and (t.is_floating_point() or t.is_complex()):
                return t.to(device=device, dtype=dtype)
            return t.to(device=device) if device is not None else t
        return self._apply(convert)

    def cuda(self, device=None) -> "Module":
        return self._apply(lambda t: t.cuda(device))

    def cpu(self) -> "Module":
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type) -> "Module":
        return self._apply(lambda t: t.type(dst_type))

    def _cast_float(self, dtype) -> "Module":
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> "Module":
        from ... import float32
        return self._cast_float(float32)

    def double(self) -> "Module":
        from ... import float64
        return self._cast_float(float64)

    def half(self) -> "Module":
        from ... import float16
        return self._cast_float(float16)

    def bfloat16(self) -> "Module":
        from ... import bfloat16
        return self._cast_float(bfloat16)

    def to_empty(self, *, device=None, recurse: bool = True) -> "Module":
        from ... import empty_like
        return self._apply(lambda t: empty_like(t, device=device), recurse)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; layers override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for key, m in self._modules.items():
            lines.append("(" + key + "): " + _addindent(repr(m), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    # ------------------------------------------------------------------ pickling / copying
    def __getstate__(self) -> dict:
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_has_hooks" not in self.__dict__:
            self._update_hook_flag()

    def compile(self, *args, **kwargs) -> None:
        """Accepted for compatibility; ferrum runs eagerly."""
        return None


def _parse_to(args: tuple, kwargs: dict):
    """(device, dtype) from the argument forms of ``Module.to`` / ``Tensor.to``."""
    from ..._device import device as _device
    from ..._dtype import dtype as _dtype_cls
    device = dtype = None
    kwargs = dict(kwargs)
    for k in ("non_blocking", "copy", "memory_format"):
        kwargs.pop(k, None)
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        device, dtype = rest[0].device, rest[0].dtype
        rest.pop(0)
    elif rest and isinstance(rest[0], _dtype_cls):
        dtype = rest.pop(0)
    elif rest and not isinstance(rest[0], bool) and rest[0] is not None:
        device = _device(rest.pop(0))
        if rest and isinstance(rest[0], _dtype_cls):
            dtype = rest.pop(0)
    elif rest and rest[0] is None:
        rest.pop(0)
    # what can follow: non_blocking and copy flags
    if any(not isinstance(a, bool) for a in rest) or len(rest) > 2:
        raise TypeError("to() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)}), but expected one of: "
                        "(device=None, dtype=None, non_blocking=False), (dtype, non_blocking=False), "
                        "(tensor, non_blocking=False)")
    if "tensor" in kwargs:
        t = kwargs.pop("tensor")
        device, dtype = t.device, t.dtype
    if "device" in kwargs:
        d = kwargs.pop("device")
        device = None if d is None else _device(d)
    if "dtype" in kwargs:
        dtype = kwargs.pop("dtype")
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return device, dtype


def _remove_from(module: Module, name: str, d: dict, *attrs: str) -> None:
    for a in attrs:
        container = d.get(a)
        if container is not None and name in container:
            if isinstance(container, set):
                container.discard(name)
            else:
                del container[name]
