"""nn.modules.pooling against torch 2.13: attributes and extra_repr of every pooling module, module
forward and backward equal to torch's (return_indices, MaxPool + MaxUnpool), modules in a small
LeNet-like stack, and no parameters or buffers."""

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn

from ..ops.pool_helpers import distinct

MODULES = [
    ("MaxPool1d", (3,), {}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3), 1, (1, 0), 2, True, True), {}),
    ("MaxPool3d", ((1, 2, 3),), dict(stride=1, dilation=2, ceil_mode=True)),
    ("MaxUnpool1d", (2,), {}),
    ("MaxUnpool2d", (2, 1), {}),
    ("MaxUnpool3d", ((2, 1, 2),), dict(padding=1)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1), dict(divisor_override=4)),
    ("AvgPool3d", (2,), dict(divisor_override=3)),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveAvgPool2d", ((None, 2),), {}),
    ("AdaptiveAvgPool3d", (1,), {}),
    ("AdaptiveMaxPool1d", (3, True), {}),
    ("AdaptiveMaxPool2d", (3,), {}),
    ("AdaptiveMaxPool3d", ((2, None, 1),), {}),
    ("LPPool1d", (2, 3), {}),
    ("LPPool2d", (2, 3, 1), {}),
    ("LPPool3d", (1.5, 2), dict(ceil_mode=True)),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_attributes_and_repr(torch, name, args, kw):
    f = getattr(nn, name)(*args, **kw)
    t = getattr(torch.nn, name)(*args, **kw)
    assert repr(f) == repr(t)
    assert type(f).__module__ == "ferrum.nn.modules.pooling"
    public = {k: v for k, v in vars(t).items() if not k.startswith("_") and k != "training"}
    for k, v in public.items():
        assert getattr(f, k) == v, k
    assert list(f.parameters()) == [] and list(f.buffers()) == []


FORWARD = [
    ("MaxPool1d", (3, 2, 1), {}, (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 6)),
    ("MaxPool2d", (3, 2, 1), dict(return_indices=True, ceil_mode=True), (3, 7, 6)),
    ("MaxPool3d", (2,), dict(return_indices=True), (1, 2, 4, 4, 6)),
    ("AvgPool1d", (3, 2, 1), dict(count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, divisor_override=5), (2, 3, 7, 6)),
    ("AvgPool3d", (2,), {}, (1, 2, 4, 4, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 6)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", (4, True), {}, (2, 3, 10)),
    ("AdaptiveMaxPool2d", (3,), dict(return_indices=True), (2, 3, 7, 6)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("LPPool1d", (2, 3), {}, (2, 3, 10)),
    ("LPPool2d", (3, 2), dict(stride=1), (2, 3, 7, 6)),
    ("LPPool3d", (2, 2), {}, (1, 2, 4, 4, 6)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kw,shape", FORWARD, ids=[f"{m[0]}{m[1]}{m[2]}" for m in FORWARD])
def test_forward_backward_parity(torch, name, args, kw, shape, dtype):
    x = distinct(shape)
    if name.startswith("LP"):
        x = np.abs(x) + 0.1
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    fx = ferrum.tensor(x, dtype=getattr(ferrum, dtype), requires_grad=True)
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    fr = getattr(nn, name)(*args, **kw)(fx)
    tr = getattr(torch.nn, name)(*args, **kw)(tx)
    if isinstance(tr, tuple):
        np.testing.assert_array_equal(fr[1].numpy(), tr[1].numpy())
        fr, tr = fr[0], tr[0]
    np.testing.assert_allclose(fr.detach().numpy(), tr.detach().numpy(), **tol)
    g = np.random.default_rng(1).standard_normal(tuple(tr.shape))
    fr.backward(ferrum.tensor(g, dtype=fr.dtype))
    tr.backward(torch.tensor(g, dtype=tr.dtype))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_maxpool_maxunpool_roundtrip(torch, n):
    shape = (2, 3) + (8, 6, 4)[:n]
    x = distinct(shape)
    res = []
    for lib, m in ((ferrum, nn), (torch, torch.nn)):
        pool = getattr(m, f"MaxPool{n}d")(2, return_indices=True)
        unpool = getattr(m, f"MaxUnpool{n}d")(2)
        t = lib.tensor(x, requires_grad=True)
        y, idx = pool(t)
        z = unpool(y, idx, output_size=t.shape)
        (z * z).sum().backward()
        res.append((z.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_lenet_like_stack(torch):
    x = distinct((4, 1, 28, 28))
    res = []
    for lib, m in ((ferrum, nn), (torch, torch.nn)):
        lib.manual_seed(0)
        layers = [m.MaxPool2d(2), m.ReLU(), m.AvgPool2d(2, ceil_mode=True), m.AdaptiveAvgPool2d(3),
                  m.Flatten(), m.Linear(9, 4)]
        model = m.Sequential(*layers)
        w = np.random.default_rng(2).standard_normal((4, 9))
        with lib.no_grad():
            model[-1].weight.copy_(lib.tensor(w, dtype=lib.float32))
            model[-1].bias.zero_()
        t = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        model(t).square().sum().backward()
        res.append((t.grad.numpy(), model[-1].weight.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_bad_input_type_from_module(torch):
    for lib, m in ((ferrum, nn), (torch, torch.nn)):
        with pytest.raises(RuntimeError):
            m.MaxPool2d(2)(lib.zeros(4))
        with pytest.raises(RuntimeError):
            m.AdaptiveAvgPool2d(2)(lib.zeros(1, 1, 1, 4, 4))
