"""LowRankMultivariateNormal against torch: values, the derived matrices, gradients, broadcasting, errors."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, close, f64, parity, sample_stats

R = np.random.default_rng(18)
LOC = R.standard_normal((2, 4))
W = R.standard_normal((2, 4, 2))
D = R.uniform(0.5, 2, (2, 4))
VALUES = [R.standard_normal((2, 4)), R.standard_normal((3, 1, 4))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, cov_factor=W, cov_diag=D),
                                    dict(loc=LOC[0], cov_factor=W, cov_diag=D[0]),
                                    dict(loc=LOC, cov_factor=W[0], cov_diag=D)])
def test_parity(torch, dtype, params):
    td, fd = parity(torch, "LowRankMultivariateNormal", params, VALUES, dtype, methods=("log_prob",))
    for name in ("scale_tril", "covariance_matrix", "precision_matrix"):
        close(getattr(td, name), getattr(fd, name), dtype, name)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda m, w, d: FD.LowRankMultivariateNormal(m, w, d).log_prob(v), [LOC, W, D])
    check_grads(lambda m, w, d: FD.LowRankMultivariateNormal(m, w, d).rsample((2,)), [LOC, W, D], seed=3)
    check_grads(lambda w, d: FD.LowRankMultivariateNormal(f64(LOC), w, d).entropy(), [W, D])
    loc, w, d = ferrum.tensor(LOC), ferrum.tensor(W), ferrum.tensor(D)
    sample_stats(FD.LowRankMultivariateNormal(loc, w, d), n=40000, tol=0.06)
    e = FD.LowRankMultivariateNormal(loc[0], w[0], d[0]).expand((3,))
    assert tuple(e.batch_shape) == (3,) and tuple(e.rsample((2,)).shape) == (2, 3, 4)


def test_errors():
    loc, w, d = ferrum.zeros(3), ferrum.ones(3, 1), ferrum.ones(3)
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        FD.LowRankMultivariateNormal(ferrum.tensor(0.0), w, d)
    with pytest.raises(ValueError, match="cov_factor must be at least two-dimensional"):
        FD.LowRankMultivariateNormal(loc, ferrum.ones(3), d)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 3 x m"):
        FD.LowRankMultivariateNormal(loc, ferrum.ones(2, 1), d)
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        FD.LowRankMultivariateNormal(loc, w, ferrum.ones(2))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        FD.LowRankMultivariateNormal(ferrum.zeros(2, 3), ferrum.ones(5, 3, 1), d)
