"""The fused LSTM layer (one layer, one direction; ``_rnn_fused`` has the shared node, GEMM helper
and buffer cache, and the GRU). Raw NumPy forward and hand-written backward over the time steps.

Feature-major layout. Everything inside the loop is kept transposed: the state is h^T (P, B) and
c^T (H, B), and each step's gates are one contiguous (4H, b) block, so every gate is a contiguous
(H, b) slab. Three measured reasons (one thread, float32, the bench workload's LSTM(64, 256) with
batch 32; benchmarks/lstm_parts.py):
- the per-step product is ``W (4H, K) @ [x_t; h; 1]^T (K, b)``: OpenBLAS's NN kernel runs it in
  147 us against 177 us for ``h @ W^T`` into (b, 4H) rows, and W needs no transposed copy;
- input projection, recurrent product and both biases are ONE GEMM per step: the weights are
  concatenated once per call into A = [W_ih | W_hh | b_ih + b_hh] and the step's operand is the
  state buffer XH = [x_t^T; h^T; ones] (K = I + P + 1 rows), whose h rows the cell update writes;
- a NumPy ufunc on a contiguous (32, 256) slab takes 1.9 us against 4.0 us on the same slab cut
  from the rows of a (32, 1024) block (in-place scaling of 3/4 of a block: 8.3 us against 2.8 us
  for the whole block), and a step runs about 12 of them forward and 12 backward.
The i, f and o rows of A are halved (exact), so one tanh over the whole gate block gives tanh(g)
and tanh(z/2) for the sigmoid gates, which two in-place passes per slab turn into
sigmoid(z) = 0.5 * tanh(z/2) + 0.5 (NumPy's tanh is vectorised; scipy's expit ufunc is not:
52 us against 27 us on a 32x512 block).

Backward: per step the gate gradient dG_t (4H, b) feeds two GEMMs, ``dW += dG_t @ XS_t^T`` (XS_t
the step's saved [x; h_prev; 1] columns: the gradients of W_ih, W_hh and the bias at once) and
``[dx_t^T; dh^T] = W^T dG_t`` (the unscaled weights). Only the input and the previous state
need the per-step results, so no (N, 4H) gradient buffer is kept.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from . import _im2col
from ._rnn_fused import _attach, _Buffers, _FusedRNNBackward, _mm, _steps, gemm_ptr

__all__ = ["lstm_layer"]


class _LSTMBackward(_FusedRNNBackward, name="MkldnnRnnLayerBackward0"):
    _saved = ("saved", "inputs")

    def raw_backward(self, gs, s):
        gout, ghn, gcn = gs
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = self.inputs
        buf, I, P, H, K1 = s
        G, TC, CP, XS = buf["G"], buf["TC"], buf["CP"], buf["XS"]
        M = buf.get("M")
        wih, whh = w_ih._data, w_hh._data
        whr = None if w_hr is None else w_hr._data
        dt = G.dtype
        H4 = 4 * H
        N = x._data.shape[0]
        B = h0._data.shape[0]
        nx = self.next
        dhT = np.zeros((P, B), dt)
        if ghn is not None:
            dhT[...] = ghn.T
        dcT = np.zeros((H, B), dt)
        if gcn is not None:
            dcT[...] = gcn.T
        work = _Buffers()
        Wu = work.take("Wu", (H4, I + P), dt)  # the unscaled weights, for W^T dG
        Wu[:, :I] = wih
        Wu[:, I:] = whh
        dW = np.zeros((H4, K1), dt)
        gx = np.empty((N, I), dt) if nx[0] is not None else None
        dWhr = np.zeros((P, H), dt) if whr is not None else None
        dgb = work.take("dG", (H4 * B,), dt)
        der_b = work.take("der", (H4 * B,), dt)
        t1b = np.empty(H * B, dt)
        dmb = np.empty(H * B, dt) if whr is not None else None
        dxb = np.empty(I * B, dt) if gx is not None else None
        raw = _im2col.gemm_ok(dW, dgb, XS, Wu, dhT)
        if raw:  # raw addresses for the three per-step GEMMs
            it = dt.itemsize
            pd, pXS, pdW, pWu, pdh = dgb.ctypes.data, XS.ctypes.data, dW.ctypes.data, Wu.ctypes.data, \
                dhT.ctypes.data
            pdx = dxb.ctypes.data if dxb is not None else 0
        for b, r0 in reversed(_steps(self.batch_sizes, self.reverse)):
            r1 = r0 + b
            dht = dhT[:, :b]
            if gout is not None:
                dht += gout[r0:r1].T
            if whr is not None:
                # h = W_hr m: dW_hr += dh m^T, dm = W_hr^T dh
                m = M[H * r0:H * r1].reshape(H, b)
                _mm(dWhr, dht, m.T, 1.0)
                dm = _mm(dmb[:H * b].reshape(H, b), whr.T, dht)
            else:
                dm = dht
            g = G[H4 * r0:H4 * r1].reshape(H4, b)
            i, f, gg, o = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
            d = dgb[:H4 * b].reshape(H4, b)
            di, df, dgg, do = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
            tc = TC[H * r0:H * r1].reshape(H, b)
            t1 = t1b[:H * b].reshape(H, b)
            np.multiply(dm, tc, out=do)
            # dc += dm * o * (1 - tanh(c)^2)
            np.multiply(tc, tc, out=t1)
            np.subtract(1, t1, out=t1)
            t1 *= o
            t1 *= dm
            dct = dcT[:, :b]
            dct += t1
            np.multiply(dct, gg, out=di)
            np.multiply(dct, CP[H * r0:H * r1].reshape(H, b), out=df)
            np.multiply(dct, i, out=dgg)
            der = der_b[:H4 * b].reshape(H4, b)
            np.multiply(g, g, out=der)
            np.subtract(g, der, out=der)  # s(1-s): right for i, f, o
            dg_ = der[2 * H:3 * H]
            np.multiply(gg, gg, out=dg_)
            np.subtract(1, dg_, out=dg_)  # 1 - g^2 for the cell candidate
            d *= der
            dct *= f  # the cell gradient carried to the previous step
            if raw:
                gemm_ptr(dt, 0, 1, H4, K1, b, pd, b, pXS + K1 * r0 * it, b, 1.0, pdW, K1)
                gemm_ptr(dt, 1, 0, P, b, H4, pWu + I * it, I + P, pd, b, 0.0, pdh, B)
            else:
                _mm(dW, d, XS[K1 * r0:K1 * r1].reshape(K1, b).T, 1.0)
                _mm(dht, Wu[:, I:].T, d)  # the hidden gradient carried to the previous step
            if gx is not None:
                dxt = dxb[:I * b].reshape(I, b)
                if raw:
                    gemm_ptr(dt, 1, 0, I, b, H4, pWu, I + P, pd, b, 0.0, pdx, b)
                else:
                    _mm(dxt, Wu[:, :I].T, d)
                gx[r0:r1] = dxt.T
        gwih = np.ascontiguousarray(dW[:, :I]) if nx[3] is not None else None
        gwhh = np.ascontiguousarray(dW[:, I:I + P]) if nx[4] is not None else None
        gbi = gbh = None
        if b_ih is not None:
            gb = dW[:, I + P]
            gbi = np.array(gb) if nx[5] is not None else None
            gbh = np.array(gb) if nx[6] is not None else None
        return (gx, np.ascontiguousarray(dhT.T), np.ascontiguousarray(dcT.T), gwih, gwhh, gbi, gbh, dWhr)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, w_hr,
               batch_sizes: np.ndarray, reverse: bool):
    """One LSTM layer and direction over packed rows x (N, I); h0 (B, P), c0 (B, H) with
    B = batch_sizes[0] -> (out (N, P), h_n (B, P), c_n (B, H)). Tensors in and out; the node is
    recorded when grad mode is on and an input requires grad."""
    from .. import _state
    xd, wih, whh = x._data, w_ih._data, w_hh._data
    dt = xd.dtype
    N, I = xd.shape
    H4 = wih.shape[0]
    H = H4 // 4
    B, P = h0._data.shape
    bias = b_ih is not None
    K1 = I + P + (1 if bias else 0)
    need = _state.grad_enabled and any(t is not None and t.requires_grad
                                       for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr))
    buf = _Buffers()
    # A = [W_ih | W_hh | b] with the i, f, o rows halved (see the module docstring)
    scale = np.full((H4, 1), 0.5, dt)
    scale[2 * H:3 * H] = 1.0
    # rows of A padded to a multiple of 16 elements: an odd leading dimension slows OpenBLAS
    # (measured, 1024x321 @ 321x32: 222 us with lda 321, 200 us with lda 336)
    A = buf.take("A", (H4, -(-K1 // 16) * 16), dt)[:, :K1]
    np.multiply(wih, scale, out=A[:, :I])
    np.multiply(whh, scale, out=A[:, I:I + P])
    if bias:
        np.add(b_ih._data, b_hh._data, out=A[:, I + P])
        A[:, I + P] *= scale[:, 0]
    # the step operand [x_t^T; h^T; 1] (K1, B): its h rows are the hidden state
    XH = np.empty((K1, B), dt)
    XH[I:I + P] = h0._data.T
    if bias:
        XH[I + P] = 1.0
    hT = XH[I:I + P]
    cT = np.array(c0._data.T, dt, order="C")
    G = buf.take("G", (H4 * N,), dt)
    TC = buf.take("TC", (H * N,), dt)
    whr = None if w_hr is None else w_hr._data
    M = buf.take("M", (H * N,), dt) if whr is not None else None
    CP = buf.take("CP", (H * N,), dt) if need else None
    XS = buf.take("XS", (K1 * N,), dt) if need else None
    out = np.empty((N, P), dt)
    t1b = np.empty(H * B, dt)
    # the step's GEMM on raw addresses (taking .ctypes.data costs 1.8 us an array)
    raw = _im2col.gemm_ok(A, XH, G)
    if raw:
        it = dt.itemsize
        pA, ldA, pXH, pG = A.ctypes.data, A.strides[0] // it, XH.ctypes.data, G.ctypes.data
    for b, r0 in _steps(batch_sizes, reverse):
        r1 = r0 + b
        XH[:I, :b] = xd[r0:r1].T
        xh = XH[:, :b]
        cp = cT[:, :b]
        if need:
            XS[K1 * r0:K1 * r1].reshape(K1, b)[...] = xh
            CP[H * r0:H * r1].reshape(H, b)[...] = cp
        g = G[H4 * r0:H4 * r1].reshape(H4, b)
        if raw:
            gemm_ptr(dt, 0, 0, H4, b, K1, pA, ldA, pXH, B, 0.0, pG + H4 * r0 * it, b)
        else:
            _mm(g, A, xh)
        np.tanh(g, out=g)
        s = g[:2 * H]
        s *= 0.5
        s += 0.5
        s = g[3 * H:]
        s *= 0.5
        s += 0.5
        cp *= g[H:2 * H]  # the state becomes c_t in place (c_{t-1} was saved above)
        t1 = t1b[:H * b].reshape(H, b)
        np.multiply(g[:H], g[2 * H:3 * H], out=t1)
        cp += t1
        tc = TC[H * r0:H * r1].reshape(H, b)
        np.tanh(cp, out=tc)
        hp = hT[:, :b]
        if whr is not None:
            m = M[H * r0:H * r1].reshape(H, b)
            np.multiply(g[3 * H:], tc, out=m)
            _mm(hp, whr, m)
        else:
            np.multiply(g[3 * H:], tc, out=hp)
        out[r0:r1] = hp.T
    _im2col.give("rnnA", buf.pop("A"))  # only the forward needs it
    o_t, h_t, c_t = _wrap(out), _wrap(np.ascontiguousarray(hT.T)), _wrap(np.ascontiguousarray(cT.T))
    if need:
        inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        _attach(_LSTMBackward, (o_t, h_t, c_t), inputs, "LSTM", batch_sizes, reverse, (buf, I, P, H, K1))
    return o_t, h_t, c_t
