"""``F.ctc_loss``: the Connectionist Temporal Classification loss (Graves et al., 2006).

The forward runs the alpha recursion in log space over the blank-extended targets
``l' = (blank, l1, blank, l2, ..., blank)`` of the whole batch at once: one (N, 2S+1) NumPy step
per time step (S the longest target), samples shorter in time or in target read their own end
cell. The per-sample loss is ``-log p(target | input)``.

The backward is torch's: the beta recursion runs backward over time, and the gradient with
respect to ``log_probs[t, n, c]`` is ``exp(log_probs) - sum_{s: l'_s = c} alpha_t(s) beta_t(s) /
(p y_t(c))`` for t < input_length (zero after), times the incoming gradient. The first term is
the one torch includes: it makes the gradient correct *through* a log_softmax (whose backward
removes it), which is how CTC is always fed; the gradient is then not the plain derivative with
respect to free log_probs, exactly as in torch. With ``zero_infinity``, impossible samples (infinite
loss) get zero loss and zero gradient.

Once differentiable, as torch's: differentiating the gradient again raises RuntimeError
("derivative for aten::_ctc_loss_backward is not implemented"), at the same point torch does (when the
second backward reaches it, not when ``create_graph=True`` builds it).

Differences from PyTorch: a target outside [0, C) raises IndexError (torch's CPU kernel reads out
of bounds); float16/bfloat16 log_probs raise NotImplementedError, as torch's CPU kernel does.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _dtype as _dt
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


class _CtcLossBackwardBackward(Node, name="CtcLossBackwardBackward0"):
    def backward_t(self, g, *saved):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


class CtcLossBackward0(Node, name="CtcLossBackward0"):
    def backward_t(self, g, log_probs):
        lp = log_probs._data
        grad = _ctc_grad(lp if lp.ndim == 3 else lp[:, None, :], self.lp_ext, self.ext, self.alpha, self.nll,
                         self.in_len, self.tg_len, self.blank, self.zero_infinity, np.asarray(g._data))
        grad = grad.reshape(lp.shape)
        # the gradient of the gradient is not implemented (as torch): a node that says so
        return (record(grad, _CtcLossBackwardBackward, (g, log_probs)),)


def _lengths(v, name: str, batch: int) -> np.ndarray:
    if isinstance(v, Tensor):
        if v.is_floating_point() or v.is_complex() or v.dtype == _dt.bool:
            raise RuntimeError(f"{name} must be integral")
        a = np.asarray(v._data).reshape(-1).astype(np.int64)
    elif isinstance(v, (list, tuple)):
        if not all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in v):
            raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints or Tensor")
        a = np.asarray(v, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints or Tensor, "
                        f"not {type(v).__name__}")
    if a.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return a


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise RuntimeError(msg + " (while checking arguments for ctc_loss_allocate_outputs)")


def _extended(targets: np.ndarray, tg_len: np.ndarray, concatenated: bool, blank: int) -> np.ndarray:
    """(N, 2S+1) blank-extended targets; cells past a sample's own 2*S_b+1 hold the blank."""
    n = tg_len.shape[0]
    smax = int(tg_len.max()) if n else 0
    lab = np.full((n, smax), blank, dtype=np.int64)
    if concatenated:
        offs = np.concatenate([[0], np.cumsum(tg_len)])
        for b in range(n):
            lab[b, :tg_len[b]] = targets[offs[b]:offs[b + 1]]
    else:
        cols = np.arange(smax)
        lab = np.where(cols[None, :] < tg_len[:, None], targets[:, :smax], blank)
    ext = np.full((n, 2 * smax + 1), blank, dtype=np.int64)
    ext[:, 1::2] = lab
    return ext


