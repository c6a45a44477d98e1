"""The backward engine: walks the graph in reverse topological order, without recursion.

Dependencies are counted once over the reachable graph; a node runs when every gradient flowing
into it has arrived, so each node runs once with the summed gradient of its output.
"""

from __future__ import annotations

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from .function import FREED, _OutputNode

__all__ = ["run_backward"]


def _hook_tensor(g, graph):
    return g if graph else _wrap(g)


def _run_hooks(hooks, g, graph):
    for h in tuple(hooks):
        r = h(_hook_tensor(g, graph))
        if r is not None:
            if not isinstance(r, Tensor):
                raise TypeError(f"a tensor hook must return a Tensor or None, got {type(r).__name__}")
            g = r if graph else r._data
    return g


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, capture=None,
                 accumulate: bool = True):
    """Backpropagates ``grads`` (arrays, or Tensors under ``create_graph``) from ``roots``.

    capture: optional dict {edge: None}; the gradient reaching each of those edges (a leaf tensor or
    a node, standing for its output) is stored there. With ``accumulate`` False nothing is written
    to ``.grad`` (autograd.grad); otherwise leaves accumulate, or only captured ones when given.
    """
    graph = create_graph
    deps: dict = {}
    buffers: dict = {}
    stack = []
    for t, g in zip(roots, grads):
        e = t.grad_fn
        if e is None:
            if not t.requires_grad:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                                   "grad_fn")
            e = t
        old = buffers.get(e)
        buffers[e] = g if old is None else old + g
        if e not in deps:
            deps[e] = 0
            if e.__class__ is not Tensor and not isinstance(e, Tensor):
                stack.append(e)
    # count, for every reachable node and leaf, how many edges lead into it
    while stack:
        n = stack.pop()
        for e in n.next:
            if e is None:
                continue
            c = deps.get(e)
            if c is None:
                deps[e] = 1
                if e._is_node:
                    stack.append(e)
            else:
                deps[e] = c + 1
    # autograd.grad / backward(inputs=...): run only the nodes that lead to a captured edge
    needed = None if capture is None else _needed(buffers, capture)
    ready = [(e, buffers.pop(e)) for e in list(buffers) if deps[e] == 0]
    anomaly = _state.anomaly and _state.anomaly_check_nan
    stolen = set()
    prev = _state.grad_enabled
    _state.grad_enabled = graph
    errstate = np.errstate(all="ignore")  # backward formulas warn no more than PyTorch's (0/0 ...)
    errstate.__enter__()
    suspended = None
    if _state.autocast:  # backward runs in each tensor's own dtype, outside the autocast region
        from ..ops._autocast import suspended
        suspended = suspended()
        suspended.__enter__()
    try:
        _run(ready, deps, buffers, graph, accumulate, stolen, retain_graph, capture, needed, anomaly)
    finally:
        _state.grad_enabled = prev
        errstate.__exit__(None, None, None)
        if suspended is not None:
            suspended.__exit__(None, None, None)


def _run(ready, deps, buffers, graph, accumulate, stolen, retain_graph, capture, needed, anomaly) -> None:
    """The main loop: pops a node whose gradients have all arrived, runs its hooks and backward,
    and hands each input gradient to its edge (summed in ``buffers`` until the edge's last one).

    ``capture``/``needed`` (autograd.grad, backward(inputs=...)) and ``anomaly`` cost the plain
    ``backward()`` three tests of a local per node. This loop replaced a copy specialised for
    plain ``backward()``; measured side by side in one process (backward of a 100-op mul/add chain
    on 16x16, CPU time, 100 interleaved rounds, 3 runs on the shared 2-core machine): median
    new/old 1.003, 0.976, 0.963, best-round 1.024, 1.013, 0.982, i.e. within the noise, under the
    2% that would justify keeping two loops.
    """
    pop = buffers.pop
    get = buffers.get
    free = FREED
    while ready:
        n, g = ready.pop()
        if not n._is_node:
            if g is not None:
                _leaf(n, g, graph, capture, accumulate, stolen)
            continue
        ran = True
        if needed is not None and n not in needed:
            g = None
            ran = False
        if g is not None and n._has_hooks:
            g = _node_hooks(n, n.__dict__, g, graph, capture)
        if g is not None and capture is not None and n in capture:
            capture[n] = g
            if not any(e in needed for e in n.next if e is not None):
                g = None  # a captured output with nothing wanted below it: not run, not freed (as torch)
                ran = False
        if g is None:
            grads_in = (None,) * len(n.next)
        else:
            grads_in = n.backward(g)
            if n._has_hooks and "_post_hooks" in n.__dict__:
                grads_in = _post_hooks(n.__dict__["_post_hooks"], grads_in, g, graph)
            if anomaly:
                _check_nan(n, grads_in)
        if n.__class__ is _OutputNode:
            _route_output(n, g, buffers, deps, ready)
            continue
        for e, gi in zip(n.next, grads_in, strict=True):
            if e is None:
                continue
            c = deps[e] - 1
            deps[e] = c
            if c == 0:
                # the last gradient for e: no buffer when it is also the only one
                old = pop(e, None)
                if old is not None:
                    gi = old if gi is None else old + gi
                ready.append((e, gi))
            elif gi is not None:
                old = get(e)
                buffers[e] = gi if old is None else old + gi
        if not retain_graph and ran:
            for s in n._saved:
                setattr(n, s, free)


