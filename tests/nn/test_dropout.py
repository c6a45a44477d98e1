"""Dropout functions and modules: statistics, masks shared by forward and backward, channel-wise
masks, alpha dropout's moments, eval identity, p edge cases, errors, reprs against torch."""

import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
import ferrum.nn.functional as F
from ferrum.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("dtype", [ferrum.float32, ferrum.float64])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p, dtype):
    x = ferrum.ones(200, 500, dtype=dtype)
    y = F.dropout(x, p)
    a = y.numpy()
    assert y.dtype == dtype and y.shape == x.shape
    zero = a == 0
    assert abs(zero.mean() - p) < 0.01
    np.testing.assert_allclose(a[~zero], 1.0 / (1.0 - p), rtol=1e-6)
    assert abs(a.mean() - 1.0) < 0.03  # the expectation is preserved


def test_dropout_backward_uses_the_same_mask():
    x = ferrum.randn(50, 40, dtype=ferrum.float64, requires_grad=True)
    y = F.dropout(x, 0.3)
    g = ferrum.randn(50, 40, dtype=ferrum.float64)
    y.backward(g)
    ratio = np.where(x.detach().numpy() != 0, y.detach().numpy() / x.detach().numpy(), 0)
    np.testing.assert_allclose(x.grad.numpy(), g.numpy() * ratio, rtol=1e-12, atol=1e-12)
    assert y.grad_fn.name() == "NativeDropoutBackward0"


def test_dropout_gradcheck_with_fixed_seed():
    def fn(t):
        ferrum.manual_seed(3)  # the same mask on every evaluation
        return F.dropout(t, 0.4)
    x = ferrum.randn(4, 5, dtype=ferrum.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_dropout_reproducible_with_manual_seed():
    x = ferrum.ones(100)
    ferrum.manual_seed(5)
    a = F.dropout(x).numpy()
    ferrum.manual_seed(5)
    b = F.dropout(x).numpy()
    c = F.dropout(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                                F.feature_alpha_dropout])
def test_eval_and_p0_are_identity(fn):
    x = ferrum.randn(2, 3, 4, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fn in (F.dropout1d,):
            x = ferrum.randn(2, 3, 4)
        assert fn(x, 0.5, training=False) is x
        assert fn(x, 0.0, training=True) is x


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, F.alpha_dropout, F.feature_alpha_dropout])
def test_p1_gives_zeros_and_zero_grad(fn):
    x = ferrum.randn(2, 3, 4, 5, requires_grad=True)
    y = fn(x, 1.0, training=True)
    assert np.all(y.detach().numpy() == 0)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
                                F.feature_alpha_dropout])
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_out_of_range_raises(fn, p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        fn(ferrum.randn(2, 3, 4), p)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                 "FeatureAlphaDropout"])
def test_module_p_out_of_range_raises(cls):
    with pytest.raises(ValueError, match="but got 2"):
        getattr(nn, cls)(2)


def test_dropout_needs_float():
    with pytest.raises(RuntimeError):
        F.dropout(ferrum.arange(4), 0.5)
    with pytest.raises(TypeError):
        F.dropout(np.ones(3), 0.5)


def _channel_pattern(y, keep_dims):
    """Every slice along keep_dims is constant (all dropped or all kept and scaled)."""
    a = y.numpy()
    axes = tuple(i for i in range(a.ndim) if i not in keep_dims)
    return np.all(a.min(axis=axes) == a.max(axis=axes))


