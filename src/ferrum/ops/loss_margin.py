"""The margin, ranking and embedding losses of ``torch.nn.functional``: soft_margin_loss,
multilabel_soft_margin_loss, margin_ranking_loss, hinge_embedding_loss, cosine_embedding_loss,
triplet_margin_loss, multi_margin_loss and multilabel_margin_loss.

All are composed from differentiable ferrum ops. Hinges are taken with ``_hinge`` (gradient 0
exactly at the margin, as PyTorch's kernels), and excluded terms (the target class itself in the
multi-class hinges) are selected away rather than multiplied by 0, so that an infinite logit does
not turn the loss into NaN. ``ops/loss.py`` re-exports every name.
"""

from __future__ import annotations

import numpy as np

from .._dtype import scalar_name
from .._tensor import Tensor, _wrap
from . import elementwise as E
from ._common import xp_of
from .loss_common import (_arange, _class_layout, _class_weight, _float, _hinge, _logsigmoid, _reduce,
                          _reduction, _targets, _tensor)
from ._autocast import autocast_op

__all__ = ["soft_margin_loss", "multilabel_soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "multi_margin_loss", "multilabel_margin_loss"]


# --------------------------------------------------------------------------- logistic margin losses
@autocast_op("soft_margin_loss")
def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` elementwise (targets y in {1, -1}). input: (*); target broadcasts to
    input's shape. The result has input's dtype (a target of another dtype is cast to it), as PyTorch.

    Kept leniency: the target may require grad and gets its gradient (PyTorch raises; no valid
    PyTorch program sees a different result)."""
    _float(input, "soft_margin_loss")
    _tensor(target, "soft_margin_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    xs, ts = input._data.shape, target._data.shape
    if ts != xs:
        try:
            ok = np.broadcast_shapes(xs, ts) == xs
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"soft_margin_loss(): target of shape {list(ts)} does not broadcast to the "
                               f"input's shape {list(xs)}")
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
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


# --------------------------------------------------------------------------- margin losses
@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``; the three tensors have the same number of dims."""
    for i, (a, n) in enumerate(((input1, "input1"), (input2, "input2"), (target, "target"))):
        _tensor(a, "margin_ranking_loss", n, i + 1)
    red = _reduction(reduction, size_average, reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension but got "
                           f"sizes: input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    # margin is a float in PyTorch's signature: integer inputs give a floating loss
    return _reduce((-target * (input1 - input2) + float(margin)).clamp_min(0), red)


@autocast_op("hinge_embedding_loss")
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1. input and target: same shape (*).

    Integer inputs work as in PyTorch: the result keeps the input's integer dtype, with ``margin``
    truncated to it ('mean' then raises, as the mean of an integer tensor does)."""
    _tensor(input, "hinge_embedding_loss", "input", 1)
    _tensor(target, "hinge_embedding_loss", "target", 2)
    red = _reduction(reduction, size_average, reduce)
    k = input._data.dtype.kind
    if k == "b":
        raise RuntimeError("hinge_embedding_loss(): expected a numeric input, got Bool")
    if k in "iu":
        margin = int(margin)
    zero = 0 if k in "iu" else 0.0  # a scalar, not input * 0 (which is NaN at an infinite input)
    marg = E.where(target != 1, (margin - input).clamp_min(0), zero)
    same = E.where(target != -1, input, zero)
    return _reduce(marg + same, red)


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1.
    input1, input2: (N, D) with target (N), or (D) with a 0-d target. Integer inputs give a result
    of the promoted floating dtype, as PyTorch."""
    _tensor(input1, "cosine_embedding_loss", "input1", 1)
    _tensor(input2, "cosine_embedding_loss", "input2", 2)
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
    pos = E.where(target == 1, 1 - cos, 0.0)
    neg = E.where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(pos + neg, red)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    return (x1 - x2 + eps).norm(p, -1)


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with d the p-norm distance of ``x1 - x2 + eps`` over the
    last dim; ``swap`` uses min(d(a, n), d(p, n)). Inputs: (N, D) or (D), all the same number of dims."""
    for i, (a, n) in enumerate(((anchor, "anchor"), (positive, "positive"), (negative, "negative"))):
        _tensor(a, "triplet_margin_loss", n, i + 1)  # integer inputs give a floating loss, as PyTorch
    red = _reduction(reduction, size_average, reduce)
    return _triplet(anchor, positive, negative, margin, swap, red,
                    lambda x1, x2: _pairwise_distance(x1, x2, p, eps))


def _triplet(anchor, positive, negative, margin: float, swap: bool, red, distance) -> Tensor:
    """The triplet losses' common part: ``max(d(a, p) - d(a, n) + margin, 0)``, ``swap`` using
    ``min(d(a, n), d(p, n))``, reduced."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not (anchor.ndim == positive.ndim == negative.ndim):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same "
                           f"number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), red)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """The triplet loss with any ``distance_function(x1, x2) -> distances`` (default: the
    pairwise 2-norm distance, as ``triplet_margin_loss``); the inputs' shapes are the distance's
    business."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if distance_function is None:
        def distance_function(x1, x2):
            return _pairwise_distance(x1, x2, 2.0, 1e-6)
    return _triplet(anchor, positive, negative, margin, swap, _reduction(reduction, None, None),
                    distance_function)


def _gather_target(input: Tensor, t2, cd: int) -> Tensor:
    """input's entries at the target classes (keeping the class dim), differentiably."""
    idx = _wrap(t2.reshape(-1, 1) if cd == 1 else t2.reshape(1))
    return input.gather(cd, idx)


@autocast_op("multi_margin_loss")
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
    terms = _hinge(margin - xy + input)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        w = _class_weight(weight, c, x2.dtype, "multi_margin_loss")
        wy = w[t]
        terms = terms * _wrap(wy.reshape(-1, 1) if cd == 1 else wy)
    xp = xp_of(x2)
    is_t = xp.zeros((t.shape[0], c), bool)
    is_t[_arange(t.shape[0], xp), t] = True
    # the target's own term is selected away (margin - x_y + x_y is NaN for an infinite x_y)
    loss = E.where(_wrap(is_t if cd == 1 else is_t.reshape(c)), 0.0, terms).sum(cd) / c
    return _reduce(loss, red)


@autocast_op("multilabel_margin_loss")
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
    pair = _hinge(1 - xy.unsqueeze(2) + x.unsqueeze(1))  # (N, j, i)
    keep = valid[:, :, None] & ~is_t[:, None, :]
    loss = E.where(_wrap(keep), pair, 0.0).sum((1, 2)) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, red)
