"""nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal) against torch: state-dict
names, values and gradients after loading torch's state dict, the power-iteration buffers over
several training steps, assignment (right_inverse), the old weight_g/weight_v keys, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.nn.utils import parametrizations as PZ

MODULES = {
    "linear": (lambda L: L.nn.Linear(5, 4), (3, 5)),
    "linear_wide": (lambda L: L.nn.Linear(3, 6), (2, 3)),
    "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3), (2, 2, 5, 5)),
    "conv_transpose2d": (lambda L: L.nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4)),
}
DT = {"float32": (np.float32, 1e-5), "float64": (np.float64, 1e-11)}


def _load(t, f):
    f.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


def _pair(torch, make, apply, dtype):
    torch.manual_seed(0)
    t = apply(torch, make(torch).to(getattr(torch, dtype)))
    f = apply(ferrum, make(ferrum).to(getattr(ferrum, dtype)))
    assert list(f.state_dict()) == list(t.state_dict())
    _load(t, f)
    return t, f


def _step_compare(torch, t, f, shape, dtype, tol, steps=1):
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = rng.standard_normal(shape).astype(DT[dtype][0])
        yt, yf = t(torch.tensor(x)), f(ferrum.tensor(x))
        np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
        (yt ** 2).sum().backward()
        (yf ** 2).sum().backward()
        for (kt, pt), (kf, pf) in zip(t.named_parameters(), f.named_parameters()):
            assert kt == kf
            np.testing.assert_allclose(pf.grad.numpy(), pt.grad.numpy(), rtol=tol * 10, atol=tol * 10)
        for (kt, bt), (kf, bf) in zip(t.named_buffers(), f.named_buffers()):
            assert kt == kf
            np.testing.assert_allclose(bf.numpy(), bt.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", sorted(DT))
@pytest.mark.parametrize("dim", [0, 1, -1, None])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_weight_norm_matches_torch(torch, kind, dim, dtype):
    make, shape = MODULES[kind]

    def apply(L, m):
        return L.nn.utils.parametrizations.weight_norm(m, dim=dim)

    t, f = _pair(torch, make, apply, dtype)
    assert "parametrizations.weight.original0" in f.state_dict()
    _step_compare(torch, t, f, shape, dtype, DT[dtype][1])


def test_weight_norm_loads_old_names(torch):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = ferrum.nn.utils.weight_norm(ferrum.nn.Linear(3, 2))
    new = PZ.weight_norm(ferrum.nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    np.testing.assert_allclose(new.weight.detach().numpy(), old.weight.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", sorted(DT))
@pytest.mark.parametrize("n_iter", [1, 3])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_spectral_norm_matches_torch(torch, kind, n_iter, dtype):
    make, shape = MODULES[kind]

    def apply(L, m):
        return L.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=n_iter)

    t, f = _pair(torch, make, apply, dtype)
    assert list(f.state_dict())[-2:] == ["parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    _step_compare(torch, t, f, shape, dtype, DT[dtype][1] * 10, steps=3)
    t.eval()
    f.eval()
    _step_compare(torch, t, f, shape, dtype, DT[dtype][1] * 10, steps=1)


def test_spectral_norm_1d_and_errors(torch):
    for L in (torch, ferrum):
        m = L.nn.Linear(3, 2)
        with pytest.raises(IndexError):
            L.nn.utils.parametrizations.spectral_norm(m, dim=2)
        with pytest.raises(ValueError):
            L.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=0)
        with pytest.raises(ValueError):
            L.nn.utils.parametrizations.spectral_norm(m, name="nothere")
        L.nn.utils.parametrizations.spectral_norm(m, name="bias")
        np.testing.assert_allclose(np.linalg.norm(m.bias.detach().numpy()), 1.0, rtol=1e-6)


def test_spectral_norm_sigma_is_largest_singular_value():
    m = PZ.spectral_norm(ferrum.nn.Linear(6, 4).double(), n_power_iterations=1)
    for _ in range(30):
        w = m.weight
    np.testing.assert_allclose(np.linalg.svd(w.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-6)


ORTH_SHAPES = {"square": (4, 4), "tall": (5, 3), "wide": (3, 5)}


@pytest.mark.parametrize("dtype", sorted(DT))
@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", sorted(ORTH_SHAPES))
def test_orthogonal_matches_torch(torch, shape, omap, triv, dtype):
    out_f, in_f = ORTH_SHAPES[shape]

    def apply(L, m):
        return L.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap, use_trivialization=triv)

    make = (lambda L: L.nn.Linear(in_f, out_f))
    t, f = _pair(torch, make, apply, dtype)
    w = f.weight.detach().numpy().astype(np.float64)
    small = w if out_f >= in_f else w.T
    np.testing.assert_allclose(small.T @ small, np.eye(min(out_f, in_f)), atol=1e-5)
    _step_compare(torch, t, f, (2, in_f), dtype, DT[dtype][1] * 100)


@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_assignment_matches_torch(torch, omap):
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))[0]
    outs = []
    for L in (torch, ferrum):
        m = L.nn.utils.parametrizations.orthogonal(L.nn.Linear(4, 4).double(), orthogonal_map=omap)
        m.weight = L.tensor(q)
        outs.append(m.weight.detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], atol=1e-12)
    np.testing.assert_allclose(outs[1], q, atol=1e-12)


def test_orthogonal_householder_no_trivialization_assignment(torch):
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((5, 3)))[0]
    outs = []
    for L in (torch, ferrum):
        m = L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 5).double(), orthogonal_map="householder",
                                                   use_trivialization=False)
        m.weight = L.tensor(q)
        outs.append((m.weight.detach().numpy(), m.parametrizations.weight.original.detach().numpy()))
    np.testing.assert_allclose(outs[1][1], outs[0][1], atol=1e-12)
    np.testing.assert_allclose(outs[1][0], outs[0][0], atol=1e-12)
    for L in (torch, ferrum):
        m = L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3).double(), orthogonal_map="cayley",
                                                   use_trivialization=False)
        with pytest.raises(NotImplementedError):
            m.weight = L.eye(3, dtype=L.float64)


def test_orthogonal_gradcheck():
    for omap in ["matrix_exp", "cayley", "householder"]:
        m = PZ.orthogonal(ferrum.nn.Linear(3, 4).double(), orthogonal_map=omap)
        orth = m.parametrizations.weight[0]
        X = ferrum.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
        assert ferrum.autograd.gradcheck(orth, (X,))


def test_orthogonal_errors(torch):
    for L in (torch, ferrum):
        with pytest.raises(ValueError):
            L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3), name="bias")
        with pytest.raises(ValueError):
            L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3), orthogonal_map="nope")
        with pytest.raises(ValueError):
            L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3), name="nothere")
        m = L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3))
        with pytest.raises(ValueError):
            m.weight = L.eye(4)


@pytest.mark.parametrize("which", ["weight_norm", "spectral_norm", "orthogonal"])
def test_remove_parametrizations_matches_torch(torch, which):
    def apply(L, m):
        return getattr(L.nn.utils.parametrizations, which)(m)

    t, f = _pair(torch, lambda L: L.nn.Linear(3, 3), apply, "float64")
    t.eval()
    f.eval()    # no power iteration: the weight is the same before and after removal
    res = []
    for L, m in ((torch, t), (ferrum, f)):
        w = m.weight.detach().clone()
        L.nn.utils.parametrize.remove_parametrizations(m, "weight")
        assert type(m) is L.nn.Linear and isinstance(m.weight, L.nn.Parameter)
        np.testing.assert_allclose(m.weight.detach().numpy(), w.numpy(), rtol=1e-13)
        res.append((list(m.state_dict()), m.weight.detach().numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12, atol=1e-13)
