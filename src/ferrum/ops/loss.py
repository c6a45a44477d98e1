"""Loss functions (``torch.nn.functional``'s mse_loss, cross_entropy, nll_loss, kl_div, ...).

This module holds the regression, binary, class-index and distribution losses, and is the face of
every loss: the margin, ranking and embedding family lives in ``loss_margin.py`` and the helpers
both share in ``loss_common.py``; everything is re-exported here, so ``ops.loss`` keeps every name.

cross_entropy and nll_loss on class-index targets are fused primitives: one node each, whose
forward works on raw arrays (a max-shifted log-sum-exp, then the target entries picked) and whose
backward computes ``(softmax - one_hot) * weight / normaliser`` directly on arrays. With
``create_graph`` the same backward is built from differentiable Tensor ops, so double backward
works. Every other loss is composed from ferrum ops (so it is differentiable to any order), with
small dedicated nodes where the composed gradient would be wrong at an edge (binary cross entropy
at 0 and 1, log-sigmoid at 0).

Reductions are ``'none' | 'mean' | 'sum'`` (``kl_div`` adds ``'batchmean'``); the legacy
``size_average``/``reduce`` arguments map to a reduction as in PyTorch, with its warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _state
from .._dtype import scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import elementwise as E
from ._common import xp_of
from .loss_common import (_MEAN, _NONE, _REDUCTIONS, _SUM, _arange, _broadcast, _class_layout,  # noqa: F401
                          _class_weight, _float, _floating, _legacy_reduction, _logsigmoid, _reduce,
                          _reduction, _size_warning, _targets, _tensor)
from .loss_margin import *  # noqa: F401,F403
from .loss_margin import __all__ as _margin_all
from .softmax import log_softmax
from ._autocast import autocast_op

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "gaussian_nll_loss",
    "poisson_nll_loss",
] + _margin_all

_new = object.__new__
_ndarray = np.ndarray


# --------------------------------------------------------------------------- argument helpers
def _weighted(loss: Tensor, weight, red: int, op: str, mean_by_weight: bool) -> Tensor:
    """The optional elementwise ``weight`` of mse/l1/huber: same shape as the input; the weighted
    mean divides by the sum of weights (mse, l1) or by the number of elements (huber)."""
    if weight is None:
        return _reduce(loss, red)
    _tensor(weight, op, "weight", 6)
    if weight._data.shape != loss._data.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if red == _MEAN and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, red)


# --------------------------------------------------------------------------- regression losses
@autocast_op("mse_loss")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced. input and target: same shape (*)
    (broadcast with a warning otherwise); 'none' gives shape (*)."""
    _tensor(input, "mse_loss", "input", 1)
    _tensor(target, "mse_loss", "target", 2)
    _floating(input, target, "mse_loss")
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    x, t = _broadcast(input, target, "mse_loss")
    d = x - t
    return _weighted(d * d, weight, red, "mse_loss", True)


@autocast_op("l1_loss")
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced. Shapes as mse_loss."""
    _tensor(input, "l1_loss", "input", 1)
    _tensor(target, "l1_loss", "target", 2)
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    x, t = _broadcast(input, target, "l1_loss")
    return _weighted((x - t).abs(), weight, red, "l1_loss", True)


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target);
    beta = 0 is l1_loss. Shapes as mse_loss."""
    _tensor(input, "smooth_l1_loss", "input", 1)
    _tensor(target, "smooth_l1_loss", "target", 2)
    _floating(input, target, "smooth_l1_loss")
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = _broadcast(input, target, "smooth_l1_loss")
    d = (x - t).abs()
    if beta == 0:
        return _reduce(d, red)
    dq = d.clamp_max(beta)  # the quadratic branch on a bounded d: its zero gradient where unused stays 0
    loss = E.where(d < beta, dq * dq * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, red)


@autocast_op("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``. Shapes as mse_loss;
    the optional elementwise ``weight`` multiplies the loss before the reduction. The result has
    input's dtype (a target of another dtype is cast to it), as PyTorch."""
    _tensor(input, "huber_loss", "input", 1)
    _tensor(target, "huber_loss", "target", 2)
    _floating(input, target, "huber_loss")
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"huber_loss(): result type {scalar_name(target.dtype)} can't be cast to the "
                           f"desired output type {scalar_name(input.dtype)}")
    _size_warning(input, target)
    red = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    x, t = _broadcast(input, target, "huber_loss")
    d = (x - t).abs()
    dq = d.clamp_max(delta)  # (an infinite |d| would give 0 * inf = NaN through the unused branch)
    loss = E.where(d < delta, dq * dq * 0.5, (d - 0.5 * delta) * delta)
    return _weighted(loss, weight, red, "huber_loss", False)


