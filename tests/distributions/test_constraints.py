"""Constraints against torch: check() results and reprs."""

import numpy as np
import pytest

import ferrum
from ferrum.distributions import constraints as FC

R = np.random.default_rng(9)
M = R.standard_normal((2, 3, 3))
PD = M @ M.transpose(0, 2, 1) + np.eye(3)
VALUES = [np.array([-1.0, 0.0, 0.5, 1.0, 2.0, float("nan"), float("inf")]),
          np.array([[0.2, 0.8], [0.5, 0.6]]),
          np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.tril(M) + 3 * np.eye(3), PD, M, np.array(3.0)]


def _cases(tc):
    names = ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
             "positive_integer", "simplex", "one_hot", "lower_triangular", "lower_cholesky",
             "positive_definite", "positive_semidefinite", "symmetric", "square", "real_vector",
             "corr_cholesky"]
    out = [(n, getattr(tc, n), getattr(FC, n)) for n in names]
    for n, args in [("greater_than", (1.0,)), ("greater_than_eq", (0.5,)), ("less_than", (0.5,)),
                    ("interval", (-0.5, 1.0)), ("half_open_interval", (0.0, 1.0)),
                    ("integer_interval", (0, 2)),
                    ("multinomial", (2,))]:
        out.append((n, getattr(tc, n)(*args), getattr(FC, n)(*args)))
    out.append(("independent", tc.independent(tc.positive, 1), FC.independent(FC.positive, 1)))
    return out


def test_checks_and_reprs(torch):
    for name, t, f in _cases(torch.distributions.constraints):
        assert repr(f) == repr(t), name
        assert f.event_dim == t.event_dim and f.is_discrete == t.is_discrete, name
        for v in VALUES:
            if v.ndim < t.event_dim:
                continue
            if t.event_dim == 2 and v.shape[-1] != v.shape[-2]:
                continue
            try:
                tr = t.check(torch.tensor(v))
            except (RuntimeError, ValueError) as e:
                with pytest.raises(type(e)):
                    f.check(ferrum.tensor(v))
                continue
            fr = f.check(ferrum.tensor(v))
            np.testing.assert_array_equal(np.asarray(fr._data), tr.numpy(), err_msg=f"{name} {v}")


def test_dependent():
    assert FC.is_dependent(FC.dependent) and not FC.is_dependent(FC.real)
    with pytest.raises(ValueError, match="dependent"):
        FC.dependent.check(ferrum.zeros(1))
    d = FC.dependent(is_discrete=True, event_dim=1)
    assert d.is_discrete and d.event_dim == 1
    with pytest.raises(NotImplementedError):
        FC.dependent.event_dim  # noqa: B018


def test_cat_stack(torch):
    v = np.array([[0.5, -1.0, 2.0], [1.5, 0.5, -2.0]])
    tc = torch.distributions.constraints
    t = tc.cat([tc.positive, tc.real], 1, [1, 2]).check(torch.tensor(v))
    f = FC.cat([FC.positive, FC.real], 1, [1, 2]).check(ferrum.tensor(v))
    np.testing.assert_array_equal(f._data, t.numpy())
    t = tc.stack([tc.positive, tc.real, tc.unit_interval], 1).check(torch.tensor(v))
    f = FC.stack([FC.positive, FC.real, FC.unit_interval], 1).check(ferrum.tensor(v))
    np.testing.assert_array_equal(f._data, t.numpy())
