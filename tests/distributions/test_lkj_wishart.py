"""LKJCholesky and Wishart against torch: log_prob (and Wishart's entropy and moments), gradients,
samples in the support with the right moments, errors."""

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import _both, check_grads, close, f64

pytestmark = pytest.mark.skipif(not hasattr(ferrum, "mvlgamma"), reason="needs ferrum.mvlgamma (special17)")

R = np.random.default_rng(32)
A = R.standard_normal((2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + np.eye(3)


def _corr_chol(n, d):
    m = R.standard_normal((n, d, d))
    c = m @ m.transpose(0, 2, 1) + d * np.eye(d)
    s = 1 / np.sqrt(np.diagonal(c, axis1=1, axis2=2))
    return np.linalg.cholesky(c * s[:, :, None] * s[:, None, :])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("conc", [0.5, 1.0, np.array([0.7, 2.5])])
def test_lkj(torch, dtype, conc):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    tc = torch.tensor(conc, dtype=tdt) if isinstance(conc, np.ndarray) else conc
    fc = ferrum.tensor(conc, dtype=fdt) if isinstance(conc, np.ndarray) else conc
    t, f = torch.distributions.LKJCholesky(4, tc), FD.LKJCholesky(4, fc)
    assert tuple(f.batch_shape) == tuple(t.batch_shape) and tuple(f.event_shape) == (4, 4)
    v = _corr_chol(2, 4)
    close(t.log_prob(torch.tensor(v, dtype=tdt)), f.log_prob(ferrum.tensor(v, dtype=fdt)), dtype, "log_prob")
    s = f.sample((50,))
    assert tuple(s.shape) == tuple(t.sample((50,)).shape)
    assert bool(FD.constraints.corr_cholesky.check(s).all())


def test_lkj_moments_and_grads(torch):
    ferrum.manual_seed(0)
    L = FD.LKJCholesky(3, 2.0).sample((20000,))._data
    corr = L @ L.transpose(0, 2, 1)
    # the first correlation is symmetric about 0 with variance 1 / (2 eta + d - 1) (the LKJ marginal);
    # every entry's spread matches torch's sampler (the same onion construction)
    np.testing.assert_allclose(corr[:, 1, 0].mean(), 0.0, atol=0.02)
    np.testing.assert_allclose(corr[:, 1, 0].var(), 1 / (2 * 2.0 + 3 - 1), rtol=0.05)
    torch.manual_seed(0)
    tL = torch.distributions.LKJCholesky(3, 2.0).sample((20000,)).numpy()
    np.testing.assert_allclose(corr.var(0), (tL @ tL.transpose(0, 2, 1)).var(0), rtol=0.06, atol=1e-6)
    v = f64(_corr_chol(2, 3))
    check_grads(lambda c: FD.LKJCholesky(3, c).log_prob(v), [np.array([0.8, 1.7])])
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        FD.LKJCholesky(1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("df", [4.5, np.array([3.5, 7.0])])
def test_wishart(torch, dtype, kw, df):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    m = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV),
         "scale_tril": np.linalg.cholesky(COV)}[kw]
    tdf = torch.tensor(df, dtype=tdt) if isinstance(df, np.ndarray) else df
    fdf = ferrum.tensor(df, dtype=fdt) if isinstance(df, np.ndarray) else df
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.distributions.Wishart(tdf, **{kw: torch.tensor(m, dtype=tdt)})
        ts = t.sample((3,))
    f = FD.Wishart(fdf, **{kw: ferrum.tensor(m, dtype=fdt)})
    assert tuple(f.batch_shape) == tuple(t.batch_shape) and tuple(f.event_shape) == tuple(t.event_shape)
    v = COV[::-1].copy() + np.eye(3)
    close(t.log_prob(torch.tensor(v, dtype=tdt)), f.log_prob(ferrum.tensor(v, dtype=fdt)), dtype, "log_prob")
    for p in ("mean", "variance", "mode"):
        # torch fails to view a 0-d df with a batch shape (RuntimeError): the same error is expected
        r = _both(lambda p=p: getattr(t, p), lambda p=p: getattr(f, p))
        if r is not None:
            close(*r, dtype, p)
    close(t.entropy(), f.entropy(), dtype, "entropy")
    fs = f.sample((3,))
    assert tuple(fs.shape) == tuple(ts.shape) and bool(f.support.check(fs).all())


def test_wishart_rsample_and_errors():
    df = ferrum.tensor(6.0, dtype=ferrum.float64, requires_grad=True)
    L = ferrum.tensor(np.linalg.cholesky(COV[0]), requires_grad=True)
    ferrum.manual_seed(0)
    s = FD.Wishart(df, scale_tril=L).rsample((20000,))
    np.testing.assert_allclose(s.detach()._data.mean(0), 6.0 * COV[0], rtol=0.05, atol=0.1)
    s.mean(0)[0, 0].backward()  # d E[S_00] / d df = Sigma_00
    np.testing.assert_allclose(float(df.grad), COV[0][0, 0], rtol=0.05)
    assert L.grad is not None
    check_grads(lambda d: FD.Wishart(d, covariance_matrix=f64(COV[0])).log_prob(f64(COV[1])), [np.array(5.0)])
    with pytest.raises(AssertionError, match="Exactly one"):
        FD.Wishart(5.0)
    with pytest.raises(ValueError, match="expected to be greater than ndim - 1"):
        FD.Wishart(1.5, covariance_matrix=ferrum.tensor(COV[0]))