def _check_nan(n, grads_in) -> None:
    for i, gi in enumerate(grads_in):
        if gi is None:
            continue
        d = gi._data if isinstance(gi, Tensor) else gi
        if d.dtype.kind in "fc" and bool(np.isnan(d).any()):
            raise RuntimeError(f"Function '{n.name()}' returned nan values in its {i}th output.")


def _route_output(n, g, buffers, deps, ready):
    """Output ``n.index`` of a multi-output node: its gradient joins the parent's tuple."""
    p = n.parent
    lst = buffers.get(p)
    if lst is None:
        lst = buffers[p] = [None] * p.n_outputs
    if g is not None:
        i = n.index
        lst[i] = g if lst[i] is None else lst[i] + g
    c = deps[p] - 1
    deps[p] = c
    if c == 0:
        del buffers[p]
        ready.append((p, tuple(lst)))


def _needed(roots, capture) -> set:
    """The nodes from which some captured edge can be reached (iterative post-order walk)."""
    needed = set()
    seen = set()
    for r in roots:
        stack = [(r, False)]
        while stack:
            n, done = stack.pop()
            if done:
                if n in capture or any(e in needed for e in n.next if e is not None):
                    needed.add(n)
                continue
            if n in seen:
                continue
            seen.add(n)
            if isinstance(n, Tensor):
                if n in capture:
                    needed.add(n)
                continue
            stack.append((n, True))
            for e in n.next:
                if e is not None and e not in seen:
                    stack.append((e, False))
    return needed


def _hook_args(g, graph) -> tuple:
    """Gradients as hooks see them: a tuple of Tensors (None kept), one per output of the node."""
    if g.__class__ is tuple:  # the outputs of a multi-output Function
        return tuple(None if x is None else _hook_tensor(x, graph) for x in g)
    return (_hook_tensor(g, graph),)


def _from_hook(r, like, graph):
    r = tuple(None if x is None else (x if graph else x._data) for x in r)
    return r if like.__class__ is tuple else r[0]


def _node_hooks(n, nd, g, graph, capture):
    if "_tensor_hooks" in nd:
        g = _run_hooks(nd["_tensor_hooks"], g, graph)
    if "_retained" in nd:
        t = nd["_retained"]()
        if t is not None and t.grad_fn is n:
            gt = g if graph else _wrap(g.copy())
            t.grad = gt if t.grad is None else t.grad + gt
    if "_pre_hooks" in nd:
        for h in tuple(nd["_pre_hooks"]):
            r = h(_hook_args(g, graph))
            if r is not None:
                g = _from_hook(r if isinstance(r, (tuple, list)) else (r,), g, graph)
    return g


def _post_hooks(hooks, grads_in, g, graph):
    gi_t = tuple(None if x is None else _hook_tensor(x, graph) for x in grads_in)
    go_t = _hook_args(g, graph)
    for h in tuple(hooks):
        r = h(gi_t, go_t)
        if r is not None:
            gi_t = tuple(r)
    return tuple(None if x is None else (x if graph else x._data) for x in gi_t)


def _leaf(t, g, graph, capture, accumulate, stolen):
    if g is None:
        return
    if capture is not None and t not in capture:
        return
    if t._hooks:
        g = _run_hooks(t._hooks, g, graph)
    if capture is not None:
        capture[t] = g
    if not accumulate:
        return
    d = t._data
    if g.shape != d.shape:
        raise RuntimeError(f"function AccumulateGrad: gradient of shape {tuple(g.shape)} for a "
                           f"tensor of shape {tuple(d.shape)}")
    if graph:
        if g.dtype is not t.dtype:
            if g._data.dtype.kind == "c" and d.dtype.kind != "c":
                from ..ops.complex_ops import real  # a real leaf gets the real part, as PyTorch
                g = real(g)
            g = g.to(t.dtype)
        t.grad = g.clone() if t.grad is None else t.grad + g  # never alias another tensor
    else:
        if g.dtype != d.dtype:
            g = (g.real if g.dtype.kind == "c" and d.dtype.kind != "c" else g).astype(d.dtype)
        cur = t.grad
        if cur is None:
            if g.base is not None or id(g) in stolen or not getattr(g.flags, "writeable", True):
                g = g.copy()
            stolen.add(id(g))
            t._grad = _wrap(g)  # shape and dtype were checked above: skip the setter's checks
        elif cur.requires_grad:
            t.grad = _wrap(cur._data + g)
        else:
            cur._data += g
    if "_post_acc_hooks" in t.__dict__:
        for h in tuple(t.__dict__["_post_acc_hooks"]):
            h(t)