# --------------------------------------------------------------------------- binary losses
class _BinaryCrossEntropyBackward(Node, name="BinaryCrossEntropyBackward0"):
    """dx = (x - t) / max(x (1 - x), 1e-12); dt = log(1 - x) - log(x) (not clamped, as PyTorch)."""

    def backward_t(self, g, x, t):
        gx = gt = None
        if self.next[0] is not None:
            gx = g * (x - t) / (x * (1 - x)).clamp_min(1e-12)
        if self.next[1] is not None:
            # -logit(x), unclamped as PyTorch's (infinite at x = 0 and 1)
            gt = g * ((-x).log1p() - x.log())
        return gx, gt


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log(x) + (1 - t) log(1 - x))`` with each log clamped at -100, as PyTorch.
    input (probabilities in [0, 1]) and target (in [0, 1]): same shape (*); weight broadcasts to it.

    Kept leniency: a target of another dtype is cast to input's (PyTorch raises; no valid PyTorch
    program sees a different result)."""
    _float(input, "binary_cross_entropy")
    _tensor(target, "binary_cross_entropy", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x, t = input, target
    if t._data.dtype != x._data.dtype:
        t = t.to(x.dtype)
    xd, td = x._data, t._data
    # as PyTorch (NaN fails the test too): out-of-range values would give silently wrong losses
    if xd.size and not bool(((xd >= 0) & (xd <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if td.size and not bool(((td >= 0) & (td <= 1)).all()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.maximum(np.log(xd), -100)
        l1x = np.maximum(np.log1p(-xd), -100)
    r = -(l1x + td * (lx - l1x))
    loss = record(r.astype(xd.dtype, copy=False), _BinaryCrossEntropyBackward, (x, t), save=(x, t))
    if weight is not None:
        _tensor(weight, "binary_cross_entropy", "weight", 3)
        loss = loss * weight.expand(np.broadcast_shapes(td.shape, weight._data.shape))
    return _reduce(loss, red)


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable formula:
    ``w ((1 - t) x - (1 + (pos_weight - 1) t) log(sigmoid(x)))``. input and target: same shape (*);
    weight broadcasts to it, pos_weight broadcasts along the last (class) dim. The result has the
    target's (floating) dtype, as PyTorch, whose kernel works in place on ``1 - target``."""
    _float(input, "binary_cross_entropy_with_logits")
    _tensor(target, "binary_cross_entropy_with_logits", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    x, t = input, target
    ls = _logsigmoid(x)
    if pos_weight is None:
        loss = (1 - t) * x - ls
    else:
        _tensor(pos_weight, "binary_cross_entropy_with_logits", "pos_weight", 7)
        loss = (1 - t) * x - (1 + (pos_weight - 1) * t) * ls
    if weight is not None:
        _tensor(weight, "binary_cross_entropy_with_logits", "weight", 3)
        loss = loss * weight
    tdt = target._data.dtype
    if loss._data.dtype != tdt:
        if tdt.kind not in "fV":
            raise RuntimeError(f"binary_cross_entropy_with_logits(): result type {scalar_name(loss.dtype)} "
                               f"can't be cast to the desired output type {scalar_name(target.dtype)}")
        loss = loss.to(target.dtype)
    return _reduce(loss, red)


# --------------------------------------------------------------------------- class-index targets
_ONES: dict = {}
# fast path: shift each row by the global maximum instead of its own (a full reduction is several
# times cheaper than a per-row one); valid while every row keeps a sum of exps well above underflow,
# i.e. no row maximum lies more than ~28 below the global one; otherwise shift row by row
_SHIFT_OK = 2.0 ** -40


def _row_sums(e, xp):
    """Sums of the rows of a 2-D float array: a matrix-vector product with ones (BLAS), much
    cheaper than a NumPy reduction over a short last axis."""
    c = e.shape[1]
    if xp is np and e.dtype.char in "fd":
        key = (c, e.dtype.char)
        o = _ONES.get(key)
        if o is None:
            if len(_ONES) > 32:
                _ONES.clear()
            o = _ONES[key] = np.ones(c, e.dtype)
        return e.dot(o)
    return e.sum(axis=1)


def _row_weights(w, t, mask, dt):
    """Per-row weights w[t] with ignored rows 0, or None when every row counts 1."""
    if w is not None:
        wt = w[t]
        if mask is not None:
            wt = wt * mask
        return wt
    if mask is not None:
        return mask.astype(dt)
    return None


def _unlayout(g2, node):
    """A (M, C) gradient back in the input's layout."""
    lay = node.layout
    if lay == 1:
        return g2
    if lay == 0:
        return g2.reshape(node.ncls)
    g2 = g2.reshape(node.moved)
    if g2.__class__ is Tensor:
        return g2.movedim(-1, 1)
    return np.moveaxis(g2, -1, 1)


def _onehot(node, dt):
    xp = xp_of(node.t) if node.t.__class__ is not _ndarray else np
    m = node.t.shape[0]
    oh = xp.zeros((m, node.ncls), dt)
    oh[_arange(m, xp), node.t] = 1
    return oh


def _gscale(node, g):
    """The incoming gradient per row: (M, 1) for 'none', else 0-d (divided by the mean's denominator)."""
    red = node.red
    if red == _NONE:
        return g.reshape(-1, 1)
    if red == _MEAN:
        return g / node.denom
    return g


class _SavedSoftmaxBackward(Node, name="SoftmaxBackward0"):
    """Makes the saved softmax p (M, C) a differentiable function of the cross_entropy input again
    (for create_graph), without keeping the input: dx = p (g - sum(g p)), back in input layout."""

    __slots__ = ("p", "owner")
    _saved = ("p",)

    def backward(self, g):
        p = self.unreleased(self.p)
        if g.__class__ is Tensor:
            # p again as a Tensor whose grad_fn is this node, so that the formula's dependence on p
            # is differentiated too (a graph of any order)
            pt = _wrap(p)
            pt.requires_grad = True
            pt.grad_fn = self
            return (_unlayout(pt * (g - (g * pt).sum(1, keepdim=True)), self.owner),)
        t = g * p
        t -= p * t.sum(axis=1, keepdims=True)
        return (_unlayout(t, self.owner),)


class _CrossEntropyBackward(Node, name="NllLossBackward0"):
    """Saves the shifted exps e and their row sums s (its own arrays; softmax p = e / s);
    dx = (p - one_hot) w[t] / denominator, plus the label smoothing term (eps / C) (sum(w) p - w)."""

    __slots__ = ("e", "s", "t", "wt", "mask", "w", "ls", "red", "denom", "ncls", "layout", "moved")
    _saved = ("e", "s")

    def backward(self, g):
        e = self.unreleased(self.e)
        if g.__class__ is Tensor:
            return (self._graph(g),)
        s = self.s
        m = e.shape[0]
        gs = _gscale(self, g)
        wt = self.wt
        t = self.t
        ar = _arange(m, np if e.__class__ is _ndarray else xp_of(e))
        ls = self.ls
        if ls == 0.0:
            # (p - one_hot) * gs with the softmax division folded into the per-row scale
            if wt is not None:
                gs = gs * wt[:, None]
            if gs.ndim:
                gs = gs[:, 0]
                gr = e * (gs / s)[:, None]
                gr[ar, t] -= gs
            else:
                gr = e * (gs / s)[:, None]
                gr[ar, t] -= gs
            return (_unlayout(gr, self),)
        p = e / s[:, None]
        c = self.ncls
        w = self.w
        a = gs if self.mask is None else gs * self.mask[:, None]  # smoothing counts every kept row once
        nllc = (1.0 - ls) * (gs if wt is None else gs * wt[:, None])
        sumw = c if w is None else w.sum()
        gr = p * (nllc + (ls / c) * sumw * a)
        nllc = np.broadcast_to(nllc, (m, 1))
        gr[ar, t] -= nllc[:, 0]
        gr -= (ls / c) * (a if w is None else a * w)
        return (_unlayout(gr, self),)

    def _graph(self, g: Tensor) -> Tensor:
        """The same gradient from differentiable ops (create_graph): the saved softmax becomes a
        Tensor whose own backward leads to the input."""
        p = self.e / self.s[:, None]
        c = self.ncls
        dt = p.dtype
        # built by hand rather than with attach(): the node takes over this node's edges (the input
        # is not kept, so there is no tensor to compute an edge from)
        sm = _new(_SavedSoftmaxBackward)
        sm.next = self.next
        sm.p = p
        sm.owner = self
        pt = _wrap(p)
        pt.requires_grad = True
        pt.grad_fn = sm
        gs = _gscale(self, g)
        m = p.shape[0]
        xp = xp_of(p)
        wt = self.wt
        ones = xp.ones((m, 1), dt)
        nllc = (1.0 - self.ls) * (ones if wt is None else wt[:, None].astype(dt))
        gr = (pt - _wrap(_onehot(self, dt))) * _wrap(nllc) * gs
        if self.ls:
            w = self.w
            a = ones if self.mask is None else self.mask[:, None].astype(dt)
            sumw = float(c if w is None else w.sum())
            tail = pt * sumw - (1.0 if w is None else _wrap(w))
            gr = gr + tail * _wrap(a * (self.ls / c)) * gs
        return _unlayout(gr, self)


class _NllLossBackward(Node, name="NllLossBackward0"):
    """dx = -w[t] / denominator at the target entries, 0 elsewhere (linear in g)."""

    __slots__ = ("t", "wt", "red", "denom", "ncls", "layout", "moved", "dt", "m")
    _saved = ()

    def backward(self, g):
        gs = _gscale(self, g)
        wt = self.wt
        if wt is not None:
            gs = gs * wt[:, None]
        if g.__class__ is Tensor:
            return (_unlayout(_wrap(-_onehot(self, self.dt)) * gs, self),)
        m = self.m
        xp = np if g.__class__ is _ndarray else xp_of(g)
        gr = xp.zeros((m, self.ncls), self.dt)
        gr[_arange(m, xp), self.t] = -(gs[:, 0] if gs.ndim == 2 else gs)
        return (_unlayout(gr, self),)


def _finish(rows, wt, red: int, tshape, m: int):
    """The reduced loss (an array, or a NumPy scalar that ``_wrap`` turns into a 0-d array) and the
    mean's denominator."""
    if red == _NONE:
        return rows.reshape(tshape), 1
    total = rows.sum()
    if red == _SUM:
        return total, 1
    denom = m if wt is None else wt.sum()
    if denom:
        return total / denom, denom
    # nothing counted: the loss is 0/0 = nan, but no entry gets a gradient (PyTorch gives zeros)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / denom, 1


def _ce_rows(x2, e, s, mx, t, w, wt, mask, ls: float, xp):
    """Per-row cross entropy from the shifted exps ``e`` (row sums ``s``, shift ``mx``): the picked
    logit is shifted before the subtraction so that huge logits keep their precision."""
    m, c = x2.shape
    logs = np.log(s)
    z = x2[_arange(m, xp), t]
    z -= mx
    rows = logs - z
    if wt is not None:
        rows *= wt
    if ls:
        # -sum_c w_c log p_c = sum(w) log(s) - (x - mx) . w
        z = x2 - (mx if mx.ndim == 0 else mx.reshape(m, 1))
        sm = c * logs - _row_sums(z, xp) if w is None else w.sum() * logs - z.dot(w)
        rows = (1.0 - ls) * rows + (ls / c) * sm
    if mask is not None:
        # ignored rows are 0 by selection: a NaN/inf logit in an ignored row must not reach the loss
        rows = xp.where(mask, rows, 0)
    return rows


def _is_bf16(input, op: str) -> bool:
    """Checks that ``input`` is a floating tensor; True for bfloat16, which the class-index losses
    compute in float32 (as PyTorch accumulates) and round back to bfloat16."""
    if input.__class__ is not Tensor:
        _tensor(input, op, "input", 1)
    k = input._data.dtype.kind
    if k != "f":
        if k == "V":
            return True
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(input.dtype)}'")
    return False


