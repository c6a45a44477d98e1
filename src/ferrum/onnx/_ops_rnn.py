"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` as ONNX's RNN, LSTM and GRU ops, one node per layer.

These layers run as one fused node in ferrum (ops/_rnn_fused.py), not as public functions, so they
are recorded at the module level (``_graph.MODULE_SYMBOLICS``). The weights are re-laid out for
ONNX once, at export: PyTorch stacks the gates as LSTM (i, f, g, o) and GRU (r, z, n); ONNX as
LSTM (i, o, f, c) and GRU (z, r, h); ONNX's B is [W_b; R_b]; the directions are stacked on a
leading axis. GRU uses ``linear_before_reset=1``, which is PyTorch's formula
(n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). Layers are chained with Y (T, D, N, H)
transposed and reshaped to (T, N, D*H), and the final states concatenated over layers.
``proj_size`` and packed sequences are refused (ONNX's LSTM has no projection).

The cells (``RNNCell``, ``LSTMCell``, ``GRUCell`` and their functions) are composed of MatMul,
Split and the gate nonlinearities, one step each.
"""

from __future__ import annotations

import numpy as np

from ..nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ._graph import MODULE_SYMBOLICS, _array, register
from .errors import UnsupportedOperatorError

# rows of PyTorch's gate blocks in ONNX's order
_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _gates(a: np.ndarray, mode: str, h: int) -> np.ndarray:
    return np.concatenate([a[i * h:(i + 1) * h] for i in _ORDER[mode]], axis=0)


def _rnn(g, y, m, input, hx=None):
    from ..nn.utils.rnn import PackedSequence
    mode = m.mode
    name = f"nn.{type(m).__name__}"
    if isinstance(input, PackedSequence):
        raise UnsupportedOperatorError(name, "a PackedSequence input")
    if getattr(m, "proj_size", 0):
        raise UnsupportedOperatorError(name, "proj_size > 0")
    H, D = m.hidden_size, 2 if m.bidirectional else 1
    batched = input.dim() == 3
    x = g.name_of(input)
    if not batched:
        x = g.unsqueeze(x, [1])
    elif m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    h0 = c0 = None
    if hx is not None:
        h0, c0 = hx if mode == "LSTM" else (hx, None)
    states = [None if t is None else (g.name_of(t) if batched else g.unsqueeze(g.name_of(t), [1]))
              for t in (h0, c0)]
    dt = _array(m.weight_ih_l0).dtype
    hs, cs = [], []
    for layer in range(m.num_layers):
        W, R, B = [], [], []
        for d in range(D):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            W.append(_gates(_array(getattr(m, f"weight_ih_{sfx}")), mode, H))
            R.append(_gates(_array(getattr(m, f"weight_hh_{sfx}")), mode, H))
            if m.bias:
                B.append(np.concatenate([_gates(_array(getattr(m, f"bias_ih_{sfx}")), mode, H),
                                         _gates(_array(getattr(m, f"bias_hh_{sfx}")), mode, H)]))
            else:
                B.append(np.zeros(2 * len(_ORDER[mode]) * H, dtype=dt))
        init = [None if s is None else g.slice(s, [layer * D], [(layer + 1) * D], [0]) for s in states]
        attrs = {"hidden_size": H, "direction": "bidirectional" if D == 2 else "forward"}
        if mode == "GRU":
            attrs["linear_before_reset"] = 1
        elif mode != "LSTM":
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * D
        n_out = 3 if mode == "LSTM" else 2
        ins = [x, g.const(np.stack(W), "W"), g.const(np.stack(R), "R"), g.const(np.stack(B), "B"), None,
               init[0]]
        if mode == "LSTM":
            ins.append(init[1])
        outs = g.op(_OP[mode], *ins, n_out=n_out, **attrs)
        x = g.op("Reshape", g.op("Transpose", outs[0], perm=[0, 2, 1, 3]), g.ints([0, 0, -1]))
        hs.append(outs[1])
        if mode == "LSTM":
            cs.append(outs[2])
    finals = [g.op("Concat", *hs, axis=0) if len(hs) > 1 else hs[0]]
    if mode == "LSTM":
        finals.append(g.op("Concat", *cs, axis=0) if len(cs) > 1 else cs[0])
    if not batched:
        x = g.squeeze(x, [1])
        finals = [g.squeeze(f, [1]) for f in finals]
    elif m.batch_first:
        x = g.op("Transpose", x, perm=[1, 0, 2])
    return [x, *finals]


for _cls in (RNN, LSTM, GRU):
    MODULE_SYMBOLICS[_cls] = _rnn


# ------------------------------------------------------------------------------------------- cells
def _cell(g, mode: str, x: str, h: str, c, w_ih: str, w_hh: str, b_ih, b_hh, H: int) -> list:
    """One step of a cell from value names, PyTorch's formulas (gates i, f, g, o / r, z, n)."""
    gi = g.op("MatMul", x, g.op("Transpose", w_ih, perm=[1, 0]))
    if b_ih is not None:
        gi = g.op("Add", gi, b_ih)
    gh = g.op("MatMul", h, g.op("Transpose", w_hh, perm=[1, 0]))
    if b_hh is not None:
        gh = g.op("Add", gh, b_hh)
    if mode in ("RNN_TANH", "RNN_RELU"):
        return [g.op("Tanh" if mode == "RNN_TANH" else "Relu", g.op("Add", gi, gh))]
    if mode == "LSTM":
        i, f, gg, o = g.op("Split", g.op("Add", gi, gh), g.ints([H] * 4), axis=-1, n_out=4)
        keep = g.op("Mul", g.op("Sigmoid", f), c)
        c2 = g.op("Add", keep, g.op("Mul", g.op("Sigmoid", i), g.op("Tanh", gg)))
        return [g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", c2)), c2]
    ir, iz, in_ = g.op("Split", gi, g.ints([H] * 3), axis=-1, n_out=3)
    hr, hz, hn = g.op("Split", gh, g.ints([H] * 3), axis=-1, n_out=3)
    r = g.op("Sigmoid", g.op("Add", ir, hr))
    z = g.op("Sigmoid", g.op("Add", iz, hz))
    n = g.op("Tanh", g.op("Add", in_, g.op("Mul", r, hn)))
    return [g.op("Add", n, g.op("Mul", z, g.op("Sub", h, n)))]     # (1 - z) n + z h


def _opt(g, t):
    return None if t is None else g.name_of(t)


def _cell_fn(mode: str):
    def sym(g, y, input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        h, c = (hx if mode == "LSTM" else (hx, None))
        return _cell(g, mode, g.name_of(input), g.name_of(h), _opt(g, c), g.name_of(w_ih), g.name_of(w_hh),
                     _opt(g, b_ih), _opt(g, b_hh), w_hh.shape[1])
    return sym


for _name, _mode in (("rnn_tanh_cell", "RNN_TANH"), ("rnn_relu_cell", "RNN_RELU"), ("lstm_cell", "LSTM"),
                     ("gru_cell", "GRU")):
    register(_name)(_cell_fn(_mode))


def _cell_module(g, y, m, input, hx=None):
    """RNNCell, LSTMCell, GRUCell recorded whole, so that a missing state is zeros of the input's
    (dynamic) batch size rather than a constant of the traced one."""
    if isinstance(m, LSTMCell):
        mode = "LSTM"
    elif isinstance(m, GRUCell):
        mode = "GRU"
    else:
        mode = "RNN_TANH" if m.nonlinearity == "tanh" else "RNN_RELU"
    H = m.hidden_size
    batched = input.dim() == 2
    x = g.name_of(input)
    if not batched:
        x = g.unsqueeze(x, [0])
    if hx is None:
        shape = g.op("Concat", g.slice(g.op("Shape", x), [0], [1], [0]), g.ints([H]), axis=0)
        zero = g.op("ConstantOfShape", shape, value=_onnx_scalar(np.zeros(1, _array(m.weight_hh).dtype)))
        h = c = zero
    else:
        h0, c0 = (hx if mode == "LSTM" else (hx, None))
        h = g.name_of(h0) if batched else g.unsqueeze(g.name_of(h0), [0])
        c = None if c0 is None else (g.name_of(c0) if batched else g.unsqueeze(g.name_of(c0), [0]))
    outs = _cell(g, mode, x, h, c, g.name_of(m.weight_ih), g.name_of(m.weight_hh), _opt(g, m.bias_ih),
                 _opt(g, m.bias_hh), H)
    return outs if batched else [g.squeeze(o, [0]) for o in outs]


def _onnx_scalar(a: np.ndarray):
    import onnx
    return onnx.numpy_helper.from_array(a)


for _cls in (RNNCell, LSTMCell, GRUCell):
    MODULE_SYMBOLICS[_cls] = _cell_module
