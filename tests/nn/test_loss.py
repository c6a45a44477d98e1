"""Loss functions and modules against torch: outputs and gradients (input, target, var) for every
option, float32 and float64, gradcheck + gradgradcheck in float64, cross_entropy stability at large
logits, legacy size_average/reduce, module constructors/reprs/state_dicts, and the errors."""

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides", "ignore:size_average and reduce")


# --------------------------------------------------------------------------- array makers
# each maker is (rng, dtype) -> array; integer targets stay int64 whatever the dtype
def rn(*shape, scale=1.0):
    return lambda r, dt: (r.standard_normal(shape) * scale).astype(dt)


def un(lo, hi, *shape):
    return lambda r, dt: r.uniform(lo, hi, shape).astype(dt)


def ri(hi, *shape, ignore=None):
    def make(r, dt):
        t = r.integers(0, hi, shape).astype(np.int64)
        if ignore is not None and t.ndim:
            t.flat[::3] = ignore  # every third target is ignored
        return t

    return make


def pm1(*shape):
    return lambda r, dt: np.where(r.random(shape) > 0.5, 1.0, -1.0).astype(dt)


def probs(*shape, axis=1):
    def make(r, dt):
        e = np.exp(r.standard_normal(shape))
        return (e / e.sum(axis=axis, keepdims=True)).astype(dt)

    return make


def bits(*shape):
    return lambda r, dt: (r.random(shape) > 0.5).astype(dt)


def ml_targets(shape):
    """multilabel_margin_loss targets: a few class indices per row, then -1, then junk."""

    def make(r, dt):
        n, c = shape if len(shape) == 2 else (1, shape[0])
        t = np.full((n, c), -1, np.int64)
        for i in range(n):
            k = 1 + i % (c - 1)
            t[i, :k] = r.permutation(c)[:k]
            if k + 1 < c:
                t[i, k + 1] = 0  # after the first -1: not a target
        return t.reshape(shape)

    return make


class Case:
    """A loss call ``fn(f, *tensors)`` (f is ferrum's or torch's nn.functional) on arrays from
    ``specs`` = [(maker, requires_grad)]."""

    def __init__(self, id, fn, *specs, gc=True):
        self.id, self.fn, self.specs, self.gc = id, fn, specs, gc

    def arrays(self, dtype, seed=0):
        r = np.random.default_rng(seed)
        return [m(r, dtype) for m, _ in self.specs]


REDS = ("none", "mean", "sum")
CASES = []


def add(id, fn, *specs, gc=True):
    CASES.append(Case(id, fn, *specs, gc=gc))


