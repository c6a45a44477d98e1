"""Tracing one forward pass: which calls are recorded, and how, with no cost outside an export.

The model runs eagerly on the real inputs. While an export is active, the public functions of
ferrum (every name in the ``__all__`` of ``ferrum.ops.*``, ``nn.functional`` and ``_factory``) and
the methods, operators and operator-like properties (``T``, ``mT``, ``data``) of ``Tensor`` are
replaced by wrappers, wherever something holds them: module globals (``nn/modules/activation.py``
calls ``A.relu_`` through the patched module, user code that did ``from ferrum.nn.functional import
relu`` holds a patched name), class attributes (``Conv2d._fn = staticmethod(conv2d)``) and the
attributes of the exported model's modules (``TransformerEncoderLayer.activation``). Everything is
put back when the export ends, even when it fails, so the hot paths of ferrum carry no hook at all:
the cost outside an export is exactly zero (nothing in ``Module.__call__`` or in ``ops/`` checks a
flag; benchmarks/onnx_export.py times the mlp step and a 100-op chain before and after exports).

A wrapper records only the outermost call (``depth`` counts calls in progress: ``F.gelu`` calling
``erf`` inside is one ``gelu``): a function with a symbolic (``_graph.SYMBOLICS``, filled by the
``_ops_*`` modules) emits ONNX nodes for its inputs and output; a function without one raises
``UnsupportedOperatorError`` naming it when it is called on a traced tensor (called on constants
only, it just runs: its result is a constant). Layers whose forward is not composed of public
functions (RNN, LSTM, GRU: one fused node; MultiheadAttention, whose forward converts masks with
private code; the cells, whose missing state must follow the batch) are recorded at the module
level, through ferrum's global forward hooks (the public ``register_module_forward_pre_hook`` /
``register_module_forward_hook``). Registering them also turns off ``Sequential``'s fused
Linear/ReLU path, so a Sequential runs module by module and every Linear and ReLU is seen.

Two nets catch what the wrappers cannot see. ``_tensor._wrap`` (the one Tensor constructor) is
wrapped too: a tensor made at depth 0, by private code outside every traced call, is remembered
with the name of the function that made it, and reading it as a graph value raises an error naming
that function instead of freezing it as a constant. A tensor that reaches a traced call with a
``grad_fn`` but unknown to the graph was computed by an operator the tracer did not see; the error
names its autograd node. Turning a traced tensor into Python data (``item``, ``tolist``, ``bool``)
warns (``OnnxExporterWarning``): the value is a constant of the graph.

While tracing, ``Tensor.shape`` and ``Tensor.size`` are swapped too: in the model's own code (depth
0, the exporting thread) they return symbolic sizes for traced tensors (``_symint.py``). The
wrappers hand ferrum's ops plain ints (their fast paths test ``int`` exactly) and the symbolics the
symbolic ones; a symbolic reads shapes at depth 1, so it sees plain ints and adds no nodes.

Only the thread that called ``export`` is traced; other threads run untouched (their calls see
``depth`` of a tracer that is not theirs and pass through).
"""
from __future__ import annotations

import inspect
import sys
import threading
import warnings
from typing import Any, Callable

from .._swap import NOT_OPS, restore, swap_in_modules
from .._tensor import Tensor
from ._symint import has_sym, plain, symbolic_shape
from .errors import OnnxExporterWarning, UnsupportedOperatorError

_ACTIVE: list = [None]   # the running Tracer, or None

# Tensor attributes that are not operators on the tensor's value (or that the tracer must not see:
# Python protocol, printing, hooks, autograd bookkeeping)
# the tracer also passes these through: their results are not values of the graph
_NOT_OPS = NOT_OPS | {"is_set_to", "share_memory_", "equal", "allclose", "isclose_all", "cpu", "cuda",
                      "pin_memory", "is_pinned"}


# Tensor properties that are operators
_PROPERTIES = ("T", "mT", "H", "mH", "data")

# Tensor methods that turn a value into Python data: the tracer warns (the result is frozen)
_TO_PYTHON = frozenset(("item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__"))


def _flat_tensors(obj, acc: list) -> list:
    if isinstance(obj, Tensor):
        acc.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _flat_tensors(o, acc)
    elif isinstance(obj, dict):
        for o in obj.values():
            _flat_tensors(o, acc)
    return acc


