"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` as ONNX's RNN, LSTM and GRU ops, one node per layer.

These layers run as one fused node in ferrum (ops/_rnn_fused.py), not as public functions, so they
are recorded at the module level (``_graph.MODULE_SYMBOLICS``). The weights are re-laid out for
ONNX once, at export: PyTorch stacks the gates as LSTM (i, f, g, o) and GRU (r, z, n); ONNX as
LSTM (i, o, f, c) and GRU (z, r, h); ONNX's B is [W_b; R_b]; the directions are stacked on a
leading axis. GRU uses ``linear_before_reset=1``, which is PyTorch's formula
(n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). Layers are chained with Y (T, D, N, H)
transposed and reshaped to (T, N, D*H), and the final states concatenated over layers.
``proj_size`` and packed sequences are refused (ONNX's LSTM has no projection).
"""

from __future__ import annotations

import numpy as np

from ..nn.modules.rnn import GRU, LSTM, RNN
from ._graph import MODULE_SYMBOLICS, _array
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
