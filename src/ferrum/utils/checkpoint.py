"""``ferrum.utils.checkpoint``: activation checkpointing, torch.utils.checkpoint's API.

``checkpoint(fn, *args, use_reentrant=...)`` runs ``fn`` without keeping its intermediate
activations for backward; the backward pass runs ``fn`` again (with the RNG state and the autocast
state of the forward, so dropout masks and casts repeat) and backpropagates through that
recomputation. ``checkpoint_sequential`` checkpoints a Sequential in segments. Both variants of
PyTorch exist, with its warnings, errors and restrictions:

* ``use_reentrant=True`` (PyTorch's default when the argument is not passed, with a warning): a
  custom ``autograd.Function`` whose forward runs under ``no_grad`` and whose backward recomputes
  on detached inputs and calls ``autograd.backward`` on the recomputed outputs, re-entering the
  engine. Parameters used inside ``fn`` get their gradient accumulated by that inner backward;
  ``autograd.grad`` and ``backward(inputs=...)`` raise PyTorch's error, and no input requiring
  grad gives PyTorch's warning and an output that does not require grad.
* ``use_reentrant=False``: PyTorch implements it with saved-tensor hooks that drop what each op
  saves. ferrum's ops keep their saved values in their own node slots (the hot nodes keep raw
  arrays), so instead the whole region becomes one node, :class:`CheckpointBackward`, holding only
  the region's inputs. The forward runs ``fn`` with grad enabled (its graph is needed to find what
  the region depends on), walks the new graph from the outputs, then cuts it: the outputs get the
  checkpoint node as ``grad_fn`` and the region's graph, with every activation it saved, is freed at
  once. The checkpoint node's edges are everything the walk reached that outlives the cut: the
  inputs' nodes, the leaves (parameters used inside ``fn``) and any older node a tensor captured by
  ``fn``'s closure leads to. Which reached nodes belong to the region is read from weak references
  after the cut (a node the region made has no other owner), since ferrum's nodes carry no creation
  stamp. A region node that something else keeps alive (an intermediate a module stores on itself, a
  weight cast autocast caches) is taken for an outer node: it becomes an edge too, together with
  everything the walk reached below it, and receives no gradient, while the recomputed copy of it
  delivers the gradients to the leaves below, so the results stay exact. Its backward reruns ``fn``
  on the real inputs under ``enable_grad``, redirects the new graph's edges that point at the
  checkpoint node's edges to fresh placeholder leaves (so the engine stops there and never runs,
  frees or hooks a node or parameter outside the region twice), and runs the engine over the
  recomputed graph capturing the placeholders' gradients, which it returns, one per edge. So
  ``autograd.grad`` with respect to parameters used inside ``fn``, keyword arguments, nested
  checkpoints and ``create_graph`` (double backward: the recomputed formulas use the real inputs, so
  higher derivatives reach them) all work, as in PyTorch.

Memory (benchmarks/checkpoint_memory.py, float32, the arrays the graph holds after the forward,
and the peak of the backward): 16 x Linear(512)+ReLU on a batch of 1024 holds 32.0 MB plainly and
14.0 MB with ``checkpoint_sequential(..., 4)`` (backward peak 40.5 -> 23.5 MB); 6 pre-LN transformer
blocks (d 128, 4 heads, 8 x 128 tokens) hold 83.5 MB plainly and 2.5 MB with every block
checkpointed (peak 86.9 -> 20.8 MB); 20-35 % more time per step. One cost of the single-node design:
a region's node returns the gradients of all the parameters it uses at once, where PyTorch's engine
accumulates them one by one, so the backward's peak carries one region's parameter gradients.

Differences from PyTorch: the non-reentrant variant always recomputes the whole function
(``early_stop`` is accepted and has no effect); the outputs' ``grad_fn`` is ``CheckpointBackward``
instead of the region's last op; the determinism check compares the shapes, dtypes and devices of
the recomputed outputs (PyTorch compares those of the recomputed saved tensors); ``debug=True`` adds
the names of the region's graph nodes, forward and recomputation, to that error; selective
checkpointing (``create_selective_checkpoint_contexts``) is not available. As in PyTorch, ``fn``
must do the same thing when it is recomputed: one that reads a different tensor the second time
(a global that changed) can give wrong gradients. An output that is one of the region's inputs,
returned as it is, stays as it is; one that is a tensor from outside the region other than an
input (a tensor of ``fn``'s closure returned unchanged) is not supported by the non-reentrant
variant: return it from outside the checkpoint.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
import weakref
from typing import Any, Callable, ContextManager, Iterable

from .. import _state
from .._tensor import Tensor, _wrap
from ..autograd import engine as _engine
from ..autograd.function import _FREED_MSG, FREED, Function, Node, _output_node, version_error
from ..random import get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction",
           "CheckpointBackward", "check_backward_validity", "detach_variable", "noop_context_fn",
           "set_checkpoint_debug_enabled", "set_checkpoint_early_stop"]

_DETERMINISM_CHECKS = ("default", "none")
_debug_enabled: bool | None = None
_early_stop: bool | None = None


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not reproduce the forward (PyTorch's class)."""


