"""nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d against torch: the same weights give the same
outputs and gradients (padding modes, output_size, unbatched), reprs, attributes, default init,
construction errors, and ``_conv_forward`` as the override point."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
from ferrum.nn.modules import conv as fconv

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-11)}


def _copy(fm, tm, dtype):
    for (n, fp), (tn, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert n == tn and tuple(fp.shape) == tuple(tp.shape)
        with ferrum.no_grad():
            fp.copy_(ferrum.tensor(tp.detach().numpy().astype(dtype)))


def _check(fm, tm, x, dtype, **fwd):
    fm, tm = fm.to(getattr(ferrum, dtype)), tm.to(getattr(__import__("torch"), dtype))
    _copy(fm, tm, dtype)
    fx = ferrum.tensor(x.astype(dtype), requires_grad=True)
    import torch as T
    tx = T.tensor(x.astype(dtype), requires_grad=True)
    fo, to = fm(fx, **fwd), tm(tx, **fwd)
    r = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(dtype)
    (fo * ferrum.tensor(r)).sum().backward()
    (to * T.tensor(r)).sum().backward()
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **TOL[dtype])
    for fp, tp in zip(fm.parameters(), tm.parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("nd,dtype", [(1, "float32"), (1, "float64"), (2, "float32"), (2, "float64"),
                                      (3, "float64")])  # 3-D in float64 only keeps the file fast
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding,stride,bias",
                         [(1, 1, True), ("same", 1, False), (2, 2, True), (0, 1, True)])
def test_conv_module_parity(torch, nd, padding_mode, padding, stride, bias, dtype):
    cls = f"Conv{nd}d"
    args = (4, 6, (3, 2, 3)[:nd])
    kw = dict(stride=stride, padding=padding, bias=bias, padding_mode=padding_mode, groups=2)
    x = np.random.default_rng(0).standard_normal((2, 4) + (6, 5, 4)[:nd])
    _check(getattr(fnn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw), x, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 2), (3, 1, 2, 2, 1)])
def test_conv_transpose_module_parity(torch, nd, stride, padding, output_padding, dilation, groups, dtype):
    cls = f"ConvTranspose{nd}d"
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
    x = np.random.default_rng(0).standard_normal((2, 4) + (4, 3, 4)[:nd])
    _check(getattr(fnn, cls)(4, 6, 3, **kw), getattr(torch.nn, cls)(4, 6, 3, **kw), x, dtype)


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("output_size", [(9, 9), (10, 9), [2, 6, 10, 10]])
def test_conv_transpose_output_size(torch, batched, output_size):
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5) if batched else (4, 5, 5))
    if not batched and len(output_size) == 4:
        output_size = output_size[1:]
    kw = dict(stride=2, padding=1)
    _check(fnn.ConvTranspose2d(4, 6, 3, **kw), torch.nn.ConvTranspose2d(4, 6, 3, **kw), x, "float64",
           output_size=output_size)


def test_conv_transpose_unreachable_output_size(torch):
    fm, tm = fnn.ConvTranspose2d(3, 4, 3, stride=2), torch.nn.ConvTranspose2d(3, 4, 3, stride=2)
    for size in [(30, 30), (16, 16), (17,)]:
        with pytest.raises(ValueError) as te:
            tm(torch.zeros(2, 3, 8, 8), output_size=size)
        with pytest.raises(ValueError) as fe:
            fm(ferrum.zeros(2, 3, 8, 8), output_size=size)
        assert str(fe.value).split(" (for")[0] == str(te.value).split(" (for")[0]


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_unbatched_module(torch, nd):
    x = np.random.default_rng(0).standard_normal((3,) + (5,) * nd)
    _check(getattr(fnn, f"Conv{nd}d")(3, 2, 2, padding=1, padding_mode="reflect"),
           getattr(torch.nn, f"Conv{nd}d")(3, 2, 2, padding=1, padding_mode="reflect"), x, "float64")


REPRS = [
    ("Conv2d", (3, 4, 3), {}),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=2, padding=1, dilation=2, bias=False, padding_mode="reflect")),
    ("Conv1d", (3, 6, 3), dict(padding="same", groups=3)),
    ("Conv3d", (2, 4, 3), dict(padding="valid", padding_mode="circular")),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, output_padding=1, groups=1)),
    ("ConvTranspose1d", (4, 4, 2), dict(dilation=3, groups=2, bias=False)),
]


@pytest.mark.parametrize("cls,args,kw", REPRS)
def test_repr_and_attributes(torch, cls, args, kw):
    fm, tm = getattr(fnn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(fm) == repr(tm)
    for a in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
              "padding_mode", "output_padding", "transposed"):
        assert getattr(fm, a) == getattr(tm, a), a
    assert list(fm._reversed_padding_repeated_twice) == list(tm._reversed_padding_repeated_twice)
    assert [n for n, _ in fm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert type(fm).__module__ == "ferrum.nn.modules.conv"


def test_default_init_bounds():
    m = fnn.Conv2d(8, 16, 3)
    fan_in = 8 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound for the weight
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and w.std() > 0.5 * bound / math.sqrt(3)
    t = fnn.ConvTranspose2d(8, 16, 3)
    assert tuple(t.weight.shape) == (8, 16, 3, 3)
    assert np.abs(t.bias.detach().numpy()).max() <= 1 / math.sqrt(16 * 9)


BAD = [
    ("Conv2d", (3, 4, 3), dict(groups=2)),
    ("Conv2d", (4, 3, 3), dict(groups=2)),
    ("Conv2d", (3, 4, 3), dict(groups=0)),
    ("Conv2d", (3, 4, 3), dict(stride=2, padding="same")),
    ("Conv2d", (3, 4, 3), dict(padding="foo")),
    ("Conv2d", (3, 4, 3), dict(padding_mode="foo")),
    ("ConvTranspose2d", (3, 4, 3), dict(padding_mode="reflect")),
]


@pytest.mark.parametrize("cls,args,kw", BAD)
def test_construction_errors(torch, cls, args, kw):
    with pytest.raises(Exception) as te:
        getattr(torch.nn, cls)(*args, **kw)
    with pytest.raises(Exception) as fe:
        getattr(fnn, cls)(*args, **kw)
    assert fe.type is te.type is ValueError
    assert str(fe.value).split("{")[0] == str(te.value).split("{")[0]


def test_forward_errors(torch):
    fm = fnn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match="to have 3 channels, but got 5 channels"):
        fm(ferrum.zeros(2, 5, 8, 8))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        fm(ferrum.zeros(8, 8))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        fm(ferrum.zeros(1, 3, 2, 8))


def test_conv_forward_override():
    class Doubled(fconv.Conv2d):
        def _conv_forward(self, input, weight, bias):
            return super()._conv_forward(input, weight * 2, bias)

    m = Doubled(2, 3, 3, bias=False)
    ref = fnn.Conv2d(2, 3, 3, bias=False)
    ref.weight = m.weight
    x = ferrum.randn(1, 2, 5, 5)
    np.testing.assert_allclose(m(x).detach().numpy(), 2 * ref(x).detach().numpy(), rtol=1e-6)


def test_state_dict_roundtrip_from_torch(torch):
    tm = torch.nn.Conv2d(3, 4, 3, padding=1)
    fm = fnn.Conv2d(3, 4, 3, padding=1)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((1, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(fm(ferrum.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
