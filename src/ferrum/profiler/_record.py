"""Recording calls while a profiler runs, with no hook at all in ferrum when none runs.

While a ``profile`` records (its schedule's warmup and active steps), ``Recorder.install`` replaces
the public functions of ferrum (the ``__all__`` of ``ferrum.ops.*``, ``nn.functional`` and
``_factory``) and the methods and operators of ``Tensor`` by timing wrappers, wherever something
holds them: module globals (ferrum's own modules and the user's ``from ferrum.nn.functional import
relu``), class attributes (``Conv2d._fn = staticmethod(conv2d)``); the ``backward`` of every
autograd node class; and, when ``ferrum.optim`` is loaded, it registers global optimizer step hooks
and wraps ``zero_grad``. ``with_modules`` adds global module forward hooks ("nn.Module: Linear_0").
``uninstall`` puts every original object back (``profile`` pairs them, also on errors), so outside
a profiler the hot paths are exactly the code that runs without this package: nothing in ``ops/``,
``Module.__call__`` or the autograd engine tests a flag. This is the approach of the ONNX exporter
(``onnx/_trace.py``); benchmarks/profiler_overhead.py measures micro_chain with and without it.

Nesting: every wrapped call is an event; one running inside another is its child (the parent's
total includes it, its self time does not). A call directly inside a call of the same name
(``Tensor.tanh`` calling ``ops.tanh``) is one event, as PyTorch shows one ``aten::tanh``.

Memory (``profile_memory``): an op's self memory is the bytes of its output arrays that are
neither views of its inputs nor outputs of a child op (a ``linear`` whose result came from the
``addmm`` inside it allocated nothing itself); its total adds its children's totals, so the
numbers add up as PyTorch's allocation counts do. Freed memory is not tracked (NumPy does not say).

The events are kept as flat lists in start order (cheap to append while recording) and turned
into ``FunctionEvent`` objects with parent/child links once, when the results are read.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from typing import Any, Callable

import numpy as np

from .._swap import NOT_OPS, restore, swap_in_modules
from .._tensor import Tensor

_ACTIVE: list = [None]   # the Recorder that is recording now, or None (read by record_function)

# Tensor attributes that are not operators on the tensor's value: Python protocol, printing,
# conversions to Python data, autograd bookkeeping (backward is timed through the nodes)
# comparisons run as Python protocol too: the profiler names only the operators
_NOT_OPS = NOT_OPS | {"__eq__", "__ne__"}

# Tensor operator methods under PyTorch's op names (x + y is aten::add, x += y aten::add_)
_DUNDER = {"add": "add", "radd": "add", "sub": "sub", "rsub": "rsub", "mul": "mul", "rmul": "mul",
           "truediv": "div", "rtruediv": "div", "floordiv": "floor_divide", "rfloordiv": "floor_divide",
           "mod": "remainder", "rmod": "remainder", "pow": "pow", "rpow": "pow", "matmul": "matmul",
           "rmatmul": "matmul", "neg": "neg", "pos": "positive", "abs": "abs", "invert": "bitwise_not",
           "and": "bitwise_and", "rand": "bitwise_and", "or": "bitwise_or", "ror": "bitwise_or",
           "xor": "bitwise_xor", "rxor": "bitwise_xor", "lshift": "bitwise_left_shift",
           "rshift": "bitwise_right_shift", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge",
           "getitem": "index", "setitem": "index_put_"}

# functions that PyTorch's profiler shows under another aten name
_RENAMED = {"cross_entropy": "cross_entropy_loss"}

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# raw event fields (one list per call, cheaper to fill than an object)
NAME, CAT, TID, START, END, PARENT, SHAPES, OWN_MEM, TOT_MEM, STACK, CHILD_OUTS, FLOPS = range(12)


def op_name(attr: str) -> str:
    """PyTorch's profiler name of a Tensor method or ferrum function ``attr``."""
    if attr.startswith("__") and attr.endswith("__"):
        core = attr[2:-2]
        if core.startswith("i") and core[1:] in _DUNDER:
            return "aten::" + _DUNDER[core[1:]] + "_"
        return "aten::" + _DUNDER.get(core, core)
    return "aten::" + _RENAMED.get(attr, attr)


def _arrays(obj, acc: list) -> list:
    if isinstance(obj, Tensor):
        acc.append(obj._data)
    elif isinstance(obj, np.ndarray):
        acc.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _arrays(o, acc)
    return acc


def _shape_of(a) -> list:
    if isinstance(a, Tensor):
        return list(a._data.shape)
    if isinstance(a, np.ndarray):
        return list(a.shape)
    if isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
        return [list(x._data.shape) for x in a]
    return []