def _via_float32(fn, input: Tensor, target, *args) -> Tensor:
    if isinstance(target, Tensor) and target._data.dtype.kind == "V":
        target = target.float()
    return fn(input.float(), target, *args).to(input.dtype)


@autocast_op("cross_entropy_loss")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits and targets: log_softmax over the class dim + nll_loss, fused.

    input: (N, C), (N, C, d1, ...), or unbatched (C). target: class indices (N), (N, d1, ...) or 0-d
    (int64; ``ignore_index`` entries do not count), or class probabilities of input's shape.
    weight: (C). 'mean' divides by the summed weights of the counted targets (by the number of
    samples for probability targets). ``label_smoothing`` mixes the target with the uniform
    distribution. Stable for large logits.
    """
    if _is_bf16(input, "cross_entropy"):
        return _via_float32(cross_entropy, input, target, weight, size_average, ignore_index, reduce,
                            reduction, label_smoothing)
    if target.__class__ is not Tensor:
        _tensor(target, "cross_entropy", "target", 2)
    red = (_MEAN if reduction == "mean" and size_average is None and reduce is None
           else _reduction(reduction, size_average, reduce))
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.dtype.kind in "fV" or target._data.shape == input._data.shape and input.ndim != 1:
        return _ce_probs(input, target, weight, ignore_index, red, label_smoothing)
    x2, t2, c, lay, moved = _class_layout(input, target, "cross_entropy")
    t, mask = _targets(t2, c, ignore_index)
    dt = x2.dtype
    w = _class_weight(weight, c, dt, "cross_entropy")
    wt = _row_weights(w, t, mask, dt)
    m = x2.shape[0]
    xp = np if x2.__class__ is _ndarray else xp_of(x2)
    need = input.requires_grad and _state.grad_enabled
    if m and c:
        mx = x2.max()
        if math.isfinite(mx):
            e = x2 - mx
            np.exp(e, out=e)
            s = _row_sums(e, xp)
            if s.min() >= _SHIFT_OK:
                rows = _ce_rows(x2, e, s, mx, t, w, wt, mask, label_smoothing, xp)
            else:
                mx = None
        if mx is None or not math.isfinite(mx):
            # rows far below the global maximum, or inf/NaN logits: shift each row by its own max
            # (as PyTorch's log_softmax, a row holding +inf or only -inf is NaN: inf - inf)
            with np.errstate(all="ignore"):
                mx = x2.max(axis=1, keepdims=True)
                e = x2 - mx
                np.exp(e, out=e)
                s = e.sum(axis=1)
                rows = _ce_rows(x2, e, s, mx.reshape(m), t, w, wt, mask, label_smoothing, xp)
    else:
        rows = xp.zeros(m, dt)
        e = xp.zeros((m, c), dt)
        s = xp.ones(m, dt)
    r, denom = _finish(rows, wt, red, target._data.shape, m)
    out = _wrap(r)
    if need:
        attach(out, _CrossEntropyBackward, (input,), e=e, s=s, t=t, wt=wt, mask=mask, w=w,
               ls=float(label_smoothing), red=red, denom=denom, ncls=c, layout=lay, moved=moved)
    return out


def _ce_probs(input: Tensor, target: Tensor, weight, ignore_index: int, red: int, ls: float) -> Tensor:
    """cross_entropy with class-probability targets, composed of differentiable ops (the target
    gets a gradient too)."""
    if target._data.shape != input._data.shape:
        raise RuntimeError(f"cross_entropy(): expected target dtype to be Long or Byte, but got "
                           f"{scalar_name(target.dtype)} (a floating target must have input's shape "
                           f"{list(input.shape)} to hold class probabilities, got {list(target.shape)})")
    if target._data.dtype.kind not in "fV":
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{scalar_name(target.dtype)}")
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    cd = 0 if input.ndim == 1 else 1
    c = input.shape[cd]
    logp = log_softmax(input, cd)
    if ls:
        target = target * (1.0 - ls) + ls / c
    prod = logp * target
    if weight is not None:
        w = _tensor(weight, "cross_entropy", "weight", 3)
        if w._data.shape != (c,):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes "
                               f"but got weight tensor of shape: {list(w._data.shape)}")
        prod = prod * w.reshape((c,) + (1,) * (input.ndim - cd - 1))
    loss = -prod.sum(cd)
    return _reduce(loss, red)


@autocast_op("nll_loss")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: ``-w[t] input[n, t]``.

    input: (N, C), (N, C, d1, ...) or unbatched (C); target (int64 class indices): (N), (N, d1, ...)
    or 0-d; weight: (C). 'mean' divides by the summed weights of the targets that are not
    ``ignore_index``.
    """
    if _is_bf16(input, "nll_loss"):
        return _via_float32(nll_loss, input, target, weight, size_average, ignore_index, reduce, reduction)
    _tensor(target, "nll_loss", "target", 2)
    red = (_MEAN if reduction == "mean" and size_average is None and reduce is None
           else _reduction(reduction, size_average, reduce))
    x2, t2, c, lay, moved = _class_layout(input, target, "nll_loss")
    t, mask = _targets(t2, c, ignore_index)
    dt = x2.dtype
    w = _class_weight(weight, c, dt, "nll_loss")
    wt = _row_weights(w, t, mask, dt)
    m = x2.shape[0]
    xp = np if x2.__class__ is _ndarray else xp_of(x2)
    rows = -x2[_arange(m, xp), t] if c else xp.zeros(m, dt)
    if mask is not None:
        with np.errstate(invalid="ignore"):
            rows = xp.where(mask, rows * wt, 0)  # selected: a NaN/inf in an ignored row stays out
    elif wt is not None:
        rows *= wt
    r, denom = _finish(rows, wt, red, target._data.shape, m)
    out = _wrap(r)
    if input.requires_grad and _state.grad_enabled:
        attach(out, _NllLossBackward, (input,), t=t, wt=wt, red=red, denom=denom, ncls=c, layout=lay,
               moved=moved, dt=dt, m=m)
    return out


