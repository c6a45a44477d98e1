"""ONNX export of the tensor operators a forward calls directly: arithmetic with tensors and
Python numbers, math functions, comparisons and where/masked_fill, matmul, views and reshapes
that keep the batch dynamic, permute/transpose, cat/stack/split/chunk, indexing, casts and
reductions."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import nn

from .helpers import roundtrip

R = ferrum.randn


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.w = nn.Parameter(R(6))

    def forward(self, *xs):
        return self.fn(self, *xs)


OPS = {
    "arith": lambda m, x: (x + 1) * 2 - x / 3 + m.w - 0.5 * x ** 2,
    "rarith": lambda m, x: 1 - x + 2 / (x.abs() + 1) + 2 ** x.clamp(-1, 1),
    "inplace": lambda m, x: x.clone().add_(1).mul_(m.w),
    "iadd": lambda m, x: _iadd(x, m.w),
    "neg_math": lambda m, x: -x.exp().log1p().sqrt() if False else (-x).exp() + x.sin() * x.cos() + x.tanh(),
    "sqrt_rsqrt": lambda m, x: (x.abs() + 1).sqrt() + (x.abs() + 1).rsqrt() + x.sigmoid() + x.reciprocal(),
    "add_alpha": lambda m, x: ferrum.add(x, m.w, alpha=3) + ferrum.sub(x, 1, alpha=2),
    "div_modes": lambda m, x: ferrum.div(x * 5, 2, rounding_mode="floor") + ferrum.div(x * 5, 2,
                                                                                       rounding_mode="trunc"),
    "compare": lambda m, x: ferrum.where(x > 0, x, m.w) + (x <= 0.5).float() + x.masked_fill(x < -1, 7.0),
    "minmax": lambda m, x: ferrum.maximum(x, m.w) - ferrum.minimum(x, -m.w) + x.clamp(min=0),
    "matmul": lambda m, x: x @ m.w.reshape(6, 1) + ferrum.matmul(x, x.t()).sum(1, keepdim=True),
    "view": lambda m, x: x.view(x.size(0), 2, 3).permute(0, 2, 1).reshape(-1, 6),
    "view_neg1": lambda m, x: x.view(-1, 3, 2).transpose(1, 2).contiguous().view(-1, 6),
    "flatten": lambda m, x: x.view(x.shape[0], 2, 3).flatten(1) + ferrum.flatten(x.view(-1, 3, 2), 1),
    "unsqueeze": lambda m, x: x.unsqueeze(1).squeeze(1) + x.unsqueeze(-1).expand(-1, 6, 2).sum(-1),
    "cat_stack": lambda m, x: ferrum.cat([x, x * 2], 1) + ferrum.stack([x, x], 1).view(-1, 12),
    "split": lambda m, x: sum(t.sum(1) for t in x.split(2, 1)) + x.chunk(3, dim=1)[1].mean(1)
    + ferrum.split(x, [1, 5], 1)[1].amax(1),
    "getitem": lambda m, x: x[:, 1:4] * x[:, ::2].sum(1, keepdim=True) + x[:, -1:] + x[..., None][:, 2:5, 0],
    "getitem_int": lambda m, x: x[:, 0] + x[:, -1] + x[:, [0, 2, 4]].sum(1),
    "reduce": lambda m, x: x.mean() + x.sum(dim=(0, 1)) + x.mean(1).sum() + x.amax(1) + x.max(1)[0]
    + x.max(dim=1).values + x.argmax(1).float(),
    "softmax": lambda m, x: x.softmax(-1) + x.log_softmax(1) + ferrum.softmax(x, 0),
    "cast": lambda m, x: (x * 10).long().float() + x.double().float() + x.to(ferrum.float32),
    "functional": lambda m, x: nn.functional.relu(x) + ferrum.relu(x) + nn.functional.gelu(x)
    + nn.functional.dropout(x, 0.5, training=False) + ferrum.sigmoid(x) + ferrum.tanh(x),
}


def _iadd(x, w):
    y = x * 1
    y += w
    y *= 2
    return y


@pytest.mark.parametrize("name", sorted(OPS))
def test_tensor_op(name):
    fn = OPS[name]
    roundtrip(Fn(fn), (R(2, 6),), (R(5, 6),))


def test_batch_dim_flows_through_reshape_with_literal_batch():
    """view(B, ...) with B read from the input: the batch is kept (ONNX's 0), so another batch
    size runs."""
    m = Fn(lambda m, x: x.view(x.shape[0], 3, 2).sum(-1))
    roundtrip(m, (R(4, 6),), (R(7, 6),))


def test_integer_and_two_inputs():
    m = Fn(lambda m, x, idx: x[:, :3] * (idx + 1).float() + ferrum.cat([idx, idx], 1)[:, :3].float())
    roundtrip(m, (R(2, 6), ferrum.randint(0, 5, (2, 3))), (R(3, 6), ferrum.randint(0, 5, (3, 3))))


@pytest.mark.parametrize("dtype", [ferrum.float64])
def test_float64(dtype):
    m = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)
    roundtrip(m, (R(3, 4, dtype=dtype),), (R(1, 4, dtype=dtype),), atol=1e-12, rtol=1e-12)


def test_properties_iteration_and_unbind():
    """x.T, x.mT, x.H, x.mH, x.data are traced like the methods; iterating over a tensor is
    unbind."""
    m = Fn(lambda m, x: x.T.T + x.mT.mT + ferrum.stack([r * 2 for r in x]) + x.data + x.mH.H
           + ferrum.stack(x.unbind(1), 1))
    roundtrip(m, (R(2, 6),), batch_axes={}, out_axes=[None])


F = nn.functional

MORE = {
    "functions": lambda m, x: ferrum.mul(x, 2) + ferrum.sub(x, m.w) + ferrum.div(x, 2) + ferrum.neg(x)
    + ferrum.pow(x, 3) + ferrum.square(x) + ferrum.erf(x) + x.floor() + x.ceil() + x.sign() + abs(x) + (+x),
    "compare_fns": lambda m, x: _compare_ops(x),
    "inplace": lambda m, x: _inplace_ops(x),
    "min_prod": lambda m, x: x.amin(1) + x.min(1)[0] + x.min() + x.argmin(1).float() + x.prod(1)
    + x.argmin().float(),
    "matmul_fns": lambda m, x: ferrum.mm(x, m.w[:, None]).squeeze(1)
    + ferrum.bmm(x[:, None], x[:, :, None])[:, 0, 0] + (m.w.__rmatmul__(x)),
    "as_ops": lambda m, x: x.detach() + x.view(-1, 3, 2).view_as(x) + x.reshape(-1, 3, 2).reshape_as(x)
    + m.w.expand_as(x) + x.type_as(m.w) + x.swapaxes(0, 1).swapdims(1, 0),
    "normalize_one_hot": lambda m, x: F.normalize(x) + F.one_hot(x.argmax(1), 6).float(),
    "split_more": lambda m, x: ferrum.cat(x.tensor_split(3, 1), 1) + ferrum.concat(x.chunk(2, 1), 1),
    "round_floordiv": lambda m, x: (x * 7).round() + (x * 7).round(decimals=1) + (x * 5) // 2
    + 3 // (x.abs() + 1) + ((x * 10).long() // 3).float() + ((x * 10).long() // -4).float()
    + ferrum.floor_divide(x, 0.3),
    "nn_fns": lambda m, x: F.relu6(x) + F.channel_shuffle(x.view(-1, 6, 1, 1), 2).flatten(1)
    + F.dropout1d(x[:, :, None], 0.2, training=False)[:, :, 0],
}


def _compare_ops(x):
    a = ferrum.eq(x, x) & ferrum.ne(x, 0.5) & ~(x >= 1) & ferrum.le(x, 2) & ferrum.gt(x, -2)
    b = ferrum.lt(x, 3) & (x != 0.25)
    c = ferrum.logical_not(ferrum.logical_and(x > 0, ferrum.logical_or(x > 1, x < -1)))
    return (a & b ^ c).float()


def _inplace_ops(x):
    y = x * 1
    y -= 1
    y /= 2
    y **= 2
    y.clamp_(0, 3).masked_fill_(y > 2, 0.5)
    F.leaky_relu_(y, 0.2)
    F.hardtanh_(y)
    return ferrum.sigmoid_(y) if hasattr(ferrum, "sigmoid_") else y.sigmoid()


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_ops(name):
    roundtrip(Fn(MORE[name]), (R(2, 6),), (R(5, 6),))


def test_multi_head_attention_forward_function():
    mha = nn.MultiheadAttention(6, 2)

    def fn(m, x):
        q = x.view(-1, 3, 2).permute(1, 0, 2).reshape(3, -1, 2).repeat(1, 1, 3)
        return F.multi_head_attention_forward(
            q, q, q, 6, 2, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0, mha.out_proj.weight,
            mha.out_proj.bias, training=False, need_weights=False)[0].sum(0)

    m = Fn(fn)
    m.mha = mha
    roundtrip(m, (R(2, 6),), (R(5, 6),))


@pytest.mark.parametrize("fn", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_cell_functions(fn):
    cell = {"lstm_cell": nn.LSTMCell, "gru_cell": nn.GRUCell}.get(fn, nn.RNNCell)(6, 6)

    def run(m, x):
        f = getattr(ferrum.ops.rnn, fn)
        hx = (x * 0.5, x * 0.1) if fn == "lstm_cell" else x * 0.5
        out = f(x, hx, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        return out[0] + out[1] if fn == "lstm_cell" else out

    m = Fn(run)
    m.cell = cell
    roundtrip(m, (R(2, 6),), (R(3, 6),))


INDEXING = [
    (lambda x: x[None, ..., 1:3], 1),
    (lambda x: x[:, None, 0], 0),
    (lambda x: x[..., 0], 0),
    (lambda x: x[:, 1, None, ::2], 0),
    (lambda x: x[:, :, ferrum.tensor([[0, 1], [2, 3]])], 0),
    (lambda x: x[:, ferrum.tensor([2, 0])], 0),
    (lambda x: x[:, [1], 2:], 0),
    (lambda x: x[:, -3:-1, -1], 0),
    (lambda x: x[:, 1:100, :-1], 0),
    (lambda x: x[:, ..., None, 2], 0),
]


@pytest.mark.parametrize("i", range(len(INDEXING)))
def test_indexing(i):
    key, out_axis = INDEXING[i]
    roundtrip(Fn(lambda m, x: key(x)), (R(2, 3, 4),), (R(5, 3, 4),), out_axes=[out_axis])
