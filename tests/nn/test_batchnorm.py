"""nn/modules/batchnorm.py: BatchNorm1d/2d/3d against torch over several training steps (outputs,
gradients, running statistics and num_batches_tracked, then eval outputs), over a grid of
momentum (None included), affine, track_running_stats and dtype; attributes, repr, state dicts and
bad input."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

CASES = [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 5)),
         ("BatchNorm3d", (2, 3, 2, 2, 3))]


def _steps(T, cls, shape, kw, dtype, xs, gs):
    m = getattr(T.nn, cls)(shape[1], **kw).to(getattr(T, dtype))
    if m.weight is not None:
        with T.no_grad():
            m.weight.copy_(T.tensor(np.linspace(0.5, 1.5, shape[1])))
            m.bias.copy_(T.tensor(np.linspace(-1, 1, shape[1])))
    res = []
    for x, g in zip(xs, gs):
        xt = T.tensor(x, dtype=getattr(T, dtype), requires_grad=True)
        y = m(xt)
        y.backward(T.tensor(g, dtype=getattr(T, dtype)))
        res += [y.detach(), xt.grad]
    res += [p.grad for p in m.parameters()]
    res += [b.clone() for b in m.buffers()]
    m.eval()
    res.append(m(T.tensor(xs[0] * 0.5, dtype=getattr(T, dtype))).detach())
    return [r.double().numpy() for r in res], m


@pytest.mark.parametrize("cls,shape", CASES)
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_steps_then_eval_match_torch(torch, cls, shape, momentum, affine, track, dtype):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(shape) * 2 + i for i in range(3)]
    gs = [rng.standard_normal(shape) for _ in range(3)]
    kw = {"momentum": momentum, "affine": affine, "track_running_stats": track, "eps": 1e-4}
    ref, tm = _steps(torch, cls, shape, kw, dtype, xs, gs)
    got, fm = _steps(ferrum, cls, shape, kw, dtype, xs, gs)
    tol = 2e-5 if dtype == "float32" else 1e-10
    assert len(got) == len(ref)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    if track:
        assert int(fm.num_batches_tracked) == 3 and fm.num_batches_tracked.dtype == ferrum.int64
    else:
        assert fm.running_mean is None and fm.running_var is None and fm.num_batches_tracked is None
    if not affine:
        assert fm.weight is None and fm.bias is None


def test_attributes_and_reset():
    m = ferrum.nn.BatchNorm2d(4, eps=1e-3, momentum=0.2)
    assert (m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats) == (4, 1e-3, 0.2, True, True)
    m(ferrum.randn(3, 4, 2, 2))
    assert int(m.num_batches_tracked) == 1 and m.running_mean.abs().sum().item() > 0
    m.reset_running_stats()
    assert m.running_mean.tolist() == [0.0] * 4 and m.running_var.tolist() == [1.0] * 4
    assert int(m.num_batches_tracked) == 0
    with ferrum.no_grad():
        m.weight.fill_(3.0)
    m.reset_parameters()
    assert m.weight.tolist() == [1.0] * 4 and m.bias.tolist() == [0.0] * 4
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]


def test_bias_false(torch):
    fm, tm = ferrum.nn.BatchNorm1d(3, bias=False), torch.nn.BatchNorm1d(3, bias=False)
    assert fm.bias is None and repr(fm) == repr(tm)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(fm(ferrum.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_eval_without_running_stats_uses_batch_stats(torch):
    x = np.random.default_rng(2).standard_normal((5, 3))
    out = []
    for T in (torch, ferrum):
        m = T.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
        out.append(m(T.tensor(x)).detach().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-10)


def test_load_state_dict_without_num_batches_tracked(torch):
    src = ferrum.nn.BatchNorm2d(3)
    src(ferrum.randn(4, 3, 2, 2))
    old = {k: v for k, v in src.state_dict().items() if k != "num_batches_tracked"}  # a plain dict: version 1
    dst = ferrum.nn.BatchNorm2d(3)
    dst(ferrum.randn(4, 3, 2, 2))
    dst(ferrum.randn(4, 3, 2, 2))
    dst.load_state_dict(old)
    assert int(dst.num_batches_tracked) == 2  # kept, as torch does
    np.testing.assert_allclose(dst.running_mean.numpy(), src.running_mean.numpy())
    sd = src.state_dict()  # version 2 metadata: the key is required
    del sd["num_batches_tracked"]
    with pytest.raises(RuntimeError, match="Missing key"):
        dst.load_state_dict(sd)
    tsd = torch.nn.BatchNorm2d(3).state_dict()
    assert list(ferrum.nn.BatchNorm2d(3).state_dict()) == list(tsd)


def test_torch_state_dict_loads(torch):
    tm = torch.nn.BatchNorm2d(3)
    tm(torch.randn(4, 3, 2, 2) * 3 + 1)
    fm = ferrum.nn.BatchNorm2d(3)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tm.eval()
    fm.eval()
    x = np.random.default_rng(3).standard_normal((2, 3, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(fm(ferrum.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (2, 3, 4, 5)), ("BatchNorm1d", (3,)),
                                       ("BatchNorm2d", (2, 3, 4)), ("BatchNorm3d", (2, 3, 4, 5)),
                                       ("BatchNorm2d", (1, 3, 1, 1)), ("BatchNorm1d", (1, 3)),
                                       ("BatchNorm2d", (2, 4, 3, 3))])
def test_bad_input_raises_as_torch_and_leaves_state(torch, cls, shape):
    errors = []
    for T in (torch, ferrum):
        try:
            getattr(T.nn, cls)(3)(T.randn(*shape))
            errors.append(None)
        except Exception as e:  # noqa: BLE001 - compared with torch's type
            errors.append(e)
    assert errors[0] is not None and type(errors[1]) is type(errors[0])
    if isinstance(errors[0], ValueError):
        assert str(errors[1]).replace("ferrum", "torch") == str(errors[0])
    m = getattr(ferrum.nn, cls)(3)
    with pytest.raises(type(errors[0])):
        m(ferrum.randn(*shape))
    # unlike torch's module, nothing was counted or updated
    assert int(m.num_batches_tracked) == 0 and m.running_mean.tolist() == [0.0] * 3
    assert m.running_var.tolist() == [1.0] * 3


def test_one_value_per_channel_is_fine_in_eval(torch):
    m = ferrum.nn.BatchNorm1d(3).eval()
    assert m(ferrum.randn(1, 3)).shape == (1, 3)


def test_to_double_converts_buffers_but_not_the_counter():
    m = ferrum.nn.BatchNorm2d(3).double()
    assert m.running_mean.dtype == ferrum.float64 and m.weight.dtype == ferrum.float64
    assert m.num_batches_tracked.dtype == ferrum.int64
