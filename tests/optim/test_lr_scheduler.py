"""ferrum.optim.lr_scheduler against torch.optim.lr_scheduler 2.13: curves, state, composition, errors.

Each parity test builds the same scheduler (through one builder ``build(module, optimizer)``) on a
ferrum optimizer and on a torch optimizer with identical param groups, steps both in the documented
order (``optimizer.step()`` then ``scheduler.step()``) and compares every group's lr (and momentum /
beta1 where a scheduler cycles it) at every step, to 1e-12 absolute.
"""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

import ferrum
from ferrum.optim import lr_scheduler as fls

ATOL = 1e-12

# torch warns the same way when a SequentialLR starts a ChainedScheduler (its sub-schedulers step at
# construction, before any optimizer.step()); that is expected in the composite cases
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)`:UserWarning")
N_STEPS = 120


# --------------------------------------------------------------------------- optimizers
class _StubOptimizer:
    """Stand-in with the optimizer interface schedulers use (``param_groups``, ``defaults``, ``step``)."""

    def __init__(self, groups, defaults):
        self.defaults = dict(defaults)
        self.param_groups = [{**self.defaults, **g} for g in groups]
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1


_SGD_DEFAULTS = dict(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)


def _real(name):
    import ferrum.optim as fo

    return getattr(fo, name)


def _groups(kind):
    if kind == "sgd":
        return [dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.8)]
    return [dict(lr=0.01, betas=(0.9, 0.99)), dict(lr=0.003, betas=(0.8, 0.999))]


def make_ferrum_opt(kind):
    """SGD-with-momentum or Adam over 2 groups with different lrs."""
    cls = _real("SGD" if kind == "sgd" else "Adam")
    groups = _groups(kind)
    params = [dict(g, params=[ferrum.nn.Parameter(ferrum.zeros(3, dtype=ferrum.float64))]) for g in groups]
    return cls(params, lr=1e-3)


def make_torch_opt(torch, kind):
    groups = _groups(kind)
    params = [dict(g, params=[torch.zeros(3, dtype=torch.float64, requires_grad=True)]) for g in groups]
    cls = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    return cls(params, lr=1e-3)


def _snapshot(opt):
    """(lrs, momenta) of every group, momentum being SGD's momentum or Adam's beta1."""
    lrs = [float(g["lr"]) for g in opt.param_groups]
    ms = [float(g["betas"][0]) if "betas" in g else float(g.get("momentum", 0.0)) for g in opt.param_groups]
    return lrs + ms


def _copy_hparams(src, dst):
    """Restores ``dst``'s group hyperparameters from ``src`` (optimizer.load_state_dict, or for the
    stand-in what it would restore: everything but the params)."""
    if isinstance(dst, _StubOptimizer):
        for gs, gd in zip(src.param_groups, dst.param_groups):
            gd.update({k: v for k, v in gs.items() if k != "params"})
    else:
        dst.load_state_dict(pickle.loads(pickle.dumps(src.state_dict())))


def run_curve(opt, sched, n, metrics=None, start=0):
    """Steps ``n`` times from step ``start``; returns [snapshot + get_last_lr] per step (incl. start)."""
    rows = [_snapshot(opt) + [float(v) for v in sched.get_last_lr()]]
    for t in range(start, start + n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
        rows.append(_snapshot(opt) + [float(v) for v in sched.get_last_lr()])
    return np.array(rows)


def _both(torch, kind, build):
    fo, to = make_ferrum_opt(kind), make_torch_opt(torch, kind)
    return fo, build(fls, fo), to, build(torch.optim.lr_scheduler, to)


# --------------------------------------------------------------------------- the cases
def _plateau_metrics(mode):
    # improves, plateaus (-> reduction, cooldown), improves again, plateaus with noise
    t = np.arange(N_STEPS, dtype=np.float64)
    m = np.where(t < 15, 1.0 / (1.0 + t), 1.0 / 16 + 1e-3 * np.sin(t))
    m = np.where((t >= 50) & (t < 60), m - 0.02 * (t - 49), m)
    m = np.where(t >= 60, m - 0.2 + 1e-4 * np.cos(3 * t), m)
    return list(-m if mode == "max" else m)


class _Halver:
    """A callable object (its state survives state_dict, unlike a lambda's)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, e):
        return self.base ** (e // 10)


CASES = {
    "lambda": ("sgd", lambda m, o: m.LambdaLR(o, lambda e: 0.97 ** e)),
    "lambda_list": ("sgd", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + e), _Halver(0.5)])),
    "multiplicative": ("sgd", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95 if e % 3 else 1.01)),
    "step": ("sgd", lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "step_default": ("adam", lambda m, o: m.StepLR(o, 30)),
    "multistep": ("sgd", lambda m, o: m.MultiStepLR(o, milestones=[5, 20, 20, 77], gamma=0.3)),
    "constant": ("sgd", lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=13)),
    "constant_default": ("adam", lambda m, o: m.ConstantLR(o)),
    "linear": ("sgd", lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=40)),
    "linear_decay": ("adam", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=90)),
    "exponential": ("sgd", lambda m, o: m.ExponentialLR(o, gamma=0.96)),
    "polynomial": ("sgd", lambda m, o: m.PolynomialLR(o, total_iters=80, power=2.5)),
    "polynomial_default": ("adam", lambda m, o: m.PolynomialLR(o)),
    "cosine": ("sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=30)),
    "cosine_eta_min": ("adam", lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=1e-3)),
    "warm_restarts": ("sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10)),
    "warm_restarts_mult": ("adam", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                              eta_min=1e-4)),
    "cyclic_tri": ("sgd", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=9)),
    "cyclic_tri2_adam": ("adam", lambda m, o: m.CyclicLR(o, base_lr=[1e-4, 2e-4], max_lr=[1e-2, 5e-3],
                                                         step_size_up=6, step_size_down=11,
                                                         mode="triangular2")),
    "cyclic_exp": ("sgd", lambda m, o: m.CyclicLR(o, 0.01, 0.2, step_size_up=8, mode="exp_range",
                                                  gamma=0.99, base_momentum=[0.7, 0.75],
                                                  max_momentum=0.95)),
    "cyclic_scale_fn_cycle": ("sgd", lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                             scale_fn=lambda x: 1 / x)),
    "cyclic_scale_fn_iter": ("adam", lambda m, o: m.CyclicLR(o, 1e-3, 1e-2, step_size_up=7,
                                                             scale_fn=lambda x: 0.5 ** (x / 20),
                                                             scale_mode="iterations")),
    "cyclic_no_momentum": ("sgd", lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                          cycle_momentum=False)),
    "onecycle": ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=N_STEPS)),
    "onecycle_adam_list": ("adam", lambda m, o: m.OneCycleLR(o, max_lr=[0.01, 0.02], epochs=6,
                                                             steps_per_epoch=20, pct_start=0.25)),
    "onecycle_linear": ("sgd", lambda m, o: m.OneCycleLR(o, 0.3, total_steps=N_STEPS,
                                                         anneal_strategy="linear",
                                                         div_factor=10.0, final_div_factor=100.0,
                                                         base_momentum=0.8, max_momentum=[0.9, 0.99])),
    "onecycle_three_phase": ("adam", lambda m, o: m.OneCycleLR(o, 0.05, total_steps=N_STEPS + 7,
                                                               three_phase=True, pct_start=0.4)),
    "onecycle_no_momentum": ("sgd", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=N_STEPS,
                                                              cycle_momentum=False)),
    "sequential": ("sgd", lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=10),
                                                          m.ExponentialLR(o, 0.95)], milestones=[10])),
    "sequential_3": ("adam", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, total_iters=4), m.CosineAnnealingLR(o, T_max=20, eta_min=1e-4),
            m.StepLR(o, 9, 0.7)], milestones=[8, 50])),
    "chained": ("sgd", lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.2, total_iters=6),
                                                         m.ExponentialLR(o, 0.97)])),
    "chained_cosine_linear": ("adam", lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, 0.05, total_iters=15), m.CosineAnnealingLR(o, 40, eta_min=1e-5),
         m.MultiStepLR(o, [60, 90])], optimizer=o)),
    "sequential_of_chained": ("sgd", lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.LinearLR(o, 0.2, total_iters=5), m.ExponentialLR(o, 0.99)]),
            m.PolynomialLR(o, total_iters=60, power=1.5)], milestones=[25])),
}

PLATEAU_CASES = {
    "min_rel": (dict(patience=3, cooldown=2, factor=0.5), "min"),
    "min_abs": (dict(patience=2, threshold=1e-3, threshold_mode="abs", factor=0.3), "min"),
    "max_rel": (dict(mode="max", patience=4, cooldown=5, min_lr=[0.005, 1e-4]), "max"),
    "max_abs_minlr": (dict(mode="max", threshold_mode="abs", patience=0, min_lr=0.001, eps=1e-3), "max"),
    "patience0_cooldown": (dict(patience=0, cooldown=3, factor=0.7), "min"),
}


def _plateau_builder(kwargs):
    return lambda m, o: m.ReduceLROnPlateau(o, **kwargs)


# --------------------------------------------------------------------------- curve parity
@pytest.mark.parametrize("name", list(CASES))
def test_curve_matches_torch(torch, name):
    kind, build = CASES[name]
    fo, fs, to, ts = _both(torch, kind, build)
    np.testing.assert_allclose(run_curve(fo, fs, N_STEPS), run_curve(to, ts, N_STEPS), rtol=0, atol=ATOL)
    assert getattr(fs, "last_epoch", None) == getattr(ts, "last_epoch", None)


@pytest.mark.parametrize("name", list(PLATEAU_CASES))
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_plateau_matches_torch(torch, name, kind):
    kwargs, mode = PLATEAU_CASES[name]
    metrics = _plateau_metrics(mode)
    fo, fs, to, ts = _both(torch, kind, _plateau_builder(kwargs))
    f_rows = run_curve(fo, fs, N_STEPS, metrics)
    np.testing.assert_allclose(f_rows, run_curve(to, ts, N_STEPS, metrics), rtol=0, atol=ATOL)
    # the sequence did trigger several reductions
    assert np.count_nonzero(np.diff(f_rows[:, :2], axis=0)) >= 2
    state = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")
    assert [getattr(fs, k) for k in state] == [getattr(ts, k) for k in state]


def test_plateau_tensor_metric_and_epoch(torch):
    fo, fs, to, ts = _both(torch, "sgd", _plateau_builder(dict(patience=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 0.5, 0.6, 0.7]):
            fs.step(ferrum.tensor(v), epoch=10 + i)
            ts.step(torch.tensor(v), epoch=10 + i)
    assert fs.last_epoch == ts.last_epoch == 16
    np.testing.assert_allclose(fs.get_last_lr(), ts.get_last_lr(), rtol=0, atol=ATOL)


# --------------------------------------------------------------------------- state_dict
def _resume(torch, kind, build, metrics=None, at=37):
    """Runs ``at`` steps, saves (pickled), loads into a fresh scheduler on a fresh optimizer, continues."""
    n_rest = N_STEPS - at
    fo = make_ferrum_opt(kind)
    fs = build(fls, fo)
    run_curve(fo, fs, at, metrics)
    blob = pickle.dumps(fs.state_dict())
    fo2 = make_ferrum_opt(kind)
    fs2 = build(fls, fo2)
    _copy_hparams(fo, fo2)
    fs2.load_state_dict(pickle.loads(blob))
    resumed = run_curve(fo2, fs2, n_rest, metrics, start=at)
    original = run_curve(fo, fs, n_rest, metrics, start=at)
    np.testing.assert_allclose(resumed, original, rtol=0, atol=0)
    to = make_torch_opt(torch, kind)
    ts = build(torch.optim.lr_scheduler, to)
    run_curve(to, ts, at, metrics)
    np.testing.assert_allclose(resumed, run_curve(to, ts, n_rest, metrics, start=at), rtol=0, atol=ATOL)
    return fs2.state_dict(), ts.state_dict()


def _keys(sd):
    keys = set(sd)
    if "_schedulers" in sd:
        keys |= {f"{i}.{k}" for i, s in enumerate(sd["_schedulers"]) for k in _keys(s)}
    return keys


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip(torch, name):
    kind, build = CASES[name]
    f_sd, t_sd = _resume(torch, kind, build)
    assert _keys(f_sd) == _keys(t_sd)  # same attribute names as torch's


@pytest.mark.parametrize("name", ["min_rel", "max_rel"])
def test_plateau_state_dict_round_trip(torch, name):
    kwargs, mode = PLATEAU_CASES[name]
    f_sd, t_sd = _resume(torch, "sgd", _plateau_builder(kwargs), _plateau_metrics(mode), at=40)
    assert set(f_sd) == set(t_sd)


def test_lambda_state_dict_saves_callable_objects_only():
    o = make_ferrum_opt("sgd")
    s = fls.LambdaLR(o, [lambda e: 1.0, _Halver(0.5)])
    s.lr_lambdas[1].base = 0.25
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [None, {"base": 0.25}]
    assert "optimizer" not in sd
    o2 = make_ferrum_opt("sgd")
    s2 = fls.LambdaLR(o2, [lambda e: 1.0, _Halver(0.5)])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[1].base == 0.25
    assert sd["lr_lambdas"] == [None, {"base": 0.25}]  # the given dict is left as it was


def test_cyclic_state_dict_drops_functions():
    o = make_ferrum_opt("sgd")
    s = fls.CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=lambda x: 1.0)
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] is None and "_scale_fn_ref" not in sd
    pickle.dumps(sd)


PICKLED_WHOLE = ["step", "multistep", "cosine", "warm_restarts", "cyclic_tri", "cyclic_exp", "onecycle",
                 "sequential", "chained", "sequential_of_chained"]


# the unpickled optimizer's step is no longer wrapped, so a wrapped scheduler that has not stepped yet
# warns as torch's does; that is not what this test is about
@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step\\(\\)` has been overridden:UserWarning")
@pytest.mark.parametrize("name", PICKLED_WHOLE)
def test_pickle_whole_scheduler(torch, name):
    """A scheduler pickled together with its optimizer comes back as the same class and continues the
    same curve; its class is named by the public module as torch's are, although the code lives in
    the split-off ``_lr_*`` files."""
    kind, build = CASES[name]
    fo = make_ferrum_opt(kind)
    fs = build(fls, fo)
    run_curve(fo, fs, 11)
    blob = pickle.dumps(fs)
    assert b"ferrum.optim.lr_scheduler" in blob
    clone = pickle.loads(blob)
    assert type(clone) is type(fs)
    ts = build(torch.optim.lr_scheduler, make_torch_opt(torch, kind))
    assert type(fs).__module__ == type(ts).__module__.replace("torch", "ferrum", 1)
    np.testing.assert_array_equal(run_curve(clone.optimizer, clone, 20, start=11),
                                  run_curve(fo, fs, 20, start=11))


