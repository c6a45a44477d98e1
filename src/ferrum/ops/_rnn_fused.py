"""What the fused recurrent layers share, and the fused GRU layer: one autograd node per layer and
direction (an _OutputNode per output, as split() does), raw NumPy forward and a hand-written
backward over the time steps. The LSTM is in ``_rnn_lstm.py``; ``ops/rnn.py`` decides when they run.

Layout. A layer works on packed rows: ``x`` (N, I) holds the rows of step 0, then step 1, ...
(``batch_sizes[t]`` rows at step t, non-increasing); a padded (T, B, I) batch is the case of
``batch_sizes = [B] * T``. The recurrent state is a full-batch array updated in place on its first
``batch_sizes[t]`` rows, so a sequence that ended keeps its last state untouched: after the loop
the state *is* h_n, for every length, in both directions (the reverse direction runs t from T-1
down to 0 and its batch grows, rows joining with their h0 still in place).

Speed (numbers in ``_mm``, ``_rnn_lstm`` and benchmarks/lstm_parts.py):
- GEMMs go through cblas ``?gemm`` (``_mm``/``gemm_ptr``): beta=1 accumulates into a buffer,
  which NumPy cannot, operands are used as they lie (plain or transposed), and on two threads the
  product is cut in two halves run by two Python threads with a one-thread BLAS each;
- the GRU's input projection for all steps is one GEMM into the gate buffer (N, 3H); every
  per-step buffer is preallocated for all steps, and the large ones come from ``_im2col``'s buffer
  cache (``_Buffers``), so no step allocates and no call page-faults on fresh memory.

Once differentiable: the raw backward cannot itself be differentiated. Under ``create_graph``
(double backward, gradgradcheck) the node recomputes its layer with the differentiable cell
composition of ``ops/rnn.py`` from the saved inputs and differentiates that, so higher-order
gradients are still right (at the composition's speed).
"""

from __future__ import annotations

import numpy as np

from .. import _threads
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, _output_node, edge, version_error
from . import _im2col, _parallel

__all__ = ["gru_layer"]


