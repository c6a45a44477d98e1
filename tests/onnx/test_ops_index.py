"""ONNX export of gathering, sub-views, rearrangement, scans, einsum, addmm, var/std/logsumexp and
the ``*_like`` factories (``_ops_index.py``), and of the extra elementwise functions."""

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
        self.w = nn.Parameter(R(6, 6))

    def forward(self, x):
        return self.fn(self, x)


IDX = ferrum.tensor([[0, 2], [1, 5], [4, 4]])

OPS = {
    "gather": lambda m, x: x.gather(1, (x[:, :2] * 0).long() + 3)
    + m.w.gather(0, IDX)[0, 0],
    "index_select": lambda m, x: x.index_select(1, ferrum.tensor([0, 4, 2])),
    "select_narrow": lambda m, x: x.select(1, 2)[:, None] + x.narrow(1, 1, 3).sum(1, keepdim=True)
    + x.narrow(1, -2, 2)[:, :1],
    "tril_triu": lambda m, x: (x[:, None, :] * m.w).tril().sum(1) + (x[:, :, None] * m.w).triu(1).sum(2),
    "flip": lambda m, x: x.flip(1) + ferrum.flip(x, [1]),
    "roll": lambda m, x: x.roll(2, 1) + x.roll(-1, dims=1),
    "repeat": lambda m, x: x.repeat(1, 2)[:, :6] + x[:, :3].tile((2,)),
    "movedim": lambda m, x: x.view(-1, 2, 3).movedim(1, 2).reshape(-1, 6),
    "topk": lambda m, x: x.topk(2, 1)[0].sum(1, keepdim=True) + x.topk(3, largest=False)[1].float()[:, :1],
    "cumsum": lambda m, x: x.cumsum(1) + ferrum.cumsum(x, dim=-1),
    "einsum": lambda m, x: ferrum.einsum("bi,ij->bj", x, m.w) + ferrum.einsum("bi,bi->b", x, x)[:, None],
    "addmm": lambda m, x: ferrum.addmm(x, x, m.w, beta=0.5, alpha=2.0),
    "baddbmm": lambda m, x: ferrum.baddbmm(x[:, None], x[:, None], x[:, :, None] * x[:, None, :])[:, 0],
    "var_std": lambda m, x: x.var(1, keepdim=True) + x.std(1, keepdim=True, unbiased=False)
    + x.var(1)[:, None],
    "logsumexp": lambda m, x: x.logsumexp(1, keepdim=True) + x,
    "like": lambda m, x: ferrum.zeros_like(x) + ferrum.ones_like(x) * 2 + ferrum.full_like(x, 3.0) + x
    + ferrum.empty_like(x).shape[1],
    "new": lambda m, x: x + x.new_ones(6) + x.new_full((1, 6), 2.0) + x.new_zeros(6) + x.new_tensor([1.0] * 6)
    + ferrum.as_tensor(x) + ferrum.tensor(x, dtype=ferrum.float64).float(),
    "unary": lambda m, x: x.abs().log1p() + x.expm1() + x.abs().log2() + x.exp2() + x.trunc() + x.round()
    + x.tan(),
    "trig": lambda m, x: (x / 4).asin() + (x / 4).acos() + x.atan() + x.sinh() + x.cosh(),
    "clamp_min_max": lambda m, x: x.clamp_min(0.1) + x.clamp_max(-0.1),
    "mod": lambda m, x: ferrum.fmod(x * 3, 2.0) + ferrum.remainder(x * 3, 2.0) + (x * 3) % 1.5,
    "isnan": lambda m, x: ferrum.where(x.isnan() | x.isinf(), 0.0, x) + (x > 0).logical_xor(x > 1).float(),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name):
    roundtrip(Fn(OPS[name]), (R(2, 6),), (R(4, 6),))