def test_public_names_keep_the_module_path(torch):
    for name in fls.__all__:
        obj = getattr(fls, name)
        assert obj.__module__ == "ferrum.optim.lr_scheduler", name
        if name != "linear_warmup_decay":  # ferrum's own recipe
            assert repr(obj).replace("ferrum", "torch") == repr(getattr(torch.optim.lr_scheduler, name))


# --------------------------------------------------------------------------- step(epoch)
CLOSED_FORM = ["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine",
               "cosine_eta_min", "lambda"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_matches_torch(torch, name):
    kind, build = CASES[name]
    fo, fs, to, ts = _both(torch, kind, build)
    epochs = [3, 5, 5, 12, 2, 40, 41, 77, 13, 100]
    for e in epochs:
        with pytest.warns(UserWarning, match="epoch parameter"):
            fo.step()
            fs.step(e)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to.step()
            ts.step(e)
        np.testing.assert_allclose(_snapshot(fo), _snapshot(to), rtol=0, atol=ATOL)
        assert fs.last_epoch == ts.last_epoch == e
    # chainable steps continue from wherever the closed form left the lr
    np.testing.assert_allclose(run_curve(fo, fs, 20, start=100), run_curve(to, ts, 20, start=100),
                               rtol=0, atol=ATOL)


@pytest.mark.parametrize("T_0,T_mult,eta_min", [(10, 1, 0.0), (3, 2, 1e-3), (4, 3, 0.0)])
def test_warm_restarts_fractional_epochs(torch, T_0, T_mult, eta_min):
    fo, fs, to, ts = _both(torch, "sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min))
    iters = 7
    for epoch in range(25):
        for i in range(iters):
            e = epoch + i / iters
            fo.step()
            fs.step(e)
            to.step()
            ts.step(e)
            np.testing.assert_allclose(_snapshot(fo), _snapshot(to), rtol=0, atol=ATOL)
            assert (fs.T_cur, fs.T_i, fs.last_epoch) == (ts.T_cur, ts.T_i, ts.last_epoch)
    # interleave plain steps and epochs, going backwards too
    for e in [None, None, 2.5, None, 0, None, 13.25, None]:
        fs.step(e)
        ts.step(e)
        np.testing.assert_allclose(_snapshot(fo), _snapshot(to), rtol=0, atol=ATOL)


def test_warm_restarts_negative_epoch():
    s = fls.CosineAnnealingWarmRestarts(make_ferrum_opt("sgd"), 5)
    with pytest.raises(ValueError, match="non-negative epoch"):
        s.step(-1)


# --------------------------------------------------------------------------- FERRUM's recipe
@pytest.mark.parametrize("warmup,total,final", [(10, 100, 0.0), (1, 50, 0.1), (25, 110, 0.5)])
def test_linear_warmup_decay(torch, warmup, total, final):
    fo = make_ferrum_opt("sgd")
    fs = fls.linear_warmup_decay(fo, warmup, total, final_factor=final)
    assert isinstance(fs, fls.SequentialLR)
    f_rows = run_curve(fo, fs, N_STEPS)
    to = make_torch_opt(torch, "sgd")
    m = torch.optim.lr_scheduler
    ts = m.SequentialLR(to, [m.LinearLR(to, 1.0 / warmup, 1.0, total_iters=warmup),
                             m.LinearLR(to, 1.0, final, total_iters=total - warmup)], milestones=[warmup])
    np.testing.assert_allclose(f_rows, run_curve(to, ts, N_STEPS), rtol=0, atol=ATOL)
    # the documented curve
    base = np.array([0.1, 0.05])
    t = np.arange(N_STEPS + 1)[:, None]
    s = 1.0 / warmup
    expect = np.where(t <= warmup, base * (s + (1 - s) * np.minimum(t, warmup) / warmup),
                      base * (1 + (final - 1) * np.minimum(t - warmup, total - warmup) / (total - warmup)))
    np.testing.assert_allclose(f_rows[:, :2], expect, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("args", [(0, 10), (10, 10), (5, 3), (2.0, 10), (2, 10, 1.5), (2, 10, -0.1)])
def test_linear_warmup_decay_errors(args):
    with pytest.raises(ValueError, match="linear_warmup_decay"):
        fls.linear_warmup_decay(make_ferrum_opt("sgd"), *args)


# --------------------------------------------------------------------------- base-class behaviour
def test_initial_lr_and_base_lrs():
    o = make_ferrum_opt("sgd")
    s = fls.StepLR(o, 3)
    assert [g["initial_lr"] for g in o.param_groups] == s.base_lrs == [0.1, 0.05]
    assert s.last_epoch == 0 and s._step_count == 1
    assert fls._LRScheduler.__name__ == "_LRScheduler" and issubclass(fls._LRScheduler, fls.LRScheduler)


def test_resume_needs_initial_lr(torch):
    msg = r"param 'initial_lr' is not specified in param_groups\[0\] when resuming"
    with pytest.raises(KeyError, match=msg):
        fls.StepLR(make_ferrum_opt("sgd"), 3, last_epoch=5)
    with pytest.raises(KeyError, match=msg):
        torch.optim.lr_scheduler.StepLR(make_torch_opt(torch, "sgd"), 3, last_epoch=5)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine", "polynomial", "linear", "multiplicative"])
def test_resume_with_last_epoch(torch, name):
    kind, build = CASES[name]

    def resumed(m, o):
        build(m, o)  # sets initial_lr, as a first run would have
        for g, lr in zip(o.param_groups, [0.02, 0.01]):
            g["lr"] = lr
        return {"step": lambda: m.StepLR(o, 7, 0.5, last_epoch=20),
                "exponential": lambda: m.ExponentialLR(o, 0.96, last_epoch=20),
                "cosine": lambda: m.CosineAnnealingLR(o, 30, last_epoch=20),
                "polynomial": lambda: m.PolynomialLR(o, 80, 2.5, last_epoch=20),
                "linear": lambda: m.LinearLR(o, 0.1, 0.9, 40, last_epoch=20),
                "multiplicative": lambda: m.MultiplicativeLR(o, lambda e: 0.95, last_epoch=20)}[name]()

    fo, fs, to, ts = _both(torch, kind, resumed)
    np.testing.assert_allclose(run_curve(fo, fs, 50, start=20), run_curve(to, ts, 50, start=20),
                               rtol=0, atol=ATOL)


def test_warns_when_scheduler_steps_first():
    o = make_ferrum_opt("sgd")
    s = fls.StepLR(o, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    o = make_ferrum_opt("sgd")
    s = fls.StepLR(o, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            o.step()
            s.step()


def test_warns_when_optimizer_step_replaced():
    o = make_ferrum_opt("sgd")
    s = fls.ExponentialLR(o, 0.9)
    o.step = lambda: None
    with pytest.warns(UserWarning, match="overridden after learning rate scheduler"):
        s.step()


def test_two_schedulers_wrap_step_once():
    o = make_ferrum_opt("sgd")
    fls.StepLR(o, 3)
    wrapped = o.step
    fls.ExponentialLR(o, 0.9)
    assert o.step is wrapped and o.step._wrapped_by_lr_sched


def test_get_lr_outside_step_warns():
    s = fls.StepLR(make_ferrum_opt("sgd"), 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_get_last_lr_is_a_copy():
    o = make_ferrum_opt("sgd")
    s = fls.ExponentialLR(o, 0.5)
    last = s.get_last_lr()
    last[0] = 123.0
    assert o.param_groups[0]["lr"] == 0.1


def test_verbose_is_accepted(capsys):
    o = make_ferrum_opt("sgd")
    with pytest.warns(UserWarning, match="verbose parameter is deprecated"):
        s = fls.StepLR(o, 1, 0.5, verbose=True)
    o.step()
    s.step()
    assert "Adjusting learning rate of group 1 to 2.5000e-02." in capsys.readouterr().out
    s.print_lr(True, 0, 0.5, epoch=3)
    assert "Epoch 00003: adjusting learning rate of group 0 to 5.0000e-01." in capsys.readouterr().out


def test_tensor_lr_is_updated_in_place():
    lr = ferrum.tensor(0.1, dtype=ferrum.float64)
    o = _StubOptimizer([dict(lr=lr)], _SGD_DEFAULTS)
    s = fls.ExponentialLR(o, 0.5)
    for _ in range(3):
        o.step()
        s.step()
    assert o.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.0125, abs=1e-15)
    assert isinstance(s.get_last_lr()[0], ferrum.Tensor) and s.get_last_lr()[0] is not lr
    assert isinstance(o.param_groups[0]["initial_lr"], ferrum.Tensor)


def test_onecycle_beyond_total_steps(torch):
    fo, fs, to, ts = _both(torch, "sgd", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10))
    run_curve(fo, fs, 10)
    run_curve(to, ts, 10)
    with pytest.raises(ValueError) as t_err:
        ts.step()
    with pytest.raises(ValueError) as f_err:
        fs.step()
    msg = "Tried to step 11 times. The specified number of total steps is 10"
    assert str(f_err.value) == str(t_err.value) == msg


# --------------------------------------------------------------------------- errors
def _stub_no_momentum():
    cls = _real("Adagrad")
    return cls([ferrum.nn.Parameter(ferrum.zeros(2))])


ERRORS = [
    ("ConstantLR factor > 1", lambda m, o: m.ConstantLR(o, factor=1.5)),
    ("ConstantLR factor < 0", lambda m, o: m.ConstantLR(o, factor=-0.1)),
    ("LinearLR start 0", lambda m, o: m.LinearLR(o, start_factor=0.0)),
    ("LinearLR start > 1", lambda m, o: m.LinearLR(o, start_factor=1.1)),
    ("LinearLR end > 1", lambda m, o: m.LinearLR(o, end_factor=1.5)),
    ("LinearLR end < 0", lambda m, o: m.LinearLR(o, end_factor=-0.5)),
    ("LambdaLR list length", lambda m, o: m.LambdaLR(o, [lambda e: 1.0])),
    ("MultiplicativeLR list length", lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.0] * 3)),
    ("WarmRestarts T_0 0", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0)),
    ("WarmRestarts T_0 float", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2.0)),
    ("WarmRestarts T_mult 0", lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, T_mult=0)),
    ("WarmRestarts T_mult float", lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, T_mult=1.5)),
    ("WarmRestarts eta_min str", lambda m, o: m.CosineAnnealingWarmRestarts(o, 5, eta_min="0")),
    ("Plateau factor 1", lambda m, o: m.ReduceLROnPlateau(o, factor=1.0)),
    ("Plateau mode", lambda m, o: m.ReduceLROnPlateau(o, mode="avg")),
    ("Plateau threshold_mode", lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct")),
    ("Plateau min_lr length", lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1])),
    ("Cyclic mode", lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="square")),
    ("Cyclic base_lr length", lambda m, o: m.CyclicLR(o, [0.1], 1.0)),
    ("Cyclic max_momentum length", lambda m, o: m.CyclicLR(o, 0.1, 1.0, max_momentum=[0.9] * 3)),
    ("OneCycle nothing", lambda m, o: m.OneCycleLR(o, 0.1)),
    ("OneCycle total_steps 0", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=0)),
    ("OneCycle total_steps float", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10.0)),
    ("OneCycle epochs", lambda m, o: m.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3)),
    ("OneCycle steps_per_epoch", lambda m, o: m.OneCycleLR(o, 0.1, epochs=3, steps_per_epoch=-1)),
    ("OneCycle pct_start > 1", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5)),
    ("OneCycle pct_start int", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=0)),
    ("OneCycle anneal", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp")),
    ("OneCycle max_lr length", lambda m, o: m.OneCycleLR(o, [0.1] * 3, total_steps=10)),
    ("Sequential no schedulers", lambda m, o: m.SequentialLR(o, [], [])),
    ("Sequential milestones", lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)], [1, 2])),
    ("Sequential plateau", lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)], [3])),
    ("Chained empty", lambda m, o: m.ChainedScheduler([])),
    ("Chained plateau", lambda m, o: m.ChainedScheduler([m.ReduceLROnPlateau(o)])),
]


