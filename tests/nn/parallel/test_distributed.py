"""DistributedDataParallel on 2 and 4 ranks (ferrum run) against one process with the full batch.

Each scenario of ``_ddp_worker.SCENARIOS`` trains 20 optimizer steps (SGD with momentum, float64)
on N ranks with 1/N of each batch, from rank-dependent initialisations that DDP replaces with
rank 0's; the parameters, final gradients and buffers must equal the one-process run's to rtol 1e-6.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location("_ddp_worker", Path(__file__).with_name("_ddp_worker.py"))
worker = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("_ddp_worker", worker)
_spec.loader.exec_module(worker)

EXACT = [n for n in worker.SCENARIOS if n not in ("hook_fp16", "hook_bf16", "autocast_bf16")]


def _scenario(arrays: dict, name: str, kind: str) -> dict:
    p = f"{name}/{kind}/"
    return {k[len(p):]: v for k, v in arrays.items() if k.startswith(p)}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", EXACT)
def test_ddp_equals_one_process_full_batch(ddp_results, name):
    ref, ref_buffers = worker.reference(name, len(ddp_results))
    for rank, (arrays, _) in enumerate(ddp_results):
        for kind in ("param", "grad"):
            got = _scenario(arrays, name, kind)
            want = _scenario(ref, name, kind)
            assert sorted(got) == sorted(want), (rank, kind)
            for k in want:
                np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-12, err_msg=f"rank {rank} {k}")
        got = _scenario(arrays, name, "buffer")
        for k, v in ref_buffers[rank].items():
            np.testing.assert_allclose(got[k], v, rtol=1e-6, atol=1e-12, err_msg=f"rank {rank} buffer {k}")


@pytest.mark.timeout(240)
def test_buffers_broadcast_before_each_synced_forward(ddp_results):
    # without SyncBatchNorm each rank's running statistics come from its own shard, starting from rank 0's
    # at each synced forward: after the last step they differ between the ranks (rank 1 has not received
    # rank 0's yet), which the reference above reproduces rank by rank
    a0 = _scenario(ddp_results[0][0], "bn_broadcast", "buffer")["1.running_mean"]
    for arrays, _ in ddp_results[1:]:
        assert not np.allclose(a0, _scenario(arrays, "bn_broadcast", "buffer")["1.running_mean"])


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name, bits", [("hook_fp16", 11), ("hook_bf16", 8)])
def test_compress_hooks_close_to_full_precision(ddp_results, name, bits):
    ref, _ = worker.reference(name, len(ddp_results))
    want = _scenario(ref, name, "grad")
    for arrays, _ in ddp_results:
        got = _scenario(arrays, name, "grad")
        for k, v in want.items():
            # float16 keeps 11 significant bits, bfloat16 8: the averaged gradient to a few units of
            # 2**-bits of its scale
            np.testing.assert_allclose(got[k], v, rtol=0, atol=4 * 2.0 ** -bits * np.abs(v).max() + 1e-6,
                                       err_msg=k)
    g0 = _scenario(ddp_results[0][0], name, "grad")
    for arrays, _ in ddp_results[1:]:
        g = _scenario(arrays, name, "grad")
        for k in g0:
            np.testing.assert_array_equal(g[k], g0[k])


@pytest.mark.timeout(240)
def test_comm_hook_sees_grad_buckets_during_backward(ddp_results):
    for _, meta in ddp_results:
        events = meta["hook_recording"]["events"]
        sizes = meta["hook_recording"]["buckets"]
        assert len(sizes) > 2 and len(events) == len(sizes)
        assert [e["index"] for e in events] == list(range(len(sizes)))
        assert [e["is_last"] for e in events] == [False] * (len(sizes) - 1) + [True]
        assert all(all(e["shapes_match"]) for e in events)
        # buckets hold the parameters from the output back: the last layer's first
        assert events[0]["params"][-1] == "4.bias" and events[-1]["params"][0] == "0.weight"
        names = [n for e in events for n in e["params"]]
        assert sorted(names) == sorted({n for n in names}) and len(names) == 6
        # the first bucket is reduced while backward still has gradients to compute (the overlap)
        assert events[0]["grads_ready"] < 6
        assert events[-1]["grads_ready"] == 6


@pytest.mark.timeout(240)
def test_find_unused_parameters(ddp_results):
    import ferrum
    nproc = len(ddp_results)
    a0 = ddp_results[0][0]
    for it in range(2):
        # b is used by no rank: its .grad stays None; c only on rank 0: every rank gets rank 0's gradient / N
        for _, meta in ddp_results:
            assert meta[f"unused_{it}"] == {"a.weight": True, "a.bias": True, "c.weight": True,
                                            "c.bias": True, "b.weight": False, "b.bias": False}
        for arrays, _ in ddp_results[1:]:
            for n in ("a.weight", "a.bias", "c.weight", "c.bias"):
                np.testing.assert_array_equal(arrays[f"unused_{it}/grad/{n}"], a0[f"unused_{it}/grad/{n}"])
        x = worker.unused_data(it)
        ferrum.manual_seed(worker.INIT_SEED)
        models = [worker.Branchy(r) for r in range(nproc)]
        for r, m in enumerate(models):
            m.load_state_dict(models[0].state_dict())
            m(ferrum.tensor(worker.shard(x, r, nproc))).pow(2).sum().backward()
        for n in ("a.weight", "a.bias"):
            want = sum(dict(m.named_parameters())[n].grad.numpy() for m in models) / nproc
            np.testing.assert_allclose(a0[f"unused_{it}/grad/{n}"], want, rtol=1e-12)
        for n in ("c.weight", "c.bias"):
            want = dict(models[0].named_parameters())[n].grad.numpy() / nproc
            np.testing.assert_allclose(a0[f"unused_{it}/grad/{n}"], want, rtol=1e-12)


@pytest.mark.timeout(240)
def test_unused_parameter_without_the_flag_raises_next_iteration(ddp_results):
    for _, meta in ddp_results:
        errors = meta["unused_error"]
        assert len(errors) == 1  # the first iteration runs, the second forward raises
        assert "Expected to have finished reduction in the prior iteration" in errors[0]
        assert "b.weight" in errors[0] and "find_unused_parameters=True" in errors[0]


@pytest.mark.timeout(240)
def test_state_dict_prefix_and_loading_into_the_bare_model(ddp_results):
    for _, meta in ddp_results:
        sd = meta["state_dict"]
        assert sd["keys"] == ["module.a.weight", "module.a.bias", "module.c.weight", "module.c.bias",
                              "module.b.weight", "module.b.bias"]
        assert sd["loaded"]


@pytest.mark.timeout(240)
def test_construction_and_hook_errors_like_torch(ddp_results):
    # the exception types torch 2.13's DDP raises for the same calls (checked on a CPU module)
    for _, meta in ddp_results:
        assert meta["errors"] == {"device_ids": "ValueError", "no_params": "RuntimeError",
                                  "hook_twice": "RuntimeError", "hook_not_callable": "TypeError",
                                  "shapes_differ": "RuntimeError", "ready_twice": "RuntimeError"}


@pytest.mark.timeout(240)
def test_gradient_as_bucket_view_grads_are_bucket_views(ddp_results):
    for _, meta in ddp_results:
        assert meta["grad_views"] == {"first": False, "after": True, "values_equal": True}


@pytest.mark.timeout(240)
def test_ddp_over_subgroups(ddp_results):
    if len(ddp_results) != 4:
        pytest.skip("two groups of 2 ranks need 4 ranks")
    for _, meta in ddp_results:
        assert meta["subgroup"] == {"same_init": True, "grads": True}


@pytest.mark.timeout(240)
def test_under_bf16_autocast_close_to_one_process(ddp_results):
    # Linear layers in bfloat16 under autocast, SyncBatchNorm in float32: shards and the full batch round
    # differently, so 5 steps agree to bfloat16's precision, and the ranks' replicas exactly
    ref, ref_buffers = worker.reference("autocast_bf16", len(ddp_results))
    want = _scenario(ref, "autocast_bf16", "param")
    p0 = _scenario(ddp_results[0][0], "autocast_bf16", "param")
    for arrays, _ in ddp_results:
        got = _scenario(arrays, "autocast_bf16", "param")
        for k, v in want.items():
            assert got[k].dtype == np.float32
            np.testing.assert_allclose(got[k], v, rtol=0, atol=2e-2 * np.abs(v).max(), err_msg=k)
            np.testing.assert_array_equal(got[k], p0[k])