for red in REDS:
    add(
        f"mse-{red}",
        lambda f, x, y, red=red: f.mse_loss(x, y, reduction=red),
        (rn(4, 3), True),
        (rn(4, 3), True),
    )
    add(
        f"mse-weight-{red}",
        lambda f, x, y, w, red=red: f.mse_loss(x, y, reduction=red, weight=w),
        (rn(4, 3), True),
        (rn(4, 3), True),
        (un(0.1, 2, 4, 3), False),
    )
    add(
        f"l1-{red}",
        lambda f, x, y, red=red: f.l1_loss(x, y, reduction=red),
        (rn(4, 3), True),
        (rn(4, 3), True),
    )
    add(
        f"l1-weight-{red}",
        lambda f, x, y, w, red=red: f.l1_loss(x, y, reduction=red, weight=w),
        (rn(4, 3), True),
        (rn(4, 3), True),
        (un(0.1, 2, 4, 3), False),
    )
    for beta in (1.0, 0.5, 0.0):
        add(
            f"smooth_l1-b{beta}-{red}",
            lambda f, x, y, red=red, beta=beta: f.smooth_l1_loss(x, y, reduction=red, beta=beta),
            (rn(5, 3), True),
            (rn(5, 3), True),
        )
    for delta in (1.0, 0.3):
        add(
            f"huber-d{delta}-{red}",
            lambda f, x, y, red=red, delta=delta: f.huber_loss(x, y, reduction=red, delta=delta),
            (rn(5, 3), True),
            (rn(5, 3), True),
        )
    add(
        f"huber-weight-{red}",
        lambda f, x, y, w, red=red: f.huber_loss(x, y, reduction=red, delta=0.5, weight=w),
        (rn(5, 3), True),
        (rn(5, 3), True),
        (un(0.1, 2, 5, 3), False),
    )
    add(
        f"bce-{red}",
        lambda f, x, y, red=red: f.binary_cross_entropy(x, y, reduction=red),
        (un(0.05, 0.95, 4, 3), True),
        (un(0, 1, 4, 3), True),
    )
    add(
        f"bce-weight-{red}",
        lambda f, x, y, w, red=red: f.binary_cross_entropy(x, y, weight=w, reduction=red),
        (un(0.05, 0.95, 4, 3), True),
        (un(0, 1, 4, 3), True),
        (un(0.1, 2, 3), False),
    )
    add(
        f"bcel-{red}",
        lambda f, x, y, red=red: f.binary_cross_entropy_with_logits(x, y, reduction=red),
        (rn(4, 3, scale=3), True),
        (un(0, 1, 4, 3), True),
    )
    add(
        f"bcel-weights-{red}",
        lambda f, x, y, w, pw, red=red: f.binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=pw, reduction=red
        ),
        (rn(4, 3, scale=3), True),
        (un(0, 1, 4, 3), True),
        (un(0.1, 2, 4, 1), False),
        (un(0.1, 3, 3), False),
    )
    add(
        f"bcel-posweight-{red}",
        lambda f, x, y, pw, red=red: f.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=red),
        (rn(2, 4, 3, scale=3), True),
        (bits(2, 4, 3), False),
        (un(0.1, 3, 3), False),
    )
    # cross_entropy / nll_loss with class indices
    for ls in (0.0, 0.25):
        for ii in (-100, 2):
            tag = f"{red}-ls{ls}-ii{ii}"
            add(
                f"ce-weight-{tag}",
                lambda f, x, t, w, red=red, ls=ls, ii=ii: f.cross_entropy(
                    x, t, weight=w, reduction=red, label_smoothing=ls, ignore_index=ii
                ),
                (rn(7, 5), True),
                (ri(5, 7, ignore=ii), False),
                (un(0.1, 2, 5), False),
            )
        ii = 2 if ls else -100
        tag = f"{red}-ls{ls}-ii{ii}"
        add(
            f"ce-{tag}",
            lambda f, x, t, red=red, ls=ls, ii=ii: f.cross_entropy(
                x, t, reduction=red, label_smoothing=ls, ignore_index=ii
            ),
            (rn(7, 5), True),
            (ri(5, 7, ignore=ii), False),
        )
        add(
            f"ce-4d-{tag}",
            lambda f, x, t, w, red=red, ls=ls, ii=ii: f.cross_entropy(
                x, t, weight=w, reduction=red, label_smoothing=ls, ignore_index=ii
            ),
            (rn(2, 4, 3, 2), True),
            (ri(4, 2, 3, 2, ignore=ii), False),
            (un(0.1, 2, 4), False),
        )
        add(
            f"ce-unbatched-{red}-ls{ls}",
            lambda f, x, t, red=red, ls=ls: f.cross_entropy(x, t, reduction=red, label_smoothing=ls),
            (rn(6), True),
            (ri(6), False),
        )
        add(
            f"ce-probs-{red}-ls{ls}",
            lambda f, x, t, w, red=red, ls=ls: f.cross_entropy(
                x, t, weight=w, reduction=red, label_smoothing=ls
            ),
            (rn(5, 4), True),
            (probs(5, 4), True),
            (un(0.1, 2, 4), False),
        )
        add(
            f"ce-probs-3d-{red}-ls{ls}",
            lambda f, x, t, red=red, ls=ls: f.cross_entropy(x, t, reduction=red, label_smoothing=ls),
            (rn(2, 4, 3), True),
            (probs(2, 4, 3), True),
        )
        add(
            f"ce-probs-unbatched-{red}-ls{ls}",
            lambda f, x, t, red=red, ls=ls: f.cross_entropy(x, t, reduction=red, label_smoothing=ls),
            (rn(4), True),
            (probs(4, axis=0), True),
        )
    for ii in (-100, 1):
        add(
            f"nll-{red}-ii{ii}",
            lambda f, x, t, red=red, ii=ii: f.nll_loss(x, t, reduction=red, ignore_index=ii),
            (rn(6, 4), True),
            (ri(4, 6, ignore=ii), False),
        )
        add(
            f"nll-weight-{red}-ii{ii}",
            lambda f, x, t, w, red=red, ii=ii: f.nll_loss(x, t, weight=w, reduction=red, ignore_index=ii),
            (rn(6, 4), True),
            (ri(4, 6, ignore=ii), False),
            (un(0.1, 2, 4), False),
        )
    add(
        f"nll-4d-{red}",
        lambda f, x, t, w, red=red: f.nll_loss(x, t, weight=w, reduction=red, ignore_index=1),
        (rn(2, 3, 2, 3), True),
        (ri(3, 2, 2, 3, ignore=1), False),
        (un(0.1, 2, 3), False),
    )
    add(
        f"nll-unbatched-{red}",
        lambda f, x, t, red=red: f.nll_loss(x, t, reduction=red),
        (rn(5), True),
        (ri(5), False),
    )
    for lt in (False, True):
        add(
            f"kl-{red}-lt{lt}",
            lambda f, x, y, red=red, lt=lt: f.kl_div(x, y, reduction=red, log_target=lt),
            (rn(4, 3), True),
            ((rn(4, 3) if lt else un(0.05, 1, 4, 3)), True),
        )
    for m in (0.0, 0.3):
        add(
            f"cosemb-{red}-m{m}",
            lambda f, a, b, y, red=red, m=m: f.cosine_embedding_loss(a, b, y, margin=m, reduction=red),
            (rn(6, 4), True),
            (rn(6, 4), True),
            (pm1(6), False),
        )
        add(
            f"marginrank-{red}-m{m}",
            lambda f, a, b, y, red=red, m=m: f.margin_ranking_loss(a, b, y, margin=m, reduction=red),
            (rn(6), True),
            (rn(6), True),
            (pm1(6), False),
        )
    add(
        f"cosemb-unbatched-{red}",
        lambda f, a, b, y, red=red: f.cosine_embedding_loss(a, b, y, reduction=red),
        (rn(4), True),
        (rn(4), True),
        (lambda r, dt: np.array(-1.0, dt), False),
    )
    for m in (1.0, 0.4):
        add(
            f"hinge-{red}-m{m}",
            lambda f, x, y, red=red, m=m: f.hinge_embedding_loss(x, y, margin=m, reduction=red),
            (rn(5, 3), True),
            (pm1(5, 3), False),
        )
    for p, swap in ((1, False), (2, True), (3, False), (3, True)) if red == "mean" else ((2, True),):
        add(
            f"triplet-{red}-p{p}-swap{swap}",
            lambda f, a, b, c, red=red, p=p, swap=swap: f.triplet_margin_loss(
                a, b, c, margin=1.5, p=p, swap=swap, reduction=red
            ),
            (rn(4, 3), True),
            (rn(4, 3), True),
            (rn(4, 3), True),
        )
    add(
        f"triplet-1d-{red}",
        lambda f, a, b, c, red=red: f.triplet_margin_loss(a, b, c, eps=1e-3, reduction=red),
        (rn(4), True),
        (rn(4), True),
        (rn(4), True),
    )
    for full in (False, True):
        add(
            f"gauss-{red}-full{full}",
            lambda f, x, y, v, red=red, full=full: f.gaussian_nll_loss(x, y, v, full=full, reduction=red),
            (rn(4, 3), True),
            (rn(4, 3), True),
            (un(0.2, 2, 4, 3), True),
        )
    add(
        f"gauss-homo-{red}",
        lambda f, x, y, v, red=red: f.gaussian_nll_loss(x, y, v, reduction=red),
        (rn(4, 3), True),
        (rn(4, 3), True),
        (un(0.2, 2, 4), True),
    )
    add(
        f"gauss-onedim-{red}",
        lambda f, x, y, v, red=red: f.gaussian_nll_loss(x, y, v, reduction=red),
        (rn(4, 3, 2), True),
        (rn(4, 3, 2), True),
        (un(0.2, 2, 4, 1, 2), True),
    )
    # the clamp at eps passes the gradient through unchanged (as PyTorch), so no gradcheck
    add(
        f"gauss-eps-{red}",
        lambda f, x, y, v, red=red: f.gaussian_nll_loss(x, y, v, eps=0.5, reduction=red),
        (rn(4, 3), True),
        (rn(4, 3), True),
        (un(0.2, 2, 4, 3), True),
        gc=False,
    )
    add(
        f"gauss-float-{red}",
        lambda f, x, y, red=red: f.gaussian_nll_loss(x, y, 0.7, reduction=red),
        (rn(4, 3), True),
        (rn(4, 3), True),
    )
    for li in (True, False):
        for full in (False, True):
            add(
                f"poisson-{red}-log{li}-full{full}",
                lambda f, x, y, red=red, li=li, full=full: f.poisson_nll_loss(
                    x, y, log_input=li, full=full, reduction=red
                ),
                ((rn(4, 3) if li else un(0.1, 3, 4, 3)), True),
                (un(0, 4, 4, 3), False),
            )
    add(
        f"mlsoft-{red}",
        lambda f, x, y, red=red: f.multilabel_soft_margin_loss(x, y, reduction=red),
        (rn(5, 4), True),
        (bits(5, 4), False),
    )
    add(
        f"mlsoft-weight-{red}",
        lambda f, x, y, w, red=red: f.multilabel_soft_margin_loss(x, y, weight=w, reduction=red),
        (rn(5, 4), True),
        (bits(5, 4), False),
        (un(0.1, 2, 4), False),
    )
    for p in (1, 2):
        add(
            f"multimargin-{red}-p{p}",
            lambda f, x, t, red=red, p=p: f.multi_margin_loss(x, t, p=p, margin=0.7, reduction=red),
            (rn(6, 4), True),
            (ri(4, 6), False),
        )
        add(
            f"multimargin-weight-{red}-p{p}",
            lambda f, x, t, w, red=red, p=p: f.multi_margin_loss(x, t, p=p, weight=w, reduction=red),
            (rn(6, 4), True),
            (ri(4, 6), False),
            (un(0.1, 2, 4), False),
        )
    add(
        f"multimargin-unbatched-{red}",
        lambda f, x, t, red=red: f.multi_margin_loss(x, t, reduction=red),
        (rn(5), True),
        (ri(5), False),
    )
    add(
        f"softmargin-{red}",
        lambda f, x, y, red=red: f.soft_margin_loss(x, y, reduction=red),
        (rn(5, 3, scale=3), True),
        (pm1(5, 3), False),
    )
    add(
        f"mlmargin-{red}",
        lambda f, x, t, red=red: f.multilabel_margin_loss(x, t, reduction=red),
        (rn(4, 5), True),
        (ml_targets((4, 5)), False),
    )
    add(
        f"mlmargin-unbatched-{red}",
        lambda f, x, t, red=red: f.multilabel_margin_loss(x, t, reduction=red),
        (rn(5), True),
        (ml_targets((5,)), False),
    )

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}


