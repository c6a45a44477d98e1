"""Parity of every optimizer with torch.optim: the same 2-layer MLP (same weights, same data)
trained 20 steps in both frameworks gives the same losses and parameters; LBFGS on Rosenbrock."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrum
import ferrum.optim as fo

DIMS = (6, 10, 3)
N = 16
STEPS = 20


def _data(dtype):
    rng = np.random.default_rng(1234)
    w1 = rng.standard_normal((DIMS[1], DIMS[0])) * 0.5
    b1 = rng.standard_normal(DIMS[1]) * 0.1
    w2 = rng.standard_normal((DIMS[2], DIMS[1])) * 0.5
    b2 = rng.standard_normal(DIMS[2]) * 0.1
    x = rng.standard_normal((N, DIMS[0]))
    y = rng.standard_normal((N, DIMS[2]))
    return [a.astype(dtype) for a in (w1, b1, w2, b2)], x.astype(dtype), y.astype(dtype)


class _Net:
    """The same MLP (Linear, tanh, Linear) in either framework, weights copied from arrays."""

    def __init__(self, fw, arrays, x, y):
        self.fw = fw
        self.l1 = fw.nn.Linear(DIMS[0], DIMS[1])
        self.l2 = fw.nn.Linear(DIMS[1], DIMS[2])
        for p, a in zip(self.params(), arrays):
            p.data = fw.from_numpy(a.copy())
        self.x = fw.from_numpy(x)
        self.y = fw.from_numpy(y)

    def params(self):
        return [self.l1.weight, self.l1.bias, self.l2.weight, self.l2.bias]

    def loss(self):
        out = self.l2(self.fw.tanh(self.l1(self.x)))
        return ((out - self.y) ** 2).mean()


def _train(fw, opt_name, kwargs, dtype, steps=STEPS, groups=None):
    arrays, x, y = _data(dtype)
    net = _Net(fw, arrays, x, y)
    params = net.params()
    if groups is not None:
        params = [dict(params=[params[i] for i in idx], **kw) for idx, kw in groups]
    opt = getattr(fw.optim, opt_name)(params, **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = net.loss()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return np.array(losses), [np.array(p.detach().numpy()) for p in net.params()], opt


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                  decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.5, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-4, 0.1), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True)),
]


def _ids(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_parity_float32(torch, case):
    name, kw = case
    lf, pf, _ = _train(ferrum, name, kw, np.float32)
    lt, pt, _ = _train(torch, name, kw, np.float32)
    np.testing.assert_allclose(lf, lt, rtol=1e-5, atol=1e-6)
    for a, b in zip(pf, pt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adadelta", dict(weight_decay=0.01)),
    ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("Rprop", dict(lr=0.01)),
    ("ASGD", dict(lr=0.05, t0=3, weight_decay=0.1)),
])
def test_parity_float64(torch, name, kw):
    lf, pf, _ = _train(ferrum, name, kw, np.float64)
    lt, pt, _ = _train(torch, name, kw, np.float64)
    np.testing.assert_allclose(lf, lt, rtol=1e-10)
    for a, b in zip(pf, pt):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam"])
def test_param_groups_parity(torch, name):
    groups = [((0, 1), dict(lr=0.02)), ((2, 3), dict(lr=0.005, weight_decay=0.1))]
    kw = dict(lr=0.01, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.01)
    lf, pf, of = _train(ferrum, name, kw, np.float32, groups=groups)
    lt, pt, ot = _train(torch, name, kw, np.float32, groups=groups)
    np.testing.assert_allclose(lf, lt, rtol=1e-5, atol=1e-6)
    for a, b in zip(pf, pt):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [g["lr"] for g in of.param_groups] == [0.02, 0.005]
    assert of.param_groups[1]["weight_decay"] == 0.1
    assert of.param_groups[0]["weight_decay"] == ot.param_groups[0]["weight_decay"]


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] != "SGD" or c[1].get("momentum")][::3])
def test_state_keys_match_torch(torch, name, kw):
    _, _, of = _train(ferrum, name, kw, np.float32, steps=2)
    _, _, ot = _train(torch, name, kw, np.float32, steps=2)
    sf, st = of.state_dict(), ot.state_dict()
    assert sorted(sf["state"]) == sorted(st["state"])
    for k in st["state"]:
        assert sorted(sf["state"][k]) == sorted(st["state"][k])
        for key, tv in st["state"][k].items():
            fv = sf["state"][k][key]
            assert isinstance(fv, ferrum.Tensor)
            assert tuple(fv.shape) == tuple(tv.shape)
            assert str(fv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1]
            np.testing.assert_allclose(fv.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)
    assert sf["param_groups"] == st["param_groups"]


@pytest.mark.parametrize("name", ["Adam", "SGD", "Adagrad", "NAdam"])
def test_complex_params_match_torch(torch, name):
    rng = np.random.default_rng(3)
    z0 = (rng.standard_normal(5) + 1j * rng.standard_normal(5)).astype(np.complex64)
    target = (rng.standard_normal(5) + 1j * rng.standard_normal(5)).astype(np.complex64)
    kw = dict(lr=0.05, momentum=0.9) if name == "SGD" else dict(lr=0.05, weight_decay=0.01)
    out = []
    for fw in (ferrum, torch):
        z = fw.from_numpy(z0.copy()).requires_grad_(True)
        t = fw.from_numpy(target)
        opt = getattr(fw.optim, name)([z], **kw)
        for _ in range(10):
            opt.zero_grad()
            loss = (z - t).abs().pow(2).sum()
            loss.backward()
            opt.step()
        out.append(z.detach().numpy().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- LBFGS
def _rosenbrock_closure(opt, x):
    """The closure L-BFGS needs: the Rosenbrock function of ``x`` and its gradient. Slices, not
    ``x[i]``, keep the tests independent of 0-d indexing backward."""

    def closure():
        opt.zero_grad()
        loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
        loss.backward()
        return loss

    return closure


def _rosenbrock_run(fw, dtype, line_search, steps=4, **kw):
    x = fw.from_numpy(np.array([-1.5, 2.0, 0.5, -0.5], dtype=dtype)).requires_grad_(True)
    opt = fw.optim.LBFGS([x], line_search_fn=line_search, **kw)
    closure = _rosenbrock_closure(opt, x)
    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    st = opt.state[x]
    return np.array(losses), x.detach().numpy().copy(), st["func_evals"], st["n_iter"]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("kw", [dict(), dict(history_size=3, max_iter=7, lr=0.5)])
def test_lbfgs_rosenbrock_float64(torch, line_search, kw):
    rf = _rosenbrock_run(ferrum, np.float64, line_search, **kw)
    rt = _rosenbrock_run(torch, np.float64, line_search, **kw)
    np.testing.assert_allclose(rf[0], rt[0], rtol=1e-9)
    np.testing.assert_allclose(rf[1], rt[1], rtol=1e-9, atol=1e-12)
    assert rf[2:] == rt[2:]


def test_lbfgs_float32(torch):
    rf = _rosenbrock_run(ferrum, np.float32, "strong_wolfe", steps=2, max_iter=5)
    rt = _rosenbrock_run(torch, np.float32, "strong_wolfe", steps=2, max_iter=5)
    np.testing.assert_allclose(rf[0], rt[0], rtol=1e-5)
    np.testing.assert_allclose(rf[1], rt[1], rtol=1e-4, atol=1e-5)


def test_lbfgs_converges():
    x = ferrum.tensor([-1.2, 1.0], dtype=ferrum.float64, requires_grad=True)
    opt = fo.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)
    closure = _rosenbrock_closure(opt, x)
    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-4)


def test_lbfgs_errors():
    x = ferrum.zeros(2, requires_grad=True)
    y = ferrum.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        fo.LBFGS([{"params": [x]}, {"params": [y]}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        fo.LBFGS([x], lr=-1)
    opt = fo.LBFGS([x], line_search_fn="bogus")

    def closure():
        opt.zero_grad()
        loss = ((x - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)


def test_lbfgs_state_dict_round_trip(torch):
    x = ferrum.tensor([-1.5, 2.0, 0.5], dtype=ferrum.float64, requires_grad=True)
    opt = fo.LBFGS([x], max_iter=3, history_size=4)
    closure = _rosenbrock_closure(opt, x)
    opt.step(closure)
    sd = copy.deepcopy(opt.state_dict())  # state tensors are live (as in PyTorch)
    st = sd["state"][0]
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
            "prev_flat_grad", "prev_loss"} <= set(st)
    assert isinstance(st["d"], ferrum.Tensor)
    x2 = ferrum.tensor(x.detach().numpy().copy(), requires_grad=True)
    opt2 = fo.LBFGS([x2], max_iter=3, history_size=4)
    opt2.load_state_dict(sd)
    opt.step(closure)
    opt2.step(_rosenbrock_closure(opt2, x2))
    np.testing.assert_allclose(x2.detach().numpy(), x.detach().numpy(), rtol=1e-12)
