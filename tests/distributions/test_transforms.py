"""Transforms against torch: forward, inverse, log_abs_det_jacobian, domains, signs, shapes and reprs;
caching; ``.inv``; equality; gradcheck/gradgradcheck of the forward map and its log-det-Jacobian."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions.transforms as FT

from .helpers import check_grads, close

R = np.random.default_rng(16)
X = R.standard_normal((2, 3))
M = R.standard_normal((2, 3, 3))


def _cases(T, t, lib):
    """(name, torch-or-ferrum transform, input array): ``T`` makes a tensor of ``lib``."""
    return [
        ("exp", t.ExpTransform(), X), ("sigmoid", t.SigmoidTransform(), X), ("tanh", t.TanhTransform(), X),
        ("softplus", t.SoftplusTransform(), X), ("abs", t.AbsTransform(), X),
        ("affine", t.AffineTransform(1.5, -2.0), X), ("affine0", t.AffineTransform(0.0, 3.0), X),
        ("affine_t", t.AffineTransform(T(X[0]), T(X[1] + 3)), X),
        ("affine_ev", t.AffineTransform(T(X[0]), T(X[1] + 3), event_dim=1), X),
        ("power", t.PowerTransform(T(np.array(2.5))), np.abs(X) + 0.1),
        ("softmax", t.SoftmaxTransform(), X), ("stick", t.StickBreakingTransform(), X),
        ("lower_chol", t.LowerCholeskyTransform(), M), ("pos_def", t.PositiveDefiniteTransform(), M),
        ("corr_chol", t.CorrCholeskyTransform(), X),
        ("compose", t.ComposeTransform([t.AffineTransform(0.5, 2.0), t.ExpTransform()]), X),
        ("compose_ev", t.ComposeTransform([t.ExpTransform(), t.StickBreakingTransform()]), X),
        ("independent", t.IndependentTransform(t.SigmoidTransform(), 1), X),
        ("reshape", t.ReshapeTransform((3,), (3, 1)), X),
        ("cat", t.CatTransform([t.ExpTransform(), t.AffineTransform(1.0, 2.0)], 1, [1, 2]), X),
        ("stack", t.StackTransform([t.ExpTransform(), t.SigmoidTransform(), t.TanhTransform()], 1), X),
        ("inverse", t.SigmoidTransform().inv, R.uniform(0.1, 0.9, (2, 3))),
        ("cdf", t.CumulativeDistributionTransform(lib.Normal(T(np.array(0.5)), T(np.array(2.0)))), X),
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("idx", range(23))
def test_parity(torch, dtype, idx):
    import ferrum.distributions as FD
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    name, tt, x = _cases(lambda a: torch.tensor(a, dtype=tdt), torch.distributions.transforms,
                         torch.distributions)[idx]
    _, ft, _ = _cases(lambda a: ferrum.tensor(a, dtype=fdt), FT, FD)[idx]
    tx, fx = torch.tensor(x, dtype=tdt), ferrum.tensor(x, dtype=fdt)
    ty, fy = tt(tx), ft(fx)
    close(ty, fy, dtype, f"{name} forward")
    assert repr(ft).replace("ferrum", "torch") == repr(tt)
    assert repr(ft.inv).replace("ferrum", "torch") == repr(tt.inv)
    assert ft.bijective == tt.bijective and ft.inv.inv is ft
    for attr in ("domain", "codomain"):
        assert repr(getattr(ft, attr)) == repr(getattr(tt, attr)), (name, attr)
        assert getattr(ft, attr).event_dim == getattr(tt, attr).event_dim
    assert tuple(ft.forward_shape((4,) + x.shape)) == tuple(tt.forward_shape((4,) + x.shape))
    assert tuple(ft.inverse_shape((4,) + tuple(ty.shape))) == tuple(tt.inverse_shape((4,) + tuple(ty.shape)))
    if tt.bijective or name in ("softmax",):
        close(tt.inv(ty), ft.inv(fy), dtype, f"{name} inverse")
    try:
        tl = tt.log_abs_det_jacobian(tx, ty)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ft.log_abs_det_jacobian(fx, fy)
    else:
        close(tl, ft.log_abs_det_jacobian(fx, fy), dtype, f"{name} log_abs_det_jacobian")
    try:
        ts = tt.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ft.sign  # noqa: B018
    else:
        fs = ft.sign
        assert (int(ts) if isinstance(ts, int) else ts.tolist()) == (int(fs) if isinstance(fs, int) else
                                                                      fs.tolist())


@pytest.mark.parametrize("idx", [0, 1, 2, 3, 8, 9, 11, 14, 15, 16])
def test_grads(idx):
    import ferrum.distributions as FD
    name, t, x = _cases(lambda a: ferrum.tensor(a, dtype=ferrum.float64), FT, FD)[idx]
    check_grads(lambda a: t(a), [x])
    check_grads(lambda a: t.log_abs_det_jacobian(a, t(a)), [x])


def test_cache_and_equality():
    t = FT.TanhTransform(cache_size=1)
    x = ferrum.tensor([0.5, 20.0], dtype=ferrum.float64)
    y = t(x)
    assert t.inv(y) is x  # atanh(tanh(20)) would be inf; the cache returns x itself
    assert t(x) is y
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        FT.ExpTransform(cache_size=2)
    assert FT.ExpTransform() == FT.ExpTransform() and FT.ExpTransform() != FT.SigmoidTransform()
    assert FT.AffineTransform(1.0, 2.0) == FT.AffineTransform(1.0, 2.0)
    assert FT.AffineTransform(1.0, 2.0) != FT.AffineTransform(1.0, 3.0)
    assert FT.ExpTransform().inv == FT.ExpTransform().inv
    c = FT.ComposeTransform([FT.ExpTransform(), FT.AffineTransform(0.0, 2.0)])
    assert c.inv.inv is c and c == FT.ComposeTransform([FT.ExpTransform(), FT.AffineTransform(0.0, 2.0)])
    assert FT.identity_transform(x) is x
    assert FT.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="different numbers of elements"):
        FT.ReshapeTransform((2, 3), (5,))