def _close(a, b, dtype):
    a = a.detach().numpy() if isinstance(a, ferrum.Tensor) else a.detach().numpy()
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, **TOL[dtype])


def _inputs(torch, case, dtype):
    arrs = case.arrays(dtype)
    fs = [ferrum.tensor(a, requires_grad=rg and a.dtype.kind == "f") for a, (_, rg) in zip(arrs, case.specs)]
    ts = [torch.tensor(a, requires_grad=rg and a.dtype.kind == "f") for a, (_, rg) in zip(arrs, case.specs)]
    return fs, ts


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_torch(torch, case, dtype):
    fs, ts = _inputs(torch, case, dtype)
    fo = case.fn(F, *fs)
    to = case.fn(torch.nn.functional, *ts)
    _close(fo, to, dtype)
    g = np.random.default_rng(1).standard_normal(tuple(to.shape)).astype(dtype)
    fin = [x for x in fs if x.requires_grad]
    tin = [x for x in ts if x.requires_grad]
    fgrads = ferrum.autograd.grad(fo, fin, ferrum.tensor(g))
    tgrads = torch.autograd.grad(to, tin, torch.tensor(g))
    for a, b in zip(fgrads, tgrads):
        _close(a, b, dtype)


# gradcheck on the mean of every configuration, and on 'none' for the fused class-index losses
GC_CASES = [
    c
    for c in CASES
    if c.gc
    and ("-mean" in c.id or (c.id.startswith(("ce-", "nll-")) and "-none" in c.id and "probs" not in c.id))
]


