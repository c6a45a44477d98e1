"""optim.swa_utils against torch: AveragedModel (default SWA, avg_fn / multi_avg_fn of both kinds,
use_buffers) over several SGD steps, SWALR's lrs over a schedule (cos/linear, anneal_epochs,
per-group swa_lr), update_bn's running statistics, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.optim import swa_utils


def _net(L):
    return L.nn.Sequential(L.nn.Linear(4, 5), L.nn.BatchNorm1d(5), L.nn.ReLU(), L.nn.Linear(5, 2))


def _pair(torch, dtype):
    torch.manual_seed(0)
    t = _net(torch).to(getattr(torch, dtype))
    f = _net(ferrum).to(getattr(ferrum, dtype))
    f.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, f


AVG = {
    "swa": lambda L: {},
    "ema_avg_fn": lambda L: {"avg_fn": L.optim.swa_utils.get_ema_avg_fn(0.9)},
    "ema_multi": lambda L: {"multi_avg_fn": L.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
    "swa_avg_fn": lambda L: {"avg_fn": L.optim.swa_utils.get_swa_avg_fn()},
    "swa_multi": lambda L: {"multi_avg_fn": L.optim.swa_utils.get_swa_multi_avg_fn()},
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("kind", sorted(AVG))
def test_averaged_model_matches_torch(torch, kind, use_buffers, dtype):
    t, f = _pair(torch, dtype)
    at = torch.optim.swa_utils.AveragedModel(t, use_buffers=use_buffers, **AVG[kind](torch))
    af = swa_utils.AveragedModel(f, use_buffers=use_buffers, **AVG[kind](ferrum))
    assert list(af.state_dict()) == list(at.state_dict())
    ot = torch.optim.SGD(t.parameters(), lr=0.1)
    of = ferrum.optim.SGD(f.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((6, 4)).astype(dtype)
        for m, o, L in ((t, ot, torch), (f, of, ferrum)):
            o.zero_grad()
            m(L.tensor(x)).pow(2).sum().backward()
            o.step()
        if use_buffers and kind == "swa_multi" and int(at.n_averaged) > 0:
            # the swa multi rule refuses the int64 num_batches_tracked (torch: addcdiv)
            with pytest.raises(RuntimeError):
                at.update_parameters(t)
            with pytest.raises(RuntimeError):
                af.update_parameters(f)
            return
        at.update_parameters(t)
        af.update_parameters(f)
        for (kt, vt), (kf, vf) in zip(at.state_dict().items(), af.state_dict().items()):
            assert kt == kf
            np.testing.assert_allclose(vf.numpy(), vt.numpy(), rtol=1e-5 if dtype == "float32" else 1e-12,
                                       atol=1e-6 if dtype == "float32" else 1e-13)
    x = rng.standard_normal((3, 4)).astype(dtype)
    at.eval()
    af.eval()
    np.testing.assert_allclose(af(ferrum.tensor(x)).detach().numpy(), at(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert af.n_averaged.dtype == ferrum.int64 and int(af.n_averaged) == 5


def test_averaged_model_both_fns_refused():
    f = ferrum.nn.Linear(2, 2)
    with pytest.raises(AssertionError):
        swa_utils.AveragedModel(f, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_averaged_model_is_a_copy():
    f = ferrum.nn.Linear(2, 2)
    a = swa_utils.AveragedModel(f)
    assert a.module.weight is not f.weight
    np.testing.assert_array_equal(a.module.weight.detach().numpy(), f.weight.detach().numpy())


def _opt(L, params, groups):
    if groups == 1:
        return L.optim.SGD(params, lr=0.5)
    ps = list(params)
    return L.optim.SGD([{"params": ps[:1], "lr": 0.5}, {"params": ps[1:], "lr": 0.2}], lr=0.5)


@pytest.mark.parametrize("anneal_epochs", [0, 1, 3, 10])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("swa_lr", [0.05, [0.05, 0.01]])
def test_swalr_matches_torch(torch, strategy, anneal_epochs, swa_lr):
    groups = 2 if isinstance(swa_lr, list) else 1
    seqs = []
    for L in (torch, ferrum):
        opt = _opt(L, L.nn.Linear(2, 2).parameters(), groups)
        sched = L.optim.swa_utils.SWALR(opt, swa_lr=swa_lr, anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy)
        lrs = [[g["lr"] for g in opt.param_groups]]
        for _ in range(14):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        seqs.append((lrs, sched.get_last_lr(), [g["swa_lr"] for g in opt.param_groups]))
    np.testing.assert_allclose(np.array(seqs[1][0]), np.array(seqs[0][0]), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(seqs[1][1], seqs[0][1], rtol=1e-14)
    assert seqs[1][2] == seqs[0][2]


def test_swalr_errors(torch):
    for L in (torch, ferrum):
        opt = L.optim.SGD(L.nn.Linear(2, 2).parameters(), lr=0.1)
        with pytest.raises(ValueError):
            L.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
        with pytest.raises(ValueError):
            L.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
        with pytest.raises(ValueError):
            L.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=2.0)
        with pytest.raises(ValueError):
            L.optim.swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])


@pytest.mark.parametrize("tuples", [False, True])
def test_update_bn_matches_torch(torch, tuples):
    t, f = _pair(torch, "float64")
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((n, 4)) * 3 + 1 for n in (5, 7, 4)]
    for L, m in ((torch, t), (ferrum, f)):
        m.eval()
        m[1].momentum = 0.3
        loader = [(L.tensor(b), 0) if tuples else L.tensor(b) for b in batches]
        L.optim.swa_utils.update_bn(loader, m)
        assert not m.training and m[1].momentum == 0.3
    for (kt, vt), (kf, vf) in zip(t.state_dict().items(), f.state_dict().items()):
        assert kt == kf
        np.testing.assert_allclose(vf.numpy(), vt.numpy(), rtol=1e-12, atol=1e-13)


def test_update_bn_without_bn_is_a_no_op():
    m = ferrum.nn.Linear(2, 2).eval()
    swa_utils.update_bn([ferrum.ones(1, 2)], m)
    assert not m.training
