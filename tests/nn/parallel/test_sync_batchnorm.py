"""nn.SyncBatchNorm: on 2 and 4 ranks (ferrum run) with shards of a batch it equals BatchNorm on the
whole batch (outputs, input and parameter gradients, double backward, running statistics); on one
process (no process group) and in eval mode it is PyTorch's SyncBatchNorm, which falls back to batch
norm there."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import nn

from .test_distributed import worker


@pytest.mark.timeout(240)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_ranks_equal_batchnorm_on_the_concatenated_batch(ddp_results, dtype):
    x, gy, w, b = worker.sync_bn_data(dtype)
    m = nn.BatchNorm1d(3).to(getattr(ferrum, dtype))
    with ferrum.no_grad():
        m.weight.copy_(ferrum.tensor(w))
        m.bias.copy_(ferrum.tensor(b))
    xt = ferrum.tensor(x, requires_grad=True)
    y = m(xt)
    (y * ferrum.tensor(gy)).sum().backward()
    ddx = worker.double_backward(m, ferrum.tensor(x, requires_grad=True), ferrum.tensor(gy))
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    p = f"sync_bn_direct_{dtype}"
    dw = sum(arrays[f"{p}/dw"] for arrays, _ in ddp_results)  # each rank holds its share
    db = sum(arrays[f"{p}/db"] for arrays, _ in ddp_results)
    np.testing.assert_allclose(dw, m.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(db, m.bias.grad.numpy(), **tol)
    nproc = len(ddp_results)
    for rank, (arrays, _) in enumerate(ddp_results):
        np.testing.assert_allclose(arrays[f"{p}/y"], worker.shard(y.detach().numpy(), rank, nproc), **tol)
        np.testing.assert_allclose(arrays[f"{p}/dx"], worker.shard(xt.grad.numpy(), rank, nproc), **tol)
        scale = np.abs(ddx).max()  # a second derivative: compared relative to its largest entry
        np.testing.assert_allclose(arrays[f"{p}/ddx"] / scale, worker.shard(ddx, rank, nproc) / scale,
                                   **tol)
        np.testing.assert_allclose(arrays[f"{p}/running_mean"], m.running_mean.numpy(), **tol)
        np.testing.assert_allclose(arrays[f"{p}/running_var"], m.running_var.numpy(), **tol)


def _pair(torch, dtype, **kw):
    t = torch.nn.SyncBatchNorm(3, **kw).to(getattr(torch, dtype))
    f = nn.SyncBatchNorm(3, **kw).to(getattr(ferrum, dtype))
    with torch.no_grad():
        if t.weight is not None:
            t.weight.uniform_(0.5, 1.5)
            t.bias.uniform_(-0.5, 0.5)
    f.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, f


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 3)])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}])
def test_one_process_is_batch_norm_like_torch(torch, dtype, shape, kw):
    t, f = _pair(torch, dtype, **kw)
    g = np.random.default_rng(3)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    for training in (True, True, False):
        t.train(training)
        f.train(training)
        x = (g.standard_normal(shape) * 2 + 1).astype(dtype)
        gy = g.standard_normal(shape).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        fx = ferrum.tensor(x, requires_grad=True)
        ty, fy = t(tx), f(fx)
        (ty * torch.tensor(gy)).sum().backward()
        (fy * ferrum.tensor(gy)).sum().backward()
        np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), **tol)
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **tol)
        for (n, tp), fp in zip(t.named_parameters(), f.parameters()):
            np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), err_msg=n, **tol)
        for (n, tb), fb in zip(t.named_buffers(), f.buffers()):
            np.testing.assert_allclose(fb.numpy(), tb.numpy(), err_msg=n, **tol)


def test_extra_repr_and_attributes_like_torch(torch):
    for kw in ({}, {"eps": 1e-3, "momentum": None, "affine": False}, {"track_running_stats": False}):
        assert repr(nn.SyncBatchNorm(5, **kw)) == repr(torch.nn.SyncBatchNorm(5, **kw))
    assert nn.SyncBatchNorm(2, process_group="g").process_group == "g"
    assert nn.modules.batchnorm.SyncBatchNorm is nn.SyncBatchNorm


def test_bad_input_errors_like_torch(torch):
    for shape in [(3,), (2, 0, 3)]:
        with pytest.raises(ValueError) as te:
            torch.nn.SyncBatchNorm(shape[1] if len(shape) > 1 else 3)(torch.zeros(shape))
        with pytest.raises(ValueError) as fe:
            nn.SyncBatchNorm(shape[1] if len(shape) > 1 else 3)(ferrum.zeros(shape))
        assert str(fe.value) == str(te.value)


def test_convert_sync_batchnorm_like_torch(torch):
    def build(lib):
        n = lib.nn
        return n.Sequential(n.Conv2d(2, 4, 3), n.BatchNorm2d(4), n.Sequential(n.Linear(2, 2), n.BatchNorm1d(2,
                            momentum=None, affine=False)), n.BatchNorm3d(3, bias=False))
    t, f = build(torch), build(ferrum)
    f[1].eval()
    t[1].eval()
    old = [f[1].weight, f[1].running_mean, f[1].num_batches_tracked]
    tc = torch.nn.SyncBatchNorm.convert_sync_batchnorm(t, process_group="pg")
    fc = nn.SyncBatchNorm.convert_sync_batchnorm(f, process_group="pg")
    assert fc is f and repr(fc) == repr(tc)
    assert [type(m).__name__ for m in fc.modules()] == [type(m).__name__ for m in tc.modules()]
    assert fc[1].weight is old[0] and fc[1].running_mean is old[1] and fc[1].num_batches_tracked is old[2]
    assert not fc[1].training and fc[2][1].training and fc[3].bias is None
    assert fc[1].process_group == "pg"
    # a BatchNorm itself comes back as a new module
    bn = nn.BatchNorm1d(3)
    out = nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert type(out) is nn.SyncBatchNorm and out.weight is bn.weight