@pytest.mark.parametrize("label,build", ERRORS, ids=[e[0] for e in ERRORS])
def test_value_errors_like_torch(torch, label, build):
    with pytest.raises(ValueError) as t_err:
        build(torch.optim.lr_scheduler, make_torch_opt(torch, "sgd"))
    with pytest.raises(ValueError) as f_err:
        build(fls, make_ferrum_opt("sgd"))
    assert str(f_err.value) == str(t_err.value)


@pytest.mark.parametrize("cls", ["CyclicLR", "OneCycleLR"])
def test_momentum_cycling_needs_momentum(torch, cls):
    args = (0.01, 0.1) if cls == "CyclicLR" else (0.1, 10)
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1") as t_err:
        getattr(torch.optim.lr_scheduler, cls)(torch.optim.Adagrad(p), *args)
    with pytest.raises(ValueError) as f_err:
        getattr(fls, cls)(_stub_no_momentum(), *args)
    assert str(f_err.value) == str(t_err.value)
    getattr(fls, cls)(_stub_no_momentum(), *args, cycle_momentum=False)  # fine without cycling


def test_composite_rejects_other_optimizer():
    o1, o2 = make_ferrum_opt("sgd"), make_ferrum_opt("sgd")
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        fls.SequentialLR(o1, [fls.StepLR(o1, 2), fls.StepLR(o2, 2)], [3])
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        fls.ChainedScheduler([fls.StepLR(o1, 2), fls.StepLR(o2, 2)])
    with pytest.raises(TypeError, match="should have `optimizer` as its attribute"):
        fls.ChainedScheduler([object()], optimizer=o1)


