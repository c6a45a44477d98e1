"""ASGD against torch.optim.ASGD: the averaged iterate and the eta/mu schedule in the state,
complex parameters, bad hyperparameters. (Training parity over the shared grid is in
test_optimizers.py, half precision in test_half_precision.py.)"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrum


def _run(lib, dtype, kw, steps=7):
    rng = np.random.default_rng(0)
    p = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 6)).astype(dtype)))
    opt = lib.optim.ASGD([p], **kw)
    for _ in range(steps):
        p.grad = lib.tensor(rng.standard_normal((3, 6)).astype(dtype))
        opt.step()
    return p, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.1, lambd=0.05, alpha=0.6, t0=2),
                                dict(lr=0.1, t0=4, weight_decay=0.2, maximize=True)])
def test_matches_torch_with_state(torch, dtype, kw):
    fp, fo = _run(ferrum, dtype, kw)
    tp, to = _run(torch, dtype, kw)
    np.testing.assert_allclose(fp.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-7)
    fs, ts = fo.state[fp], to.state[tp]
    assert sorted(fs) == sorted(ts) == ["ax", "eta", "mu", "step"]
    for k in ("eta", "mu", "step"):
        assert fs[k].dtype == ferrum.float32 and fs[k].dim() == 0
        assert float(fs[k]) == float(ts[k]), k
    assert str(fs["ax"].dtype).split(".")[-1] == str(ts["ax"].dtype).split(".")[-1]
    np.testing.assert_allclose(fs["ax"].numpy(), ts["ax"].numpy(), rtol=1e-6, atol=1e-7)


def test_state_dict_resumes():
    p, opt = _run(ferrum, np.float32, dict(t0=2), steps=3)
    sd = copy.deepcopy(opt.state_dict())
    q = ferrum.nn.Parameter(p.detach().clone())
    opt2 = ferrum.optim.ASGD([q], t0=2)
    opt2.load_state_dict(sd)
    g = ferrum.randn(3, 6)
    p.grad, q.grad = g.clone(), g.clone()
    opt.step()
    opt2.step()
    assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert np.array_equal(opt.state[p]["ax"].numpy(), opt2.state[q]["ax"].numpy())


@pytest.mark.parametrize("kw", [dict(lr=-1.0), dict(weight_decay=-0.1)])
def test_bad_hyperparameters_raise_as_torch(torch, kw):
    with pytest.raises(ValueError) as fe:
        ferrum.optim.ASGD([ferrum.nn.Parameter(ferrum.ones(2))], **kw)
    with pytest.raises(ValueError) as te:
        torch.optim.ASGD([torch.nn.Parameter(torch.ones(2))], **kw)
    assert str(fe.value) == str(te.value)
