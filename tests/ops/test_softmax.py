"""softmax / log_softmax against torch; gradcheck and gradgradcheck; stability; conj/real/imag."""

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1)])
def test_forward_and_grad_match_torch(torch, fn, shape, dim):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    x = F.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y = getattr(F, fn)(x, dim)
    yt = getattr(torch, fn)(xt, dim)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.backward(F.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert y.grad_fn.name() == type(yt.grad_fn).__name__


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_gradcheck_and_gradgradcheck(fn):
    x = F.randn(3, 4, dtype=F.float64, requires_grad=True)
    assert gradcheck(lambda t: fn(t, 1), (x,))
    assert gradgradcheck(lambda t: fn(t, 1), (x,))
    assert gradgradcheck(lambda t: fn(t, 0) * t, (x,))


def test_stable_at_large_logits(torch):
    a = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype=np.float32)
    for fn in ("softmax", "log_softmax"):
        y = getattr(F, fn)(F.tensor(a), 1).numpy()
        yt = getattr(torch, fn)(torch.tensor(a), 1).numpy()
        assert np.all(np.isfinite(y))
        np.testing.assert_allclose(y, yt, rtol=1e-6)


def test_dtype_argument_and_methods():
    x = F.randn(2, 3)
    assert F.softmax(x, 1, dtype=F.float64).dtype == F.float64
    np.testing.assert_allclose(x.softmax(-1).sum(-1).numpy(), np.ones(2), rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).exp().numpy(), x.softmax(1).numpy(), rtol=1e-5)


def test_errors():
    with pytest.raises(IndexError):
        F.softmax(F.randn(2, 3), 2)
    with pytest.raises(RuntimeError):
        F.softmax(F.arange(3), 0)
    with pytest.raises(TypeError):
        F.softmax([1.0, 2.0], 0)


def test_conj_real_imag(torch):
    a = np.array([1 + 2j, 3 - 1j], dtype=np.complex64)
    x = F.tensor(a)
    np.testing.assert_allclose(x.conj().numpy(), np.conj(a))
    np.testing.assert_allclose(x.real.numpy(), a.real)
    np.testing.assert_allclose(x.imag.numpy(), a.imag)
    r = F.randn(3)
    assert r.conj() is r and r.real is r
    with pytest.raises(RuntimeError):
        r.imag  # noqa: B018


# --------------------------------------------------------------------------- edges (issue 9)
_INF, _NAN = float("inf"), float("nan")
_ROWS = [[1.0, 2.0], [_NAN, 1.0], [_INF, 1.0], [-_INF, 1.0], [-_INF, -_INF], [_INF, _INF], [_INF, -_INF]]


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_special_values_and_bfloat16_match_torch(torch, fn, dtype):
    # defect 4 (bf16 refused) and the rows torch makes NaN (+inf, or only -inf)
    res = []
    for lib in (F, torch):
        x = lib.tensor(_ROWS, dtype=getattr(lib, dtype), requires_grad=True)
        y = getattr(lib, fn)(x, 1)
        y.backward(lib.tensor([[1.0, 2.0]] * len(_ROWS), dtype=getattr(lib, dtype)))
        assert str(y.dtype).endswith(dtype) and str(x.grad.dtype).endswith(dtype)
        res.append((y.detach().float().numpy(), x.grad.float().numpy()))
    tol = {"float64": 1e-12, "float32": 1e-5, "bfloat16": 1e-2}[dtype]  # bf16: one rounding step
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, equal_nan=True)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=1e-12, equal_nan=True)


def test_bfloat16_softmin_and_larger_input(torch):
    a = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    y = F.nn.functional.softmin(F.tensor(a, dtype=F.bfloat16), 1)
    yt = torch.nn.functional.softmin(torch.tensor(a, dtype=torch.bfloat16), 1)
    assert y.dtype == F.bfloat16
    np.testing.assert_array_equal(y.float().numpy(), yt.float().numpy())


@pytest.mark.parametrize("v", [1.5, _NAN, _INF, -_INF])
def test_zero_dim_is_a_one_element_row(torch, v):
    # defect 20: softmax(0-d NaN) was 1
    for fn in ("softmax", "log_softmax"):
        x = F.tensor(v, dtype=F.float64, requires_grad=True)
        xt = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        y, yt = getattr(F, fn)(x, 0), getattr(torch, fn)(xt, 0)
        assert y.shape == ()
        np.testing.assert_allclose(y.item(), yt.item(), equal_nan=True)
        y.backward()
        yt.backward()
        np.testing.assert_allclose(x.grad.item(), xt.grad.item(), equal_nan=True)


