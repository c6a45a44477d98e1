"""RNNBase, RNN, LSTM, GRU and RNNCell, LSTMCell, GRUCell, with PyTorch's parameter names, layouts,
init, argument checks and error messages. The computation is in ``ops/rnn.py`` (the cells, and
the layer stack that runs fused LSTM/GRU layers, see ``ops/_rnn_fused.py``).

Every layer works on packed rows (``nn.utils.rnn``'s layout): a padded input (T, B, I) is the case
of equal lengths, so padded and PackedSequence inputs share one code path, and the final states
are right for every sequence length.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import _factory
from ..._tensor import Tensor
from ...ops import rnn as _ops
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _tname(t: Tensor) -> str:
    return str(t.dtype)


def _apply_permutation(t: Tensor, perm, dim: int = 1) -> Tensor:
    return t.index_select(dim, perm)


class RNNBase(Module):
    """The base of RNN, LSTM and GRU: parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` with ``proj_size``), with a
    ``_reverse`` suffix for the second direction, each drawn from U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)) as in PyTorch."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout) if isinstance(dropout, numbers.Number) else dropout
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of "
                             "an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        kw = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else real_hidden * num_directions
                sfx = "_reverse" if direction == 1 else ""
                shapes = [(f"weight_ih_l{layer}{sfx}", (gate_size, layer_in)),
                          (f"weight_hh_l{layer}{sfx}", (gate_size, real_hidden))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{sfx}", (gate_size,)),
                               (f"bias_hh_l{layer}{sfx}", (gate_size,))]
                if proj_size > 0:
                    shapes.append((f"weight_hr_l{layer}{sfx}", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(_factory.empty(shape, **kw)))
                self._flat_weights_names.extend(n for n, _ in shapes)
                self._all_weights.append([n for n, _ in shapes])
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op: ferrum's layers read the parameters as they are (kept for PyTorch programs)."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks (PyTorch's messages)
    def _real_hidden(self) -> int:
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def check_input(self, input: Tensor, batch_sizes) -> None:
        w = self._flat_weights[0]
        if not input.is_floating_point() or input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({_tname(input)}) does not match weight dtype ({_tname(w)}). "
                             f"Convert input: input.to({_tname(w)}), or convert model: "
                             f"model.to({_tname(input)})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes) -> tuple:
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        D = 2 if self.bidirectional else 1
        return (self.num_layers * D, mini_batch, self._real_hidden())

    def check_hidden_size(self, hx: Tensor, expected: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != expected:
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation) -> Tensor:
        return hx if permutation is None else _apply_permutation(hx, permutation)

    # ------------------------------------------------------------------ the shared forward
    def _weights(self) -> list:
        D = 2 if self.bidirectional else 1
        res = []
        for k in range(self.num_layers * D):
            names = self._all_weights[k]
            ws = [getattr(self, n) for n in names]
            w_ih, w_hh = ws[0], ws[1]
            b_ih = ws[2] if self.bias else None
            b_hh = ws[3] if self.bias else None
            w_hr = ws[-1] if self.proj_size > 0 else None
            res.append((w_ih, w_hh, b_ih, b_hh, w_hr))
        return res

    def _prepare(self, input, hx):
        """(data (N, I), batch_sizes, hx as given, batch info) for packed or padded input; raises
        PyTorch's errors before any work."""
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            data, bsz, sorted_indices, unsorted_indices = input
            batch_sizes = np.asarray(bsz._data).astype(np.int64)
            return data, batch_sizes, True, True, sorted_indices, unsorted_indices
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}.forward(): expected a Tensor or PackedSequence input, got "
                            f"{type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        return input, None, False, input.dim() == 3, None, None

    def _forward(self, input, hx):
        lstm = self.mode == "LSTM"
        data, batch_sizes, packed, is_batched, sorted_indices, unsorted_indices = self._prepare(input, hx)
        D = 2 if self.bidirectional else 1
        real_hidden = self._real_hidden()
        if not packed:
            bdim = 0 if self.batch_first else 1
            x = data if is_batched else data.unsqueeze(bdim)
        else:
            x = data
        if not packed:
            mb = x.size(0) if self.batch_first else x.size(1)
        else:
            mb = int(batch_sizes[0]) if batch_sizes.shape[0] else 0
        if hx is None:
            h = _factory.zeros((self.num_layers * D, mb, real_hidden), dtype=x.dtype, device=x.device)
            c = (_factory.zeros((self.num_layers * D, mb, self.hidden_size), dtype=x.dtype, device=x.device)
                 if lstm else None)
        else:
            if lstm:
                if isinstance(hx, Tensor):  # indexed as torch does (IndexError unless dim 0 is 2)
                    h, c = hx[0], hx[1]
                elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two tensors")
                else:
                    h, c = hx
            else:
                if not isinstance(hx, Tensor):
                    raise TypeError(f"{type(self).__name__}: hx must be a Tensor, got {type(hx).__name__}")
                h, c = hx, None
            if not packed:
                want = 3 if is_batched else 2
                dims = (h.dim(), c.dim()) if lstm else (h.dim(),)
                if any(d != want for d in dims):
                    what = "batched 3-D" if is_batched else "unbatched 2-D"
                    if lstm:
                        raise RuntimeError(f"For {what} input, hx and cx should also be {want}-D but got "
                                           f"({dims[0]}-D, {dims[1]}-D) tensors")
                    raise RuntimeError(f"For {what} input, hx should also be {want}-D but got {dims[0]}-D "
                                       "tensor")
                if not is_batched:
                    h = h.unsqueeze(1)
                    c = c.unsqueeze(1) if lstm else None
            h = self.permute_hidden(h, sorted_indices)
            c = self.permute_hidden(c, sorted_indices) if lstm else None
        self.check_input(x, batch_sizes if packed else None)
        expected = self.get_expected_hidden_size(x, batch_sizes if packed else None)
        if lstm:
            self.check_hidden_size(h, expected, "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(c, (expected[0], expected[1], self.hidden_size),
                                   "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(h, expected)
        if not packed:
            xt = x.transpose(0, 1) if self.batch_first else x
            T, B = xt.shape[0], xt.shape[1]
            if T == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            flat = xt.reshape(T * B, self.input_size)
            batch_sizes = np.full(T, B, np.int64)
        else:
            flat = x
        out, h_n, c_n = _ops.rnn_stack(self.mode, flat, batch_sizes, h, c, self._weights(), self.num_layers,
                                       self.bidirectional, self.dropout, self.training)
        if packed:
            output = PackedSequence(out, input.batch_sizes, sorted_indices, unsorted_indices)
            h_n = self.permute_hidden(h_n, unsorted_indices)
            c_n = self.permute_hidden(c_n, unsorted_indices) if lstm else None
        else:
            output = out.reshape(T, B, out.shape[-1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(bdim)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)


class RNN(RNNBase):
    """Elman RNN, h_t = tanh or relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh). Input (T, B, I)
    ((B, T, I) with batch_first, (T, I) unbatched) or a PackedSequence, optional h0
    (L*D, B, H) -> (output (T, B, D*H), h_n (L*D, B, H))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx: Tensor | None = None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; with ``proj_size`` h_t = W_hr (o * tanh(c_t))).
    Input (T, B, I) ((B, T, I) with batch_first, (T, I) unbatched) or a PackedSequence, optional
    (h0 (L*D, B, H_out), c0 (L*D, B, H)) -> (output (T, B, D*H_out), (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n). Input (T, B, I) ((B, T, I) with batch_first, (T, I)
    unbatched) or a PackedSequence, optional h0 (L*D, B, H) -> (output (T, B, D*H), h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx: Tensor | None = None):
        return self._forward(input, hx)


# ----------------------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """weight_ih (chunks*H, I), weight_hh (chunks*H, H), bias_ih, bias_hh, from
    U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(_factory.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(_factory.empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(_factory.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(_factory.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _batch(self, input: Tensor, hxs: tuple) -> tuple:
        """(input 2-D, hidden tensors 2-D or None, batched) after PyTorch's checks."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}.forward(): argument 'input' must be Tensor, not {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for h in hxs:
            if h is not None and h.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {h.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            hxs = tuple(None if h is None else h.unsqueeze(0) for h in hxs)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                               f"{self.input_size}")
        for i, h in enumerate(hxs):
            if h is None:
                continue
            if h.dim() != 2 or h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size "
                                   f"{h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}")
        return input, hxs, batched

    def _zeros(self, input: Tensor) -> Tensor:
        return _factory.zeros((input.size(0), self.hidden_size), dtype=input.dtype, device=input.device)


class RNNCell(RNNCellBase):
    """h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh): input (B, I) or (I), hx (B, H) or (H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity == "tanh":
            fn = _ops.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            fn = _ops.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), batched = self._batch(input, (hx,))
        if h is None:
            h = self._zeros(x)
        r = fn(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return r if batched else r.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: input (B, I) or (I), hx = (h, c) each (B, H) or (H) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        hxs = (None, None) if hx is None else tuple(hx)
        x, (h, c), batched = self._batch(input, hxs)
        if h is None:
            h = c = self._zeros(x)
        h2, c2 = _ops.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h2, c2) if batched else (h2.squeeze(0), c2.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: input (B, I) or (I), hx (B, H) or (H) -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._batch(input, (hx,))
        if h is None:
            h = self._zeros(x)
        r = _ops.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return r if batched else r.squeeze(0)