def _sigmoid_(a: np.ndarray) -> None:
    """In-place logistic sigmoid as 0.5 * tanh(a / 2) + 0.5: NumPy's tanh is vectorised; scipy's
    expit ufunc is not (measured, 32x512 float32 block: expit 52 us, this 27 us)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _operand(a: np.ndarray):
    """(transposed flag, leading dimension) of a 2-D operand for row-major cblas, or None when
    neither ``a`` nor ``a.T`` has unit-stride rows."""
    it = a.itemsize
    if a.strides[1] == it or a.shape[1] <= 1:
        return 0, max(a.strides[0] // it, a.shape[1], 1)
    if a.strides[0] == it or a.shape[0] <= 1:
        return 1, max(a.strides[1] // it, a.shape[0], 1)
    return None


def _mm(c: np.ndarray, a: np.ndarray, b: np.ndarray, beta: float = 0.0) -> np.ndarray:
    """``c = a @ b + beta * c`` into ``c`` (rows with unit stride, e.g. a row block of a buffer);
    ``a``/``b`` plain or transposed views. cblas ``?gemm`` (beta=1 accumulates, which NumPy cannot),
    cut in two halves run by two Python threads with a one-thread BLAS each when more than one
    thread is allowed (:func:`gemm_ptr`). Measured on the loaded 2-core machine (wall us,
    best/median of 15, the per-step 32x256 @ 256x1024 float32 product): OpenBLAS on one thread
    315/402, on its own two threads 495/2249 (its workers spin when a core is taken), two halves
    187/191; torch 2 threads 473/2785 (benchmarks/lstm_parts.py)."""
    M, K = a.shape
    N = b.shape[1]
    if not M or not N:
        return c
    oa, ob = _operand(a), _operand(b)
    if (not _im2col.gemm_ok(c, a, b) or oa is None or ob is None or c.strides[1] != c.itemsize
            or not K):
        if beta:
            c += a @ b
        else:
            np.matmul(a, b, out=c)
        return c
    ta, lda = oa
    tb, ldb = ob
    it = c.itemsize
    gemm_ptr(c.dtype, ta, tb, M, N, K, a.ctypes.data, lda, b.ctypes.data, ldb, beta, c.ctypes.data,
             max(c.strides[0] // it, N))
    return c


def gemm_ptr(dt, ta: int, tb: int, M: int, N: int, K: int, pa: int, lda: int, pb: int, ldb: int,
             beta: float, pc: int, ldc: int) -> None:
    """Row-major cblas ``C = op(A) op(B) + beta C`` on raw addresses (the loops' hot path: taking
    ``.ctypes.data`` costs 1.8 us an array), split in two halves along the larger of M and N on
    two Python threads with a one-thread BLAS each (see :func:`_mm`) when more than one thread is
    allowed and the product is large enough. The per-step products of the bench lstm (32x256 @
    256x1024, 8M multiply-adds) stay whole on OpenBLAS's own threads: on the quiet machine the split
    made the whole step slower (bench.py -w lstm, 2 threads: 37-39 ms split at 1M multiply-adds,
    26.5-26.8 ms with the 16M threshold; torch 11.6-14.2), the thread hand-offs of 96 products a step
    costing more than the halves gain."""
    if _im2col._LOCAL[0] is None or _threads_one() or M * N * K < (1 << 24) or max(M, N) < 64:
        _im2col._gemm(dt, ta, tb, M, N, K, pa, lda, pb, ldb, beta, pc, ldc)
        return
    it = dt.itemsize
    if N >= M:  # split the columns of B and C
        bstep = ldb * it if tb else it

        def run(lo, hi):
            _im2col._gemm(dt, ta, tb, M, hi - lo, K, pa, lda, pb + lo * bstep, ldb, beta, pc + lo * it, ldc)
        n = N
    else:  # split the rows of A and C
        astep = it if ta else lda * it

        def run(lo, hi):
            _im2col._gemm(dt, ta, tb, hi - lo, N, K, pa + lo * astep, lda, pb, ldb, beta, pc + lo * ldc * it,
                          ldc)
        n = M
    _parallel.halves(lambda lo, hi: _im2col._one_blas_thread(run, lo, hi), n, M * N * K, 1)


def _threads_one() -> bool:
    return _threads._state["n"] == 1


class _Buffers(dict):
    """Arrays taken from the buffer cache of ``_im2col`` (``take``/``give``), handed back when the
    holder dies: after the backward (the engine releases the node's saved values), or at once
    when no graph is recorded. Buffers this size (MBs) page-fault on every step when freshly
    allocated (../shared/bench/README.md: about 1.4 us per 4 KiB page, 2.8 ms for the 8 MB a
    step of the bench workload's layer keeps for its backward)."""

    def take(self, key: str, shape: tuple, dtype) -> np.ndarray:
        a = self[key] = _im2col.take("rnn" + key, shape, dtype)
        return a

    def __del__(self):
        give = getattr(_im2col, "give", None)
        if give is None:  # interpreter shutdown: the module is already torn down, nothing to return to
            return
        for k, a in self.items():
            if a is not None:
                give("rnn" + k, a)


def _colsum(g: np.ndarray) -> np.ndarray:
    return np.ones(g.shape[0], g.dtype) @ g if g.shape[0] else np.zeros(g.shape[1], g.dtype)


class _FusedRNNBackward(Node):
    """One layer and direction of a fused LSTM/GRU (outputs: out rows, h_n[, c_n])."""

    def backward(self, gs):
        if any(g.__class__ is Tensor for g in gs):
            return self._graph_backward(gs)
        saved = self.unreleased(self.saved)
        for t, v in zip(self.unreleased(self.inputs), self.versions):
            if t is not None and t._version[0] != v:
                raise version_error(t, v, self)
        return self.raw_backward(gs, saved)

    def _graph_backward(self, gs):
        # create_graph: differentiate the composed (twice-differentiable) layer instead
        from .. import autograd
        from . import rnn as _rnn
        ins = self.unreleased(self.inputs)
        for t, v in zip(ins, self.versions):
            if t is not None and t._version[0] != v:
                raise version_error(t, v, self)
        outs = _rnn._composed_layer(self.mode, ins, self.batch_sizes, self.reverse)
        pairs = [(o, g) for o, g in zip(outs, gs) if g is not None and o is not None]
        want = [t for t in ins if t is not None and t.requires_grad]
        grads = iter(autograd.grad([o for o, _ in pairs], want, [g for _, g in pairs], create_graph=True,
                                   allow_unused=True))
        res = []
        for t in ins:
            res.append(next(grads) if t is not None and t.requires_grad else None)
        return tuple(res)


def _attach(node_cls, outs, inputs, mode, batch_sizes, reverse, saved):
    """Records one parent node with an _OutputNode per output (as split() does)."""
    parent = node_cls.__new__(node_cls)
    parent.next = tuple(None if t is None else edge(t) for t in inputs)
    parent.n_outputs = len(outs)
    parent.inputs = inputs
    parent.versions = tuple(0 if t is None else t._version[0] for t in inputs)
    parent.mode = mode
    parent.batch_sizes = batch_sizes
    parent.reverse = reverse
    parent.saved = saved
    for i, o in enumerate(outs):
        o.requires_grad = True
        o.grad_fn = _output_node(parent, i)


def _steps(batch_sizes: np.ndarray, reverse: bool):
    """(rows, first row) of each step in the direction's order; empty steps (a zero batch) are left
    out, so that no GEMM is called with a zero dimension."""
    offs = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    ts = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    return [(int(batch_sizes[t]), int(offs[t])) for t in ts if batch_sizes[t] > 0]


# ----------------------------------------------------------------------------------------------- GRU
class _GRUBackward(_FusedRNNBackward, name="MkldnnRnnLayerBackward0"):
    _saved = ("saved", "inputs")

    def raw_backward(self, gs, s):
        gout, ghn = gs
        x, h0, w_ih, w_hh, b_ih, b_hh = self.inputs
        GI, GH, HP = s["GI"], s["GH"], s["HP"]
        N, H3 = GI.shape
        H = H3 // 3
        B = h0._data.shape[0]
        dt = GI.dtype
        dh = np.zeros((B, H), dt) if ghn is None else np.array(ghn, dt)
        work = _Buffers()
        dGI = work.take("dGI", (N, H3), dt)
        dGH = work.take("dGH", (N, H3), dt)
        tmp = np.empty((B, H), dt)
        tmp2 = np.empty((B, H), dt)
        whh = w_hh._data
        for b, r0 in reversed(_steps(self.batch_sizes, self.reverse)):
            r1 = r0 + b
            dht = dh[:b]
            if gout is not None:
                dht += gout[r0:r1]
            gi = GI[r0:r1]
            r, z, n = gi[:, :H], gi[:, H:2 * H], gi[:, 2 * H:]
            hn = GH[r0:r1, 2 * H:]
            hp = HP[r0:r1]
            di, dhh = dGI[r0:r1], dGH[r0:r1]
            t1, t2 = tmp[:b], tmp2[:b]
            # dn_pre = dh * (1-z) * (1-n^2)
            np.subtract(1, z, out=t1)
            t1 *= dht
            np.multiply(n, n, out=t2)
            np.subtract(1, t2, out=t2)
            np.multiply(t1, t2, out=di[:, 2 * H:])
            np.multiply(di[:, 2 * H:], r, out=dhh[:, 2 * H:])
            # dr_pre = dn_pre * hn * r(1-r)
            np.multiply(r, r, out=t1)
            np.subtract(r, t1, out=t1)
            np.multiply(di[:, 2 * H:], hn, out=dhh[:, :H])
            dhh[:, :H] *= t1
            # dz_pre = dh * (h_prev - n) * z(1-z)
            np.multiply(z, z, out=t1)
            np.subtract(z, t1, out=t1)
            np.subtract(hp, n, out=t2)
            t2 *= dht
            np.multiply(t2, t1, out=dhh[:, H:2 * H])
            di[:, :2 * H] = dhh[:, :2 * H]
            # dh_prev = dh * z + dGH @ W_hh
            np.multiply(dht, z, out=t1)
            _mm(dht, dhh, whh)
            dht += t1
        nx = self.next
        wih = w_ih._data
        gx = _mm(np.empty((N, wih.shape[1]), dt), dGI, wih) if nx[0] is not None else None
        gwih = _mm(np.empty(wih.shape, dt), dGI.T, x._data) if nx[2] is not None else None
        gwhh = _mm(np.empty((H3, H), dt), dGH.T, HP) if nx[3] is not None else None
        gbih = _colsum(dGI) if nx[4] is not None else None
        gbhh = _colsum(dGH) if nx[5] is not None else None
        return (gx, dh, gwih, gwhh, gbih, gbhh)


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, batch_sizes: np.ndarray,
              reverse: bool):
    """One GRU layer and direction over packed rows x (N, I); h0 (B, H) -> (out (N, H), h_n (B, H))."""
    xd, wih, whh = x._data, w_ih._data, w_hh._data
    dt = xd.dtype
    N = xd.shape[0]
    H3 = wih.shape[0]
    H = H3 // 3
    B = h0._data.shape[0]
    from .. import _state
    need = _state.grad_enabled and any(t is not None and t.requires_grad
                                       for t in (x, h0, w_ih, w_hh, b_ih, b_hh))
    whhT = np.ascontiguousarray(whh.T)  # NN GEMMs (see _mm)
    buf = _Buffers()
    GI = buf.take("GI", (N, H3), dt)
    _mm(GI, xd, wih.T)
    if b_ih is not None:
        GI += b_ih._data
    GH = buf.take("GH", (N, H3), dt)
    out = np.empty((N, H), dt)
    HP = buf.take("HP", (N, H), dt) if need else None
    h = np.array(h0._data, dt)
    tmp = np.empty((B, H), dt)
    for b, r0 in _steps(batch_sizes, reverse):
        r1 = r0 + b
        hp = h[:b]
        if need:
            HP[r0:r1] = hp
        gh = GH[r0:r1]
        _mm(gh, hp, whhT)
        if b_hh is not None:
            gh += b_hh._data
        gi = GI[r0:r1]
        rz = gi[:, :2 * H]
        rz += gh[:, :2 * H]
        _sigmoid_(rz)
        n = gi[:, 2 * H:]
        t1 = tmp[:b]
        np.multiply(gi[:, :H], gh[:, 2 * H:], out=t1)
        n += t1
        np.tanh(n, out=n)
        ht = out[r0:r1]
        np.subtract(hp, n, out=ht)
        ht *= gi[:, H:2 * H]
        ht += n
        hp[...] = ht
    o_t, h_t = _wrap(out), _wrap(h)
    if need:
        _attach(_GRUBackward, (o_t, h_t), (x, h0, w_ih, w_hh, b_ih, b_hh), "GRU", batch_sizes, reverse,
                buf)
    return o_t, h_t
