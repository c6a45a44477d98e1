"""nn.utils.parametrize (nn/utils/parametrize.py) against torch: state-dict names, the class swap,
chained parametrizations, right_inverse on assignment, sequences of originals, caching, removal,
type_before_parametrizations, transfer, and the errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ferrum
import ferrum.nn.utils.parametrize as P


def _sym(L):
    class Symmetric(L.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

        def right_inverse(self, A):
            return A.triu()
    return Symmetric


def _scale(L):
    class Scale(L.nn.Module):
        def forward(self, X):
            return 2.0 * X

        def right_inverse(self, A):
            return A / 2.0
    return Scale


def _split(L):
    class Split(L.nn.Module):                 # weight = a + b, right_inverse -> (A/2, A/2)
        def forward(self, a, b):
            return a + b

        def right_inverse(self, A):
            return A / 2.0, A / 2.0
    return Split


def _noinv(L):
    class Square(L.nn.Module):
        def forward(self, X):
            return X * X
    return Square


def _build(L, chain, unsafe=False):
    m = L.nn.Linear(4, 4).double()
    for make in chain:
        L.nn.utils.parametrize.register_parametrization(m, "weight", make(L)(), unsafe=unsafe)
    return m


def _load(torch, t, f):
    f.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


CHAINS = {"sym": [_sym], "scale": [_scale], "sym+scale": [_sym, _scale], "split": [_split],
          "split+scale": [_split, _scale], "noinv": [_noinv]}


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_values_grads_and_names_match_torch(torch, name):
    t, f = _build(torch, CHAINS[name]), _build(ferrum, CHAINS[name])
    assert list(f.state_dict()) == list(t.state_dict())
    assert type(f).__name__ == type(t).__name__ == "ParametrizedLinear"
    _load(torch, t, f)
    x = np.random.default_rng(0).standard_normal((3, 4))
    yt = t(torch.tensor(x))
    yf = f(ferrum.tensor(x))
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (yt ** 2).sum().backward()
    (yf ** 2).sum().backward()
    for (kt, pt), (kf, pf) in zip(t.named_parameters(), f.named_parameters()):
        assert kt == kf
        np.testing.assert_allclose(pf.grad.numpy(), pt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sym", "scale", "sym+scale", "split", "split+scale"])
def test_assignment_runs_right_inverse(torch, name):
    t, f = _build(torch, CHAINS[name]), _build(ferrum, CHAINS[name])
    a = np.random.default_rng(1).standard_normal((4, 4))
    a = a + a.T
    t.weight = torch.tensor(a)
    f.weight = ferrum.tensor(a)
    for (kt, vt), (kf, vf) in zip(t.state_dict().items(), f.state_dict().items()):
        assert kt == kf
        if kt != "bias":
            np.testing.assert_allclose(vf.numpy(), vt.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.weight.detach().numpy(), a, rtol=1e-12)


def test_assignment_without_right_inverse_raises(torch):
    t, f = _build(torch, [_noinv]), _build(ferrum, [_noinv])
    with pytest.raises(RuntimeError) as et:
        t.weight = torch.ones(4, 4, dtype=torch.float64)
    with pytest.raises(RuntimeError) as ef:
        f.weight = ferrum.ones(4, 4, dtype=ferrum.float64)
    assert str(ef.value) == str(et.value)


def test_original_is_the_same_parameter_and_removal(torch):
    for leave in (True, False):
        ts, fs = [], []
        for L, out in ((torch, ts), (ferrum, fs)):
            m = L.nn.Linear(4, 4).double()
            with L.no_grad():
                m.weight.copy_(L.arange(16, dtype=L.float64).reshape(4, 4))
            w = m.weight
            L.nn.utils.parametrize.register_parametrization(m, "weight", _sym(L)())
            assert m.parametrizations.weight.original is w
            assert P.is_parametrized(m) if L is ferrum else True
            L.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave)
            assert m.weight is w and type(m) is L.nn.Linear
            assert not hasattr(m, "parametrizations")
            out.append(m.weight.detach().numpy().copy())
        np.testing.assert_array_equal(fs[0], ts[0])


def test_remove_sequence_originals(torch):
    for L in (torch, ferrum):
        m = _build(L, [_split])
        w = m.weight.detach().clone()
        with pytest.raises(ValueError):
            L.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
        L.nn.utils.parametrize.remove_parametrizations(m, "weight")
        assert isinstance(m.weight, L.nn.Parameter)
        np.testing.assert_array_equal(m.weight.detach().numpy(), w.numpy())


def test_is_parametrized_type_before_and_other_instances():
    m, other = ferrum.nn.Linear(3, 3), ferrum.nn.Linear(3, 3)
    assert not P.is_parametrized(m)
    P.register_parametrization(m, "weight", _sym(ferrum)())
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert P.type_before_parametrizations(m) is ferrum.nn.Linear
    assert P.type_before_parametrizations(other) is ferrum.nn.Linear
    assert type(other) is ferrum.nn.Linear and "weight" in other._parameters
    P.register_parametrization(m, "bias", _scale(ferrum)())
    assert list(m.state_dict()) == ["parametrizations.weight.original", "parametrizations.bias.original"]
    P.remove_parametrizations(m, "weight")
    assert type(m).__name__ == "ParametrizedLinear"
    P.remove_parametrizations(m, "bias")
    assert type(m) is ferrum.nn.Linear


def test_buffer_parametrization_stays_buffer(torch):
    for L in (torch, ferrum):
        m = L.nn.BatchNorm1d(3)
        L.nn.utils.parametrize.register_parametrization(m, "running_var", _scale(L)())
        assert "parametrizations.running_var.original" in dict(m.named_buffers())
        np.testing.assert_allclose(m.running_var.numpy(), np.ones(3))  # right_inverse ran first


def test_cached_computes_once():
    calls = []

    class Count(ferrum.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X * 1.0

    m = ferrum.nn.Linear(3, 3)
    P.register_parametrization(m, "weight", Count())
    calls.clear()
    with P.cached():
        a, b = m.weight, m.weight
        with P.cached():
            c = m.weight
    assert a is b is c and len(calls) == 1
    _ = m.weight
    assert len(calls) == 2


def test_deepcopy_ok_pickle_refused(torch):
    m = _build(ferrum, [_sym])
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear"
    np.testing.assert_array_equal(c.weight.detach().numpy(), m.weight.detach().numpy())
    assert c.parametrizations.weight.original is not m.parametrizations.weight.original
    with pytest.raises(RuntimeError):
        pickle.dumps(m)


def test_transfer_parametrizations_and_params(torch):
    res = []
    for L in (torch, ferrum):
        L.manual_seed(0)
        src = _build(L, [_sym, _scale])
        with L.no_grad():
            src.parametrizations.weight.original.copy_(L.arange(16, dtype=L.float64).reshape(4, 4))
        dst = L.nn.Linear(4, 4).double()
        L.nn.utils.parametrize.transfer_parametrizations_and_params(src, dst)
        assert dst.parametrizations.weight.original is src.parametrizations.weight.original
        assert len(dst.parametrizations.weight) == 2
        res.append((list(dst.state_dict()), dst.weight.detach().numpy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[1][1], res[0][1])


def _shape_changer(L):
    class Drop(L.nn.Module):
        def forward(self, X):
            return X[:, :2]
    return Drop


def _dtype_changer(L):
    class ToFloat(L.nn.Module):
        def forward(self, X):
            return X.float()
    return ToFloat


@pytest.mark.parametrize("maker", [_shape_changer, _dtype_changer])
def test_safe_checks_and_unsafe(torch, maker):
    for L in (torch, ferrum):
        with pytest.raises(ValueError):
            _build(L, [maker])
        m = _build(L, [maker], unsafe=True)
        assert m.weight.shape == (4, 2) or m.weight.dtype == L.float32


def test_errors_match_torch(torch):
    for L in (torch, ferrum):
        m = L.nn.Linear(2, 2)
        with pytest.raises(ValueError):
            L.nn.utils.parametrize.register_parametrization(m, "nothere", _sym(L)())
        with pytest.raises(ValueError):
            L.nn.utils.parametrize.remove_parametrizations(m, "weight")
        with pytest.raises(ValueError):
            L.nn.utils.parametrize.ParametrizationList([], m.weight)
        L.nn.utils.parametrize.register_parametrization(m, "weight", _sym(L)())
        with pytest.raises(KeyError):   # a Parameter cannot replace a parametrized tensor
            m.weight = L.nn.Parameter(L.ones(2, 2))


def test_train_mode_follows_module(torch):
    m = ferrum.nn.Linear(2, 2).eval()
    p = _sym(ferrum)()
    P.register_parametrization(m, "weight", p)
    assert not p.training
