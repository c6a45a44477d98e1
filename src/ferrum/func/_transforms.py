"""torch.func's function transforms over ferrum's reverse-mode engine.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``jacfwd``, ``jvp`` and ``hessian`` take a
function and return one that differentiates it, as torch.func does, but every derivative is an
``autograd.grad`` call on the graph the function records: the inputs being differentiated enter as
fresh leaves (or, when they already require grad and grad mode is on, as aliases whose graph leads
back to them), and the gradients are taken with ``create_graph`` whenever grad mode is on at the
call, so that transforms nest (``grad(grad(f))``, ``jacfwd(jacrev(f))``) and compose with ordinary
autograd (a gradient penalty through ``grad`` reaches the model's parameters). A result whose
graph reaches nothing outside the transform's own leaves is returned detached, so results of a
top-level call do not require grad, as torch.func's.

How each is computed:

* ``jacrev``: one reverse pass per output element (a one-hot cotangent each), the rows stacked.
* ``jacfwd`` and ``jvp``: ferrum has no forward-mode AD, so a Jacobian-vector product is taken by
  the double-vjp trick: ``g(u) = J^T u`` is computed with ``create_graph`` for a dummy cotangent
  ``u``, and since ``g`` is linear in ``u``, the vjp of ``g`` with cotangent ``v`` is ``J v``.
  ``jacfwd`` does that once per input element (a one-hot ``v``), the columns stacked. The values and
  shapes are torch.func's; the cost is two reverse passes per column instead of one forward pass.
* ``hessian(f) = jacfwd(jacrev(f))``, as torch.func defines it.

``vmap`` is not available (there are no batching rules): calling it raises NotImplementedError.

Inputs and outputs may be pytrees of tensors (tuples, lists, dicts); gradients come back in the
structure of the differentiated arguments, Jacobians nest the input structure inside the output's.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from .. import _state
from .._tensor import Tensor, _wrap
from ..ops._common import xp_of

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]


# --------------------------------------------------------------------------- pytrees
def _flatten(tree, leaves: list):
    """Appends the leaves of ``tree`` to ``leaves``; returns the structure for :func:`_unflatten`."""
    if isinstance(tree, (tuple, list)):
        kind = type(tree) if isinstance(tree, tuple) and hasattr(tree, "_fields") else type(tree)
        return (kind, [_flatten(x, leaves) for x in tree])
    if isinstance(tree, dict):
        return (dict, list(tree.keys()), [_flatten(v, leaves) for v in tree.values()])
    leaves.append(tree)
    return None


def _unflatten(spec, it):
    if spec is None:
        return next(it)
    if spec[0] is dict:
        return {k: _unflatten(s, it) for k, s in zip(spec[1], spec[2])}
    items = [_unflatten(s, it) for s in spec[1]]
    kind = spec[0]
    if kind is list:
        return items
    if kind is tuple:
        return tuple(items)
    return kind(*items)  # a namedtuple


def _spec_str(spec) -> str:
    if spec is None:
        return "*"
    if spec[0] is dict:
        return "{" + ", ".join(f"{k!r}: {_spec_str(s)}" for k, s in zip(spec[1], spec[2])) + "}"
    inner = ", ".join(_spec_str(s) for s in spec[1])
    return f"[{inner}]" if spec[0] is list else f"({inner})"


# --------------------------------------------------------------------------- argument handling
def _argnums(argnums, nargs: int) -> tuple:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in nums:
        if isinstance(a, bool) or not isinstance(a, int):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(out)


def _entry(x, graph: bool) -> Tensor:
    """The tensor the transformed function sees for a differentiated input ``x``."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if graph and x.requires_grad:
        return x.view_as(x)  # an alias: derivatives of the results still reach x
    t = x.detach()
    t.requires_grad = True
    return t


