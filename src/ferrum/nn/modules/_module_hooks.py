"""The global module hooks: ``register_module_forward_pre_hook`` and its siblings, which apply to
every ``nn.Module`` at once (PyTorch's ``torch.nn.modules.module.register_module_*``).

The registries are module-level dicts that ``Module._call_with_hooks`` reads together with the
module's own hooks. ``_global_hooks_on`` is a one-element list, not a bool, so that
``Module.__call__`` (and ``Sequential``'s fast path) test ``_global_hooks_on[0]`` on an object they
imported once, with no function call: the common case, no hook anywhere, stays one global lookup
and one index. ``_refresh_global_flag`` keeps it in sync on registration and (through
``utils.hooks.RemovableHandle.remove``) on removal. ``_add_hook`` is the shared "insert, maybe at
the front" step of the per-module ``register_*_hook`` methods.

Kept apart from ``module.py`` (which re-exports all of it) so that file stays under the 800-line
budget; nothing here depends on ``Module``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from ...utils.hooks import RemovableHandle

# hooks that apply to every module (torch.nn.modules.module.register_module_*)
_global_forward_pre_hooks: dict = OrderedDict()
_global_forward_hooks: dict = OrderedDict()
_global_backward_hooks: dict = OrderedDict()
_global_backward_pre_hooks: dict = OrderedDict()
_global_forward_hooks_with_kwargs: dict = {}
_global_forward_hooks_always_called: dict = {}
_global_hooks_on = [False]


def _refresh_global_flag() -> None:
    _global_hooks_on[0] = bool(_global_forward_pre_hooks or _global_forward_hooks
                               or _global_backward_hooks or _global_backward_pre_hooks)


def _add_hook(hooks: dict, hook, prepend: bool, handle: RemovableHandle) -> None:
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """A forward pre-hook ``hook(module, args)`` run before every module's forward."""
    h = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[h.id] = hook
    _refresh_global_flag()
    return h


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """A forward hook ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs``) run after every module's forward; ``always_call`` runs it even when the
    forward raised."""
    h = RemovableHandle(_global_forward_hooks, _global_forward_hooks_with_kwargs,
                        _global_forward_hooks_always_called)
    _global_forward_hooks[h.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[h.id] = True
    if always_call:
        _global_forward_hooks_always_called[h.id] = True
    _refresh_global_flag()
    return h


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """A full backward hook ``hook(module, grad_input, grad_output)`` for every module."""
    h = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[h.id] = hook
    _refresh_global_flag()
    return h


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """A full backward pre-hook ``hook(module, grad_output)`` for every module."""
    h = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[h.id] = hook
    _refresh_global_flag()
    return h