@pytest.mark.parametrize("case", GC_CASES, ids=[c.id for c in GC_CASES])
def test_gradcheck(case):
    arrs = case.arrays(np.float64, seed=2)
    diff = [i for i, (a, (_, rg)) in enumerate(zip(arrs, case.specs)) if rg and a.dtype.kind == "f"]
    base = [ferrum.tensor(a) for a in arrs]
    leaves = [ferrum.tensor(arrs[i], requires_grad=True) for i in diff]

    def fn(*xs):
        args = list(base)
        for i, x in zip(diff, xs):
            args[i] = x
        return case.fn(F, *args)

    if np.isnan(fn(*leaves).detach().numpy()).any():
        pytest.skip("every target ignored")
    assert gradcheck(fn, leaves)
    assert gradgradcheck(fn, leaves)


# --------------------------------------------------------------------------- cross_entropy details
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("scale", [1e4, -1e4, 1e30])
def test_cross_entropy_large_logits(torch, dtype, scale):
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(dtype)
    x[:, 0] *= scale
    x[2] += scale  # one row far above the others: rows are shifted one by one
    t = np.array([0, 1, 2, 3, 4, 0])
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow/invalid warnings either
        fl = F.cross_entropy(fx, ferrum.tensor(t), reduction="none")
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction="none")
    assert np.isfinite(fl.detach().numpy()).all()
    _close(fl, tl, dtype)
    fl.sum().backward()
    tl.sum().backward()
    assert np.isfinite(fx.grad.numpy()).all()
    _close(fx.grad, tx.grad, dtype)


def test_cross_entropy_mixed_scales_and_masked_logits(torch):
    x = np.random.default_rng(0).standard_normal((5, 6))
    x[0] -= 200.0  # far below the global maximum
    x[1, 2:] = -np.inf  # masked classes
    t = np.array([1, 0, 2, 3, 4])
    for red in REDS:
        fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fl = F.cross_entropy(fx, ferrum.tensor(t), reduction=red, label_smoothing=0.0)
        tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction=red)
        _close(fl, tl, np.float64)
        fl.sum().backward()
        tl.sum().backward()
        _close(fx.grad, tx.grad, np.float64)