def _flops(name: str, shapes: list) -> int:
    """Multiply-add FLOPs (2 per MAC) of the matrix products, from input shapes (as with_flops)."""
    try:
        if name in ("aten::mm", "aten::matmul", "aten::bmm") and len(shapes) >= 2:
            a, b = shapes[0], shapes[1]
            if len(a) >= 2 and len(b) >= 2:
                return 2 * int(np.prod(a[:-1])) * a[-1] * b[-1]
        if name == "aten::linear" and len(shapes) >= 2 and len(shapes[1]) == 2:
            x, w = shapes[0], shapes[1]
            return 2 * int(np.prod(x[:-1])) * x[-1] * w[0]
        if name == "aten::addmm" and len(shapes) >= 3:
            return 2 * shapes[1][0] * shapes[1][1] * shapes[2][1]
    except (IndexError, TypeError):
        pass
    return 0


class Recorder:
    """One profiler's recording state: the raw events and the patches that produce them."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, with_flops: bool = False) -> None:
        self.record_shapes = record_shapes or with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.with_flops = with_flops
        self.raw: list = []
        self.recording = False
        self.t0 = time.perf_counter_ns()
        self.base_us = time.time_ns() / 1000.0
        self._tls = threading.local()
        self._undo: list = []
        self._hooks: list = []
        self._module_ids: dict = {}
        self._open: dict = {}   # id(optimizer or module) -> tokens of its ranges in progress
        self.gen = 0            # a token (gen, index) of an earlier, saved recording is stale

    def reset(self) -> None:
        """Drops the recorded events (they were saved) and starts a new recording."""
        self.raw = []
        self.gen += 1
        self._tls = threading.local()
        self._open = {}
        self.t0 = time.perf_counter_ns()
        self.base_us = time.time_ns() / 1000.0

    def token(self, name: str, cat: str) -> tuple:
        """An event that ends through ``end_token`` (a no-op once its recording was saved)."""
        return (self.gen, self.begin(name, cat))

    def end_token(self, tok: tuple, out: Any = None, inputs: Any = None) -> None:
        if tok[0] == self.gen:
            self.end(tok[1], out, inputs)

    # ----------------------------------------------------------------------------- events
    def stack(self) -> list:
        st = getattr(self._tls, "stack", None)
        if st is None:
            st = self._tls.stack = []
        return st

    def begin(self, name: str, cat: str, args: tuple = (), kwargs: dict | None = None) -> list:
        """Opens an event (a raw list, see the field names above) on this thread's stack."""
        st = self.stack()
        shapes = None
        if self.record_shapes and cat == "cpu_op":
            shapes = [_shape_of(a) for a in args]
            if kwargs:
                shapes += [_shape_of(v) for v in kwargs.values()]
        stack = self._py_stack() if self.with_stack else None
        # the parent is the list itself, not an index: list.append is atomic under the GIL, so
        # threads recording at once need no lock
        ev = [name, cat, threading.get_native_id(), time.perf_counter_ns(), 0, st[-1] if st else None,
              shapes, 0, 0, stack, None, 0]
        self.raw.append(ev)
        st.append(ev)
        return ev

    def end(self, ev: list, out: Any = None, inputs: Any = None) -> None:
        """Closes ``ev`` (and what its thread left open inside it, after an exception)."""
        t = time.perf_counter_ns()
        st = self.stack()
        while st and st.pop() is not ev:
            pass
        ev[END] = t
        if self.with_flops and ev[SHAPES]:
            ev[FLOPS] = _flops(ev[NAME], ev[SHAPES])
        if not self.profile_memory:
            return
        produced = ev[CHILD_OUTS] or ()
        outs = _arrays(out, []) if out is not None else []
        own = 0
        ids = set()
        if outs:
            ins = set()
            for a in _arrays(inputs, []) if inputs is not None else ():
                ins.add(id(a))
                if a.base is not None:
                    ins.add(id(a.base))
            for a in outs:
                ids.add(id(a))
                if id(a) in produced or id(a) in ins or (a.base is not None and id(a.base) in ins):
                    continue
                own += a.nbytes
        ev[OWN_MEM] = own
        ev[TOT_MEM] += own
        pe = ev[PARENT]
        if pe is not None:
            pe[TOT_MEM] += ev[TOT_MEM]
            if pe[CHILD_OUTS] is None:
                pe[CHILD_OUTS] = set()
            pe[CHILD_OUTS].update(ids)
            if produced:
                pe[CHILD_OUTS].update(produced)

    def _py_stack(self) -> list:
        f = sys._getframe(3)
        out = []
        while f is not None and len(out) < 16:
            fn = f.f_code.co_filename
            if not fn.startswith(_PKG_DIR):
                out.append(f"{fn}({f.f_lineno}): {f.f_code.co_name}")
            f = f.f_back
        return out

    # --------------------------------------------------------------------------- wrappers
    def _op_wrapper(self, fn: Callable, name: str) -> Callable:
        rec = self

        def profiled(*args, **kwargs):
            if not rec.recording:
                return fn(*args, **kwargs)
            st = rec.stack()
            if st and st[-1][NAME] == name:   # Tensor.tanh -> ops.tanh: one event
                return fn(*args, **kwargs)
            ev = rec.begin(name, "cpu_op", args, kwargs)
            out = None
            try:
                out = fn(*args, **kwargs)
            finally:
                rec.end(ev, out, args if rec.profile_memory else None)
            return out

        profiled.__name__ = getattr(fn, "__name__", name)
        profiled.__qualname__ = getattr(fn, "__qualname__", name)
        profiled.__doc__ = getattr(fn, "__doc__", None)
        profiled.__wrapped__ = fn
        return profiled

    def _node_wrapper(self, fn: Callable) -> Callable:
        rec = self

        def backward(node, g):
            if not rec.recording:
                return fn(node, g)
            ev = rec.begin("autograd::engine::evaluate_function: " + node.name(), "cpu_op")
            out = None
            try:
                out = fn(node, g)
            finally:
                rec.end(ev, out, g if rec.profile_memory else None)
            return out

        backward.__wrapped__ = fn
        return backward

    def _named_wrapper(self, fn: Callable, label: Callable) -> Callable:
        rec = self

        def wrapped(obj, *args, **kwargs):
            if not rec.recording:
                return fn(obj, *args, **kwargs)
            ev = rec.begin(label(obj), "user_annotation")
            try:
                return fn(obj, *args, **kwargs)
            finally:
                rec.end(ev)

        wrapped.__wrapped__ = fn
        return wrapped

    # ------------------------------------------------------------------- optimizer / modules
    def _opt_pre(self, opt, args, kwargs):
        if self.recording:
            tok = self.token(f"Optimizer.step#{type(opt).__name__}.step", "user_annotation")
            self._open.setdefault(id(opt), []).append(tok)

    def _opt_post(self, opt, args, kwargs):
        toks = self._open.get(id(opt))
        if toks:
            self.end_token(toks.pop())

    def _mod_pre(self, module, args):
        if self.recording and self.with_modules:
            key = id(module)
            name = self._module_ids.get(key)
            if name is None:
                cls = f"nn.Module: {type(module).__name__}"
                n = sum(1 for v in self._module_ids.values() if v.rsplit("_", 1)[0] == cls)
                name = self._module_ids[key] = f"{cls}_{n}"
            self._open.setdefault(key, []).append(self.token(name, "python_function"))

    def _mod_post(self, module, args, out):
        toks = self._open.get(id(module))
        if toks:
            mem = self.profile_memory
            self.end_token(toks.pop(), out if mem else None, args if mem else None)

    # ---------------------------------------------------------------------- patch / restore
    def _targets(self) -> dict:
        """id(function) -> (function, profiler name) for every public op and Tensor method."""
        from .. import ops  # noqa: F401  (the op modules are loaded)
        from ..nn import functional  # noqa: F401
        targets: dict = {}
        # the public op modules (ops._blas, ops._common: private helpers, not ops of the user's)
        mods = [m for n, m in list(sys.modules.items())
                if m is not None and ((n.startswith("ferrum.ops.") and not n.startswith("ferrum.ops._"))
                                      or n in ("ferrum.nn.functional", "ferrum._factory"))]
        for m in mods:
            for name in getattr(m, "__all__", ()):
                fn = vars(m).get(name)
                if name.startswith("_") or id(fn) in targets:
                    continue
                if callable(fn) and not isinstance(fn, type):
                    # an alias (concat = cat) is recorded under the function's own name
                    own = getattr(fn, "__name__", None)
                    if not isinstance(own, str) or own.startswith(("_", "<")):
                        own = name
                    targets[id(fn)] = (fn, op_name(own))
        for name, fn in vars(Tensor).items():
            if name in _NOT_OPS or not callable(fn) or isinstance(fn, (type, staticmethod, classmethod)):
                continue
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                continue
            targets.setdefault(id(fn), (fn, op_name(name)))
        return targets

    def install(self) -> None:
        """Puts the timing wrappers in place (see the module docstring); ``uninstall`` undoes it."""
        with warnings.catch_warnings():   # reading module globals may touch deprecated aliases
            warnings.simplefilter("ignore")
            try:
                self._install()
            except BaseException:
                self.uninstall()
                raise

    def _install(self) -> None:
        targets = self._targets()
        wrappers: dict = {}

        def wrap(fn, name):
            w = wrappers.get((id(fn), name))
            if w is None:
                w = wrappers[(id(fn), name)] = self._op_wrapper(fn, name)
            return w

        for attr, fn in list(vars(Tensor).items()):
            hit = targets.get(id(fn))
            if hit is not None and hit[0] is fn:
                self._undo.append((Tensor, attr, fn))
                # a Tensor method keeps its own name: x.__radd__ is aten::add whatever implements it
                setattr(Tensor, attr, wrap(fn, op_name(attr)))
        pkg = __package__ or "ferrum.profiler"
        swap_in_modules(targets, wrap, self._undo, lambda modname: modname.startswith(pkg), Tensor)
        self._install_nodes()
        self._install_leaf()
        self._install_optim()
        # registered also without with_modules: a global hook turns off Sequential's fused
        # Linear/ReLU path, so that every linear and relu runs (and is timed) as the program wrote it
        from ..nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
        self._hooks += [register_module_forward_pre_hook(self._mod_pre),
                        register_module_forward_hook(self._mod_post, always_call=True)]

    def _install_nodes(self) -> None:
        from ..autograd.function import Node
        seen = set()
        todo = [Node]
        while todo:
            cls = todo.pop()
            if cls in seen:
                continue
            seen.add(cls)
            todo.extend(cls.__subclasses__())
            fn = cls.__dict__.get("backward")
            if callable(fn) and not isinstance(fn, (staticmethod, classmethod)):
                self._undo.append((cls, "backward", fn))
                cls.backward = self._node_wrapper(fn)

    def _install_leaf(self) -> None:
        """Gradient accumulation into leaves, under PyTorch's node name; ``engine._run`` looks
        ``_leaf`` up in its module globals on every call, so swapping the global reaches it."""
        from ..autograd import engine
        fn = engine._leaf
        rec = self

        def _leaf(t, g, *rest):
            if not rec.recording or g is None:
                return fn(t, g, *rest)
            ev = rec.begin("autograd::engine::evaluate_function: torch::autograd::AccumulateGrad", "cpu_op")
            try:
                return fn(t, g, *rest)
            finally:
                rec.end(ev)

        self._undo.append((vars(engine), "_leaf", fn))
        engine._leaf = _leaf

    def _install_optim(self) -> None:
        if "ferrum.optim.optimizer" not in sys.modules:
            return   # no optimizer can exist yet; a program importing it later runs unprofiled steps
        from ..optim.optimizer import (Optimizer, register_optimizer_step_post_hook,
                                       register_optimizer_step_pre_hook)
        self._hooks += [register_optimizer_step_pre_hook(self._opt_pre),
                        register_optimizer_step_post_hook(self._opt_post)]
        todo, seen = [Optimizer], set()
        while todo:
            cls = todo.pop()
            if cls in seen:
                continue
            seen.add(cls)
            todo.extend(cls.__subclasses__())
            fn = cls.__dict__.get("zero_grad")
            if callable(fn):
                self._undo.append((cls, "zero_grad", fn))
                cls.zero_grad = self._named_wrapper(
                    fn, lambda o: f"Optimizer.zero_grad#{type(o).__name__}.zero_grad")

    def uninstall(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []
        restore(self._undo)

    # ------------------------------------------------------------------------------ results
    def function_events(self) -> list:
        """The finished events as ``FunctionEvent`` objects (parents and children linked)."""
        from ._events import FunctionEvent
        out = []
        made: dict = {}
        t0 = self.t0
        for i, r in enumerate(self.raw):
            end = r[END] or time.perf_counter_ns()   # still open: the profiler stopped inside it
            ev = FunctionEvent(i + 1, r[NAME], r[TID], (r[START] - t0) / 1000.0, (end - t0) / 1000.0,
                               input_shapes=r[SHAPES], stack=r[STACK], cat=r[CAT],
                               cpu_memory_usage=r[TOT_MEM], self_own_memory=r[OWN_MEM])
            ev.flops = r[FLOPS]
            parent = made.get(id(r[PARENT])) if r[PARENT] is not None else None
            if parent is not None:
                ev.cpu_parent = parent
                parent.cpu_children.append(ev)
            made[id(r)] = ev
            out.append(ev)
        return out
