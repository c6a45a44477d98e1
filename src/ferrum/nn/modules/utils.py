"""``ferrum.nn.modules.utils``: torch.nn.modules.utils' state-dict helper for wrapped models, and
its argument-normalising helpers (``_single``/``_pair``/``_triple``/``_quadruple``, ``_ntuple``,
``_reverse_repeat_tuple``, ``_list_with_default``) that third-party layers import from this path.

A model trained inside ``DistributedDataParallel`` (or ``DataParallel``) is the wrapper's
``module`` child, so the wrapper's state dict names every entry ``module.<name>``.
:func:`consume_prefix_in_state_dict_if_present` strips that prefix so the dict loads into the bare
model, as PyTorch's function of the same name does.
"""

from __future__ import annotations

import collections.abc
from typing import Any, Callable

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function that turns an iterable into a tuple of its items and anything else into ``n``
    copies of it (``_pair(3) == (3, 3)``, ``_pair((1, 2)) == (1, 2)``; an iterable's length is kept)."""
    def parse(x: Any) -> tuple:
        return tuple(x) if isinstance(x, collections.abc.Iterable) else (x,) * n
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: tuple | list, n: int) -> tuple:
    """Each item of ``t``, last first, repeated ``n`` times: ``((1, 2), 2) -> (2, 2, 1, 1)`` (the
    per-dimension padding of conv layers, in F.pad's last-dimension-first order)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size: Any, defaults: list[int]) -> Any:
    """An adaptive pooling output size with its ``None`` entries taken from the trailing entries of
    ``defaults`` (the input's size); an int is returned as is. ValueError when ``defaults`` has no
    more entries than ``out_size`` (the input needs a batch/channel dimension in front)."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    tail = defaults[len(defaults) - len(out_size):]
    return [d if v is None else v for v, d in zip(out_size, tail)]


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
