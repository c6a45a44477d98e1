"""MultivariateNormal against torch: the three parameterisations, batch broadcasting, gradients."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

from .helpers import check_grads, f64, parity, sample_stats

R = np.random.default_rng(7)
LOC = R.standard_normal((2, 3))
A = R.standard_normal((2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + 0.5 * np.eye(3)
TRIL = np.linalg.cholesky(COV)
PREC = np.linalg.inv(COV)
VALUES = [R.standard_normal((2, 3)), R.standard_normal((4, 1, 3)), R.standard_normal(3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("params", [dict(loc=LOC, covariance_matrix=COV), dict(loc=LOC, scale_tril=TRIL),
                                    dict(loc=LOC, precision_matrix=PREC), dict(loc=LOC[0], scale_tril=TRIL),
                                    dict(loc=LOC, covariance_matrix=COV[0])])
def test_parity(torch, dtype, params):
    td, fd = parity(torch, "MultivariateNormal", params, VALUES, dtype, methods=("log_prob",))
    from .helpers import close
    for name in ("scale_tril", "covariance_matrix", "precision_matrix"):
        close(getattr(td, name), getattr(fd, name), dtype if dtype == "float64" else "float32", name)


def test_grads_and_stats():
    v = f64(VALUES[0])
    check_grads(lambda m, c: FD.MultivariateNormal(m, covariance_matrix=(c + c.mT) / 2).log_prob(v),
                [LOC, COV])
    check_grads(lambda m, L: FD.MultivariateNormal(m, scale_tril=L.tril()).rsample((2,)), [LOC, TRIL], seed=3)
    check_grads(lambda L: FD.MultivariateNormal(f64(LOC), scale_tril=L.tril()).entropy(), [TRIL])
    sample_stats(FD.MultivariateNormal(ferrum.tensor(LOC), ferrum.tensor(COV)), n=40000, tol=0.06)


def test_expand():
    d = FD.MultivariateNormal(ferrum.tensor(LOC[0]), ferrum.tensor(COV[0]))
    e = d.expand((4,))
    assert tuple(e.batch_shape) == (4,) and tuple(e.event_shape) == (3,)
    assert tuple(e.covariance_matrix.shape) == (4, 3, 3) and tuple(e.rsample((2,)).shape) == (2, 4, 3)


def test_errors(torch):
    loc = ferrum.zeros(2)
    for kw in ({}, dict(covariance_matrix=ferrum.eye(2), scale_tril=ferrum.eye(2))):
        with pytest.raises(ValueError, match="Exactly one"):
            FD.MultivariateNormal(loc, **kw)
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        FD.MultivariateNormal(ferrum.tensor(0.0), ferrum.eye(1))
    with pytest.raises(ValueError, match="covariance_matrix matrix must be at least two-dimensional"):
        FD.MultivariateNormal(loc, ferrum.ones(2))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        FD.MultivariateNormal(loc, ferrum.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="LowerCholesky"):
        FD.MultivariateNormal(loc, scale_tril=ferrum.tensor([[1.0, 1.0], [0.0, 1.0]]))
