"""Graph nodes and the op-definition helpers every differentiable primitive uses.

A node is a recorded backward step with exactly one output. ``node.next`` holds one edge per
differentiable input: the input's ``grad_fn`` node, the input itself when it is a leaf that
requires grad, or None. The engine calls ``node.backward(g)`` and gets one gradient per edge.

``g`` is a raw array when the backward runs without ``create_graph`` and a Tensor when it runs
with it. Hot primitives write their formulas with operators that work on both; everything else
subclasses :class:`Node` and writes ``backward_t`` with ferrum's Tensor ops, which the base class
runs on Tensors in both modes, so every formula is itself differentiable.
"""

from __future__ import annotations

import numpy as np

from .. import _state
from .._dtype import from_np as _from_np
from .._dtype import type_name
from .._tensor import Tensor, _wrap
from ..utils.hooks import RemovableHandle as _RemovableHandle

_new = object.__new__

__all__ = ["Function", "FunctionCtx", "Node", "record", "attach", "sum_to", "edge", "once_differentiable"]

_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors "
              "after they have already been freed). Saved intermediate values of the graph are freed "
              "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
              "backward through the graph a second time or if you need to access saved tensors after "
              "calling backward.")


class _Freed:
    """Stands in for a released saved value; any use raises PyTorch's error."""

    __slots__ = ()

    def __getattr__(self, name):
        raise RuntimeError(_FREED_MSG)

    def __iter__(self):
        raise RuntimeError(_FREED_MSG)


FREED = _Freed()


def edge(t: Tensor):
    """The graph edge for tensor ``t``: its grad_fn, itself for a grad-requiring leaf, or None."""
    if t._view is not None and t.requires_grad:
        _refresh_view(t)
    f = t.grad_fn
    if f is not None:
        return f
    return t if t.requires_grad else None


def _view_chain(v: Tensor):
    """(root base, fn) where ``fn(base)`` re-applies the chain of view ops that made ``v``."""
    fns = []
    cur = v
    while cur._view is not None:
        fns.append(cur._view[1])
        cur = cur._view[0]
    fns.reverse()

    def view_fn(x):
        for f in fns:
            x = f(x)
        return x
    return cur, view_fn


def _refresh_view(t: Tensor) -> None:
    """A view whose base was modified in place (through another view or directly) since the
    view's grad_fn was made gets a grad_fn through the base's current graph, as in PyTorch."""
    v = t._view
    seen = v[2] if len(v) > 2 else 0
    ver = t._version[0]
    if ver == seen:
        return
    base, view_fn = _view_chain(t)
    if base.grad_fn is not None:
        prev = _state.grad_enabled
        _state.grad_enabled = True
        try:
            t.grad_fn = view_fn(base).grad_fn
        finally:
            _state.grad_enabled = prev
    t._view = (v[0], v[1], ver)


def version_error(t, expected: int, node) -> RuntimeError:
    d = t._data
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{_dtype_name(d)} {list(d.shape)}] is at version {t._version[0]}; expected "
        f"version {expected} instead (saved by {node.name()}). Hint: the in-place op ran "
        "after the tensor was saved for backward; use an out-of-place op or .clone() first.")


def _dtype_name(a) -> str:
    """PyTorch's legacy type name of array ``a`` (``ferrum.FloatTensor``) for error messages."""
    return type_name(a.dtype)