class _Frame:
    """One transform call: grad mode on inside, the differentiated inputs replaced by entries."""

    def __init__(self):
        self.graph = _state.grad_enabled  # derivatives are themselves differentiable only then
        self.own: set = set()

    def __enter__(self):
        self.prev = _state.grad_enabled
        _state.grad_enabled = True
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self.prev
        return False

    def enter(self, tree):
        """(new tree, its entry leaves, structure) for a differentiated argument."""
        leaves: list = []
        spec = _flatten(tree, leaves)
        entries = [_entry(x, self.graph) for x in leaves]
        for e in entries:
            if e.grad_fn is None:
                self.own.add(id(e))
        return _unflatten(spec, iter(entries)), entries, spec

    def out(self, t):
        """A result as the caller gets it: detached unless its graph leads outside this call."""
        if not isinstance(t, Tensor) or not t.requires_grad:
            return t
        if self.graph and _reaches_outside(t, self.own):
            return t
        return t.detach()

    def out_tree(self, tree):
        leaves: list = []
        spec = _flatten(tree, leaves)
        for x in leaves:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
        return _unflatten(spec, iter([self.out(x) for x in leaves]))


def _reaches_outside(t: Tensor, own: set) -> bool:
    """Whether the graph of ``t`` leads to a leaf other than this call's entries."""
    if t.grad_fn is None:
        return id(t) not in own
    seen: set = set()
    stack = [t.grad_fn]
    while stack:
        edges = [e for e in stack.pop().next if e is not None]
        if any(not e._is_node and id(e) not in own for e in edges):
            return True
        fresh = [e for e in edges if e._is_node and id(e) not in seen]
        seen.update(map(id, fresh))
        stack.extend(fresh)
    return False


def _zeros(x: Tensor) -> Tensor:
    return _wrap(np.zeros_like(x._data))


def _vjp_raw(outs: list, cots: list, ins: list, retain: bool, create: bool) -> list:
    """Gradients of ``outs`` (with cotangents ``cots``) w.r.t. ``ins``; zeros where unused."""
    from ..autograd import grad as _grad
    pairs = [(o, c) for o, c in zip(outs, cots) if o.requires_grad and c is not None]
    if not pairs:
        return [_zeros(x) for x in ins]
    gs = _grad([o for o, _ in pairs], ins, [c for _, c in pairs], retain_graph=retain, create_graph=create,
               allow_unused=True)
    return [_zeros(x) if g is None else g for g, x in zip(gs, ins)]


def _split_aux(out, who: str):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _tensor_leaves(tree, who: str) -> tuple[list, Any]:
    leaves: list = []
    spec = _flatten(tree, leaves)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got unsupported type "
                               f"{type(x)}")
    return leaves, spec


def _call_entered(fr, func: Callable, args: tuple, kwargs: dict, nums, has_aux: bool, who: str):
    """Calls ``func`` with the arguments at ``nums`` replaced by the frame's fresh leaves; returns
    ``(entered, out, aux)``: for each of those arguments ``(entries, spec)`` (what ``fr.enter``
    returns) in ``nums`` order, the output, and the aux output (None without ``has_aux``)."""
    args = list(args)
    entered = []
    for i in nums:
        args[i], entries, spec = fr.enter(args[i])
        entered.append((entries, spec))
    out = func(*args, **kwargs)
    aux = None
    if has_aux:
        out, aux = _split_aux(out, who)
    return entered, out, aux