def noop_context_fn() -> tuple[ContextManager, ContextManager]:
    """The default ``context_fn``: no context for the forward nor for the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """Overrides every checkpoint's ``debug`` flag inside the block (None: each call's own)."""
    global _debug_enabled
    prev = _debug_enabled
    _debug_enabled = enabled
    try:
        yield
    finally:
        _debug_enabled = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """PyTorch's switch for stopping the recomputation early; ferrum always recomputes the whole
    function (see the module), so this only records the setting."""
    global _early_stop
    prev = _early_stop
    _early_stop = enable
    try:
        yield
    finally:
        _early_stop = prev


def detach_variable(inputs: tuple) -> tuple:
    """The tuple with each Tensor detached, keeping its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    out = []
    for a in inputs:
        if isinstance(a, Tensor):
            d = a.detach()
            d.requires_grad = a.requires_grad
            a = d
        out.append(a)
    return tuple(out)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warns, as PyTorch, when no Tensor among ``inputs`` requires grad."""
    if not any(isinstance(a, Tensor) and a.requires_grad for a in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


# --------------------------------------------------------------------------- shared state capture
def _autocast_state() -> list:
    """(device_type, autocast kwargs) for the CPU and every device with autocast: the state the
    recomputation re-enters, enabled or not (a disabled region recomputes disabled even when the
    backward runs inside an enabled one)."""
    from .. import amp
    from ..amp import autocast_mode
    states = []
    cache = getattr(autocast_mode, "is_autocast_cache_enabled", None)
    for dev in ("cpu", "cuda"):
        if dev != "cpu" and not amp.is_autocast_available(dev):
            continue
        kw = {"enabled": amp.is_autocast_enabled(dev), "dtype": amp.get_autocast_dtype(dev)}
        if cache is not None:
            kw["cache_enabled"] = cache()
        states.append((dev, kw))
    return states


@contextlib.contextmanager
def _recompute_env(rng_state, autocast_states, extra_ctx):
    """The forward's RNG state (the surrounding state is restored after), grad mode on, the
    forward's autocast state and the user's recomputation context."""
    from .. import amp
    with contextlib.ExitStack() as stack:
        if rng_state is not None:
            stack.callback(set_rng_state, get_rng_state())
            set_rng_state(rng_state)
        prev = _state.grad_enabled
        _state.grad_enabled = True
        stack.callback(setattr, _state, "grad_enabled", prev)
        for dev, kw in autocast_states:
            stack.enter_context(amp.autocast(dev, **kw))
        stack.enter_context(extra_ctx)
        yield


def _tensors(obj, out: list) -> list:
    """The Tensors in ``obj``, looking into tuples, lists and dict values (PyTorch's non-reentrant
    checkpoint treats tensors in nested structures as part of autograd)."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            _tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out)
    return out


# --------------------------------------------------------------------------- reentrant variant
_REENTRANT_GRAD_MSG = ("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                       "passing an `inputs` parameter to .backward(). To resolve this error, you can "
                       "either set use_reentrant=False, or call .backward() without passing the "
                       "`inputs` argument.")


def _plain_backward() -> bool:
    """Whether the innermost running backward is a plain ``backward()`` (no ``inputs=``, not
    ``autograd.grad``): the engine's main loop has ``capture`` None. Read from the caller frames,
    which keeps the engine free of a flag only this variant needs."""
    code = _engine._run.__code__
    f = sys._getframe(1)
    while f is not None:
        if f.f_code is code:
            return f.f_locals.get("capture") is None
        f = f.f_back
    return True


