"""Recurrent cells and layers: ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell`` (torch's
top-level functions of those names) and the multi-layer, bidirectional stack the nn.RNN/LSTM/GRU
modules run.

The cells are compositions of differentiable ferrum ops (linear, chunk, sigmoid, tanh, ...), so
every order of derivative works through them. A layer runs in one of two ways:

* **fused** (``ops/_rnn_fused.py``): LSTM and GRU in float32/float64 on the CPU: one autograd node
  per layer and direction, raw NumPy over the time steps, a hand-written backward. Its backward is
  once differentiable; under ``create_graph`` it differentiates the composed layer instead (see
  that module), so double backward and gradgradcheck still work.
* **composed**: the cells applied step by step (RNN tanh/relu, other dtypes and devices, and
  everything when the module-level switch ``FUSED`` is False, which the tests use to check the
  fused path against the composition).

Both work on packed rows (``x`` (N, I) with per-step ``batch_sizes``, see ``_rnn_fused``), which a
padded batch is a special case of.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _rnn_fused, _rnn_lstm
from .activation import relu, sigmoid, tanh
from .join import cat, stack
from .linear import linear
from .nn_misc import dropout as _dropout
from ._autocast import autocast_op, dispatch
from .. import _state

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

FUSED = True  # False: every layer runs the composed cells (tests compare the two)

_FLOAT = (np.dtype(np.float32), np.dtype(np.float64))


@autocast_op("rnn_tanh_cell")
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): input (B, I), hx (B, H) -> (B, H)."""
    return tanh(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


@autocast_op("rnn_relu_cell")
def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh): input (B, I), hx (B, H) -> (B, H)."""
    return relu(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


@autocast_op("lstm_cell")
def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: input (B, I), hx = (h (B, H), c (B, H)), w_ih (4H, I), w_hh (4H, H), gates in
    torch's order i, f, g, o -> (h', c') with c' = f*c + i*g and h' = o*tanh(c')."""
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c2 = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c2), c2


@autocast_op("gru_cell")
def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: input (B, I), hx (B, H), w_ih (3H, I), w_hh (3H, H), gates r, z, n ->
    h' = (1 - z) * n + z * h with n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))."""
    gi = linear(input, w_ih, b_ih)
    gh = linear(hx, w_hh, b_hh)
    ir, iz, in_ = gi.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = sigmoid(ir + hr)
    z = sigmoid(iz + hz)
    n = tanh(in_ + r * hn)
    return n + z * (hx - n)