class Node:
    """A recorded backward step (``tensor.grad_fn``)."""

    __slots__ = ("next", "__dict__", "__weakref__")
    _saved = ()  # names of attributes holding saved values, released after backward
    _has_hooks = False  # set on the instance when a hook or retain_grad is registered
    _is_node = True  # graph edges are nodes or leaf tensors (whose class says False)

    def __init_subclass__(cls, name: str | None = None, **kwargs):
        """``class MulBackward(Node, name="MulBackward0")``: ``name`` is what ``grad_fn.name()``
        and the repr show (PyTorch's node names); it defaults to the class name."""
        super().__init_subclass__(**kwargs)
        cls._node_name = name
        # generic nodes keep their saved values in `saved`; hot nodes list their own slots
        if "_saved" not in cls.__dict__ and "backward_t" in cls.__dict__:
            cls._saved = ("saved",)

    def name(self) -> str:
        return self._node_name or type(self).__name__

    @classmethod
    def named(cls, name: str) -> type:
        """A subclass that only renames this node (``SortBackward0 = PickBackward.named(...)``):
        one backward formula shared by several of PyTorch's node names."""
        return type("_" + name, (cls,), {"__module__": cls.__module__}, name=name)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else
                     ((AccumulateGrad(e), 0) if isinstance(e, Tensor) else (e, 0)) for e in self.next)

    # hot nodes keep saved values in their own slots; these two checks are all they need
    def checked_output(self, y, version):
        """The saved output array ``y`` of this node, after checking that it was not released by an
        earlier backward and not modified in place (``version``: the output's version counter)."""
        if y is FREED:
            raise RuntimeError(_FREED_MSG)
        if version[0] != 0:
            raise version_error(_wrap(y, version=version), 0, self)
        return y

    def unreleased(self, value):
        """A saved value (array) of this node, after checking that an earlier backward did not
        release it."""
        if value is FREED:
            raise RuntimeError(_FREED_MSG)
        return value

    def checked_input(self, t, version: int):
        """The saved input tensor ``t``, after the same checks (``version``: its version when saved)."""
        if t is FREED:
            raise RuntimeError(_FREED_MSG)
        if t._version[0] != version:
            raise version_error(t, version, self)
        return t

    def release(self) -> None:
        for s in self._saved:
            setattr(self, s, FREED)

    def register_hook(self, hook):
        """Registers ``hook(grad_inputs, grad_outputs)``; it may return new grad_inputs."""
        hooks = self.__dict__.setdefault("_post_hooks", [])
        hooks.append(hook)
        self._has_hooks = True
        return _RemovableHandle(hooks, hook)

    def register_prehook(self, hook):
        """Registers ``hook(grad_outputs)``; it may return new grad_outputs."""
        hooks = self.__dict__.setdefault("_pre_hooks", [])
        hooks.append(hook)
        self._has_hooks = True
        return _RemovableHandle(hooks, hook)

    # generic nodes: saved values in self.saved, formula in backward_t
    def backward(self, g):
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(_FREED_MSG)
        vals = []
        graph = type(g) is Tensor
        for t, v, out in saved:
            if out:  # a saved output: rebuilt around its array, no reference cycle
                data, ver = t
                if ver[0] != v:
                    raise version_error(_wrap(data, version=ver), v, self)
                if graph:
                    o = _wrap(data, version=ver)
                    o.requires_grad = True
                    o.grad_fn = self
                    vals.append(o)
                else:
                    vals.append(_wrap(data, version=ver))
            elif t is None:
                vals.append(None)
            else:
                if t._version[0] != v:
                    raise version_error(t, v, self)
                vals.append(t if graph else t.detach())
        if graph:
            return self.backward_t(g, *vals)
        res = self.backward_t(_wrap(g), *vals)
        return tuple(None if r is None else r._data for r in res)




class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the node that accumulates into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def record(data, node_cls, inputs, save=(), save_output=False, **attrs) -> Tensor:
    """Wraps forward result ``data`` in a Tensor and, when grad mode is on and an input requires
    grad, records ``node_cls`` with one edge per tensor in ``inputs`` (None allowed).

    ``save``: tensors the backward needs (inputs or None), passed to ``backward_t`` after ``g``,
    followed by the output when ``save_output``. ``attrs`` become attributes of the node.
    """
    out = _wrap(data)
    if not _state.grad_enabled:
        return out
    for t in inputs:
        if t is not None and (t.requires_grad):
            break
    else:
        return out
    if data.dtype.kind not in "fcV":  # integer and bool results never require grad
        return out
    node = node_cls.__new__(node_cls)
    node.next = tuple(None if t is None else edge(t) for t in inputs)
    saved = [(None, 0, False) if t is None else (t, t._version[0], False) for t in save]
    if save_output:
        saved.append(((data, out._version), 0, True))
    node.saved = saved
    if not saved:  # nothing to free: a second backward through it works, as in PyTorch
        node._saved = ()
    if attrs:
        node.__dict__.update(attrs)
    out.requires_grad = True
    out.grad_fn = node
    return out