class Tracer:
    """One export's trace: ``graph`` receives the nodes; ``install()``/``uninstall()`` patch and
    restore (always paired by ``export``)."""

    def __init__(self, graph, symbolics: dict, module_symbolics: dict) -> None:
        self.graph = graph
        self.symbolics = symbolics
        self.module_symbolics = module_symbolics
        self.depth = 0
        self.tid = threading.get_ident()
        self._undo: list = []
        self._hooks: list = []
        self._modstack: list = []
        self._shapes: dict = {}   # id(tensor) -> (tensor, its symbolic Size)

    def traced_here(self) -> bool:
        """Whether the current call is the model's own code in the exporting thread."""
        return self.depth == 0 and threading.get_ident() == self.tid

    def _traced_value(self, t) -> bool:
        i = id(t)
        return i in self.graph.values and i not in self.graph.params

    def _shape_getter(self, orig: Callable) -> Callable:
        tracer = self

        def shape(t):
            if tracer.traced_here() and tracer._traced_value(t):
                return tracer._sym_shape(t)
            return orig(t)
        return shape

    def _size_method(self, orig: Callable) -> Callable:
        tracer = self

        def size(t, dim=None):
            if tracer.traced_here() and tracer._traced_value(t):
                s = tracer._sym_shape(t)
                if dim is None:
                    return s
                orig(t, dim)   # PyTorch's errors for a bad dim
                return s[dim % len(s)]
            return orig(t, dim)
        return size

    def _sym_shape(self, t):
        hit = self._shapes.get(id(t))
        if hit is None or hit[0] is not t:
            hit = self._shapes[id(t)] = (t, symbolic_shape(self.graph, t))
        return hit[1]

    # -------------------------------------------------------------------------------- recording
    def record(self, name: str, sym: Callable, args: tuple, kwargs: dict, out: Any) -> None:
        g = self.graph
        ins = _flat_tensors((args, kwargs), [])
        outs = _flat_tensors(out, [])
        if not any(g.known(t) for t in ins) and not any(t.grad_fn is not None for t in outs) \
                and not has_sym([*args, *kwargs.values()]):
            return  # computed from constants only: its result is a constant of the trace
        if kwargs.get("out") is not None:
            raise UnsupportedOperatorError(name, "the out= argument")
        try:
            inspect.signature(sym).bind(g, out, *args, **kwargs)
        except TypeError as e:
            raise UnsupportedOperatorError(name, f"these arguments ({e})") from None
        self.depth += 1   # the symbolic reads plain shapes (no SymInts, no nodes for them)
        try:
            names = sym(g, out, *args, **kwargs)
        finally:
            self.depth -= 1
        if isinstance(names, str):
            names = [names]
        if len(names) != len(outs):
            raise AssertionError(f"onnx symbolic of {name} returned {len(names)} values for "
                                 f"{len(outs)} outputs")
        for t, n in zip(outs, names):
            g.bind(t, n)

    def guard(self, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        g = self.graph
        if any(g.known(t) for t in _flat_tensors((args, kwargs), [])):
            if name == "__setitem__" or _flat_tensors(out, []):
                raise UnsupportedOperatorError(name)

    def _wrapper(self, fn: Callable, name: str) -> Callable:
        sym = self.symbolics.get(name)
        tracer = self
        if name in _TO_PYTHON:
            def to_python(*args, **kwargs):
                if not tracer.depth and threading.get_ident() == tracer.tid and tracer.graph.known(args[0]):
                    warnings.warn(f"Converting a traced tensor to a Python value ({name}) during an ONNX "
                                  "export: the value is a constant of the exported graph, it will not follow "
                                  "the inputs", OnnxExporterWarning, stacklevel=2)
                tracer.depth += 1   # one warning: item() inside bool() is not the model's own call
                try:
                    return fn(*args, **kwargs)
                finally:
                    tracer.depth -= 1
            return to_python

        def traced(*args, **kwargs):
            if tracer.depth or threading.get_ident() != tracer.tid:
                return fn(*args, **kwargs)
            tracer.depth += 1
            try:   # ferrum's ops see plain ints (their fast paths test int exactly); the symbolic, SymInts
                if has_sym(args) or has_sym(list(kwargs.values())):
                    out = fn(*plain(args), **{k: plain(v) for k, v in kwargs.items()})
                else:
                    out = fn(*args, **kwargs)
            finally:
                tracer.depth -= 1
            if sym is None:
                tracer.guard(name, args, kwargs, out)
            else:
                tracer.record(name, sym, args, kwargs, out)
            return out

        traced.__name__ = getattr(fn, "__name__", name)
        traced.__qualname__ = getattr(fn, "__qualname__", name)
        traced.__doc__ = getattr(fn, "__doc__", None)
        traced.__wrapped__ = fn
        return traced

    # ------------------------------------------------------------------------- module level
    def _module_sym(self, module):
        for cls in type(module).__mro__:
            sym = self.module_symbolics.get(cls)
            if sym is not None:
                # a subclass with its own forward computes something else: trace inside it instead
                return sym if type(module).forward is cls.forward else None
        return None

    def _pre_hook(self, module, args):
        if threading.get_ident() != self.tid:
            return None
        if self.depth == 0 and self._module_sym(module) is not None:
            self.depth += 1
            self._modstack.append(module)
        return None

    def _post_hook(self, module, args, kwargs, out):
        if threading.get_ident() != self.tid:
            return None
        if self._modstack and self._modstack[-1] is module:
            self._modstack.pop()
            self.depth -= 1
            sym = self._module_sym(module)
            self.record(type(module).__name__, lambda g, o, *a, **k: sym(g, o, module, *a, **k),
                        args, kwargs, out)
        return None

    # ------------------------------------------------------------------------ patch / restore
    def _targets(self) -> dict:
        """id(function) -> (function, name) for every operator the tracer intercepts."""
        from .. import ops  # noqa: F401  (the op modules are loaded)
        from ..nn import functional as F
        targets: dict = {}
        mods = [m for n, m in list(sys.modules.items())
                if m is not None and (n.startswith("ferrum.ops.") or n in ("ferrum.nn.functional",
                                                                            "ferrum._factory"))]
        for m in mods:
            for name in getattr(m, "__all__", ()):
                fn = vars(m).get(name)
                if callable(fn) and not isinstance(fn, type):
                    # an alias (concat = cat) keeps the function's own name for the messages
                    old = targets.get(id(fn))
                    if old is None or old[1] != getattr(fn, "__name__", None):
                        targets[id(fn)] = (fn, name)
        for name in self.symbolics:  # private helpers with a symbolic (relu_ in ops.activation, ...)
            for m in (*mods, F):
                fn = vars(m).get(name)
                if callable(fn) and not isinstance(fn, type) and id(fn) not in targets:
                    targets[id(fn)] = (fn, name)
        for name, fn in vars(Tensor).items():
            if name in _TO_PYTHON and callable(fn):
                targets[id(fn)] = (fn, name)
                continue
            if name in _NOT_OPS or not callable(fn) or isinstance(fn, (type, staticmethod, classmethod)):
                continue
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                continue
            targets[id(fn)] = (fn, name)
        return targets

    def _wrap_net(self, orig: Callable) -> Callable:
        """``_tensor._wrap`` while tracing: a tensor made at depth 0 was made outside every traced
        operator (by private code the tracer cannot see); it is remembered with the name of the
        function that made it, so that using it as a traced value raises an error naming that
        function instead of freezing it as a constant."""
        tracer = self

        def _wrap(data, version=None):
            t = orig(data, version)
            if tracer.depth == 0 and threading.get_ident() == tracer.tid:
                tracer.graph.untraced[id(t)] = (t, sys._getframe(1).f_code.co_name)
            return t
        return _wrap

    def install(self, model=None) -> None:
        from .. import _tensor
        from ..nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
        targets = self._targets()
        wrappers: dict = {(id(_tensor._wrap), "_wrap"): self._wrap_net(_tensor._wrap)}
        targets[id(_tensor._wrap)] = (_tensor._wrap, "_wrap")

        def wrap(fn, name):  # one wrapper per (function, name): Tensor.__radd__ is not add
            w = wrappers.get((id(fn), name))
            if w is None:
                w = wrappers[(id(fn), name)] = self._wrapper(fn, name)
            return w

        for name, fn in list(vars(Tensor).items()):
            if id(fn) in targets:
                self._undo.append((Tensor, name, fn))
                setattr(Tensor, name, wrap(fn, name))
        swap_in_modules(targets, wrap, self._undo, lambda modname: modname == __name__, Tensor)
        shape_prop, size_fn = vars(Tensor)["shape"], vars(Tensor)["size"]
        self._undo += [(Tensor, "shape", shape_prop), (Tensor, "size", size_fn)]
        Tensor.shape = property(self._shape_getter(shape_prop.fget), None, None, shape_prop.__doc__)
        Tensor.size = self._size_method(size_fn)
        for name in _PROPERTIES:   # x.T, x.mT, x.data: the getter is the traced function
            prop = vars(Tensor).get(name)
            if isinstance(prop, property) and prop.fget is not None:
                self._undo.append((Tensor, name, prop))
                getter = self._wrapper(prop.fget, name)
                setattr(Tensor, name, property(getter, prop.fset, prop.fdel, prop.__doc__))
        if model is not None:  # functions kept as module attributes (TransformerEncoderLayer.activation)
            for mod in model.modules():
                d = vars(mod)
                for key, val in list(d.items()):
                    hit = targets.get(id(val))
                    if hit is not None and hit[0] is val:
                        self._undo.append((d, key, val))
                        d[key] = wrap(val, hit[1])
        self._hooks = [register_module_forward_pre_hook(self._pre_hook),
                       register_module_forward_hook(self._post_hook, with_kwargs=True)]
        _ACTIVE[0] = self

    def uninstall(self) -> None:
        _ACTIVE[0] = None
        for h in self._hooks:
            h.remove()
        self._hooks = []
        restore(self._undo)
