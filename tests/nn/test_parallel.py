"""nn.DataParallel / nn.parallel on a machine without a GPU: the wrapper runs the module, as torch's
does (same outputs and gradients, ``module.``-prefixed state dicts, ``device_ids == []``), and the
functional form and DistributedDataParallel (without a process group) raise their errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import nn
from ferrum.nn import parallel

no_gpu = pytest.mark.skipif(ferrum.cuda.is_available(), reason="the CPU-only behaviour needs no GPU")


def _pair(torch, dtype):
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).to(dtype)
    fm = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).to(getattr(ferrum, str(dtype)[6:]))
    fm.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, fm


def test_importable_like_torch():
    import ferrum.nn.parallel as p
    from ferrum.nn.parallel import DataParallel, DistributedDataParallel, data_parallel  # noqa: F401
    from ferrum.nn.parallel.data_parallel import DataParallel as DP
    assert p is parallel and ferrum.nn.parallel is p
    assert nn.DataParallel is DP is DataParallel


@no_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{}, {"device_ids": [0]}, {"device_ids": [0, 1], "output_device": 1},
                                    {"dim": 1}])
def test_runs_module_like_torch(torch, dtype, kwargs):
    tm, fm = _pair(torch, getattr(torch, dtype))
    tdp, fdp = torch.nn.DataParallel(tm, **kwargs), nn.DataParallel(fm, **kwargs)
    assert fdp.module is fm and fdp.device_ids == tdp.device_ids == []
    assert list(fdp.state_dict()) == list(tdp.state_dict())
    assert repr(fdp) == repr(tdp)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(dtype)
    tx, fx = torch.tensor(x, requires_grad=True), ferrum.tensor(x, requires_grad=True)
    ty, fy = tdp(tx), fdp(fx)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), **tol)
    (ty ** 2).sum().backward()
    (fy ** 2).sum().backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), **tol)
    for (tn, tp), (fn, fp) in zip(tdp.named_parameters(), fdp.named_parameters()):
        assert fn == tn
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), **tol)


@no_gpu
def test_kwargs_and_attributes_pass_through():
    class Scale(nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    dp = nn.DataParallel(Scale())
    assert dp(ferrum.ones(2), factor=3.0).tolist() == [3.0, 3.0]
    assert not hasattr(dp, "output_device")  # as torch's, set only with GPUs


@no_gpu
def test_state_dict_round_trip_and_unwrap(torch):
    _, fm = _pair(torch, torch.float32)
    dp = nn.DataParallel(fm)
    sd = dp.state_dict()
    assert all(k.startswith("module.") for k in sd)
    fresh = nn.DataParallel(_pair(torch, torch.float32)[1])
    fresh.load_state_dict(sd)
    bare = _pair(torch, torch.float32)[1]
    bare.load_state_dict(dp.module.state_dict())
    x = ferrum.randn(3, 4)
    assert ferrum.equal(fresh(x), dp(x)) and ferrum.equal(bare(x), dp(x))
    with pytest.raises(RuntimeError):
        bare.load_state_dict(sd)  # the "module." prefix is a mismatch, as in torch


@no_gpu
def test_trains_like_the_bare_module():
    ferrum.manual_seed(0)
    a = nn.Linear(3, 1)
    b = nn.Linear(3, 1)
    b.load_state_dict(a.state_dict())
    dp = nn.DataParallel(b)
    x, y = ferrum.randn(8, 3), ferrum.randn(8, 1)
    for model in (a, dp):
        opt = ferrum.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    assert ferrum.equal(a.weight, dp.module.weight)


@no_gpu
def test_data_parallel_function_raises_like_torch(torch):
    with pytest.raises(RuntimeError) as te:
        torch.nn.parallel.data_parallel(torch.nn.Linear(2, 2), torch.zeros(1, 2))
    with pytest.raises(RuntimeError) as fe:
        parallel.data_parallel(nn.Linear(2, 2), ferrum.zeros(1, 2))
    assert str(fe.value) == str(te.value)


def test_distributed_data_parallel_needs_a_process_group(torch):
    # without init_process_group both raise ValueError (the real wrapper is tested under the launcher:
    # tests/distributed/test_ddp*.py)
    with pytest.raises(ValueError, match="init_process_group"):
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="init_process_group"):
        parallel.DistributedDataParallel(nn.Linear(2, 2))


@pytest.mark.skipif(not ferrum.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_single_gpu_moves_module_and_inputs():
    m = nn.Linear(3, 2)
    dp = nn.DataParallel(m, device_ids=[0])
    assert dp.device_ids == [0] and dp.output_device == 0
    assert m.weight.device == ferrum.device("cuda", 0)
    y = dp(ferrum.randn(4, 3))  # a CPU input is moved to cuda:0
    assert y.device == ferrum.device("cuda", 0)
    y.sum().backward()
    assert m.weight.grad.device == ferrum.device("cuda", 0)
    out = parallel.data_parallel(m, ferrum.randn(4, 3), device_ids=[0])
    assert out.device == ferrum.device("cuda", 0)
