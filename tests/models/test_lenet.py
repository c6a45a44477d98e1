"""ferrum.models.lenet: LeNet-5's layers and names, against the same network written in torch
(tests/models/_reference.py): outputs and every gradient in float32 and float64, the parameter count,
num_classes, the builder's keywords and errors, and that a few Adam steps on a fixed batch learn it."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models

from ._reference import check_parity, load, state_signature


def test_layers_and_parameters(torch):
    m = models.lenet5()
    assert isinstance(m, models.LeNet5)
    assert sum(p.numel() for p in m.parameters()) == 61_706
    assert state_signature(m) == state_signature(load(torch).lenet5())
    assert [k for k, _ in m.named_parameters()][:2] == ["features.0.weight", "features.0.bias"]
    assert m.features[0].padding == (2, 2) and m.features[2].kernel_size == 2
    assert [type(x).__name__ for x in m.features] == ["Conv2d", "ReLU", "MaxPool2d"] * 2
    assert [type(x).__name__ for x in m.classifier] == ["Linear", "ReLU"] * 2 + ["Linear"]
    assert "ReLU" in models.LeNet5.__doc__ and "max-pool" in models.LeNet5.__doc__


@pytest.mark.parametrize("num_classes", [10, 3])
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-11)])
def test_parity(dtype, rtol, num_classes, torch):
    torch.manual_seed(0)
    tm = load(torch).lenet5(num_classes)
    fm = models.lenet5(num_classes)
    if dtype == np.float64:
        tm, fm = tm.double(), fm.double()
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(dtype)
    check_parity(torch, tm, fm, x, train=True, rtol=rtol, grad_rtol=rtol * 10)
    assert tuple(fm(ferrum.tensor(x)).shape) == (4, num_classes)


def test_unbatched_and_wrong_size():
    m = models.lenet5(num_classes=5)
    assert tuple(m(ferrum.randn(1, 1, 28, 28)).shape) == (1, 5)
    with pytest.raises(RuntimeError):
        m(ferrum.randn(2, 1, 32, 32))  # 6x6 maps: 576 features where the classifier takes 400


def test_learns_a_fixed_batch():
    ferrum.manual_seed(0)
    m = models.lenet5()
    x = ferrum.randn(16, 1, 28, 28)
    y = ferrum.tensor(np.arange(16) % 10)
    opt = ferrum.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ferrum.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]


def test_pretrained_weights_refused():
    with pytest.raises(ValueError, match="cannot be downloaded") as e:
        models.lenet5(weights="MNIST")
    assert "load_state_dict" in str(e.value)
    assert "cannot be downloaded" in models.lenet5.__doc__ and "load_state_dict" in models.lenet5.__doc__