# ---------------------------------------------------------------------------------------- one layer
def _composed_layer(mode: str, ins: tuple, batch_sizes: np.ndarray, reverse: bool) -> tuple:
    """One layer and direction from the cells. ``ins``: LSTM (x, h0, c0, w_ih, w_hh, b_ih, b_hh,
    w_hr), others (x, h0, w_ih, w_hh, b_ih, b_hh); x (N, I) packed rows -> (out (N, H_out), h_n[, c_n])."""
    lstm = mode == "LSTM"
    if lstm:
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = ins
    else:
        x, h0, w_ih, w_hh, b_ih, b_hh = ins
        c0 = w_hr = None
    cell = {"GRU": gru_cell, "RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell}.get(mode)
    bs = [int(b) for b in batch_sizes]
    offs = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(np.int64).tolist() if bs else []
    T = len(bs)
    outs = [None] * T

    def step(t, h, c):
        b, r0 = bs[t], offs[t]
        xt = x[r0:r0 + b]
        if lstm:
            h, c = lstm_cell(xt, (h, c), w_ih, w_hh, b_ih, b_hh)
            if w_hr is not None:
                h = linear(h, w_hr)
        else:
            h = cell(xt, h, w_ih, w_hh, b_ih, b_hh)
        outs[t] = h
        return h, c

    if not reverse:
        h, c = h0, c0
        done_h, done_c = [], []
        for t in range(T):
            b = bs[t]
            if h.shape[0] > b:  # sequences that ended at step t-1 keep their state
                done_h.append(h[b:])
                h = h[:b]
                if lstm:
                    done_c.append(c[b:])
                    c = c[:b]
            h, c = step(t, h, c)
        done_h.append(h)
        done_c.append(c)
        h_n = cat(done_h[::-1], 0) if len(done_h) > 1 else done_h[0]
        c_n = (cat(done_c[::-1], 0) if len(done_c) > 1 else done_c[0]) if lstm else None
    else:
        first = bs[-1] if T else h0.shape[0]
        h = h0[:first]
        c = c0[:first] if lstm else None
        for t in range(T - 1, -1, -1):
            b = bs[t]
            if h.shape[0] < b:  # sequences starting (from their end) at step t join with h0
                h = cat([h, h0[h.shape[0]:b]], 0)
                if lstm:
                    c = cat([c, c0[c.shape[0]:b]], 0)
            h, c = step(t, h, c)
        h_n, c_n = h, c
    if T:
        out = cat(outs, 0)
    else:
        out = x.new_zeros((0, h0.shape[1]))
    return (out, h_n, c_n) if lstm else (out, h_n)


def _fusable(mode: str, tensors) -> bool:
    if not FUSED or mode not in ("LSTM", "GRU"):
        return False
    dt = tensors[0]._data.dtype
    if dt not in _FLOAT:
        return False
    return all(t is None or (t._data.__class__ is np.ndarray and t._data.dtype is dt) for t in tensors)


def _layer(mode: str, ins: tuple, batch_sizes: np.ndarray, reverse: bool) -> tuple:
    if mode == "LSTM" and _state.autocast:  # PyTorch's CPU LSTM layer (mkldnn_rnn_layer) is autocast
        return dispatch("mkldnn_rnn_layer", _layer_in_dtype, mode, ins, batch_sizes, reverse)
    return _layer_in_dtype(mode, ins, batch_sizes, reverse)


def _layer_in_dtype(mode: str, ins: tuple, batch_sizes: np.ndarray, reverse: bool) -> tuple:
    if _fusable(mode, ins):
        if mode == "LSTM":
            return _rnn_lstm.lstm_layer(*ins, batch_sizes, reverse)
        return _rnn_fused.gru_layer(*ins, batch_sizes, reverse)
    return _composed_layer(mode, ins, batch_sizes, reverse)


def rnn_stack(mode: str, data: Tensor, batch_sizes: np.ndarray, hx: Tensor, cx: Tensor | None,
              weights: list, num_layers: int, bidirectional: bool, dropout: float,
              training: bool) -> tuple:
    """The whole multi-layer stack on packed rows ``data`` (N, I).

    ``weights``: one (w_ih, w_hh, b_ih, b_hh, w_hr) tuple per layer and direction (layer-major,
    forward first; None for absent biases/projection); hx (L*D, B, H_out), cx (L*D, B, H) for LSTM.
    Dropout (``training`` only) is applied to the output of every layer but the last.
    Returns (out (N, D*H_out), h_n (L*D, B, H_out), c_n (L*D, B, H) or None).
    """
    D = 2 if bidirectional else 1
    lstm = mode == "LSTM"
    hs, cs = [], []
    x = data
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            if lstm:
                ins = (x, hx[k], cx[k], w_ih, w_hh, b_ih, b_hh, w_hr)
            else:
                ins = (x, hx[k], w_ih, w_hh, b_ih, b_hh)
            res = _layer(mode, ins, batch_sizes, d == 1)
            outs.append(res[0])
            hs.append(res[1])
            if lstm:
                cs.append(res[2])
        x = outs[0] if D == 1 else cat(outs, 1)
        if dropout and training and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    h_n = stack(hs, 0)
    c_n = stack(cs, 0) if lstm else None
    return x, h_n, c_n
