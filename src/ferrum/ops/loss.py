"""Loss functions (``torch.nn.functional``'s mse_loss, cross_entropy, nll_loss, kl_div, ...).

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
from .._dtype import from_np, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import _FREED_MSG, FREED, Node, edge, record
from . import elementwise as E
from ._common import xp_of
from .softmax import log_softmax

__all__ = [
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "cosine_embedding_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss", "gaussian_nll_loss",
    "poisson_nll_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "soft_margin_loss",
    "multilabel_margin_loss",
]

_new = object.__new__
_ndarray = np.ndarray
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_NONE, _MEAN, _SUM = 0, 1, 2


# --------------------------------------------------------------------------- argument helpers
def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce pair to a reduction string."""
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    ret = "mean" if sa and rd else ("sum" if rd else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' "
                  "instead.", UserWarning, stacklevel=4)
    return ret


def _reduction(reduction, size_average=None, reduce=None) -> int:
    """The reduction code (0 none, 1 mean, 2 sum); ValueError for an unknown string."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    r = _REDUCTIONS.get(reduction) if isinstance(reduction, str) else None
    if r is None:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return r


def _reduce(loss: Tensor, red: int) -> Tensor:
    if red == _MEAN:
        return loss.mean()
    if red == _SUM:
        return loss.sum()
    return loss


def _tensor(x, op: str, arg: str, pos: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _float(x, op: str, arg: str = "input", pos: int = 1) -> Tensor:
    _tensor(x, op, arg, pos)
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}(): expected a floating point {arg}, got {scalar_name(x.dtype)}")
    return x


def _size_warning(input: Tensor, target: Tensor) -> None:
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)


def _broadcast(a: Tensor, b: Tensor, op: str):
    sa, sb = a._data.shape, b._data.shape
    if sa == sb:
        return a, b
    try:
        shape = np.broadcast_shapes(sa, sb)
    except ValueError:
        raise RuntimeError(f"{op}(): the size of input {list(sa)} must be broadcastable with the size of "
                           f"target {list(sb)}") from None
    return a.expand(shape), b.expand(shape)


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
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced. input and target: same shape (*)
    (broadcast with a warning otherwise); 'none' gives shape (*)."""
    _tensor(input, "mse_loss", "input", 1)
    _tensor(target, "mse_loss", "target", 2)
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    x, t = _broadcast(input, target, "mse_loss")
    d = x - t
    return _weighted(d * d, weight, red, "mse_loss", True)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced. Shapes as mse_loss."""
    _tensor(input, "l1_loss", "input", 1)
    _tensor(target, "l1_loss", "target", 2)
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    x, t = _broadcast(input, target, "l1_loss")
    return _weighted((x - t).abs(), weight, red, "l1_loss", True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target);
    beta = 0 is l1_loss. Shapes as mse_loss."""
    _tensor(input, "smooth_l1_loss", "input", 1)
    _tensor(target, "smooth_l1_loss", "target", 2)
    _size_warning(input, target)
    red = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, t = _broadcast(input, target, "smooth_l1_loss")
    d = (x - t).abs()
    if beta == 0:
        return _reduce(d, red)
    loss = E.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, red)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``. Shapes as mse_loss;
    the optional elementwise ``weight`` multiplies the loss before the reduction."""
    _tensor(input, "huber_loss", "input", 1)
    _tensor(target, "huber_loss", "target", 2)
    _size_warning(input, target)
    red = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, t = _broadcast(input, target, "huber_loss")
    d = (x - t).abs()
    loss = E.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _weighted(loss, weight, red, "huber_loss", False)


# --------------------------------------------------------------------------- binary losses
class _LogSigmoidBackward(Node):
    def backward_t(self, g, x):
        return (g * E.sigmoid(-x),)


_LogSigmoidBackward.__name__ = "LogSigmoidBackward0"


def _logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x."""
    d = x._data
    r = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
    return record(r, _LogSigmoidBackward, (x,), save=(x,))


