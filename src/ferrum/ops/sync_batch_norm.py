"""``sync_batch_norm``: batch norm in training with the statistics of the whole batch across the
ranks of a process group (``nn.SyncBatchNorm``), and the differentiable all-reduce it rests on.

Each rank holds a shard (N_r, C, *) of the global batch. The statistics are taken in two passes,
each one all-reduce of a (C,) vector (plus the element count in the first):

    mean = sum_r sum(x_r) / M,    var = sum_r sum((x_r - mean)^2) / M,    M = sum_r N_r * prod(*)

The two-pass form is exact where E[x^2] - E[x]^2 would cancel (an offset far larger than the
spread), and it costs one more all-reduce of C values than gathering (sum, sum of squares, count),
a few microseconds against the passes over the input.

The backward needs no formula of its own: the statistics are composed of ferrum ops and
:func:`all_reduce_sum`, whose backward is the all-reduce of the incoming gradient (if every rank
holds ``y = sum_r x_r`` and the total loss is ``sum_r L_r``, then ``dL/dx_r = sum_r' dL_r'/dy``).
So ``x.grad`` on each rank is the gradient of the sum of all ranks' losses, exactly what one
process computes for the concatenated batch, and double backward works (each derivative of the
all-reduce is again an all-reduce, issued in the same order on every rank because every rank runs
the same graph). ``weight.grad`` and ``bias.grad`` are each rank's own share; DistributedDataParallel
averages them as it averages every parameter's gradient.

float16/bfloat16 inputs are computed in float32 and cast back (as ``batch_norm``'s composed path).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record
from .join import cat
from .batch_norm import _FAST, _bshape, _check_vec, _update_running, affine_tail

__all__ = ["all_reduce_sum", "sync_batch_norm"]


class _AllReduceSumBackward(Node, name="AllReduceSumBackward"):
    def backward_t(self, g):
        return (all_reduce_sum(g, self.group),)


def all_reduce_sum(t: Tensor, group: Any = None) -> Tensor:
    """The sum of ``t`` over the ranks of ``group`` (a new tensor; every rank must call it, in the
    same order as its other collectives). Differentiable: the backward all-reduces the gradient."""
    from .. import distributed as dist
    out = np.array(t._data, copy=True, order="C")
    dist.all_reduce(_wrap(out), group=group)
    return record(out, _AllReduceSumBackward, (t,), group=group)


def sync_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                    running_mean: Tensor | None, running_var: Tensor | None, momentum: float, eps: float,
                    group: Any = None) -> Tensor:
    """Batch norm of ``input`` (N, C, *) in training with the mean and (biased) variance of the
    batch of all ranks of ``group``; ``running_mean``/``running_var`` (C,) are updated in place
    with ``momentum`` and the unbiased global variance. ``weight``/``bias`` (C,) may be None.

    Raises ValueError when the whole batch holds one value per channel, as ``batch_norm``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"sync_batch_norm(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_vec(name, t, c)
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"sync_batch_norm\" not implemented for {input.dtype}")
    low = input._data.dtype not in _FAST
    x = input.float() if low else input
    bs = _bshape(x.ndim, c)
    axes = (0,) + tuple(range(2, x.ndim))
    local = x.numel() // c if c else 0
    # the element count travels in the first all-reduce, after the C sums
    head = x.sum(axes)
    packed = cat([head, _wrap(np.array([local], dtype=x._data.dtype))])
    total = all_reduce_sum(packed, group)
    m = int(round(float(total._data[c])))
    if m == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{input.size()!r} on one rank and one value per channel in the whole batch")
    mean = total[:c] / max(m, 1)
    xc = x - mean.reshape(bs)
    var = all_reduce_sum((xc * xc).sum(axes), group) / max(m, 1)
    y = xc * (var + eps).rsqrt().reshape(bs)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, mean._data.astype(np.float64),
                        var._data.astype(np.float64), m, momentum)
    return affine_tail(y, weight, bias, bs, input, low)
