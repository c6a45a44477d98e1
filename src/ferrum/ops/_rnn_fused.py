"""The fused LSTM and GRU layers: one autograd node per layer and direction, raw NumPy forward and a
hand-written backward over the time steps. ``ops/rnn.py`` decides when they run.

Layout. A layer works on packed rows: ``x`` (N, I) holds the rows of step 0, then step 1, ...
(``batch_sizes[t]`` rows at step t, non-increasing); a padded (T, B, I) batch is the case of
``batch_sizes = [B] * T``. The recurrent state is a full-batch (B, H) array updated in place on
its first ``batch_sizes[t]`` rows, so a sequence that ended keeps its last state untouched: after
the loop the state *is* h_n, for every length, in both directions (the reverse direction runs t
from T-1 down to 0 and its batch grows, rows joining with their h0 still in place).

Speed (the bench workload ``lstm``: LSTM(64, 256), batch 32, seq 32; benchmarks/lstm_parts.py):
- the input projection of all steps is one GEMM into the gate buffer (N, 4H), biases folded in;
  each step then adds ``h @ W_hh^T`` into its rows with cblas ``?gemm`` beta=1 (NumPy has no
  beta), so there is no per-step temporary of gate size;
- gates are activated in place (scipy's ``expit`` ufunc for the sigmoids, ``np.tanh``) on column
  slices of the step's rows; every per-step buffer is preallocated for all steps (gates, cell,
  tanh(cell), previous h and c for the backward), so no per-step allocation reaches glibc's
  128 KiB mmap threshold;
- the backward keeps the gate gradients of every step in one (N, 4H) buffer, so the weight
  gradients are three GEMMs after the loop (``dG^T x``, ``dG^T h_prev``, ``dG^T (o*tanh c)`` for
  the projection) and the input gradient one (``dG W_ih``); only ``dG_t W_hh`` stays in the loop.

Once differentiable: the raw backward cannot itself be differentiated. Under ``create_graph``
(double backward, gradgradcheck) the node recomputes its layer with the differentiable cell
composition of ``ops/rnn.py`` from the saved inputs and differentiates that, so higher-order
gradients are still right (at the composition's speed).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.function import Node, _output_node, edge, version_error
from . import _im2col

__all__ = ["lstm_layer", "gru_layer"]

def _sigmoid_(a: np.ndarray) -> None:
    """In-place logistic sigmoid as 0.5 * tanh(a / 2) + 0.5: NumPy's tanh is vectorised; scipy's
    expit ufunc is not (measured, 32x512 float32 block: expit 52 us, this 27 us)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _addmm(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """``c += a @ b`` (c a row block of a C-contiguous buffer; a, b C-contiguous): cblas gemm
    with beta=1 where available, else a product and an add. Both operands are kept
    non-transposed: OpenBLAS's NN kernel is the fastest layout for these shapes (measured, one
    thread, 32x256 @ 256x1024 float32: NN 158 us, NT 221 us)."""
    M, K = a.shape
    if not M:
        return
    if _im2col.gemm_ok(c, a, b) and a.flags.c_contiguous and b.flags.c_contiguous:
        N = b.shape[1]
        _im2col._gemm(c.dtype, 0, 0, M, N, K, a.ctypes.data, K, b.ctypes.data, N, 1.0, c.ctypes.data,
                      c.strides[0] // c.itemsize)
        return
    c += a @ b


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
        for k, a in self.items():
            if a is not None:
                _im2col.give("rnn" + k, a)


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
    offs = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    ts = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    return [(int(batch_sizes[t]), int(offs[t])) for t in ts]


# ----------------------------------------------------------------------------------------------- LSTM
class _LSTMBackward(_FusedRNNBackward, name="MkldnnRnnLayerBackward0"):
    _saved = ("saved", "inputs")

    def raw_backward(self, gs, s):
        gout, ghn, gcn = gs
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = self.inputs
        buf, M = s
        G, TC, HP, CP = buf["G"], buf["TC"], buf["HP"], buf["CP"]
        wih, whh = w_ih._data, w_hh._data
        whr = None if w_hr is None else w_hr._data
        N, H4 = G.shape
        H = H4 // 4
        B, P = h0._data.shape
        dt = G.dtype
        dh = np.zeros((B, P), dt) if ghn is None else np.array(ghn, dt)
        dc = np.zeros((B, H), dt) if gcn is None else np.array(gcn, dt)
        work = _Buffers()
        dG = work.take("dG", (N, H4), dt)
        DH = work.take("DH", (N, P), dt) if whr is not None else None
        tmp = np.empty((B, H), dt)
        tmp2 = np.empty((B, H), dt)
        dmb = np.empty((B, H), dt) if whr is not None else None
        for b, r0 in reversed(_steps(self.batch_sizes, self.reverse)):
            r1 = r0 + b
            dht = dh[:b]
            if gout is not None:
                dht += gout[r0:r1]
            if whr is not None:
                DH[r0:r1] = dht
                dm = dmb[:b]
                np.matmul(dht, whr, out=dm)
            else:
                dm = dht
            g = G[r0:r1]
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            d = dG[r0:r1]
            di, df, dgg, do = d[:, :H], d[:, H:2 * H], d[:, 2 * H:3 * H], d[:, 3 * H:]
            tc = TC[r0:r1]
            t1, t2 = tmp[:b], tmp2[:b]
            # do = dm * tanh(c) * o(1-o)
            np.multiply(dm, tc, out=do)
            np.multiply(o, o, out=t1)
            np.subtract(o, t1, out=t1)
            do *= t1
            # dc += dm * o * (1 - tanh(c)^2)
            np.multiply(tc, tc, out=t1)
            np.subtract(1, t1, out=t1)
            t1 *= o
            t1 *= dm
            dct = dc[:b]
            dct += t1
            # di = dc * g * i(1-i); df = dc * c_prev * f(1-f); dg = dc * i * (1-g^2)
            np.multiply(i, i, out=t1)
            np.subtract(i, t1, out=t1)
            np.multiply(dct, gg, out=di)
            di *= t1
            np.multiply(f, f, out=t1)
            np.subtract(f, t1, out=t1)
            np.multiply(dct, CP[r0:r1], out=df)
            df *= t1
            np.multiply(gg, gg, out=t2)
            np.subtract(1, t2, out=t2)
            t2 *= i
            np.multiply(dct, t2, out=dgg)
            dct *= f  # the cell gradient carried to step t-1
            np.matmul(d, whh, out=dht)  # the hidden gradient carried to step t-1
        n = self.next
        gx = dG @ wih if n[0] is not None else None
        gwih = dG.T @ x._data if n[3] is not None else None
        gwhh = dG.T @ HP if n[4] is not None else None
        gb = _colsum(dG) if (n[5] is not None or n[6] is not None) else None
        gwhr = DH.T @ M if whr is not None and n[7] is not None else None
        gbi = gb if n[5] is not None else None
        gbh = None if n[6] is None else (gb if gbi is None else gb.copy())
        return (gx, dh, dc, gwih, gwhh, gbi, gbh, gwhr)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, w_hr,
               batch_sizes: np.ndarray, reverse: bool):
    """One LSTM layer and direction over packed rows x (N, I); h0 (B, P), c0 (B, H) with
    B = batch_sizes[0] -> (out (N, P), h_n (B, P), c_n (B, H)). Raw arrays in, Tensors out."""
    xd, wih, whh = x._data, w_ih._data, w_hh._data
    dt = xd.dtype
    N = xd.shape[0]
    H4 = wih.shape[0]
    H = H4 // 4
    B, P = h0._data.shape
    from .. import _state
    need = _state.grad_enabled and any(t is not None and t.requires_grad
                                       for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr))
    # The i, f, o rows of the weights and bias are halved (exact: a power of two), so that one tanh
    # over a step's whole gate block gives tanh(g) and tanh(x/2) for the sigmoid gates, which two
    # in-place passes turn into sigmoid(x) = 0.5 * tanh(x/2) + 0.5. Transposed copies (one pass
    # each per call) let every GEMM run in OpenBLAS's fastest (NN) layout.
    scale = np.full(H4, 0.5, dt)
    scale[2 * H:3 * H] = 1.0
    wihT = np.multiply(wih.T, scale, dtype=dt)
    whhT = np.multiply(whh.T, scale, dtype=dt)
    buf = _Buffers()
    G = buf.take("G", (N, H4), dt)
    np.matmul(xd, wihT, out=G)
    if b_ih is not None:
        G += (b_ih._data + b_hh._data) * scale
    out = np.empty((N, P), dt)
    TC = buf.take("TC", (N, H), dt)
    whr = None if w_hr is None else w_hr._data
    whrT = None if whr is None else np.ascontiguousarray(whr.T)
    M = buf.take("M", (N, H), dt) if whr is not None else out
    HP = buf.take("HP", (N, P), dt) if need else None
    CP = buf.take("CP", (N, H), dt) if need else None
    h = np.array(h0._data, dt)
    c = np.array(c0._data, dt)
    tmp = np.empty((B, H), dt)
    for b, r0 in _steps(batch_sizes, reverse):
        r1 = r0 + b
        hp, cp = h[:b], c[:b]
        if need:
            HP[r0:r1] = hp
            CP[r0:r1] = cp
        g = G[r0:r1]
        _addmm(g, hp, whhT)
        np.tanh(g, out=g)
        sg = g[:, :2 * H]
        sg *= 0.5
        sg += 0.5
        sg = g[:, 3 * H:]
        sg *= 0.5
        sg += 0.5
        cp *= g[:, H:2 * H]  # the state becomes c_t in place (c_{t-1} was saved above)
        t1 = tmp[:b]
        np.multiply(g[:, :H], g[:, 2 * H:3 * H], out=t1)
        cp += t1
        tc = TC[r0:r1]
        np.tanh(cp, out=tc)
        m = M[r0:r1]
        np.multiply(g[:, 3 * H:], tc, out=m)
        if whr is not None:
            np.matmul(m, whrT, out=out[r0:r1])
        hp[...] = out[r0:r1]
    o_t, h_t, c_t = _wrap(out), _wrap(h), _wrap(c)
    if need:
        inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        _attach(_LSTMBackward, (o_t, h_t, c_t), inputs, "LSTM", batch_sizes, reverse,
                (buf, M))
    return o_t, h_t, c_t


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
            np.matmul(dhh, whh, out=dht)
            dht += t1
        nx = self.next
        gx = dGI @ w_ih._data if nx[0] is not None else None
        gwih = dGI.T @ x._data if nx[2] is not None else None
        gwhh = dGH.T @ HP if nx[3] is not None else None
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
    buf = _Buffers()
    GI = buf.take("GI", (N, H3), dt)
    np.matmul(xd, wih.T, out=GI)
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
        np.matmul(hp, whh.T, out=gh)
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