@pytest.mark.parametrize("fn,shape,keep", [
    (F.dropout1d, (8, 16, 5), (0, 1)),
    (F.dropout1d, (16, 5), (0,)),
    (F.dropout2d, (8, 16, 3, 4), (0, 1)),
    (F.dropout2d, (8, 16, 5), (0, 1)),  # 3-D is read as (N, C, L), as PyTorch
    (F.dropout3d, (4, 8, 2, 3, 2), (0, 1)),
    (F.dropout3d, (16, 2, 3, 2), (0,)),  # unbatched (C, D, H, W)
])
def test_channel_dropout_masks_whole_channels(fn, shape, keep):
    x = ferrum.ones(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(x, 0.5)
    assert _channel_pattern(y, keep)
    vals = np.unique(y.numpy())
    assert set(vals.tolist()) <= {0.0, 2.0} and len(vals) == 2


def test_channel_dropout_shape_rules(torch):
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(ferrum.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(ferrum.randn(5))
    with pytest.warns(UserWarning):
        F.dropout2d(ferrum.randn(2, 3))
    with pytest.warns(UserWarning):
        F.dropout3d(ferrum.randn(2, 3))
    # 2-D input to dropout2d: one mask entry per element (as torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = F.dropout2d(ferrum.ones(200, 100), 0.5).numpy()
    assert 0.4 < (y == 0).mean() < 0.6 and not np.all(y.min(1) == y.max(1))


def test_channel_dropout_backward():
    x = ferrum.randn(4, 6, 3, 3, dtype=ferrum.float64, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    y.sum().backward()
    keep = (y.detach().numpy() != 0)
    np.testing.assert_allclose(x.grad.numpy(), keep * 2.0)


@pytest.mark.parametrize("fn,shape", [(F.alpha_dropout, (400, 500)),
                                      (F.feature_alpha_dropout, (500, 400, 1))])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(fn, shape, p):
    x = ferrum.randn(shape, dtype=ferrum.float64)
    y = fn(x, p, training=True).numpy()
    assert abs(y.mean()) < 0.02
    assert abs(y.std() - 1.0) < 0.03


def test_alpha_dropout_values_match_formula():
    p = 0.3
    alpha = 1.7580993408473766
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = alpha * a * p
    x = ferrum.randn(1000, dtype=ferrum.float64, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    ya, xa = y.detach().numpy(), x.detach().numpy()
    dropped = np.isclose(ya, -alpha * a + b)
    assert 0.25 < dropped.mean() < 0.35
    np.testing.assert_allclose(ya[~dropped], a * xa[~dropped] + b, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a))


def test_feature_alpha_dropout_channels():
    y = F.feature_alpha_dropout(ferrum.zeros(20, 30, 4), 0.5, training=True)
    assert _channel_pattern(y, (0, 1))


@pytest.mark.parametrize("fn,shape", [(F.dropout, (3, 4)), (F.dropout2d, (2, 3, 4, 4)),
                                      (F.alpha_dropout, (3, 4))])
def test_inplace(fn, shape):
    x = ferrum.ones(shape)
    v = x._version[0]
    r = fn(x, 0.5, training=True, inplace=True)
    assert r is x and x._version[0] > v
    assert len(np.unique(x.numpy())) == 2
    # on a non-leaf with autograd
    w = ferrum.ones(shape, requires_grad=True)
    h = w * 2
    fn(h, 0.5, training=True, inplace=True)
    h.sum().backward()
    kept = h.detach().numpy() != h.detach().numpy().min()
    g = w.grad.numpy()
    assert np.all(g[~kept] == 0) and np.all(g[kept] > 0)


# --------------------------------------------------------------------------- modules
@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                                 "FeatureAlphaDropout"])
@pytest.mark.parametrize("args", [(), (0.2,), (0.3, True), (0,)])
def test_module_repr_matches_torch(torch, cls, args):
    assert repr(getattr(nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))


@pytest.mark.parametrize("cls,shape", [("Dropout", (40, 50)), ("Dropout1d", (4, 50, 3)),
                                       ("Dropout2d", (4, 50, 3, 3)), ("Dropout3d", (4, 50, 2, 2, 2)),
                                       ("AlphaDropout", (40, 50)), ("FeatureAlphaDropout", (4, 50, 3))])
def test_module_train_and_eval(cls, shape):
    m = getattr(nn, cls)(0.5)
    x = ferrum.randn(shape)
    assert m.training
    y = m(x)
    assert y.shape == x.shape and not np.allclose(y.numpy(), x.numpy())
    m.eval()
    assert m(x) is x
    m.train()
    assert not np.allclose(m(x).numpy(), x.numpy())


def test_dropout_module_inplace_flag():
    m = nn.Dropout(0.5, inplace=True)
    x = ferrum.ones(10, 10)
    assert m(x) is x
    assert m.p == 0.5 and m.inplace is True


def test_dropout_in_a_model_trains():
    ferrum.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 1))
    x = ferrum.randn(32, 4)
    out = model(x)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
