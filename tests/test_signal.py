"""ferrum.signal.windows against torch.signal.windows: values over lengths, sym, dtypes and each
window's parameters; dtype defaults, requires_grad, and the errors (types and messages)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

NAMES = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
         "hamming", "hann", "kaiser", "nuttall"]
PARAMS = {
    "exponential": [{}, {"tau": 0.3}, {"tau": 4.0}, {"center": 1.5, "sym": False}],
    "gaussian": [{}, {"std": 0.4}, {"std": 7.0}],
    "general_cosine": [{"a": [0.5, 0.5]}, {"a": (0.3, 0.4, 0.2, 0.1)}, {"a": [1.0]}],
    "general_hamming": [{}, {"alpha": 0.6}, {"alpha": 0.0}],
    "kaiser": [{}, {"beta": 0.0}, {"beta": 3.5}, {"beta": 30.0}],
}
CASES = [(n, p) for n in NAMES for p in PARAMS.get(n, [{}])]


def _lib_dtype(lib, dtype):
    return None if dtype is None else getattr(lib, dtype)


@pytest.mark.parametrize("name, params", CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_torch(torch, name, params, sym, dtype):
    params = dict(params)
    sym = params.pop("sym", sym)
    for M in [0, 1, 2, 3, 4, 5, 8, 13, 64]:
        # the positions come from linspace, within 1 ulp of torch's (ferrum rounds a float64
        # linspace once, torch computes in the dtype): exp(-|k|) passes an error of ulp(M / tau) on
        span = M / params.get("tau", 1.0) if name == "exponential" else 1.0
        atol = (2e-6 if dtype == "float32" else 1e-14) * max(1.0, span)
        f = getattr(ferrum.signal.windows, name)(M, sym=sym, dtype=getattr(ferrum, dtype), **params)
        t = getattr(torch.signal.windows, name)(M, sym=sym, dtype=getattr(torch, dtype), **params)
        assert f.shape == tuple(t.shape) and f.dtype == getattr(ferrum, dtype)
        np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=0, atol=atol, err_msg=f"M={M}")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("M", [0, 1, 6])
def test_default_dtype_and_requires_grad(torch, name, M):
    kw = {"a": [0.5, 0.5]} if name == "general_cosine" else {}
    fn, tn = getattr(ferrum.signal.windows, name), getattr(torch.signal.windows, name)
    assert fn(M, **kw).dtype == ferrum.float32 and not fn(M, **kw).requires_grad
    prev = ferrum.get_default_dtype()
    ferrum.set_default_dtype(ferrum.float64)
    try:
        assert fn(M, **kw).dtype == ferrum.float64
    finally:
        ferrum.set_default_dtype(prev)
    f, t = fn(M, requires_grad=True, **kw), tn(M, requires_grad=True, **kw)
    assert f.requires_grad == t.requires_grad and (f.grad_fn is None) == (t.grad_fn is None)
    np.testing.assert_allclose(f.detach().numpy(), t.detach().numpy(), atol=2e-6)
    if f.grad_fn is not None:
        f.sum().backward()            # through linspace, abs/sin/exp/cos/i0 and the weighted sum


ERRORS = [
    ("hann", (-1,), {}), ("kaiser", (-3,), {}), ("bartlett", (4,), {"dtype": "float16"}),
    ("gaussian", (4,), {"dtype": "int64"}), ("cosine", (4,), {"dtype": "complex64"}),
    ("gaussian", (4,), {"std": 0.0}), ("gaussian", (4,), {"std": -1.0}),
    ("exponential", (4,), {"tau": 0.0}), ("exponential", (4,), {"center": 1.0}),
    ("kaiser", (4,), {"beta": -1.0}), ("general_cosine", (4,), {"a": []}),
    ("general_cosine", (4,), {"a": 3.0}), ("blackman", (-2,), {"dtype": "float16"}),
    ("nuttall", (5,), {"dtype": "bfloat16"}),
]


@pytest.mark.parametrize("name, args, kw", ERRORS, ids=lambda v: str(v))
def test_errors_match_torch(torch, name, args, kw):
    results = []
    for lib in (torch, ferrum):
        k = dict(kw)
        if "dtype" in k:
            k["dtype"] = _lib_dtype(lib, k["dtype"])
        with pytest.raises(Exception) as e:
            getattr(lib.signal.windows, name)(*args, **k)
        results.append((type(e.value), str(e.value).replace("torch.", "").replace("ferrum.", "")))
    assert results[1] == results[0]


def test_namespace():
    import ferrum.signal.windows as w
    assert ferrum.signal.windows is w and sorted(w.__all__) == sorted(NAMES)