@pytest.mark.parametrize("shape,dim", [((0, 3), 0), ((0, 3), 1), ((3, 0), 1), ((3, 0), 0), ((0,), 0)])
def test_empty_input(shape, dim):
    # defect 22: the max over a 0-size axis raised ValueError
    for fn in (F.softmax, F.log_softmax, F.nn.functional.softmin):
        x = F.zeros(shape, requires_grad=True)
        y = fn(x, dim)
        assert y.shape == shape
        y.sum().backward()
        assert x.grad.shape == shape


def test_integer_input_raises_not_implemented_as_torch(torch):
    for lib in (F, torch):
        with pytest.raises(NotImplementedError):
            lib.softmax(lib.arange(3), 0)


def test_node_names(torch):
    x = F.randn(2, 3, requires_grad=True)
    assert F.softmax(x, 1).grad_fn.name() == "SoftmaxBackward0"
    assert F.log_softmax(x, 1).grad_fn.name() == "LogSoftmaxBackward0"
    # .real / .imag are views (select on view_as_real), so torch 2.13 names their node SelectBackward0
    c, tc = F.tensor([1 + 2j], requires_grad=True), torch.tensor([1 + 2j], requires_grad=True)
    assert c.imag.grad_fn.name() == tc.imag.grad_fn.name() == "SelectBackward0"
    assert c.real.grad_fn.name() == tc.real.grad_fn.name() == "SelectBackward0"


def _last_dim_cases():
    rng = np.random.default_rng(1)
    masked = rng.standard_normal((2, 4, 8, 8)).astype(np.float32) * 4
    masked[..., np.triu(np.ones((8, 8), bool), 1)] = -np.inf
    return [
        ("near_overflow_long_rows", np.full((3, 20000), 79.0, np.float32)),
        ("rows_far_apart", (rng.standard_normal((6, 64)) * 30).astype(np.float32)),
        ("all_rows_very_negative", (rng.standard_normal((5, 64)) - 200).astype(np.float32)),
        ("large_offset_float64", rng.standard_normal((4, 7, 9)) * 5 + 100),
        ("causal_mask", masked),
        ("special_values", np.array([[1e30, 0, -1e30], [np.nan, 1, 2], [-np.inf] * 3, [np.inf, 1, 2]],
                                    np.float32)),
    ]


@pytest.mark.parametrize("name,a", _last_dim_cases(), ids=[c[0] for c in _last_dim_cases()])
def test_last_dim_fast_path_matches_torch(torch, name, a):
    # the last-dim path shifts by the global maximum (or not at all) and redoes underflowing rows
    # with their own maximum: values and gradients to float32 rounding, NaN where torch has NaN
    g = np.random.default_rng(2).standard_normal(a.shape).astype(a.dtype)
    x = F.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        y = F.softmax(x, -1)
        y.backward(F.tensor(g))
    yt = torch.softmax(xt, -1)
    yt.backward(torch.tensor(g))
    tol = dict(rtol=2e-6, atol=1e-30) if a.dtype == np.float32 else dict(rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), equal_nan=True, **tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), equal_nan=True, rtol=tol["rtol"] * 5,
                               atol=1e-6 if a.dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("rows", [16385, 20000])
def test_last_dim_row_halves_equal_one_call(rows):
    # from NORM_MIN_SIZE (1M) elements the rows are split over two threads: the one call's result
    # (to rounding: BLAS may sum a row block differently)
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((rows, 64)) * 30).astype(np.float32)  # some rows redone with their max
    g = rng.standard_normal((rows, 64)).astype(np.float32)
    out = []
    prev = F.get_num_threads()
    for threads in (2, 1):
        F.set_num_threads(threads)
        try:
            x = F.tensor(a, requires_grad=True)
            y = F.softmax(x, -1)
            y.backward(F.tensor(g))
            out.append((y.detach().numpy(), x.grad.numpy()))
        finally:
            F.set_num_threads(prev)
    for p, q in zip(*out):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
