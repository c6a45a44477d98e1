"""``ferrum.nn.modules.utils``: torch.nn.modules.utils' state-dict helper for wrapped models.

A model trained inside ``DistributedDataParallel`` (or ``DataParallel``) is the wrapper's
``module`` child, so the wrapper's state dict names every entry ``module.<name>``.
:func:`consume_prefix_in_state_dict_if_present` strips that prefix so the dict loads into the bare
model, as PyTorch's function of the same name does.
"""

from __future__ import annotations

from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strips ``prefix`` from the keys of ``state_dict`` that start with it, in place (other keys
    are kept), and from the keys of its ``_metadata`` (the per-module versions), where the entry
    named ``prefix`` without its dots (the wrapped module itself) becomes the root entry ``""``
    while the wrapper's own root entry ``""`` is left alone."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta = getattr(state_dict, "_metadata", None)
    if meta is None:
        return
    bare = prefix.replace(".", "")
    for key in list(meta.keys()):
        if not key:
            continue
        if key == bare or key.startswith(prefix):
            meta[key[len(prefix):]] = meta.pop(key)