class CheckpointFunction(Function):
    """The reentrant variant (``use_reentrant=True``); node name ``CheckpointFunctionBackward``."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.fwd_rng = get_rng_state() if preserve_rng_state else None
        ctx.fwd_autocast = _autocast_state()
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)  # Function.apply runs forward with grad disabled

    @staticmethod
    def backward(ctx, *grads):
        if not _plain_backward():
            raise RuntimeError(_REENTRANT_GRAD_MSG)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        detached = detach_variable(tuple(inputs))
        with _recompute_env(ctx.fwd_rng, ctx.fwd_autocast, contextlib.nullcontext()):
            outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, gs = [], []
        for o, g in zip(outputs, grads):
            if isinstance(o, Tensor) and o.requires_grad:
                outs.append(o)
                gs.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        from ..autograd import backward
        backward(outs, gs)
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in detached)


# --------------------------------------------------------------------------- non-reentrant variant
def _meta(t: Tensor) -> dict:
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


class CheckpointBackward(Node, name="CheckpointBackward"):
    """The node of a non-reentrant checkpointed region: holds the region's inputs and recomputes
    it in backward (see the module docstring). One edge per node or leaf the region depends on."""

    _saved = ("_inputs",)

    def backward(self, g):
        inputs = self._inputs
        if inputs is FREED:
            raise RuntimeError(_FREED_MSG)
        fn, args, kwargs, versions = inputs
        for t, v in versions:
            if t._version[0] != v:
                raise version_error(t, v, self)
        graph = _state.grad_enabled  # the engine turns grad mode on only under create_graph
        gs = g if g.__class__ is tuple else (g,)
        with _recompute_env(self.fwd_rng, self.fwd_autocast, self.recompute_ctx):
            ret = fn(*args, **kwargs)
            flat = _tensors(ret, [])
            self._check(flat)
            roots = [flat[i] for i in self.cut]
            placeholders, undo = self._redirect(roots)
        rs, rg = [], []
        for t, gi in zip(roots, gs):
            if gi is not None and t.requires_grad:
                rs.append(t)
                rg.append(gi)
        capture = dict.fromkeys(placeholders)
        try:
            if rs:
                _engine.run_backward(rs, rg, graph, graph, capture, accumulate=False)
        finally:
            # under create_graph the gradients' own graph runs through the recomputed nodes: their
            # edges must lead to the real inputs and parameters again for higher derivatives
            for n, nxt in undo:
                n.next = nxt
        return tuple(capture[p] for p in placeholders)

    def _check(self, flat: list) -> None:
        if self.determinism == "none":
            return
        bad = []
        if len(flat) != self.n_flat:
            msg = (f"A different number of tensors was returned by the forward ({self.n_flat}) and "
                   f"by the recomputation ({len(flat)}).")
        else:
            for k, i in enumerate(self.cut):
                m = _meta(flat[i])
                if m != self.out_meta[k]:
                    bad.append(f"tensor at position {i}:\nsaved metadata: {self.out_meta[k]}\n"
                               f"recomputed metadata: {m}\n")
            if not bad:
                return
            msg = ("Recomputed values for the following tensors have different metadata than during "
                   "the forward pass.\n" + "".join(bad))
        if self.debug_names is not None:
            rec = _walk_names([flat[i] for i in self.cut if i < len(flat)], {id(e) for e in self.bedges})
            msg += ("\nOperations recorded during the original forward:\n" + "\n".join(self.debug_names)
                    + "\n\nOperations recorded during recomputation:\n" + "\n".join(rec))
        raise CheckpointError("ferrum.utils.checkpoint: " + msg)

    def _redirect(self, roots: list) -> list:
        """Points every edge of the recomputed graph that leads to one of this node's edges at a
        fresh placeholder leaf (one per edge, in the order of ``self.next``); returns them and the
        (node, original edges) pairs that undo it."""
        bedges = self.bedges
        index = {id(e): i for i, e in enumerate(bedges)}
        placeholders = []
        for _ in bedges:
            p = _wrap(_EMPTY)
            p.requires_grad = True
            placeholders.append(p)

        def swap(e):
            i = index.get(id(e))
            return e if i is None or bedges[i] is not e else placeholders[i]

        seen = set()
        undo = []
        stack = [t.grad_fn for t in roots if t.grad_fn is not None]
        stack = [n for n in stack if id(n) not in index]
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            nxt = n.next
            new = tuple(None if e is None else swap(e) for e in nxt)
            if any(a is not b for a, b in zip(new, nxt)):
                undo.append((n, nxt))
                n.next = new
            for e in new:
                if e is not None and e._is_node and id(e) not in seen:
                    stack.append(e)
        return placeholders, undo


_EMPTY = None  # set on first use: a 0-element float64 array, the placeholders' data


def _walk_names(outs: list, stop: set) -> list:
    """Names of the graph nodes reachable from ``outs`` up to the nodes whose ids are in ``stop``."""
    names, seen, stack = [], set(), [t.grad_fn for t in outs if t.grad_fn is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen or id(n) in stop:
            continue
        seen.add(id(n))
        names.append(n.name())
        stack.extend(e for e in n.next if e is not None and e._is_node)
    return names


def _cut(flat: list, ins: list, node: CheckpointBackward) -> bool:
    """Walks the graph the region recorded from its outputs ``flat`` (not past the nodes of its
    input tensors ``ins``), then detaches the outputs from it so that it is freed, and makes
    ``node`` their grad_fn with one edge per reached node or leaf that outlives the cut. An input
    returned as it is stays untouched (detaching it could free its own graph, which is not the
    region's). False when no output came out of the region's graph (nothing to checkpoint)."""
    passed = {id(t) for t in ins}
    stop = {id(t.grad_fn) for t in ins if t.grad_fn is not None}
    seen: dict = {}  # id -> weak reference: a strong one would keep the region's graph alive
    leaves: dict = {}
    stack = []
    for t in flat:
        n = t.grad_fn
        if n is not None and id(t) not in passed and id(n) not in stop and id(n) not in seen:
            seen[id(n)] = weakref.ref(n)
            stack.append(n)
    names = [] if node.debug_names is not None else None
    while stack:
        n = stack.pop()
        if names is not None:
            names.append(n.name())
        for e in n.next:
            if e is None:
                continue
            if e._is_node:
                k = id(e)
                if k not in seen:
                    seen[k] = weakref.ref(e)
                    if k not in stop:
                        stack.append(e)
            else:
                leaves[id(e)] = e
    n = e = None
    # detach every output at once, then see which of their grad_fns died with the region's graph
    old = []
    for t in flat:
        if id(t) in passed:
            old.append(None)
            continue
        v = t._view
        old.append((None if t.grad_fn is None else weakref.ref(t.grad_fn),
                    None if v is None else (weakref.ref(v[0]),) + tuple(v[1:])))
        t.grad_fn = None
        t._view = None
    cut = []
    for i, (t, o) in enumerate(zip(flat, old)):
        if o is None:
            continue
        gf, v = o
        f = None if gf is None else gf()
        if gf is not None and f is None:
            cut.append(i)  # made by the region: its graph is gone, the checkpoint node stands in
            continue
        t.grad_fn = f  # an input or older tensor returned as it is, or no graph at all
        if v is not None and v[0]() is not None:
            t._view = (v[0](),) + v[1:]
    if not cut:
        return False
    bedges = [r() for r in seen.values()]
    bedges = [b for b in bedges if b is not None] + list(leaves.values())
    node.next = tuple(bedges)
    node.bedges = tuple(bedges)
    node.cut = cut
    node.n_flat = len(flat)
    node.out_meta = [_meta(flat[i]) for i in cut]
    if names is not None:
        node.debug_names = names
    if len(cut) == 1:
        t = flat[cut[0]]
        t.grad_fn = node
        t.requires_grad = True
    else:
        node.n_outputs = len(cut)
        for k, i in enumerate(cut):
            t = flat[i]
            t.grad_fn = _output_node(node, k)
            t.requires_grad = True
    return True


def _checkpoint_nonreentrant(function, preserve_rng_state, context_fn, determinism_check, debug, args,
                             kwargs):
    global _EMPTY
    if _debug_enabled if _debug_enabled is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug = True
    else:
        debug = False
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
                         f"{determinism_check}")
    fwd_ctx, rec_ctx = context_fn()
    if not _state.grad_enabled:
        return function(*args, **kwargs)
    fwd_rng = get_rng_state() if preserve_rng_state else None
    fwd_autocast = _autocast_state()
    finished = False
    with fwd_ctx:
        ret = function(*args, **kwargs)
        finished = True
    if not finished:
        raise RuntimeError("torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
                           "exception raised during the checkpointed forward. This is not supported because "
                           "checkpoint cannot return a value for a failed forward.")
    flat = _tensors(ret, [])
    if not any(t.grad_fn is not None for t in flat):
        return ret
    ins = _tensors(args, _tensors(kwargs, []))
    node = CheckpointBackward.__new__(CheckpointBackward)
    node.debug_names = [] if debug else None
    if not _cut(flat, ins, node):
        return ret
    if _EMPTY is None:
        import numpy as np
        _EMPTY = np.empty((0,))
    node._inputs = (function, args, kwargs, [(t, t._version[0]) for t in ins])
    node.fwd_rng = fwd_rng
    node.fwd_autocast = fwd_autocast
    node.recompute_ctx = rec_ctx
    node.determinism = determinism_check
    return ret


# --------------------------------------------------------------------------- public entry points
def checkpoint(function: Callable, *args, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple[ContextManager, ContextManager]] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               preserve_rng_state: bool = True, **kwargs):
    """Runs ``function(*args, **kwargs)`` without keeping its activations for backward; the
    backward pass recomputes them (torch.utils.checkpoint.checkpoint).

    Args:
        function: what to run (a Module or any callable).
        args: its positional arguments; with ``use_reentrant=True`` only these can carry gradients
            into the region besides the parameters used inside it.
        use_reentrant: which variant (see the module docstring). Not passing it warns, as PyTorch,
            and selects the reentrant one; ``False`` is recommended.
        context_fn: (non-reentrant) returns two context managers, for the forward and for the
            recomputation.
        determinism_check: ``"default"`` compares the shapes, dtypes and devices of the recomputed
            outputs with the forward's and raises :class:`CheckpointError` on a difference;
            ``"none"`` skips it.
        debug: (non-reentrant) adds the region's graph node names to a determinism error.
        early_stop: accepted for PyTorch's signature; ferrum always recomputes the whole function.
        preserve_rng_state: save the RNG state at the forward and restore it for the recomputation
            (dropout masks repeat); the surrounding RNG state is unchanged by the backward.
        kwargs: keyword arguments of ``function`` (non-reentrant only, as PyTorch).

    Returns:
        What ``function`` returns.
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
                      "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
                      "exception. use_reentrant=False is recommended, but if you need to preserve the "
                      "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
                      "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_nonreentrant(function, preserve_rng_state, context_fn, determinism_check, debug,
                                    args, kwargs)


