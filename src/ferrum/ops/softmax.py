"""softmax and log_softmax: fused, numerically stable primitives (max-shifted).

A 0-d input is a row of one element (so NaN and inf give NaN, as PyTorch); an empty input gives
an empty result. bfloat16 is computed in float32 and rounded back, as PyTorch accumulates
reduced-precision softmax in float.

softmax over the last dim of a C-contiguous float32/float64 array (attention's case) shifts by the
array's maximum instead of each row's: NumPy's row-wise max over short rows costs a loop dispatch
per row (358 us for 4096 rows of 64, against 12 us for the maximum of the whole array, one thread;
the forward on gpt's (16, 4, 64, 64) causal scores: 264 against 674 us, best of 200), and while that
maximum is below 80 - ln(row length) (no exp or row sum can overflow) it does not shift at all,
which saves the subtraction's pass (gpt's masked scores, after a 16 MB cache flush, medians of 100,
two runs: 347 and 314 us against 352 and 346 us shifted). Any shift gives the same softmax; the
row's exps stay normal floats as long as the row's maximum is within about 16 of the shift, which
the row sums (a GEMV with ones) prove: a row whose sum falls below e^-12 (a maximum more than 12 +
ln(row length) below the shift) is recomputed with its own maximum, as is everything when the
maximum is not finite (NaN, +-inf: the exact path's NaN rules). The argument a - c rounds with |a -
c| <= |a - rowmax| + 16, so an output's error stays within a few float32 ulps of the row-shifted
result (unshifted, exp(a) is rounded once). The backward is ``y (g - rowsum(g y))`` with the row
sums from ``vecdot``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _state
from .._dtype import as_dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record
from . import _parallel as _par
from ._common import canon_dim
from ._autocast import autocast_op

__all__ = ["softmax", "log_softmax", "conj", "conj_physical", "resolve_conj"]


def _prepare(input: Tensor, dim, dtype, op: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        # PyTorch's legacy implicit dim: 0 for 0-d, 1-d and 3-d inputs, else 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
    d = canon_dim(dim, input.ndim, op)
    x = input if dtype is None else input.to(as_dtype(dtype))
    if x._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"{op}\" not implemented for '{x.dtype.name.capitalize()}'")
    return x, d


_FAST = (np.dtype(np.float32), np.dtype(np.float64))
_ONES: dict = {}
_MIN_ROW_SUM = float(np.exp(-12.0))


def _ones(n: int, dt) -> np.ndarray:
    o = _ONES.get((n, dt))
    if o is None:
        o = _ONES[(n, dt)] = np.ones(n, dt)
    return o


def _softmax_last(a):
    """softmax over the last axis of a C-contiguous float32/float64 ndarray with at least one element,
    shifted by the global maximum, or not shifted at all while that is below 80 - ln(row length) (see
    the module docstring); None where that maximum is not finite."""
    c = np.max(a)
    if not np.isfinite(c):
        return None
    n = a.shape[-1]
    a2 = a.reshape(-1, n)
    z = np.empty(a.shape, a.dtype)
    z2 = z.reshape(-1, n)
    shift = None if c < 80.0 - math.log(n) else c  # unshifted, a row's sum of exps stays below e^80
    ones = _ones(n, a.dtype)

    def part(lo, hi):
        zs = z2[lo:hi]
        if shift is None:
            np.exp(a2[lo:hi], out=zs)
        else:
            np.subtract(a2[lo:hi], shift, out=zs)
            np.exp(zs, out=zs)
        s = zs @ ones
        low = s < _MIN_ROW_SUM
        if low.any():
            rows = np.flatnonzero(low)
            redo = a2[lo:hi][rows]
            # a row of only -inf is NaN, as PyTorch's (-inf - -inf), without NumPy's warning
            with np.errstate(invalid="ignore", divide="ignore"):
                redo -= redo.max(axis=1, keepdims=True)
                np.exp(redo, out=redo)
                zs[rows] = redo
                s[rows] = redo @ ones
        np.reciprocal(s, out=s)
        zs *= s[:, None]

    _par.halves(part, a2.shape[0], a.size, _par.NORM_MIN_SIZE)
    return z


def _softmax_array(a, d: int, log: bool):
    if not log and d == a.ndim - 1 and a.dtype in _FAST and a.__class__ is np.ndarray and a.size \
            and a.flags.c_contiguous:
        z = _softmax_last(a)
        if z is not None:
            return z
    if a.dtype.kind == "V":  # bfloat16
        return _softmax_array(a.astype(np.float32), d, log).astype(a.dtype)
    if a.ndim == 0:
        return _softmax_array(a.reshape(1), 0, log).reshape(())
    if a.size == 0:
        return a.copy()
    # as PyTorch, a row holding +inf or only -inf has inf - inf = NaN in it: the row is NaN
    with np.errstate(invalid="ignore", divide="ignore"):
        z = a - a.max(axis=d, keepdims=True)
        if log:
            z -= np.log(np.exp(z).sum(axis=d, keepdims=True))
            return z
        np.exp(z, out=z)
        z /= z.sum(axis=d, keepdims=True)
    return z


class _SoftmaxBackward(Node, name="SoftmaxBackward0"):
    """Saves the output y; dx = y * (g - sum(g * y)) (softmax) or g - exp(y) * sum(g) (log_softmax)."""

    __slots__ = ("y", "yver", "dim")
    _saved = ("y",)
    log = False

    def backward(self, g):
        y = self.checked_output(self.y, self.yver)
        d = self.dim
        if g.__class__ is Tensor:
            # the saved output as a Tensor whose grad_fn is this node again, so that the formula's
            # dependence on y is differentiated too (create_graph); the output's own Tensor is not
            # kept, to avoid a reference cycle
            yt = _wrap(y, version=self.yver)
            yt.requires_grad = True
            yt.grad_fn = self
            if self.log:
                return (g - yt.exp() * g.sum(d, keepdim=True),)
            return (yt * (g - (g * yt).sum(d, keepdim=True)),)
        dt = g.dtype
        if y.dtype.kind == "V":  # bfloat16: the formula in float32
            y = y.astype(np.float32)
            g = g.astype(np.float32)
        if y.ndim == 0:
            y = y.reshape(1)
            g = g.reshape(1)
            d = 0
        if self.log:
            r = g - np.exp(y) * g.sum(axis=d, keepdims=True)
        elif d == y.ndim - 1 and y.dtype in _FAST and g.dtype == y.dtype and y.size:
            # the row sums by vecdot and two passes: 203 against 355 us for the generic formula's
            # multiply-reduce-multiply-subtract on (16, 4, 64, 64) float32 (one thread, best of 200)
            n = y.shape[-1]
            y2 = y.reshape(-1, n)
            g2 = np.ascontiguousarray(g).reshape(-1, n)
            r = np.empty(y2.shape, y.dtype)

            def part(lo, hi):
                rs, ys, gs = r[lo:hi], y2[lo:hi], g2[lo:hi]
                with np.errstate(all="ignore"):  # the engine's setting, which a helper thread lacks
                    np.subtract(gs, np.vecdot(gs, ys)[:, None], out=rs)
                    rs *= ys

            _par.halves(part, y2.shape[0], y.size, _par.NORM_MIN_SIZE)
        else:
            r = g * y
            r -= y * r.sum(axis=d, keepdims=True)
        return (r.reshape(self.y.shape).astype(dt, copy=False),)


class _LogSoftmaxBackward(_SoftmaxBackward, name="LogSoftmaxBackward0"):
    __slots__ = ()
    log = True


def _op(input, dim, dtype, log: bool, op: str) -> Tensor:
    x, d = _prepare(input, dim, dtype, op)
    r = _softmax_array(x._data, d, log)
    out = _wrap(r)
    if x.requires_grad and _state.grad_enabled:
        attach(out, _LogSoftmaxBackward if log else _SoftmaxBackward, (x,), y=r, yver=out._version, dim=d)
    return out


@autocast_op("softmax")
def softmax(input: Tensor, dim: int | None = None, dtype=None, *, _stacklevel: int = 3) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed with the row maximum subtracted."""
    return _op(input, dim, dtype, False, "softmax")


@autocast_op("log_softmax")
def log_softmax(input: Tensor, dim: int | None = None, dtype=None, *, _stacklevel: int = 3) -> Tensor:
    """x - logsumexp(x) along ``dim``; stable for large logits."""
    return _op(input, dim, dtype, True, "log_softmax")


# --------------------------------------------------------------------------- complex helpers
class _ConjBackward(Node, name="ConjBackward0"):
    def backward_t(self, g):
        return (conj(g),)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (the tensor itself for real dtypes)."""
    d = input._data
    if d.dtype.kind != "c":
        return input
    return record(np.conj(d), _ConjBackward, (input,))


conj_physical = conj


def resolve_conj(input: Tensor) -> Tensor:
    return input


Tensor.softmax = lambda self, dim=None, dtype=None: softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim=None, dtype=None: log_softmax(self, dim, dtype)
Tensor.conj = conj
Tensor.conj_physical = conj
Tensor.resolve_conj = resolve_conj
Tensor.is_conj = lambda self: False