def attach(out: Tensor, node_cls, inputs, **attrs):
    """Records ``node_cls`` as ``out.grad_fn`` with one edge per tensor in ``inputs`` and sets
    ``attrs`` on the node; returns the node. The second op contract, for hand-written hot nodes
    (``backward(self, g)`` on raw arrays): the caller has already checked that grad mode is on and
    that an input requires grad, which is why this is cheaper than :func:`record`. Hot callers set
    the node's slots on the returned node instead of passing keywords (a keyword dict costs about
    0.3 us, a quarter of a small reshape)."""
    node = _new(node_cls)
    n = len(inputs)
    if n == 1:
        t = inputs[0]
        f = t.grad_fn  # edge() inlined for its common case: a non-view result of an op
        node.next = (f if f is not None and t._view is None else edge(t),)
    elif n == 2:
        a, b = inputs
        if a is None:
            ea = None
        else:
            f = a.grad_fn
            ea = f if f is not None and a._view is None else edge(a)
        if b is None or not (b.requires_grad or b._view is not None):
            eb = None  # a constant operand: what edge() gives, without the call
        else:
            f = b.grad_fn
            eb = f if f is not None and b._view is None else edge(b)
        node.next = (ea, eb)
    else:
        node.next = tuple([None if t is None else edge(t) for t in inputs])
    if attrs:
        for k, v in attrs.items():
            setattr(node, k, v)
    out.requires_grad = True
    out.grad_fn = node
    return node


def sum_to(g, shape: tuple):
    """Sums gradient ``g`` (array or Tensor) down to ``shape``, undoing broadcasting."""
    gs = g.shape
    if tuple(gs) == tuple(shape):
        return g
    lead = len(gs) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gs[i + lead] != 1)
    if type(g) is Tensor:
        if axes:
            g = g.sum(dim=axes, keepdim=True)
        return g.reshape(shape)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


# --------------------------------------------------------------------------- custom Functions
class FunctionCtx:
    """The ``ctx`` of a custom :class:`Function`: save_for_backward, saved_tensors,
    needs_input_grad, mark_non_differentiable, mark_dirty, set_materialize_grads."""

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save tensors or None, got "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    @property
    def saved_tensors(self) -> tuple:
        saved = self.__dict__.get("_saved_vals")
        if saved is FREED:
            raise RuntimeError(_FREED_MSG)
        if saved is None:
            return tuple(self.__dict__.get("_to_save", ()))
        res = []
        for t, v in saved:
            if t is None:
                res.append(None)
                continue
            if t.__class__ is tuple:  # an output, kept without a reference cycle through its grad_fn
                data, ver, i, diff = t
                if ver[0] != v:
                    raise version_error(_wrap(data, ver), v, self)
                t = _wrap(data, ver)
                if diff:
                    t.requires_grad = True
                    t.grad_fn = self if self.n_outputs == 1 else _output_node(self, i)
                res.append(t)
                continue
            if t._version[0] != v:
                raise version_error(t, v, self)
            res.append(t)
        return tuple(res)


class _FunctionNode(Node, FunctionCtx):
    """The node of a custom Function; also its ``ctx``."""

    _saved = ("_saved_vals",)

    def backward(self, g):
        graph = _state.grad_enabled  # the engine records the backward only under create_graph
        outs = g if self.n_outputs > 1 else (g,)
        grads = []
        for i, gi in enumerate(outs):
            if gi is None and self.materialize_grads and self.out_meta[i] is not None:
                shape, dt, cls = self.out_meta[i]
                if cls is np.ndarray:
                    gi = np.zeros(shape, dt)
                else:
                    from .._device import cupy_module
                    gi = cupy_module().zeros(shape, dt)
            if gi is not None and type(gi) is not Tensor:
                gi = _wrap(gi)
            grads.append(gi)
        if self.once_diff and graph:
            from .grad_mode import no_grad
            with no_grad():
                res = self.fn_cls.backward(self, *grads)
        else:
            res = self.fn_cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n_in = self.n_inputs
        if len(res) < n_in:
            raise RuntimeError(f"function {self.fn_cls.__name__}Backward returned an incorrect number "
                               f"of gradients (expected {n_in}, got {len(res)})")
        res = res[:n_in] if all(r is None for r in res[n_in:]) else res
        if len(res) != n_in:
            raise RuntimeError(f"function {self.fn_cls.__name__}Backward returned an incorrect number "
                               f"of gradients (expected {n_in}, got {len(res)})")
        out = []
        for r, pos in zip(res, range(n_in)):
            if pos not in self.tensor_pos:
                if r is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different than None "
                                       f"at position {pos + 1}, but the corresponding forward input was "
                                       "not a Tensor")
                continue
            if r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"{self.fn_cls.__name__}.backward must return Tensors or None, "
                                f"got {type(r).__name__}")
            shape, dt = self.in_meta[pos]
            if r._data.shape != shape:
                try:
                    ok = np.broadcast_shapes(shape, r._data.shape) == r._data.shape
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(f"function {self.name()} returned an invalid gradient at index "
                                       f"{pos} - got {list(r._data.shape)} but expected shape "
                                       f"compatible with {list(shape)}")
                r = sum_to(r, shape) if graph else _wrap(sum_to(r._data, shape))
            if r._data.dtype != dt:
                r = r.to(_from_np(dt)) if graph else _wrap(r._data.astype(dt))
            out.append(r if graph else r._data)
        return tuple(out)

    def name(self) -> str:
        return self.fn_cls.__name__ + "Backward"


