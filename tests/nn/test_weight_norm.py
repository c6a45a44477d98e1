"""weight_norm / spectral_norm (nn/utils/weight_norm.py) against torch: names, values, gradients,
power-iteration buffers over several training steps, eval mode, removal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum


def _pair(torch, make):
    t, f = make(torch), make(ferrum)
    f.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, f


MODULES = {
    "linear": (lambda L: L.nn.Linear(5, 4).double(), (3, 5)),
    "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3).double(), (2, 2, 5, 5)),
    "conv_transpose2d": (lambda L: L.nn.ConvTranspose2d(3, 2, 3).double(), (2, 3, 4, 4)),
}


@pytest.mark.parametrize("dim", [0, 1, None])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_weight_norm_matches_torch(torch, kind, dim):
    make, shape = MODULES[kind]

    def build(L):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return L.nn.utils.weight_norm(make(L), dim=dim)

    t, f = _pair(torch, build)
    assert list(f.state_dict()) == list(t.state_dict())
    x = np.random.default_rng(0).standard_normal(shape)
    outs = []
    for lib, m in ((torch, t), (ferrum, f)):
        y = m(lib.tensor(x))
        (y * y).sum().backward()
        outs.append((y.detach().numpy(), {n: p.grad.numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-10)
    for n, g in outs[0][1].items():
        np.testing.assert_allclose(outs[1][1][n], g, rtol=1e-9, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("n_iter", [1, 3])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_spectral_norm_matches_torch_over_steps(torch, kind, n_iter):
    make, shape = MODULES[kind]
    t, f = _pair(torch, lambda L: L.nn.utils.spectral_norm(make(L), n_power_iterations=n_iter))
    assert list(f.state_dict()) == list(t.state_dict())
    topt = torch.optim.SGD(t.parameters(), lr=0.1)
    fopt = ferrum.optim.SGD(f.parameters(), lr=0.1)
    x = np.random.default_rng(1).standard_normal(shape)
    for _ in range(3):
        for lib, m, opt in ((torch, t, topt), (ferrum, f, fopt)):
            opt.zero_grad()
            m(lib.tensor(x)).pow(2).sum().backward()
            opt.step()
    for (n, tb), (_, fb) in zip(t.state_dict().items(), f.state_dict().items()):
        np.testing.assert_allclose(fb.numpy(), tb.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)
    t.eval(), f.eval()  # eval: no power iteration, buffers unchanged
    u = f.weight_u.clone()
    np.testing.assert_allclose(f(ferrum.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-9)
    assert ferrum.equal(f.weight_u, u)


def test_spectral_norm_bounds_the_largest_singular_value():
    m = ferrum.nn.utils.spectral_norm(ferrum.nn.Linear(20, 10), n_power_iterations=30)
    m(ferrum.ones(1, 20))
    s = np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)
    assert abs(s[0] - 1.0) < 1e-3


def test_removal_and_errors(torch):
    with pytest.warns(FutureWarning):
        m = ferrum.nn.utils.weight_norm(ferrum.nn.Linear(3, 2))
    w = m.weight.detach().clone()
    ferrum.nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and ferrum.allclose(m.weight, w)
    with pytest.raises(ValueError):
        ferrum.nn.utils.remove_weight_norm(m)
    s = ferrum.nn.utils.spectral_norm(ferrum.nn.Linear(3, 2))
    with pytest.raises(RuntimeError):
        ferrum.nn.utils.spectral_norm(s)
    s.eval()
    s(ferrum.ones(1, 3))
    w = s.weight.sum().item()
    ferrum.nn.utils.remove_spectral_norm(s)
    assert sorted(s.state_dict()) == ["bias", "weight"] and abs(s.weight.sum().item() - w) < 1e-5
    for lib in (torch, ferrum):
        with pytest.raises(ValueError):
            lib.nn.utils.spectral_norm(lib.nn.Linear(3, 2), n_power_iterations=0)