def test_type_errors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        fls.StepLR([], 3)
    with pytest.raises(TypeError, match="lr_lambda should be a function, but got float"):
        fls.MultiplicativeLR(make_ferrum_opt("sgd"), 0.9)


def test_plateau_added_group_with_min_lr_list():
    o = _StubOptimizer([dict(lr=0.1)], _SGD_DEFAULTS)
    s = fls.ReduceLROnPlateau(o, patience=0, min_lr=[0.0])
    o.param_groups.append({**o.defaults, "lr": 0.2})
    s.step(1.0)
    with pytest.raises(RuntimeError, match="differs from when `ReduceLROnPlateau` was initialized"):
        s.step(2.0)


def test_cosine_recursive_form_matches_closed_form_within_first_period():
    # the recursion is the closed form, up to rounding, for 0 <= t <= T_max
    o = make_ferrum_opt("adam")
    s = fls.CosineAnnealingLR(o, T_max=25, eta_min=1e-4)
    rows = run_curve(o, s, 25)
    t = np.arange(26)[:, None]
    base = np.array([0.01, 0.003])
    np.testing.assert_allclose(rows[:, :2], 1e-4 + (base - 1e-4) * (1 + np.cos(math.pi * t / 25)) / 2,
                               rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- with real training steps
TRAJECTORY = {
    "onecycle_sgd": ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=[0.2, 0.1], total_steps=60)),
    "cyclic_adam_betas": ("adam", lambda m, o: m.CyclicLR(o, 1e-3, 2e-2, step_size_up=5,
                                                          mode="triangular2")),
    "warmup_decay_sgd": ("sgd", None),
    "plateau_sgd": ("sgd", lambda m, o: m.ReduceLROnPlateau(o, patience=1, factor=0.5, threshold=0.3)),
}


