"""Sizes read off traced tensors during an export (``_symint.py``): arithmetic on them is recorded,
and view/reshape, expand, slicing, arange and zeros/ones/full built from them follow dynamic axes;
outside an export (or in ferrum's own code) they are plain ints."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ferrum
from ferrum import nn

from .helpers import onnx, ort

R = ferrum.randn


def _check(model, x, others, axes, out_axes):
    model.eval()
    buf = io.BytesIO()
    ferrum.onnx.export(model, (x,), buf, input_names=["x"], output_names=["y"],
                       dynamic_axes={"x": axes, "y": out_axes})
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for t in [x, *others]:
        with ferrum.no_grad():
            want = model(t).numpy()
        np.testing.assert_allclose(sess.run(None, {"x": t.numpy()})[0], want, atol=1e-5, rtol=1e-5)


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


CASES = {
    "view_arith": lambda x: x.view(x.shape[0] * x.shape[1], -1).view(x.size(0), x.size(1) * 2,
                                                                       x.size(2) // 2),
    "arange": lambda x: x + ferrum.arange(x.shape[1], dtype=ferrum.float32)[None, :, None]
    + ferrum.arange(1, x.size(2) + 1)[None, None].float(),
    "zeros_ones_full": lambda x: x + ferrum.zeros(x.shape[0], 1, x.shape[2]) + ferrum.ones(x.shape)
    + ferrum.full((1, x.shape[1], 1), 2.0),
    "slicing": lambda x: x[:, : x.shape[1] - 1] * x[:, 1:][:, : x.size(1) - 1],
    "expand": lambda x: x[:, :1].expand(x.shape[0], x.shape[1], x.shape[2]) + x,
    "scalar": lambda x: x * x.shape[1] + x.size(2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dynamic_sizes(name):
    out = {0: "b", 1: "t2" if name == "view_arith" else ("t1" if name == "slicing" else "t")}
    _check(Fn(CASES[name]), R(2, 4, 6), [R(3, 5, 6), R(1, 2, 6)], {0: "b", 1: "t"}, out)


def test_plain_ints_outside_an_export():
    from ferrum.onnx._symint import SymInt
    seen = []

    class M(nn.Module):
        def forward(self, x):
            seen.append(x.shape[0])
            return x * 2

    ferrum.onnx.export(M(), (R(3, 2),), None)
    s = seen[0]
    assert isinstance(s, SymInt) and s == 3
    assert type(s + 1) is int and type(s * 2) is int   # the export is over: arithmetic is plain
    assert type(R(3).shape[0]) is int


def test_new_factories_and_interpolate_size():
    def fn(x):
        z = x.new_zeros(x.shape[0], 1, x.shape[2]) + x.new_ones((1, x.shape[1], 1))
        z = z + x.new_full((1, 1, 6), 2.0)
        up = nn.functional.interpolate(x[:, None], size=(x.shape[1] * 2, 6), mode="nearest")[:, 0, ::2]
        return x + z + up

    _check(Fn(fn), R(2, 4, 6), [R(3, 5, 6)], {0: "b", 1: "t"}, {0: "b", 1: "t"})
