"""Swapping ferrum's public functions for wrappers while a tool records a program, and putting them
back: the ONNX exporter (onnx/_trace.py) and the profiler (profiler/_record.py) both trace a program
by replacing every reference to the public ops (module attributes, Tensor methods, static methods of
ferrum's classes) for the time of the recording, so that nothing costs anything when neither runs.

``NOT_OPS`` are Tensor attributes that are not operators on the tensor's value (Python protocol,
printing, conversions to Python data, autograd bookkeeping); each tool adds its own exceptions.
"""

from __future__ import annotations

import sys
from typing import Callable

NOT_OPS = frozenset((
    "__init__", "__new__", "__repr__", "__str__", "__format__", "__hash__", "__len__", "__iter__",
    "__bool__", "__int__", "__float__", "__index__", "__complex__", "__array__", "__array_ufunc__",
    "__array_function__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__deepcopy__",
    "__copy__", "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__dir__", "__contains__",
    "__dlpack__", "__dlpack_device__", "__class_getitem__", "__init_subclass__", "__sizeof__",
    "__reversed__", "__array_wrap__", "__subclasshook__",
    "size", "dim", "ndimension", "numel", "nelement", "item", "tolist", "numpy", "stride", "storage_offset",
    "is_contiguous", "is_floating_point", "is_complex", "is_signed", "element_size", "data_ptr",
    "register_hook", "register_post_accumulate_grad_hook", "retain_grad", "backward", "requires_grad_",
    "get_device", "untyped_storage", "storage", "is_shared", "dim_order", "type",
))


def swap_in_modules(targets: dict, wrap: Callable, undo: list, skip: Callable[[str], bool],
                    keep: type) -> None:
    """Replaces, in every loaded module's namespace and in the classes ferrum defines (static
    methods too, ``keep`` excepted: the Tensor class, swapped by the caller), each reference to a
    function of ``targets`` (``id(fn) -> (fn, name)``) by ``wrap(fn, name)``; every replaced entry
    goes to ``undo`` as ``(holder, key, old)``. Modules whose name ``skip`` accepts are left alone."""
    for modname, m in list(sys.modules.items()):
        d = getattr(m, "__dict__", None)
        if not isinstance(d, dict) or skip(modname):
            continue
        for key, val in list(d.items()):
            hit = targets.get(id(val))
            if hit is not None and hit[0] is val:
                undo.append((d, key, val))
                d[key] = wrap(val, hit[1])
            elif isinstance(val, type) and modname.startswith("ferrum.") and val is not keep:
                for ck, cv in list(vars(val).items()):
                    inner = cv.__func__ if isinstance(cv, staticmethod) else cv
                    hit = targets.get(id(inner))
                    if hit is not None and hit[0] is inner:
                        undo.append((val, ck, cv))
                        new = wrap(inner, hit[1])
                        setattr(val, ck, staticmethod(new) if isinstance(cv, staticmethod) else new)


def restore(undo: list) -> None:
    """Puts back every ``(holder, key, old)`` of ``undo``, newest first, and empties it."""
    for holder, key, val in reversed(undo):
        if isinstance(holder, dict):
            holder[key] = val
        else:
            setattr(holder, key, val)
    undo.clear()