def test_cross_entropy_non_contiguous_and_grad_fn(torch):
    x = np.random.default_rng(0).standard_normal((5, 8))
    t = np.array([0, 3, 4, 1, 2, 2, 0, 1])
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fl = F.cross_entropy(fx.t(), ferrum.tensor(t))
    tl = torch.nn.functional.cross_entropy(tx.t(), torch.tensor(t))
    _close(fl, tl, np.float64)
    assert fl.grad_fn.name() == "NllLossBackward0"
    fl.backward()
    tl.backward()
    _close(fx.grad, tx.grad, np.float64)


def test_cross_entropy_all_ignored(torch):
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    for red in REDS:
        fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fl = F.cross_entropy(fx, ferrum.tensor(t), reduction=red)
        tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction=red)
        np.testing.assert_array_equal(np.isnan(fl.detach().numpy()), np.isnan(tl.detach().numpy()))
        fl.sum().backward()
        tl.sum().backward()
        np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())


def test_cross_entropy_double_backward_vs_torch(torch):
    x = np.random.default_rng(0).standard_normal((4, 5))
    t = np.array([1, -100, 4, 0])
    w = np.random.default_rng(1).uniform(0.5, 2, 5)
    res = []
    for lib, f in ((ferrum, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        loss = f.cross_entropy(xt, lib.tensor(t), weight=lib.tensor(w), label_smoothing=0.1)
        (g,) = lib.autograd.grad(loss, [xt], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), [xt])
        res.append(gg)
    _close(res[0], res[1], np.float64)


def test_cross_entropy_uint8_target_and_empty_batch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    t = np.array([1, 0, 3], np.uint8)
    _close(
        F.cross_entropy(ferrum.tensor(x), ferrum.tensor(t)),
        torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t)),
        np.float32,
    )
    e = np.zeros((0, 4), np.float32)
    for red in ("none", "sum"):
        _close(
            F.cross_entropy(ferrum.tensor(e), ferrum.tensor(np.zeros(0, np.int64)), reduction=red),
            torch.nn.functional.cross_entropy(
                torch.tensor(e), torch.zeros(0, dtype=torch.long), reduction=red
            ),
            np.float32,
        )


def test_bce_at_zero_and_one(torch):
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fl = F.binary_cross_entropy(fx, ferrum.tensor(y), reduction="none")
    tl = torch.nn.functional.binary_cross_entropy(tx, torch.tensor(y), reduction="none")
    _close(fl, tl, np.float64)  # the logs are clamped at -100
    fl.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)  # -1e12 where x(1-x) = 0


def test_bce_with_logits_extreme_logits(torch):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], np.float32)
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0], np.float32)
    fx, tx = ferrum.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    fl = F.binary_cross_entropy_with_logits(fx, ferrum.tensor(y), reduction="none")
    tl = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(y), reduction="none")
    _close(fl, tl, np.float32)
    fl.sum().backward()
    tl.sum().backward()
    _close(fx.grad, tx.grad, np.float32)


# --------------------------------------------------------------------------- legacy arguments
LEGACY = [(None, False), (False, None), (False, False), (True, True), (None, True)]


