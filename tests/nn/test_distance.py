"""PairwiseDistance / CosineSimilarity modules (nn/modules/distance.py) against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind,kw,shape", [
    ("PairwiseDistance", {}, (4, 5)), ("PairwiseDistance", {"p": 1.0, "keepdim": True}, (4, 5)),
    ("PairwiseDistance", {"p": 3.0, "eps": 1e-3}, (2, 3, 5)), ("CosineSimilarity", {}, (4, 5)),
    ("CosineSimilarity", {"dim": -1, "eps": 1e-6}, (2, 3, 5)), ("CosineSimilarity", {"dim": 0}, (4, 5))])
def test_matches_torch(torch, kind, kw, shape, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    res = []
    for lib in (torch, ferrum):
        m = getattr(lib.nn, kind)(**kw)
        x1 = lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True)
        x2 = lib.tensor(b, dtype=getattr(lib, dtype), requires_grad=True)
        y = m(x1, x2)
        y.sum().backward()
        res.append((y.detach().numpy(), x1.grad.numpy(), x2.grad.numpy(), repr(m)))
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    for f, t in zip(res[1][:3], res[0][:3]):
        np.testing.assert_allclose(f, t, **tol)
    assert res[1][3] == res[0][3]


def test_attributes_are_torchs(torch):
    for kind, kw in (("PairwiseDistance", {"p": 1.5, "eps": 0.1, "keepdim": True}),
                     ("CosineSimilarity", {"dim": 2, "eps": 0.5})):
        t, f = getattr(torch.nn, kind)(**kw), getattr(ferrum.nn, kind)(**kw)
        names = ("norm", "eps", "keepdim") if kind == "PairwiseDistance" else ("dim", "eps")
        assert [getattr(f, n) for n in names] == [getattr(t, n) for n in names]