@pytest.mark.parametrize("name", list(TRAJECTORY))
def test_parameter_trajectory_matches_torch(torch, name):
    """The optimizer really uses the scheduled lr / momentum / beta1: same parameters as torch's."""
    kind, build = TRAJECTORY[name]
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(4), rng.standard_normal(3)]
    target = [rng.standard_normal(4), rng.standard_normal(3)]
    groups = _groups(kind)
    fp = [ferrum.nn.Parameter(ferrum.tensor(a.copy())) for a in init]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    fo = (ferrum.optim.SGD if kind == "sgd" else ferrum.optim.Adam)(
        [dict(g, params=[p]) for g, p in zip(groups, fp)], lr=1e-3)
    to = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)(
        [dict(g, params=[p]) for g, p in zip(groups, tp)], lr=1e-3)
    if build is None:
        fs = fls.linear_warmup_decay(fo, 8, 50, final_factor=0.1)
        m = torch.optim.lr_scheduler
        ts = m.SequentialLR(to, [m.LinearLR(to, 1 / 8, 1.0, 8), m.LinearLR(to, 1.0, 0.1, 42)], [8])
    else:
        fs, ts = build(fls, fo), build(torch.optim.lr_scheduler, to)
    for _ in range(60):
        f_loss = sum(((p - ferrum.tensor(t)) ** 2).sum() for p, t in zip(fp, target))
        t_loss = sum(((p - torch.tensor(t)) ** 2).sum() for p, t in zip(tp, target))
        fo.zero_grad()
        to.zero_grad()
        f_loss.backward()
        t_loss.backward()
        fo.step()
        to.step()
        if isinstance(fs, fls.ReduceLROnPlateau):
            fs.step(f_loss.item())
            ts.step(t_loss.item())
        else:
            fs.step()
            ts.step()
        np.testing.assert_allclose(_snapshot(fo), _snapshot(to), rtol=0, atol=ATOL)
        for a, b in zip(fp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    if name != "cyclic_adam_betas":
        assert fo.param_groups[0]["lr"] != groups[0]["lr"]  # the schedule did move the lr