class _OutputNode(Node):
    """Output ``index`` of a multi-output custom Function (the engine routes it to ``parent``)."""

    __slots__ = ("parent", "index")

    def backward(self, g):
        return (g,)

    # outputs of one Function share its node in PyTorch: show and hook the parent
    def name(self) -> str:
        return self.parent.name()

    @property
    def next_functions(self) -> tuple:
        return self.parent.next_functions

    def register_hook(self, hook):
        return self.parent.register_hook(hook)

    def register_prehook(self, hook):
        return self.parent.register_prehook(hook)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._is_custom = True


class Function(metaclass=_FunctionMeta):
    """User-defined differentiable op: subclass with static ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)`` and call ``MyFn.apply(*args)``.

    ``forward`` may also be written without ``ctx`` together with a ``setup_context(ctx, inputs,
    output)`` static method, as in PyTorch.
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method.")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise TypeError("a custom Function must define a static forward method")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError("this custom Function does not define backward")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = _FunctionNode.__new__(_FunctionNode)
        ctx.fn_cls = cls
        ctx.materialize_grads = True
        ctx.once_diff = getattr(cls.backward, "_once_differentiable", False)
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.tensor_pos = set(tensor_pos)
        ctx.n_inputs = len(args)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        needs_graph = _state.grad_enabled and any(ctx.needs_input_grad)
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            if "setup_context" in cls.__dict__ or any("setup_context" in b.__dict__ for b in cls.__mro__[1:-1]
                                                      if b is not Function):
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.grad_enabled = prev
        is_tuple = isinstance(output, tuple)
        outs = output if is_tuple else (output,)
        non_diff = set(ctx.__dict__.get("_non_diff", ()))
        dirty = ctx.__dict__.get("_dirty", ())
        res = []
        for o in outs:
            if isinstance(o, Tensor):
                if any(o is a for a in args) and id(o) not in dirty:
                    v = _wrap(o._data, o._version)  # an input returned as is becomes a fresh view
                    v._view = (o, _same)
                    if id(o) in non_diff:  # the mark follows the input to its view
                        non_diff.add(id(v))
                    o = v
            res.append(o)
        ctx.n_outputs = len(res)
        ctx.out_meta = [(o._data.shape, o._data.dtype, o._data.__class__) if isinstance(o, Tensor) else None
                        for o in res]
        if needs_graph:
            ctx.next = tuple(edge(args[i]) for i in tensor_pos)
            ctx.in_meta = {i: (args[i]._data.shape, args[i]._data.dtype) for i in tensor_pos}
            for i, o in enumerate(res):
                if not isinstance(o, Tensor) or id(o) in non_diff:
                    continue
                if o._data.dtype.kind not in "fcV":  # V: bfloat16
                    continue
                if id(o) in dirty:
                    if o.grad_fn is None and o.requires_grad:
                        raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                           f"in-place operation ({cls.__name__}, marked dirty).")
                    o._version[0] += 1
                o.grad_fn = ctx if ctx.n_outputs == 1 else _output_node(ctx, i)
                o.requires_grad = True
            ctx._saved_vals = [_save_entry(t, res) for t in ctx.__dict__.pop("_to_save", ())]
        return tuple(res) if is_tuple else res[0]


def _output_node(ctx, i: int) -> _OutputNode:
    on = _OutputNode.__new__(_OutputNode)
    on.next = (ctx,)
    on.parent = ctx
    on.index = i
    return on


def _save_entry(t, outputs) -> tuple:
    """(tensor, version) for saved_tensors; an output is kept as its array, so that the node and
    the output do not hold each other (PyTorch's SavedVariable does the same)."""
    if t is None:
        return (None, 0)
    for i, o in enumerate(outputs):
        if o is t:
            return ((t._data, t._version, i, t.grad_fn is not None), t._version[0])
    return (t, t._version[0])


def _same(t):
    return t


def once_differentiable(fn):
    """Marks a custom backward as not differentiable twice (it runs under no_grad)."""
    fn._once_differentiable = True
    return fn
