"""``functional_call``: run a module with some of its parameters and buffers replaced.

The replacement tensors go straight into the owning submodules' ``_parameters``/``_buffers``
dicts (where every ferrum module, the fused Sequential path included, reads them), so any Tensor
may stand in for a Parameter, including non-leaf tensors whose gradient flows back to whatever
produced them (``grad(lambda p: loss(functional_call(model, p, x)))(params)``). The originals are
put back in a ``finally``, so a forward that raises leaves the module as it was.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["functional_call"]


def _owner(module, name: str):
    """(submodule, attribute name) for a dotted ``name``; None when the path does not exist."""
    *path, attr = name.split(".")
    m = module
    for p in path:
        sub = m.__dict__.get("_modules", {}).get(p)
        if sub is None:
            return None
        m = sub
    return m, attr


def _tied_groups(module) -> list:
    """Lists of names (parameters and buffers) that refer to one tensor, for tied weights."""
    by_id: dict = {}
    for name, t in module.named_parameters(remove_duplicate=False):
        by_id.setdefault(id(t), []).append(name)
    for name, t in module.named_buffers(remove_duplicate=False):
        by_id.setdefault(id(t), []).append(name)
    return [names for names in by_id.values() if len(names) > 1]


def _merge(dicts) -> dict:
    if isinstance(dicts, dict):
        return dict(dicts)
    if not isinstance(dicts, (list, tuple)) or not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, "
                         f"but got {type(dicts)}")
    merged: dict = {}
    repeated = []
    for d in dicts:
        for k, v in d.items():
            if k in merged:
                repeated.append(k)
            merged[k] = v
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                         "ambiguous")
    return merged


def functional_call(module, parameter_and_buffer_dicts, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Calls ``module(*args, **kwargs)`` with the parameters and buffers named in
    ``parameter_and_buffer_dicts`` (a dict, or a list/tuple of dicts with distinct keys, from
    ``named_parameters``-style names to Tensors) in place of the module's own, for this call only.

    ``args`` that is not a tuple is the single positional argument. ``tie_weights``: a name that
    shares its tensor with others (tied weights) replaces all of them; passing different tensors
    for two tied names is a ValueError. ``strict``: every parameter and buffer must be given and no
    other name (RuntimeError listing the missing and unexpected keys). A name the module does not
    have is set as a plain attribute for the call. The module is restored even when the call
    raises; buffers updated in place by the forward (BatchNorm's running statistics in training
    mode) are the given tensors.
    """
    values = _merge(parameter_and_buffer_dicts)
    for v in values.values():
        if not isinstance(v, Tensor):
            raise TypeError(f"{v} is not an instance of ferrum.Tensor")
    if tie_weights:
        for names in _tied_groups(module):
            given = [n for n in names if n in values]
            if not given:
                continue
            first = values[given[0]]
            if any(values[n] is not first for n in given[1:]):
                raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which are "
                                 "tied. Consider using tie_weights=False")
            for n in names:
                values[n] = first
    if strict:
        known = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        known.update(n for n, _ in module.named_buffers(remove_duplicate=False))
        missing = sorted(known - set(values))
        unexpected = sorted(set(values) - known)
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:\n"
            if unexpected:
                msg += "\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".\n"
            if missing:
                msg += "\tMissing key(s): " + ", ".join(repr(k) for k in missing) + ".\n"
            raise RuntimeError(msg.rstrip("\n"))
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    if kwargs is None:
        kwargs = {}
    undo = []  # (dict, key, old value or a marker that the key was absent)
    absent = object()
    try:
        for name, v in values.items():
            found = _owner(module, name)
            if found is None:
                raise AttributeError(f"'{type(module).__name__}' object has no submodule for {name!r}")
            m, attr = found
            d = m.__dict__
            for table in (d.get("_parameters"), d.get("_buffers")):
                if table is not None and attr in table:
                    undo.append((table, attr, table[attr]))
                    table[attr] = v
                    break
            else:
                undo.append((d, attr, d.get(attr, absent)))
                d[attr] = v
        return module(*args, **kwargs)
    finally:
        for table, key, old in reversed(undo):
            if old is absent:
                table.pop(key, None)
            else:
                table[key] = old
