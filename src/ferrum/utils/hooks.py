"""``RemovableHandle``: what every ``register_*hook`` returns (torch.utils.hooks.RemovableHandle).

One class for the three places that register hooks:
- nn.Module and Optimizer keep hooks in ordered dicts keyed by the handle's ``id`` (PyTorch's layout,
  so ``prepend=True`` can move a key to the front); ``remove()`` pops the id from the dict and from
  any ``extra`` dicts (a forward hook's with-kwargs and always-call flags live beside it);
- autograd keeps a node's or tensor's hooks in a plain list, called in order (the engine iterates
  it on the hot path, a list being the cheapest); for a list, the second argument is the hook
  itself, and ``remove()`` takes it out of the list.

Removing twice, or after the container was cleared, does nothing, as in PyTorch. nn.Module caches
"are there any hooks" flags so that ``__call__`` skips the hook machinery when there are none; the
handle refreshes them on removal (``module=``, or nn's global-hook flag when no module is given and
nn is loaded). The containers are held strongly, not through weakrefs as in PyTorch: a handle does
not outlive what it unregisters from in any ferrum use.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``.remove()`` unregisters the hook; usable as a
    context manager (``with t.register_hook(f): ...``)."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict: dict | list, *extra: Any, module=None):
        self.hooks_dict_ref = hooks_dict
        self.id = next(RemovableHandle._next_id)
        if isinstance(hooks_dict, list):  # autograd: (hooks list, the hook)
            self._item = extra[0]
            self.extra = ()
        else:
            self.extra = extra
        self._module = module

    def remove(self) -> None:
        hooks = self.hooks_dict_ref
        if isinstance(hooks, list):
            try:
                hooks.remove(self._item)
            except ValueError:  # already removed
                pass
            return
        hooks.pop(self.id, None)
        for d in self.extra:
            d.pop(self.id, None)
        if self._module is not None:
            self._module._update_hook_flag()
        else:
            mod = sys.modules.get("ferrum.nn.modules.module")
            if mod is not None:  # a global module hook may have been removed
                mod._refresh_global_flag()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
