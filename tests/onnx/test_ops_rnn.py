"""ONNX export of nn.RNN, nn.LSTM and nn.GRU (``_ops_rnn.py``): layers, directions, batch_first,
no bias, given initial states, unbatched input; the gates re-ordered for ONNX."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import nn

from .helpers import roundtrip

R = ferrum.randn


RNNS = [
    lambda: nn.LSTM(4, 5),
    lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True),
    lambda: nn.LSTM(4, 5, batch_first=True, bias=False),
    lambda: nn.GRU(4, 5),
    lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True, batch_first=True),
    lambda: nn.RNN(4, 5),
    lambda: nn.RNN(4, 5, nonlinearity="relu", num_layers=2, bidirectional=True),
]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("make", RNNS)
def test_rnn(make, with_state):
    m = make()
    D = 2 if m.bidirectional else 1
    lstm = isinstance(m, nn.LSTM)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = m

        def forward(self, x, h0, c0):
            if not with_state:
                return self.rnn(x)
            return self.rnn(x, (h0, c0) if lstm else h0)

    def inp(n):
        x = R(n, 3, 4) if m.batch_first else R(3, n, 4)
        return x, R(m.num_layers * D, n, 5), R(m.num_layers * D, n, 5)

    bx = 0 if m.batch_first else 1
    out_axes = [bx, 1, 1] if lstm else [bx, 1]
    roundtrip(Wrap(), inp(2), inp(4), batch_axes={0: bx, 1: 1, 2: 1}, out_axes=out_axes)


def test_lstm_unbatched():
    roundtrip(nn.LSTM(4, 5, num_layers=2), (R(3, 4),), batch_axes={}, out_axes=[None, None, None])


CELLS = [lambda: nn.RNNCell(4, 5), lambda: nn.RNNCell(4, 5, nonlinearity="relu", bias=False),
         lambda: nn.LSTMCell(4, 5), lambda: nn.GRUCell(4, 5), lambda: nn.GRUCell(4, 5, bias=False)]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("make", CELLS)
def test_cell(make, with_state):
    m = make()
    lstm = isinstance(m, nn.LSTMCell)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = m

        def forward(self, x, h, c):
            if not with_state:
                out = self.cell(x)
            else:
                out = self.cell(x, (h, c) if lstm else h)
            return self.cell(x * 0.5, out)   # a second step from the first one's state

    def inp(n):
        return R(n, 4), R(n, 5), R(n, 5)

    roundtrip(Wrap(), inp(2), inp(3), out_axes=[0, 0] if lstm else [0])


def test_cell_unbatched():
    roundtrip(nn.LSTMCell(4, 5), (R(4),), batch_axes={}, out_axes=[None, None])