# --------------------------------------------------------------------------- grad, vjp
def grad_and_value(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """``grad_and_value(f)(*args)`` = ``(gradient of f w.r.t. args[argnums], f(*args))``; with
    ``has_aux`` f returns ``(output, aux)`` and the result is ``(grad, (output, aux))``. ``f`` must
    return a 0-dim Tensor; the gradient has the structure of ``args[argnums]`` (a tuple of them
    when ``argnums`` is a tuple)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        with _Frame() as fr:
            who = "grad_and_value(f)(*args)"
            entered, out, aux = _call_entered(fr, func, args, kwargs, nums, has_aux, who)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                                   f"got tensor with {out.dim()} dims. Maybe you wanted to use the vjp or "
                                   "jacrev APIs instead?")
            flat = [e for entries, _ in entered for e in entries]
            gs = iter(_vjp_raw([out], [_wrap(np.ones_like(out._data))], flat, fr.graph, fr.graph))
            trees = tuple(_unflatten(spec, gs) for _, spec in entered)
        g = fr.out_tree(trees if isinstance(argnums, tuple) else trees[0])
        value = fr.out(out)
        if has_aux:
            return g, (value, fr.out_tree(aux))
        return g, value

    return wrapper


def grad(func: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """``grad(f)(*args)``: the gradient of the scalar ``f(*args)`` w.r.t. ``args[argnums]``
    (``(grad, aux)`` with ``has_aux``). Nests: ``grad(grad(f))`` is the second derivative."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals, has_aux: bool = False):
    """``(output, vjp_fn)`` (``(output, vjp_fn, aux)`` with ``has_aux``): ``vjp_fn(cotangents)``
    returns a tuple with one gradient per primal, ``cotangents`` having the structure and shapes
    of ``output``. ``vjp_fn`` may be called many times."""
    with _Frame() as fr:
        new, entered = [], []
        for p in primals:
            t, entries, spec = fr.enter(p)
            new.append(t)
            entered.append((entries, spec))
        out = func(*new)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, "vjp(f, *primals)")
        outs, ospec = _tensor_leaves(out, "vjp(f, *primals)")
        if has_aux:
            _tensor_leaves(aux, "vjp(f, *primals)")
    flat_in = [e for entries, _ in entered for e in entries]

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        cots: list = []
        cspec = _flatten(cotangents, cots)
        if _spec_str(cspec) != _spec_str(ospec):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure "
                               f"of outputs to the function. cotangents: {_spec_str(cspec)}, primal output: "
                               f"{_spec_str(ospec)}")
        for i, (c, o) in enumerate(zip(cots, outs)):
            if not isinstance(c, Tensor):
                raise RuntimeError(f"vjp_fn: expected cotangents to be tensors, got {type(c)}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {c.shape} and "
                                   f"output[{i}] has a shape of {o.shape}.")
        create = _state.grad_enabled if create_graph is None else create_graph
        inner = _Frame()
        inner.graph = create
        inner.own = fr.own
        with inner:
            gs = iter(_vjp_raw(outs, cots, flat_in, retain_graph, create))
            res = tuple(_unflatten(spec, gs) for _, spec in entered)
        return inner.out_tree(res)

    result = fr.out_tree(out)
    if has_aux:
        return result, vjp_fn, fr.out_tree(aux)
    return result, vjp_fn


# --------------------------------------------------------------------------- Jacobians
def _one_hot(like: Tensor, k: int) -> Tensor:
    e = xp_of(like._data).zeros(like._data.size, like._data.dtype)
    e[k] = 1
    return _wrap(e.reshape(like._data.shape))


def _stack_rows(rows: list, shape: tuple) -> Tensor:
    from ..ops.join import stack
    if not rows:
        return None
    return stack(rows).reshape(shape)


def _jac_rev(outs: list, ins: list, graph: bool) -> list:
    """J[o][i] (shape out.shape + in.shape) by one reverse pass per output element."""
    res = []
    for o in outs:
        rows = [[] for _ in ins]
        for k in range(o._data.size):
            for r, g in zip(rows, _vjp_raw([o], [_one_hot(o, k)], ins, True, graph)):
                r.append(g)
        res.append([_jac_block(r, o, x) for r, x in zip(rows, ins)])
    return res


def _zero_block(shape: tuple, o: Tensor, x: Tensor) -> Tensor:
    """The Jacobian block of an output that does not depend on the input (on the output's device)."""
    return _wrap(xp_of(o._data).zeros(shape, np.result_type(o._data.dtype, x._data.dtype)))


def _jac_block(parts: list, o: Tensor, x: Tensor) -> Tensor:
    shape = tuple(o.shape) + tuple(x.shape)
    if not parts:
        return _zero_block(shape, o, x)
    return _stack_rows(parts, shape)


def _jac_fwd(outs: list, ins: list, graph: bool) -> list:
    """J[o][i] by the double-vjp trick: one reverse pass of J^T u, then one per input element."""
    from ..autograd import grad as _grad
    us = []
    for o in outs:
        u = _zeros(o)
        u.requires_grad = True
        us.append(u)
    gts = _vjp_raw(outs, us, ins, True, True)  # J^T u, linear in u
    res = [[None] * len(ins) for _ in outs]
    for j, (x, gt) in enumerate(zip(ins, gts)):
        cols = [[] for _ in outs]
        for k in range(x._data.size):
            if gt.requires_grad:
                js = _grad([gt], us, [_one_hot(x, k)], retain_graph=True, create_graph=graph,
                           allow_unused=True)
            else:
                js = [None] * len(us)
            for c, jv, o in zip(cols, js, outs):
                c.append(_zeros(o) if jv is None else jv)
        for oi, o in enumerate(outs):
            shape = tuple(o.shape) + tuple(x.shape)
            if not cols[oi]:
                res[oi][j] = _zero_block(shape, o, x)
            else:
                from ..ops.join import stack
                res[oi][j] = stack(cols[oi], dim=-1).reshape(shape)
    return res