# --------------------------------------------------------------------------- distribution losses
@autocast_op("kl_div")
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target (log(target) - input)`` with input as log-probabilities
    (``exp(target) (target - input)`` when ``log_target``). Same shape (*); 'batchmean' divides the
    sum by the batch size (input.size(0))."""
    _tensor(input, "kl_div", "input", 1)
    _tensor(target, "kl_div", "target", 2)
    if input._data.dtype.kind not in "fcV" or target._data.dtype.kind not in "fcV":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    batchmean = False
    if size_average is not None or reduce is not None:
        red = _reduction("mean", size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support "
                          "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
                          "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
                          "major release.", UserWarning, stacklevel=2)
        if reduction == "batchmean":
            red, batchmean = _SUM, True
        else:
            red = _reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = E.xlogy(target, target) - target * input
    out = _reduce(loss, red)
    if batchmean and input.ndim != 0:
        out = out / input.shape[0]
    return out


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(input) - target input`` (log_input) or
    ``input - target log(input + eps)``; ``full`` adds the Stirling term
    ``t log(t) - t + log(2 pi t) / 2`` for target t > 1, differentiable w.r.t. the target (where
    target <= 1 the target's gradient has no Stirling part; PyTorch's is NaN at target = 0).
    Integer inputs give the promoted floating result, as PyTorch."""
    _tensor(input, "poisson_nll_loss", "input", 1)
    _tensor(target, "poisson_nll_loss", "target", 2)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    red = _REDUCTIONS[reduction]
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        # the term is computed on a target moved into its domain where it is not used, so that the
        # selected-away elements carry no NaN into the target's gradient
        ts = E.where(big, target, 2.0)
        st = ts * ts.log() - ts + 0.5 * (2 * math.pi * ts).log()
        loss = loss + E.where(big, st, 0.0)
    return _reduce(loss, red)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 (log(var) + (input - target)^2 / var)`` (+ 0.5 log(2 pi)
    when ``full``). var: input's shape, input's shape without the last dim, or one dim of size 1
    (homoscedastic), or a float; clamped at ``eps`` (the gradient passes through the clamp).

    Kept leniency: an integer target with a floating input is promoted (PyTorch raises; no valid
    PyTorch program sees a different result)."""
    _tensor(input, "gaussian_nll_loss", "input", 1)
    _tensor(target, "gaussian_nll_loss", "target", 2)
    xd = input._data
    fdt = xd.dtype if xd.dtype.kind in "fV" else target._data.dtype
    if fdt.kind not in "fV":
        raise RuntimeError(f"gaussian_nll_loss(): result type Float can't be cast to the desired output type "
                           f"{scalar_name(input.dtype)}")
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _wrap(xp_of(xd).full(xd.shape, var, fdt))
    else:
        _tensor(var, "gaussian_nll_loss", "var", 3)
        if bool((var._data < 0).any()):
            raise ValueError("var has negative entry/entries")
    ish, vsh = tuple(input._data.shape), tuple(var._data.shape)
    if vsh != ish:
        if ish[:-1] == vsh:
            var = var.unsqueeze(-1)
        elif not (len(ish) == len(vsh) and sum(v for i, v in zip(ish, vsh) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    red = _REDUCTIONS[reduction]
    vd = var.detach()
    var = var + (vd.clamp_min(eps) - vd)  # clamped values, gradient of the identity (as PyTorch)
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, red)