class _BinaryCrossEntropyBackward(Node):
    """dx = (x - t) / max(x (1 - x), 1e-12); dt = log(1 - x) - log(x), both logs clamped at -100."""

    def backward_t(self, g, x, t):
        gx = gt = None
        if self.next[0] is not None:
            gx = g * (x - t) / (x * (1 - x)).clamp_min(1e-12)
        if self.next[1] is not None:
            gt = g * ((-x).log1p().clamp_min(-100) - x.log().clamp_min(-100))
        return gx, gt


_BinaryCrossEntropyBackward.__name__ = "BinaryCrossEntropyBackward0"


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log(x) + (1 - t) log(1 - x))`` with each log clamped at -100, as PyTorch.
    input (probabilities in [0, 1]) and target: same shape (*); weight broadcasts to it."""
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
    if xd.size and bool(((xd < 0) | (xd > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.maximum(np.log(xd), -100)
        l1x = np.maximum(np.log1p(-xd), -100)
    r = -(l1x + td * (lx - l1x))
    loss = record(r.astype(xd.dtype, copy=False), _BinaryCrossEntropyBackward, (x, t), save=(x, t))
    if weight is not None:
        _tensor(weight, "binary_cross_entropy", "weight", 3)
        loss = loss * weight.expand(np.broadcast_shapes(td.shape, weight._data.shape))
    return _reduce(loss, red)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable formula:
    ``w ((1 - t) x - (1 + (pos_weight - 1) t) log(sigmoid(x)))``. input and target: same shape (*);
    weight broadcasts to it, pos_weight broadcasts along the last (class) dim."""
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
    return _reduce(loss, red)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` elementwise (targets y in {1, -1}). input and target: same shape (*)."""
    _float(input, "soft_margin_loss")
    _tensor(target, "soft_margin_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    return _reduce(-_logsigmoid(input * target), red)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-label one-versus-all logistic loss, averaged over the C classes. input, target: (N, C)
    or (C); weight: (C); 'none' gives (N)."""
    _float(input, "multilabel_soft_margin_loss")
    _tensor(target, "multilabel_soft_margin_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    loss = -(target * _logsigmoid(input) + (1 - target) * _logsigmoid(-input))
    if weight is not None:
        loss = loss * _tensor(weight, "multilabel_soft_margin_loss", "weight", 3)
    cd = input.ndim - 1
    loss = loss.sum(cd) / input.shape[cd]
    return _reduce(loss, red)


# --------------------------------------------------------------------------- class-index targets
_AR: dict = {}
_ONES: dict = {}
# fast path: shift each row by the global maximum instead of its own (a full reduction is several
# times cheaper than a per-row one); valid while every row keeps a sum of exps well above underflow,
# i.e. no row maximum lies more than ~28 below the global one; otherwise shift row by row
_SHIFT_OK = 2.0 ** -40


def _arange(m: int, xp):
    if xp is np:
        a = _AR.get(m)
        if a is None:
            if len(_AR) > 32:
                _AR.clear()
            a = _AR[m] = np.arange(m)
        return a
    return xp.arange(m)


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


def _class_layout(input: Tensor, target: Tensor, op: str):
    """Validates class-index targets; returns (x2 (M, C) array, t2 (M,) int64 array, C, layout,
    moved shape) with layout 0 for an unbatched (C) input, 1 for (N, C), 2 for (N, C, d1, ...)."""
    xd = input._data
    td = target._data
    tk = td.dtype
    if tk != np.int64:
        if tk == np.uint8:
            td = td.astype(np.int64)
        else:
            raise RuntimeError(f"{op}(): expected target dtype to be Long or Byte, but got "
                               f"{scalar_name(from_np(tk))}")
    nd = xd.ndim
    if nd == 2:
        n = xd.shape[0]
        if td.ndim != 1:
            raise RuntimeError(f"{op}(): 0D or 1D target tensor expected, multi-target not supported "
                               f"(got target of shape {list(td.shape)})")
        if td.shape[0] != n:
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({td.shape[0]}).")
        return xd, td, xd.shape[1], 1, None
    if nd == 1:
        if td.ndim > 1 or (td.ndim == 1 and td.shape[0] != 1):
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {td.shape[0]}"
                             if td.ndim == 1 else
                             f"{op}(): a 1-D (unbatched) input expects a 0-D target, got {list(td.shape)}")
        c = xd.shape[0]
        return xd.reshape(1, c), td.reshape(1), c, 0, None
    if nd == 0:
        raise RuntimeError(f"{op}(): input must have at least 1 dimension (the class dim), got a 0-D tensor")
    n, c = xd.shape[0], xd.shape[1]
    if td.ndim == 0 or td.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size "
                         f"({td.shape[0] if td.ndim else 0}).")
    want = (n,) + xd.shape[2:]
    if td.shape != want:
        raise RuntimeError(f"{op}(): expected target size {list(want)}, got {list(td.shape)} "
                           f"(input size {list(xd.shape)})")
    moved = np.moveaxis(xd, 1, -1)
    return moved.reshape(-1, c), td.reshape(-1), c, 2, moved.shape


def _targets(t2, c: int, ignore_index: int):
    """(safe targets, mask of counted entries or None): ignored entries point at class 0;
    IndexError naming the first out-of-range target."""
    if t2.size and t2.view(np.uint64).max() < c:  # negatives wrap to huge values
        if 0 <= ignore_index < c:
            mask = t2 != ignore_index
            if not bool(mask.all()):
                return t2, mask
        return t2, None
    if not t2.size:
        return t2, None
    mask = t2 != ignore_index
    bad = mask & ((t2 < 0) | (t2 >= c))
    if bool(bad.any()):
        raise IndexError(f"Target {int(t2[bad][0])} is out of bounds.")
    return np.where(mask, t2, 0), mask


def _class_weight(weight, c: int, dt, op: str):
    if weight is None:
        return None
    _tensor(weight, op, "weight", 3)
    w = weight._data
    if w.shape != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but "
                           f"got weight tensor of shape: {list(w.shape)}")
    return w if w.dtype == dt else w.astype(dt)


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


class _SavedSoftmaxBackward(Node):
    """Makes the saved softmax p (M, C) a differentiable function of the cross_entropy input again
    (for create_graph), without keeping the input: dx = p (g - sum(g p)), back in input layout."""

    __slots__ = ("p", "owner")
    _saved = ("p",)

    def backward(self, g):
        p = self.p
        if p is FREED:
            raise RuntimeError(_FREED_MSG)
        if g.__class__ is Tensor:
            pt = _wrap(p)
            pt.requires_grad = True
            pt.grad_fn = self
            return (_unlayout(pt * (g - (g * pt).sum(1, keepdim=True)), self.owner),)
        t = g * p
        t -= p * t.sum(axis=1, keepdims=True)
        return (_unlayout(t, self.owner),)

    def name(self) -> str:
        return "SoftmaxBackward0"


class _CrossEntropyBackward(Node):
    """Saves the shifted exps e and their row sums s (its own arrays; softmax p = e / s);
    dx = (p - one_hot) w[t] / denominator, plus the label smoothing term (eps / C) (sum(w) p - w)."""

    __slots__ = ("e", "s", "t", "wt", "mask", "w", "ls", "red", "denom", "ncls", "layout", "moved")
    _saved = ("e", "s")

    def backward(self, g):
        e = self.e
        if e is FREED:
            raise RuntimeError(_FREED_MSG)
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

    def name(self) -> str:
        return "NllLossBackward0"


class _NllLossBackward(Node):
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

    def name(self) -> str:
        return "NllLossBackward0"


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
        if mask is not None:
            sm *= mask
        rows = (1.0 - ls) * rows + (ls / c) * sm
    return rows


def _float_input(input, op: str):
    if input.__class__ is not Tensor:
        _tensor(input, op, "input", 1)
    k = input._data.dtype.kind
    if k != "f":
        if k == "V":
            return input.float()
        raise NotImplementedError(f"\"{op}\" not implemented for '{scalar_name(input.dtype)}'")
    return input


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
    input = _float_input(input, "cross_entropy")
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
            with np.errstate(all="ignore"):
                mx = x2.max(axis=1, keepdims=True)
                mx = xp.where(xp.isfinite(mx), mx, 0)
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
        node = _new(_CrossEntropyBackward)
        node.next = (edge(input),)
        node.e = e
        node.s = s
        node.t = t
        node.wt = wt
        node.mask = mask
        node.w = w
        node.ls = float(label_smoothing)
        node.red = red
        node.denom = denom
        node.ncls = c
        node.layout = lay
        node.moved = moved
        out.requires_grad = True
        out.grad_fn = node
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


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: ``-w[t] input[n, t]``.

    input: (N, C), (N, C, d1, ...) or unbatched (C); target (int64 class indices): (N), (N, d1, ...)
    or 0-d; weight: (C). 'mean' divides by the summed weights of the targets that are not
    ``ignore_index``.
    """
    input = _float_input(input, "nll_loss")
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
    if wt is not None:
        rows *= wt
    r, denom = _finish(rows, wt, red, target._data.shape, m)
    out = _wrap(r)
    if input.requires_grad and _state.grad_enabled:
        node = _new(_NllLossBackward)
        node.next = (edge(input),)
        node.t = t
        node.wt = wt
        node.red = red
        node.denom = denom
        node.ncls = c
        node.layout = lay
        node.moved = moved
        node.dt = dt
        node.m = m
        out.requires_grad = True
        out.grad_fn = node
    return out


# --------------------------------------------------------------------------- distribution losses
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target (log(target) - input)`` with input as log-probabilities
    (``exp(target) (target - input)`` when ``log_target``). Same shape (*); 'batchmean' divides the
    sum by the batch size (input.size(0))."""
    _float(input, "kl_div")
    _tensor(target, "kl_div", "target", 2)
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


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(input) - target input`` (log_input) or
    ``input - target log(input + eps)``; ``full`` adds the Stirling term for target > 1."""
    _float(input, "poisson_nll_loss")
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
        td = target.detach()
        st = td * td.log() - td + 0.5 * (2 * math.pi * td).log()
        loss = loss + E.where(td > 1, st, 0.0)
    return _reduce(loss, red)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 (log(var) + (input - target)^2 / var)`` (+ 0.5 log(2 pi)
    when ``full``). var: input's shape, input's shape without the last dim, or one dim of size 1
    (homoscedastic), or a float; clamped at ``eps`` (the gradient passes through the clamp)."""
    _float(input, "gaussian_nll_loss")
    _tensor(target, "gaussian_nll_loss", "target", 2)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _wrap(xp_of(input._data).full(input._data.shape, var, input._data.dtype))
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


# --------------------------------------------------------------------------- margin losses
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``; the three tensors have the same number of dims."""
    for i, (a, n) in enumerate(((input1, "input1"), (input2, "input2"), (target, "target"))):
        _tensor(a, "margin_ranking_loss", n, i + 1)
    red = _reduction(reduction, size_average, reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), red)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1. input and target: same shape (*)."""
    _float(input, "hinge_embedding_loss")
    _tensor(target, "hinge_embedding_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    zero = input.detach() * 0
    marg = E.where(target != 1, (margin - input).clamp_min(0), zero)
    same = E.where(target != -1, input, zero)
    return _reduce(marg + same, red)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1.
    input1, input2: (N, D) with target (N), or (D) with a 0-d target."""
    _float(input1, "cosine_embedding_loss", "input1", 1)
    _float(input2, "cosine_embedding_loss", "input2", 2)
    _tensor(target, "cosine_embedding_loss", "target", 3)
    red = _reduction(reduction, size_average, reduce)
    tnd = target.ndim
    if tnd == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if tnd == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if tnd > 1:
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported (got {tnd}D)")
    eps = 1e-12
    dim = input1.ndim - 1
    prod = (input1 * input2).sum(dim)
    m1 = (input1 * input1).sum(dim) + eps
    m2 = (input2 * input2).sum(dim) + eps
    cos = prod / (m1 * m2).sqrt()
    zero = cos.detach() * 0
    pos = E.where(target == 1, 1 - cos, zero)
    neg = E.where(target == -1, (cos - margin).clamp_min(0), zero)
    return _reduce(pos + neg, red)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    return (x1 - x2 + eps).norm(p, -1)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with d the p-norm distance of ``x1 - x2 + eps`` over the
    last dim; ``swap`` uses min(d(a, n), d(p, n)). Inputs: (N, D) or (D), all the same number of dims."""
    for i, (a, n) in enumerate(((anchor, "anchor"), (positive, "positive"), (negative, "negative"))):
        _float(a, "triplet_margin_loss", n, i + 1)
    red = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same "
                           f"number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), red)


def _gather_target(input: Tensor, t2, cd: int) -> Tensor:
    """input's entries at the target classes (keeping the class dim), differentiably."""
    idx = _wrap(t2.reshape(-1, 1) if cd == 1 else t2.reshape(1))
    return input.gather(cd, idx)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss ``sum_{i != y} max(0, margin - x[y] + x[i])^p w[y] / C``.
    input: (N, C) or (C); target: (N) or 0-d class indices; weight: (C); 'none' gives (N)."""
    _float(input, "multi_margin_loss")
    _tensor(target, "multi_margin_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.ndim > 2:
        raise RuntimeError(f"multi_margin_loss(): expected input of 1 or 2 dims, got {list(input.shape)}")
    x2, t2, c, lay, _ = _class_layout(input, target, "multi_margin_loss")
    try:
        t, _mask = _targets(t2, c, -(2 ** 63))
    except IndexError as e:
        raise RuntimeError(f"multi_margin_loss(): target out of range ({e})") from None
    cd = input.ndim - 1
    xy = _gather_target(input, t, cd)
    terms = (margin - xy + input).clamp_min(0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        w = _class_weight(weight, c, x2.dtype, "multi_margin_loss")
        wy = w[t]
        terms = terms * _wrap(wy.reshape(-1, 1) if cd == 1 else wy)
    oh = np.zeros((t.shape[0], c), x2.dtype) if x2.__class__ is _ndarray else xp_of(x2).zeros((t.shape[0], c),
                                                                                             x2.dtype)
    oh[_arange(t.shape[0], xp_of(oh)), t] = 1
    keep = _wrap((1 - oh) if cd == 1 else (1 - oh).reshape(c))
    loss = (terms * keep).sum(cd) / c
    return _reduce(loss, red)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss ``sum_{j, i} max(0, 1 - (x[y_j] - x[i])) / C`` over the target classes
    y_j (read up to the first -1) and the non-target classes i. input, target: (N, C) or (C)."""
    _float(input, "multilabel_margin_loss")
    _tensor(target, "multilabel_margin_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    xd, td = input._data, target._data
    if td.dtype != np.int64:
        raise RuntimeError(f"multilabel_margin_loss(): expected target dtype to be Long, but got "
                           f"{scalar_name(target.dtype)}")
    if xd.ndim not in (1, 2) or td.shape != xd.shape:
        raise RuntimeError(f"multilabel_margin_loss(): inconsistent target size: {list(td.shape)} for input "
                           f"of size: {list(xd.shape)}")
    unbatched = xd.ndim == 1
    x = input.reshape(1, -1) if unbatched else input
    t = td.reshape(1, -1) if unbatched else td
    n, c = t.shape
    xp = xp_of(xd)
    valid = xp.cumprod(t != -1, axis=1).astype(bool)  # targets end at the first -1
    if bool((valid & ((t < 0) | (t >= c))).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    ts = xp.where(valid, t, 0)
    is_t = xp.zeros((n, c), bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_t[rows[valid], ts[valid]] = True
    xy = x.gather(1, _wrap(ts))  # (N, C): x at the j-th target
    pair = (1 - xy.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, j, i)
    keep = (valid[:, :, None] & ~is_t[:, None, :]).astype(xd.dtype)
    loss = (pair * _wrap(keep)).sum((1, 2)) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, red)