def _jacobian(func, argnums, has_aux, forward: bool, who: str) -> Callable:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        with _Frame() as fr:
            entered, out, aux = _call_entered(fr, func, args, kwargs, nums, has_aux, who)
            outs, ospec = _tensor_leaves(out, who)
            flat = [e for entries, _ in entered for e in entries]
            blocks = (_jac_fwd if forward else _jac_rev)(outs, flat, fr.graph)
            per_out = []
            for row in blocks:
                it = iter(row)
                trees = tuple(_unflatten(spec, it) for _, spec in entered)
                per_out.append(trees if isinstance(argnums, tuple) else trees[0])
        jac = fr.out_tree(_unflatten(ospec, iter(per_out)))
        if has_aux:
            return jac, fr.out_tree(aux)
        return jac

    return wrapper


def jacrev(func: Callable, argnums: int | tuple = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of ``func`` w.r.t. ``args[argnums]`` by reverse mode, one pass per output
    element (``chunk_size`` is accepted; ferrum has no batched passes). For an output of shape
    ``O`` and an input of shape ``I`` the block has shape ``O + I``."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, False, "vjp(f, *primals)")


def jacfwd(func: Callable, argnums: int | tuple = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian of ``func`` w.r.t. ``args[argnums]``, column by column: each column is a
    Jacobian-vector product taken by the double-vjp trick (see the module docstring). Same values
    and shapes as torch.func.jacfwd."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    return _jacobian(func, argnums, has_aux, True, "jvp(f, primals, tangents)")


def hessian(func: Callable, argnums: int | tuple = 0) -> Callable:
    """The Hessian of the scalar ``func`` w.r.t. ``args[argnums]``: ``jacfwd(jacrev(func))``."""
    return jacfwd(jacrev(func, argnums), argnums)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J·tangents)`` (and ``aux`` with ``has_aux``), the Jacobian-vector product
    taken by the double-vjp trick (see the module docstring)."""
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
                           "valid to call f(*primals).")
    if not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be "
                           "valid to call f(*tangents).")
    with _Frame() as fr:
        new, flat_in = [], []
        for p in primals:
            t, entries, _ = fr.enter(p)
            new.append(t)
            flat_in.extend(entries)
        tan: list = []
        _flatten(tangents, tan)
        if len(tan) != len(flat_in):
            raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same "
                               f"python structure, got {len(flat_in)} and {len(tan)} tensors")
        for x, v in zip(flat_in, tan):
            if not isinstance(v, Tensor):
                raise ValueError(f"Thing passed to transform API must be Tensor, got {type(v)}")
            if tuple(v.shape) != tuple(x.shape):
                raise RuntimeError("Trying to set a forward gradient that has a different size than that of "
                                   "the original Tensor, this is not supported. Tensor is of size "
                                   f"{list(x.shape)} while the given forward gradient is of size "
                                   f"{list(v.shape)}.")
        out = func(*new)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, "jvp(f, primals, tangents)")
        outs, ospec = _tensor_leaves(out, "jvp(f, primals, tangents)")
        from ..autograd import grad as _grad
        us = []
        for o in outs:
            u = _zeros(o)
            u.requires_grad = True
            us.append(u)
        gts = _vjp_raw(outs, us, flat_in, True, True)
        pairs = [(g, v) for g, v in zip(gts, tan) if g.requires_grad]
        if pairs:
            js = _grad([g for g, _ in pairs], us, [v for _, v in pairs], retain_graph=fr.graph,
                       create_graph=fr.graph, allow_unused=True)
        else:
            js = [None] * len(us)
        jv = [_zeros(o) if j is None else j for j, o in zip(js, outs)]
    result = (fr.out_tree(out), fr.out_tree(_unflatten(ospec, iter(jv))))
    return result + (fr.out_tree(aux),) if has_aux else result


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Not available in ferrum: there are no batching rules. Raises NotImplementedError (a
    RuntimeError), so a program finds out at the call that creates the batched function."""
    raise NotImplementedError("ferrum.func.vmap is not available: ferrum has no batching rules for its ops. "
                              "Run the function in a Python loop over the batch and stack the results, "
                              "or compute Jacobians with ferrum.func.jacrev/jacfwd.")
