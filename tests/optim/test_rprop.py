"""Rprop against torch.optim.Rprop: state, complex parameters, bad hyperparameters.
(Training parity over the shared grid is in test_optimizers.py, half precision in
test_half_precision.py.)"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrum


def _run(lib, dtype, kw, steps=6):
    rng = np.random.default_rng(0)
    p = lib.nn.Parameter(lib.tensor(rng.standard_normal((4, 5)).astype(dtype)))
    opt = lib.optim.Rprop([p], **kw)
    for _ in range(steps):
        p.grad = lib.tensor(rng.standard_normal((4, 5)).astype(dtype))
        # repeat some signs and flip others, so every branch of the update runs
        opt.step()
    return p, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.1, etas=(0.2, 1.9), step_sizes=(0.05, 0.3)),
                                dict(maximize=True)])
def test_matches_torch_with_state(torch, dtype, kw):
    fp, fo = _run(ferrum, dtype, kw)
    tp, to = _run(torch, dtype, kw)
    np.testing.assert_allclose(fp.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-7)
    fs, ts = fo.state[fp], to.state[tp]
    assert sorted(fs) == sorted(ts) == ["prev", "step", "step_size"]
    assert float(fs["step"]) == float(ts["step"]) and fs["step"].dtype == ferrum.float32
    for k in ("prev", "step_size"):
        assert str(fs[k].dtype).split(".")[-1] == str(ts[k].dtype).split(".")[-1]
        np.testing.assert_allclose(fs[k].numpy(), ts[k].numpy(), rtol=1e-6, atol=1e-7)
    assert fo.param_groups[0].keys() == to.param_groups[0].keys()


def test_state_dict_resumes():
    p, opt = _run(ferrum, np.float32, {}, steps=3)
    sd = copy.deepcopy(opt.state_dict())
    q = ferrum.nn.Parameter(p.detach().clone())
    opt2 = ferrum.optim.Rprop([q])
    opt2.load_state_dict(sd)
    g = ferrum.randn(4, 5)
    p.grad, q.grad = g.clone(), g.clone()
    opt.step()
    opt2.step()
    assert np.array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("kw", [dict(lr=-1.0), dict(etas=(1.5, 2.0)), dict(etas=(0.5, 0.9)),
                                dict(etas=(0.0, 1.2))])
def test_bad_hyperparameters_raise_as_torch(torch, kw):
    p = [ferrum.nn.Parameter(ferrum.ones(2))]
    with pytest.raises(ValueError) as fe:
        ferrum.optim.Rprop(p, **kw)
    with pytest.raises(ValueError) as te:
        torch.optim.Rprop([torch.nn.Parameter(torch.ones(2))], **kw)
    assert str(fe.value) == str(te.value)
