"""Shared by the pooling tests: inputs without ties, and one call compared with torch (outputs,
indices and the gradient of a random cotangent)."""

from __future__ import annotations

import numpy as np

import ferrum

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def distinct(shape, seed: int = 0) -> np.ndarray:
    """A scaled random permutation: no two elements equal, so every max is unique."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) / max(n / 8, 1)


def compare(torch, fname: str, x: np.ndarray, dtype: str, *args, grad: bool = True, **kwargs):
    """Calls ``nn.functional.<fname>(x, *args, **kwargs)`` in both frameworks; checks outputs (and
    indices), node name and input gradient. Returns ferrum's result."""
    fx = ferrum.tensor(x, dtype=getattr(ferrum, dtype), requires_grad=grad)
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=grad)
    fr = getattr(ferrum.nn.functional, fname)(fx, *args, **kwargs)
    tr = getattr(torch.nn.functional, fname)(tx, *args, **kwargs)
    fo, to = (fr[0], tr[0]) if isinstance(tr, tuple) else (fr, tr)
    assert tuple(fo.shape) == tuple(to.shape)
    assert str(fo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    if isinstance(tr, tuple):
        assert fr[1].dtype == ferrum.int64
        np.testing.assert_array_equal(fr[1].numpy(), tr[1].numpy())
    if grad and to.numel():
        assert fo.grad_fn.name() == to.grad_fn.name()
        g = np.random.default_rng(1).standard_normal(tuple(to.shape))
        fo.backward(ferrum.tensor(g, dtype=fo.dtype))
        to.backward(torch.tensor(g, dtype=to.dtype))
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **TOL[dtype])
    return fr