def _segment(functions: list, start: int, end: int) -> Callable:
    def forward(x):
        for j in range(start, end):
            x = functions[j](x)
        return x
    return forward


def checkpoint_sequential(functions, segments: int, input: Tensor, use_reentrant: bool | None = None,
                          **kwargs):
    """Runs ``functions`` (a Sequential or a list of modules/callables, each taking one input)
    in ``segments`` chunks, checkpointing every chunk but the last (whose activations backward
    needs first). ``preserve_rng_state`` is the only keyword argument accepted, as in PyTorch.

    The chunks have ``len(functions) // segments`` functions each, the last takes the rest.
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
                      "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is not "
                      "passed. use_reentrant=False is recommended, but if you need to preserve the current "
                      "default behavior, you can pass use_reentrant=True. Refer to docs for more details on "
                      "the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if segments == 0:
        raise ZeroDivisionError("checkpoint_sequential: segments must be at least 1, got 0")
    size = len(functions) // segments
    if size == 0:
        # PyTorch's loop step is this size, and range() refuses a zero step with a ValueError
        raise ValueError(f"checkpoint_sequential: {segments} segments for {len(functions)} functions "
                         "leave an empty segment")
    start = 0
    for _ in range(segments - 1):
        input = checkpoint(_segment(functions, start, start + size), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
        start += size
    return _segment(functions, start, len(functions))(input)