def _skip_add(ext: np.ndarray, blank: int, dtype) -> np.ndarray:
    """(N, L): 0 where cell s may be entered from s-2 (a label other than the one two cells
    before), -inf elsewhere; added to the shifted column instead of a select per step."""
    ok = np.zeros(ext.shape, dtype=bool)
    ok[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return np.where(ok, 0, _NEG_INF).astype(dtype)


def _alpha(lp_ext: np.ndarray, skip_add: np.ndarray, L_b: np.ndarray) -> np.ndarray:
    """(T, N, L+2) log alphas, the first two columns a -inf margin so that the shifted operands of
    each step are views (no concatenation): 16 -> 11 ms at T=200, N=32, L=81 (float32) against
    the concatenating form; what is left is logaddexp's exp/log1p, ~25 us per step. Cells past a
    sample's time or target length hold values nobody reads (their betas are -inf)."""
    T, N, L = lp_ext.shape
    A = np.full((T, N, L + 2), _NEG_INF, dtype=lp_ext.dtype)
    if T == 0:
        return A
    A[0, :, 2] = lp_ext[0, :, 0]
    if L > 1:
        A[0, :, 3] = np.where(L_b > 1, lp_ext[0, :, 1], _NEG_INF)
    tmp = np.empty((N, L), dtype=lp_ext.dtype)
    tmp2 = np.empty((N, L), dtype=lp_ext.dtype)
    for t in range(1, T):
        prev = A[t - 1]
        np.add(prev[:, :-2], skip_add, out=tmp2)
        np.logaddexp(prev[:, 2:], prev[:, 1:-1], out=tmp)
        np.logaddexp(tmp, tmp2, out=tmp)
        np.add(tmp, lp_ext[t], out=A[t, :, 2:])
    return A


def _nll(alpha: np.ndarray, in_len: np.ndarray, L_b: np.ndarray) -> np.ndarray:
    N = in_len.shape[0]
    out = np.empty(N, dtype=alpha.dtype)
    for b in range(N):
        t = in_len[b] - 1
        if t < 0:   # no input: probability 1 for an empty target, 0 otherwise
            out[b] = -0.0 if L_b[b] == 1 else np.inf
            continue
        last = alpha[t, b, L_b[b] + 1]          # cell L_b - 1, after the two-column margin
        out[b] = -(np.logaddexp(last, alpha[t, b, L_b[b]]) if L_b[b] > 1 else last)
    return out


def _beta(lp_ext: np.ndarray, ext: np.ndarray, in_len: np.ndarray, L_b: np.ndarray, blank: int) -> np.ndarray:
    """(T, N, L) log betas (torch's convention: beta_t(s) includes the emission at t). A sample's
    row stays -inf until its last frame, where it is seeded; cells past its target stay -inf,
    since the recursion only moves to lower s."""
    T, N, L = lp_ext.shape
    dt = lp_ext.dtype
    skip_next = np.full((N, L), _NEG_INF, dtype=dt)        # may s jump to s+2
    skip_next[:, :-2] = _skip_add(ext, blank, dt)[:, 2:]
    Bp = np.full((T + 1, N, L + 2), _NEG_INF, dtype=dt)     # two -inf columns at the end
    tmp = np.empty((N, L), dtype=dt)
    tmp2 = np.empty((N, L), dtype=dt)
    last_t = in_len - 1
    rows = np.arange(N)
    for t in range(T - 1, -1, -1):
        nxt = Bp[t + 1]
        np.add(nxt[:, 2:], skip_next, out=tmp2)
        np.logaddexp(nxt[:, :-2], nxt[:, 1:-1], out=tmp)
        np.logaddexp(tmp, tmp2, out=tmp)
        np.add(tmp, lp_ext[t], out=Bp[t, :, :-2])
        sel = rows[last_t == t]
        if sel.size:
            Bp[t, sel, :] = _NEG_INF
            Bp[t, sel, L_b[sel] - 1] = lp_ext[t, sel, L_b[sel] - 1]
            two = sel[L_b[sel] > 1]
            Bp[t, two, L_b[two] - 2] = lp_ext[t, two, L_b[two] - 2]
    return Bp[:T, :, :L]


def _ctc_grad(lp, lp_ext, ext, alpha, nll, in_len, tg_len, blank, zero_infinity, g) -> np.ndarray:
    """d loss / d log_probs as torch defines it (see the module docstring); lp (T, N, C)."""
    T, N, L = lp_ext.shape
    C = lp.shape[2]
    beta = _beta(lp_ext, ext, in_len, 2 * tg_len + 1, blank)
    with np.errstate(invalid="ignore", over="ignore"):
        occ = np.exp(alpha[:, :, 2:] + beta + nll[None, :, None] - lp_ext)     # occupancy per cell, <= 1
        # the sum over the cells of each class as one batched product with the one-hot of l':
        # with the view-based beta: 25 -> 16 ms for the whole gradient at T=200, N=32, L=81, C=40
        # against a loop of scatters over the cells and a concatenating beta
        onehot = (ext[:, :, None] == np.arange(C)).astype(lp.dtype)          # (N, L, C)
        per_class = np.matmul(occ.transpose(1, 0, 2), onehot).transpose(1, 0, 2)
        grad = np.exp(lp) - per_class
        grad *= g.reshape(1, -1, 1) if g.ndim else g
    tmask = np.arange(T)[:, None] < in_len[None, :]
    impossible = nll == np.inf
    if zero_infinity:
        tmask = tmask & ~impossible[None, :]
    elif impossible.any():
        grad[:, impossible] = np.nan     # torch: exp(-inf + inf) for every class of such a sample
    return np.where(tmask[:, :, None], grad, 0).astype(lp.dtype, copy=False)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """The CTC loss. log_probs (T, N, C) or (T, C) (log-softmax outputs), targets (N, S) padded or
    (sum(target_lengths),) concatenated (unbatched: (S,)), input_lengths / target_lengths (N,)
    (tensors or tuples of ints). reduction "none" -> (N,), "sum", or "mean" (each loss divided by
    its target length, then averaged over the batch)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss(): log_probs and targets must be Tensors")
    batched = log_probs.ndim == 3
    if not batched and log_probs.ndim != 2:
        raise RuntimeError(f"ctc_loss: expected log_probs of 2 or 3 dimensions (T, C) or (T, N, C), "
                           f"got {log_probs.ndim}-dimensional tensor of shape {list(log_probs.shape)}")
    if log_probs.dtype not in (_dt.float32, _dt.float64):    # as torch's CPU kernel
        name = _dt.scalar_name(log_probs.dtype)
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{name}\'')
    lp = log_probs._data if batched else log_probs._data[:, None, :]
    tg = np.asarray(targets._data)
    if not batched:   # the targets keep their shape: (S,) reads as concatenated, as in torch
        if isinstance(input_lengths, Tensor) and input_lengths.ndim == 0:
            input_lengths = input_lengths.reshape(1)
        if isinstance(target_lengths, Tensor) and target_lengths.ndim == 0:
            target_lengths = target_lengths.reshape(1)
    T, N, C = lp.shape
    in_len = _lengths(input_lengths, "input_lengths", N)
    tg_len = _lengths(target_lengths, "target_lengths", N)
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    tg = tg.astype(np.int64)
    concatenated = tg.ndim == 1
    if concatenated:
        total = int(tg_len.sum())
        _check(tg.shape[0] == total, f"Expected tensor to have size {total} at dimension 0, but got size "
                                     f"{tg.shape[0]} for argument #2 'targets'")
    else:
        _check(tg.ndim == 2, f"Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor for "
                             "argument #2 'targets'")
        _check(tg.shape[0] == N, f"Expected tensor to have size {N} at dimension 0, but got size "
                                 f"{tg.shape[0]} for argument #2 'targets'")
    for b in range(N):
        _check(in_len[b] >= 0, f"Expected input_lengths to have value at least 0, but got value {in_len[b]}")
        _check(in_len[b] <= T, f"Expected input_lengths to have value at most {T}, but got value {in_len[b]}")
        _check(tg_len[b] >= 0, f"Expected target_lengths to have value at least 0, but got value {tg_len[b]}")
    if not concatenated and N:
        smax = int(tg_len.max())
        _check(tg.shape[1] >= smax, f"Expected tensor to have size at least {smax} at dimension 1, but got "
                                    f"size {tg.shape[1]} for argument #2 'targets'")
    ext = _extended(tg, tg_len, concatenated, blank)
    if N and ((ext < 0) | (ext >= C)).any():   # torch reads out of bounds there; ferrum refuses
        raise IndexError(f"ctc_loss: target index out of range for {C} classes")
    L_b = 2 * tg_len + 1
    lp_ext = np.take_along_axis(lp, np.broadcast_to(ext[None], (T,) + ext.shape), axis=2)
    alpha = _alpha(lp_ext, _skip_add(ext, blank, lp_ext.dtype), L_b)
    nll = _nll(alpha, in_len, L_b)
    out = np.where(nll == np.inf, 0, nll).astype(lp.dtype, copy=False) if zero_infinity else nll
    res = record(out, CtcLossBackward0, (log_probs,), save=(log_probs,), lp_ext=lp_ext, ext=ext, alpha=alpha,
                 nll=nll, in_len=in_len, tg_len=tg_len, blank=blank, zero_infinity=zero_infinity)
    if reduction == "mean":
        lens = _wrap(np.maximum(tg_len, 1).astype(lp.dtype))
        res = (res / lens).mean()
    elif reduction == "sum":
        res = res.sum()
    elif not batched:
        res = res.reshape(())
    return res