@pytest.mark.parametrize("sa,rd", LEGACY)
def test_legacy_size_average_reduce(torch, sa, rd):
    r = np.random.default_rng(0)
    x, y = r.standard_normal((4, 3)), r.standard_normal((4, 3))
    t = r.integers(0, 3, 4)
    calls = [
        ("mse_loss", (x, y)),
        ("l1_loss", (x, y)),
        ("cross_entropy", (x, t)),
        ("nll_loss", (x, t)),
        ("kl_div", (x, np.abs(y))),
        ("soft_margin_loss", (x, np.sign(y))),
        ("poisson_nll_loss", (x, np.abs(y))),
    ]
    for name, arrs in calls:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            fo = getattr(F, name)(*[ferrum.tensor(a) for a in arrs], size_average=sa, reduce=rd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to = getattr(torch.nn.functional, name)(
                *[torch.tensor(a) for a in arrs], size_average=sa, reduce=rd
            )
        _close(fo, to, np.float64)
    with pytest.warns(UserWarning):
        m = nn.MSELoss(size_average=sa, reduce=rd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert m.reduction == torch.nn.MSELoss(size_average=sa, reduce=rd).reduction


def test_kl_div_mean_warns():
    x = ferrum.randn(3, 2)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x.exp())


# --------------------------------------------------------------------------- errors
def _t(a):
    return ferrum.tensor(np.asarray(a))


X35 = np.random.default_rng(0).standard_normal((3, 5))

ERRORS = [
    ("ce-target-high", lambda: F.cross_entropy(_t(X35), _t([1, 12, 0])), IndexError, "12"),
    ("ce-target-neg", lambda: F.cross_entropy(_t(X35), _t([1, -5, 0])), IndexError, "-5"),
    ("nll-target-high", lambda: F.nll_loss(_t(X35), _t([5, 1, 0])), IndexError, "Target 5 is out of bounds"),
    (
        "ce-4d-target-high",
        lambda: F.cross_entropy(_t(np.zeros((2, 3, 2))), _t([[0, 3], [1, 1]])),
        IndexError,
        "3",
    ),
    (
        "ce-batch",
        lambda: F.cross_entropy(_t(X35), _t([1, 2, 3, 4])),
        ValueError,
        r"Expected input batch_size \(3\) to match target batch_size \(4\)",
    ),
    ("nll-batch", lambda: F.nll_loss(_t(X35), _t([1, 2])), ValueError, "batch_size"),
    (
        "ce-4d-shape",
        lambda: F.cross_entropy(_t(np.zeros((2, 5, 3))), _t(np.zeros((2, 4), np.int64))),
        RuntimeError,
        "target size",
    ),
    (
        "ce-multi-target",
        lambda: F.cross_entropy(_t(X35), _t(np.zeros((3, 2), np.int64))),
        RuntimeError,
        "multi-target",
    ),
    ("ce-float-target-shape", lambda: F.cross_entropy(_t(X35), _t([1.0, 2.0, 0.0])), RuntimeError, "Long"),
    ("nll-float-target", lambda: F.nll_loss(_t(X35), _t([1.0, 2.0, 0.0])), RuntimeError, "Long"),
    (
        "ce-int-probs",
        lambda: F.cross_entropy(_t(X35), _t(np.zeros((3, 5), np.int64))),
        RuntimeError,
        "floating point",
    ),
    (
        "ce-probs-ignore",
        lambda: F.cross_entropy(_t(X35), _t(X35), ignore_index=1),
        RuntimeError,
        "ignore_index",
    ),
    (
        "ce-int32-target",
        lambda: F.cross_entropy(_t(X35), _t(np.array([1, 2, 0], np.int32))),
        RuntimeError,
        "Int",
    ),
    (
        "ce-int-input",
        lambda: F.cross_entropy(_t(np.zeros((3, 5), np.int64)), _t([1, 2, 0])),
        NotImplementedError,
        "cross_entropy",
    ),
    (
        "ce-weight",
        lambda: F.cross_entropy(_t(X35), _t([1, 2, 0]), weight=_t(np.ones(4))),
        RuntimeError,
        "weight tensor should be defined either for all 5 classes",
    ),
    (
        "nll-weight",
        lambda: F.nll_loss(_t(X35), _t([1, 2, 0]), weight=_t(np.ones(4))),
        RuntimeError,
        "5 classes",
    ),
    (
        "ce-ls",
        lambda: F.cross_entropy(_t(X35), _t([1, 2, 0]), label_smoothing=1.5),
        RuntimeError,
        "label_smoothing must be between 0.0 and 1.0",
    ),
    ("ce-unbatched-target", lambda: F.cross_entropy(_t(np.zeros(5)), _t([1, 2])), ValueError, "1D target"),
    (
        "ce-reduction",
        lambda: F.cross_entropy(_t(X35), _t([1, 2, 0]), reduction="bad"),
        ValueError,
        "bad is not a valid value for reduction",
    ),
    ("nll-reduction", lambda: F.nll_loss(_t(X35), _t([1, 2, 0]), reduction="avg"), ValueError, "avg"),
    ("mse-reduction", lambda: F.mse_loss(_t(X35), _t(X35), reduction="bad"), ValueError, "not a valid value"),
    (
        "bce-reduction",
        lambda: F.binary_cross_entropy(_t(X35 * 0), _t(X35 * 0), reduction="x"),
        ValueError,
        "x",
    ),
    ("kl-reduction", lambda: F.kl_div(_t(X35), _t(X35), reduction="bad"), ValueError, "bad"),
    (
        "gauss-reduction",
        lambda: F.gaussian_nll_loss(_t(X35), _t(X35), _t(X35 * 0 + 1), reduction="bad"),
        ValueError,
        "bad",
    ),
    ("poisson-reduction", lambda: F.poisson_nll_loss(_t(X35), _t(X35), reduction="bad"), ValueError, "bad"),
    ("mse-broadcast", lambda: F.mse_loss(_t(np.zeros(3)), _t(np.zeros(4))), RuntimeError, "broadcastable"),
    (
        "mse-weight-shape",
        lambda: F.mse_loss(_t(X35), _t(X35), weight=_t(np.ones(5))),
        ValueError,
        "Weights and input must have the same size",
    ),
    (
        "bce-range",
        lambda: F.binary_cross_entropy(_t([1.5, 0.5]), _t([1.0, 0.0])),
        RuntimeError,
        "between 0 and 1",
    ),
    (
        "bce-size",
        lambda: F.binary_cross_entropy(_t([0.5, 0.5]), _t([1.0, 0.0, 1.0])),
        ValueError,
        "target size",
    ),
    (
        "bcel-size",
        lambda: F.binary_cross_entropy_with_logits(_t([0.5, 0.5]), _t([1.0, 0.0, 1.0])),
        ValueError,
        "must be the same as input size",
    ),
    (
        "smoothl1-beta",
        lambda: F.smooth_l1_loss(_t(X35), _t(X35), beta=-1.0),
        RuntimeError,
        "negative values for beta",
    ),
    (
        "huber-delta",
        lambda: F.huber_loss(_t(X35), _t(X35), delta=0.0),
        RuntimeError,
        "non-positive values for delta",
    ),
    (
        "multimargin-p",
        lambda: F.multi_margin_loss(_t(X35), _t([0, 1, 2]), p=3),
        ValueError,
        "only p == 1 and p == 2",
    ),
    (
        "multimargin-target",
        lambda: F.multi_margin_loss(_t(X35), _t([0, 1, 7]), p=1),
        RuntimeError,
        "out of range",
    ),
    (
        "triplet-margin",
        lambda: F.triplet_margin_loss(_t(X35), _t(X35), _t(X35), margin=0.0),
        ValueError,
        "margin must be greater than 0",
    ),
    (
        "triplet-dims",
        lambda: F.triplet_margin_loss(_t(X35), _t(X35[0]), _t(X35)),
        RuntimeError,
        "same number of dimensions",
    ),
    (
        "cosemb-dims",
        lambda: F.cosine_embedding_loss(_t(np.zeros((2, 3, 4))), _t(np.zeros((2, 3, 4))), _t([1.0, 1.0])),
        RuntimeError,
        "1D target tensor expects 2D",
    ),
    (
        "marginrank-dims",
        lambda: F.margin_ranking_loss(_t(np.zeros(3)), _t(np.zeros((3, 1))), _t(np.ones(3))),
        RuntimeError,
        "same dimension",
    ),
    (
        "gauss-negvar",
        lambda: F.gaussian_nll_loss(_t(X35), _t(X35), _t(-np.ones((3, 5)))),
        ValueError,
        "var has negative entry",
    ),
    ("gauss-negvar-float", lambda: F.gaussian_nll_loss(_t(X35), _t(X35), -1.0), ValueError, "negative"),
    (
        "gauss-varsize",
        lambda: F.gaussian_nll_loss(_t(X35), _t(X35), _t(np.ones(5))),
        ValueError,
        "var is of incorrect size",
    ),
    (
        "mlmargin-range",
        lambda: F.multilabel_margin_loss(_t(X35), _t(np.array([[1, 7, -1, 0, 0]] * 3))),
        RuntimeError,
        "out of range",
    ),
    ("type-input", lambda: F.cross_entropy([[1.0, 2.0]], _t([0])), TypeError, "Tensor"),
    ("type-target", lambda: F.mse_loss(_t(X35), 3.0), TypeError, "target"),
]


@pytest.mark.parametrize("fn,exc,match", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()


# --------------------------------------------------------------------------- modules
W4 = np.array([0.5, 1.0, 2.0, 1.5])

# (name, ferrum args builder, torch args builder as lib -> (args, kwargs), forward arrays)
MODULES = [
    ("L1Loss", {"reduction": "sum"}, [rn(3, 4), rn(3, 4)]),
    ("MSELoss", {"reduction": "none"}, [rn(3, 4), rn(3, 4)]),
    ("SmoothL1Loss", {"beta": 0.5}, [rn(3, 4), rn(3, 4)]),
    ("HuberLoss", {"delta": 0.4, "reduction": "sum"}, [rn(3, 4), rn(3, 4)]),
    ("BCELoss", {"weight": W4}, [un(0.1, 0.9, 3, 4), un(0, 1, 3, 4)]),
    ("BCEWithLogitsLoss", {"weight": W4, "pos_weight": W4 * 2}, [rn(3, 4), un(0, 1, 3, 4)]),
    ("CrossEntropyLoss", {"weight": W4, "ignore_index": 1, "label_smoothing": 0.1}, [rn(5, 4), ri(4, 5)]),
    ("CrossEntropyLoss", {}, [rn(5, 4), ri(4, 5)]),
    ("NLLLoss", {"weight": W4, "reduction": "sum"}, [rn(5, 4), ri(4, 5)]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [rn(3, 4), rn(3, 4)]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [rn(3, 4), rn(3, 4), pm1(3)]),
    ("MarginRankingLoss", {"margin": 0.5}, [rn(6), rn(6), pm1(6)]),
    ("HingeEmbeddingLoss", {"margin": 0.7}, [rn(3, 4), pm1(3, 4)]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, [rn(3, 4), rn(3, 4), rn(3, 4)]),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, [rn(3, 4), rn(3, 4), un(0.1, 1, 3, 4)]),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, [un(0.1, 2, 3, 4), un(0, 4, 3, 4)]),
    ("MultiLabelSoftMarginLoss", {"weight": W4}, [rn(3, 4), bits(3, 4)]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": W4}, [rn(3, 4), ri(4, 3)]),
    ("SoftMarginLoss", {}, [rn(3, 4), pm1(3, 4)]),
    ("MultiLabelMarginLoss", {"reduction": "none"}, [rn(3, 4), ml_targets((3, 4))]),
]


def _kw(lib, kw):
    return {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


@pytest.mark.parametrize("name,kw,makers", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_modules(torch, name, kw, makers):
    fm = getattr(nn, name)(**_kw(ferrum, kw))
    tm = getattr(torch.nn, name)(**_kw(torch, kw))
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(fm.state_dict()[k].numpy(), v.numpy())
    assert list(dict(fm.named_buffers())) == list(dict(tm.named_buffers()))
    for attr in (
        "reduction",
        "ignore_index",
        "label_smoothing",
        "margin",
        "p",
        "eps",
        "swap",
        "beta",
        "delta",
        "log_target",
        "log_input",
        "full",
    ):
        if hasattr(tm, attr):
            assert getattr(fm, attr) == getattr(tm, attr), attr
    r = np.random.default_rng(0)
    arrs = [m(r, np.float64) for m in makers]
    fx = ferrum.tensor(arrs[0], requires_grad=True)
    tx = torch.tensor(arrs[0], requires_grad=True)
    fo = fm(fx, *[ferrum.tensor(a) for a in arrs[1:]])
    to = tm(tx, *[torch.tensor(a) for a in arrs[1:]])
    _close(fo, to, np.float64)
    fo.sum().backward()
    to.sum().backward()
    _close(fx.grad, tx.grad, np.float64)


def test_module_weight_buffer_follows_dtype():
    m = nn.CrossEntropyLoss(weight=ferrum.tensor([1.0, 2.0, 3.0]))
    m.double()
    assert m.weight.dtype == ferrum.float64
    out = m(ferrum.randn(4, 3, dtype=ferrum.float64), ferrum.tensor([0, 1, 2, 1]))
    assert out.dtype == ferrum.float64
    sd = m.state_dict()
    m2 = nn.CrossEntropyLoss(weight=ferrum.zeros(3, dtype=ferrum.float64))
    m2.load_state_dict(sd)
    np.testing.assert_array_equal(m2.weight.numpy(), [1.0, 2.0, 3.0])


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="1D tensor"):
        nn.MultiMarginLoss(weight=ferrum.ones(2, 2))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.CrossEntropyLoss(reduction="bad")(ferrum.randn(2, 3), ferrum.tensor([0, 1]))


def test_module_defaults_match_torch(torch):
    import inspect

    for name in (
        "L1Loss",
        "MSELoss",
        "SmoothL1Loss",
        "HuberLoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "CrossEntropyLoss",
        "NLLLoss",
        "KLDivLoss",
        "CosineEmbeddingLoss",
        "MarginRankingLoss",
        "HingeEmbeddingLoss",
        "TripletMarginLoss",
        "GaussianNLLLoss",
        "PoissonNLLLoss",
        "MultiLabelSoftMarginLoss",
        "MultiMarginLoss",
        "SoftMarginLoss",
        "MultiLabelMarginLoss",
    ):
        fp = inspect.signature(getattr(nn, name).__init__).parameters
        tp = inspect.signature(getattr(torch.nn, name).__init__).parameters
        assert [(p.name, p.default, p.kind) for p in fp.values()] == [
            (p.name, p.default, p.kind) for p in tp.values()
        ], name
    for name in (
        "mse_loss",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "cross_entropy",
        "nll_loss",
        "kl_div",
        "cosine_embedding_loss",
        "margin_ranking_loss",
        "hinge_embedding_loss",
        "triplet_margin_loss",
        "gaussian_nll_loss",
        "poisson_nll_loss",
        "multilabel_soft_margin_loss",
        "multi_margin_loss",
        "soft_margin_loss",
        "multilabel_margin_loss",
    ):
        fp = inspect.signature(getattr(F, name)).parameters
        tp = inspect.signature(getattr(torch.nn.functional, name)).parameters
        assert [(p.name, p.default) for p in fp.values()] == [(p.name, p.default) for p in tp.values()], name


def test_cross_entropy_input_modified_in_place_and_retain_graph(torch):
    # like PyTorch, the fused node keeps the softmax, not the input
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = np.array([0, 2, 1, 1])
    res = []
    for lib, f in ((ferrum, F), (torch, torch.nn.functional)):
        leaf = lib.tensor(x, requires_grad=True)
        h = leaf * 2
        loss = f.cross_entropy(h, lib.tensor(t))
        h.add_(1.0)
        loss.backward(retain_graph=True)
        loss.backward()
        res.append(leaf.grad)
    _close(res[0], res[1], np.float64)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss = F.cross_entropy(ferrum.tensor(x, requires_grad=True), ferrum.tensor(t))
        loss.backward()
        loss.backward()
