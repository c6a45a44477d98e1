"""The rank side of the DistributedDataParallel / SyncBatchNorm tests, and the one-process references.

Launched on N ranks (``ferrum run --nproc-per-node N _ddp_worker.py OUT``), every rank runs each
scenario of :data:`SCENARIOS` (training from its own random initialisation on its shard of each
batch) and writes what it ended with to ``OUT/rank{r}.npz`` (plus ``OUT/rank{r}.json`` for
metadata). The pytest side (test_distributed.py, test_sync_batchnorm.py) imports this module too
and runs :func:`reference`: one process, the full batch, the same steps, which the ranks' results
must equal. Everything is deterministic: data come from NumPy generators seeded per step.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
import warnings

import numpy as np

import ferrum
import ferrum.nn.functional as F
from ferrum import nn

GLOBAL_BATCH = 8
INIT_SEED = 100

# name -> options: model, dtype, steps, accum (micro-batches per optimizer step, all but the last
# under no_sync), grad_view (gradient_as_bucket_view), cap (bucket_cap_mb), hook, sync (SyncBatchNorm
# on the ranks, plain BatchNorm on the full batch in the reference)
SCENARIOS: dict[str, dict] = {
    "plain": dict(model="mlp"),
    "small_buckets_view": dict(model="mlp", cap=0.0005, grad_view=True),
    "bn_broadcast": dict(model="mlp_bn"),
    "bn_no_sync": dict(model="mlp_bn", accum=2),
    "bn_rank_local": dict(model="mlp_bn", accum=2, buffers=False),
    "no_sync_view": dict(model="mlp", accum=3, grad_view=True, cap=0.0005),
    "sync_bn": dict(model="conv_bn", sync=True),
    "sync_bn_no_sync": dict(model="mlp_bn", sync=True, accum=2),
    "hook_allreduce": dict(model="mlp", hook="allreduce", cap=0.0005),
    "hook_recording": dict(model="mlp", hook="recording", cap=0.0005, steps=1),
    "hook_fp16": dict(model="mlp", hook="fp16", dtype="float32", steps=1),
    "hook_bf16": dict(model="mlp", hook="bf16", dtype="float32", steps=1, cap=0.0005),
    "autocast_bf16": dict(model="mlp_bn", dtype="float32", steps=5, autocast=True, sync=True),
}


def options(name: str) -> dict:
    o = dict(dtype="float64", steps=20, accum=1, grad_view=False, cap=None, hook=None, sync=False,
             autocast=False, buffers=True)
    o.update(SCENARIOS[name])
    return o


def build(kind: str, dtype: str, seed: int) -> nn.Module:
    ferrum.manual_seed(seed)
    if kind == "mlp":
        m = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    elif kind == "mlp_bn":
        m = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
    else:
        m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 5 * 5, 4))
    return m.to(getattr(ferrum, dtype))


def batch(kind: str, dtype: str, step: int, micro: int) -> tuple[np.ndarray, np.ndarray]:
    """The global batch of a step's micro-batch: inputs and class targets."""
    g = np.random.default_rng(1000 * step + micro)
    shape = (GLOBAL_BATCH, 2, 5, 5) if kind == "conv_bn" else (GLOBAL_BATCH, 6)
    x = g.standard_normal(shape) * 2 + 0.5
    return x.astype(dtype), g.integers(0, 4, GLOBAL_BATCH)


def shard(a: np.ndarray, rank: int, world: int) -> np.ndarray:
    n = len(a) // world
    return a[rank * n:(rank + 1) * n]


def _state(model: nn.Module, prefix: str) -> dict[str, np.ndarray]:
    out = {}
    for n, p in model.named_parameters():
        out[f"{prefix}/param/{n}"] = p.detach().numpy().copy()
        if p.grad is not None:
            out[f"{prefix}/grad/{n}"] = p.grad.numpy().copy()
    for n, b in model.named_buffers():
        out[f"{prefix}/buffer/{n}"] = b.numpy().copy()
    return out


def _perturb(model: nn.Module, rank: int) -> nn.Module:
    _perturb_buffers(model, rank)
    return model


def _perturb_buffers(model: nn.Module, rank: int) -> None:
    """Rank-dependent running statistics, so that the broadcast at construction shows."""
    with ferrum.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.add_(0.5 * rank)


def _optimizer(model: nn.Module) -> ferrum.optim.Optimizer:
    return ferrum.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


# --- the rank side ---------------------------------------------------------------------------------

def run_scenario(name: str, rank: int, world: int, meta: dict) -> dict[str, np.ndarray]:
    from ferrum.distributed.algorithms.ddp_comm_hooks import default_hooks
    from ferrum.nn.parallel import DistributedDataParallel as DDP
    o = options(name)
    model = build(o["model"], o["dtype"], INIT_SEED + rank)
    _perturb_buffers(model, rank)
    if o["sync"]:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    kw = {} if o["buffers"] else {"broadcast_buffers": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ddp = DDP(model, bucket_cap_mb=o["cap"], gradient_as_bucket_view=o["grad_view"], **kw)
    if not o["buffers"]:  # PyTorch 2.13 deprecates broadcast_buffers
        assert any(issubclass(w.category, FutureWarning) for w in caught)
    events: list = []
    if o["hook"] == "allreduce":
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)
    elif o["hook"] == "fp16":
        ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
    elif o["hook"] == "bf16":
        ddp.register_comm_hook(None, default_hooks.bf16_compress_hook)
    elif o["hook"] == "recording":
        names = {id(p): n for n, p in model.named_parameters()}

        def recording(state, bucket):
            state.append({"index": bucket.index(), "is_last": bucket.is_last(),
                          "params": [names[id(p)] for p in bucket.parameters()],
                          "shapes_match": [list(g.shape) == list(p.shape) for g, p in
                                           zip(bucket.gradients(), bucket.parameters())],
                          "numel": bucket.buffer().numel(),
                          "grads_ready": sum(p.grad is not None for p in model.parameters())})
            return default_hooks.allreduce_hook(None, bucket)

        ddp.register_comm_hook(events, recording)
    opt = _optimizer(ddp)
    for step in range(o["steps"]):
        opt.zero_grad()
        for k in range(o["accum"]):
            x, y = batch(o["model"], o["dtype"], step, k)
            ctx = ddp.no_sync() if k < o["accum"] - 1 else contextlib.nullcontext()
            with ctx:
                with _autocast(o):
                    out = ddp(ferrum.tensor(shard(x, rank, world)))
                    loss = F.cross_entropy(out, ferrum.tensor(shard(y, rank, world)))
                loss.backward()
        opt.step()
    meta[name] = {"events": events, "buckets": [len(b.members) for b in ddp.reducer.buckets]}
    return _state(model, name)


def _autocast(o: dict):
    return ferrum.autocast("cpu", dtype=ferrum.bfloat16) if o["autocast"] else contextlib.nullcontext()


def run_sync_bn_direct(rank: int, world: int) -> dict[str, np.ndarray]:
    """SyncBatchNorm forward and backward on the rank's shard (no DDP), float32 and float64."""
    out = {}
    for dtype in ("float32", "float64"):
        x, gy, w, b = sync_bn_data(dtype)
        m = nn.SyncBatchNorm(3).to(getattr(ferrum, dtype))
        with ferrum.no_grad():
            m.weight.copy_(ferrum.tensor(w))
            m.bias.copy_(ferrum.tensor(b))
        xt = ferrum.tensor(shard(x, rank, world), requires_grad=True)
        yt = m(xt)
        (yt * ferrum.tensor(shard(gy, rank, world))).sum().backward()
        p = f"sync_bn_direct_{dtype}"
        out.update({f"{p}/y": yt.detach().numpy(), f"{p}/dx": xt.grad.numpy(),
                    f"{p}/dw": m.weight.grad.numpy(), f"{p}/db": m.bias.grad.numpy(),
                    f"{p}/running_mean": m.running_mean.numpy(), f"{p}/running_var": m.running_var.numpy()})
        out[f"{p}/ddx"] = double_backward(m, ferrum.tensor(shard(x, rank, world), requires_grad=True),
                                          ferrum.tensor(shard(gy, rank, world)))
    return out


def double_backward(m: nn.Module, x: ferrum.Tensor, gy: ferrum.Tensor) -> np.ndarray:
    """d/dx of |d<y*y, gy>/dx|^2: a second derivative through the batch statistics."""
    y = m(x)
    (gx,) = ferrum.autograd.grad((y * y * gy).sum(), x, create_graph=True)
    gx.pow(2).sum().backward()
    return x.grad.numpy()


def sync_bn_data(dtype: str):
    g = np.random.default_rng(7)
    x = (g.standard_normal((8, 3, 4)) * 3 + 10).astype(dtype)
    gy = g.standard_normal((8, 3, 4)).astype(dtype)
    return x, gy, np.array([1.0, 2.0, 0.5], dtype), np.array([0.1, -0.2, 0.3], dtype)


class Branchy(nn.Module):
    """``a`` always used, ``c`` used on rank 0 only, ``b`` (registered last: its bucket is
    reduced first) never used."""

    def __init__(self, rank: int) -> None:
        super().__init__()
        self.rank = rank
        self.a = nn.Linear(4, 4).double()
        self.c = nn.Linear(4, 4).double()
        self.b = nn.Linear(4, 4).double()

    def forward(self, x):
        h = self.a(x)
        return h + self.c(x) if self.rank == 0 else h


def run_unused(rank: int, world: int, meta: dict) -> dict[str, np.ndarray]:
    from ferrum.nn.modules.utils import consume_prefix_in_state_dict_if_present
    from ferrum.nn.parallel import DistributedDataParallel as DDP
    out = {}
    ferrum.manual_seed(INIT_SEED)
    model = Branchy(rank)
    ddp = DDP(model, find_unused_parameters=True)
    sd = ddp.state_dict()
    keys = list(sd)
    consume_prefix_in_state_dict_if_present(sd, "module.")
    plain = Branchy(rank)
    plain.load_state_dict(sd)
    meta["state_dict"] = {"keys": keys, "loaded": bool(all(
        np.array_equal(p.detach().numpy(), q.detach().numpy())
        for p, q in zip(plain.parameters(), model.parameters())))}
    for it in range(2):
        ddp.zero_grad()
        x = ferrum.tensor(shard(unused_data(it), rank, world))
        ddp(x).pow(2).sum().backward()
        for n, p in model.named_parameters():
            out[f"unused_{it}/grad/{n}"] = p.grad.numpy().copy() if p.grad is not None else np.array([])
        meta[f"unused_{it}"] = {n: p.grad is not None for n, p in model.named_parameters()}
    # the same module without find_unused_parameters: ``b`` never gets a gradient, so the first
    # backward cannot finish its reduction and the next forward raises
    ddp2 = DDP(Branchy(0), find_unused_parameters=False)
    errors = []
    for it in range(2):
        try:
            ddp2(ferrum.tensor(shard(unused_data(it), rank, world))).sum().backward()
        except RuntimeError as e:
            errors.append(str(e))
    meta["unused_error"] = errors
    return out


def run_checks(rank: int, world: int, meta: dict) -> None:
    """Construction and hook errors (their type names), and gradient_as_bucket_view's views."""
    from ferrum.nn.parallel import DistributedDataParallel as DDP
    errors = {}
    cases = {
        "device_ids": lambda: DDP(nn.Linear(2, 2), device_ids=[0]),
        "no_params": lambda: DDP(nn.ReLU()),
        "hook_twice": lambda: [d.register_comm_hook(None, h) for d in [DDP(nn.Linear(2, 2))]
                               for h in (_sum_hook, _sum_hook)],
        "hook_not_callable": lambda: DDP(nn.Linear(2, 2)).register_comm_hook(None, 3),
        "shapes_differ": lambda: DDP(nn.Linear(2 + rank, 2)),
        "ready_twice": lambda: _two_backwards(DDP(_TwoHeads())),
    }
    for name, make in cases.items():
        try:
            make()
            errors[name] = None
        except Exception as e:  # noqa: BLE001 - the type is what is compared with torch's
            errors[name] = type(e).__name__
    meta["errors"] = errors
    x = ferrum.tensor(np.random.default_rng(rank).standard_normal((4, 6)))
    grads = []
    for view in (True, False):
        model = build("mlp", "float64", INIT_SEED)
        ddp = DDP(model, gradient_as_bucket_view=view, bucket_cap_mb=0.001)
        if view:
            first = any(p.grad is not None for p in model.parameters())
        ddp(x).sum().backward()
        if view:
            flats = [b.flat for b in ddp.reducer.buckets]
            after = all(any(np.shares_memory(p.grad.numpy(), f) for f in flats) for p in model.parameters())
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    meta["grad_views"] = {"first": first, "after": after,
                          "values_equal": all(np.array_equal(a, b) for a, b in zip(*grads))}
    if world == 4:
        meta["subgroup"] = _subgroups(rank)


def _subgroups(rank: int) -> dict:
    """Two DDP replicas groups, ranks {0, 1} and {2, 3}: each starts from its group's rank 0 and
    averages within the group only (the expected values computed here, from the seeds)."""
    import ferrum.distributed as dist
    from ferrum.nn.parallel import DistributedDataParallel as DDP
    groups = [dist.new_group([0, 1]), dist.new_group([2, 3])]  # every rank creates every group
    leader = rank // 2 * 2
    model = build("mlp", "float64", INIT_SEED + rank)
    ddp = DDP(model, process_group=groups[rank // 2])
    init = build("mlp", "float64", INIT_SEED + leader)
    same_init = all(np.array_equal(p.detach().numpy(), q.detach().numpy())
                    for p, q in zip(model.parameters(), init.parameters()))

    def data(r):
        return ferrum.tensor(np.random.default_rng(r).standard_normal((4, 6)))

    ddp(data(rank)).pow(2).sum().backward()
    for r in (leader, leader + 1):
        init(data(r)).pow(2).sum().backward()  # accumulates the two members' gradients
    grads_ok = all(np.allclose(p.grad.numpy(), q.grad.numpy() / 2, rtol=1e-12, atol=0)
                   for p, q in zip(model.parameters(), init.parameters()))
    return {"same_init": same_init, "grads": grads_ok}


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def forward(self, x):
        return self.a(x), self.b(x)


def _two_backwards(ddp) -> None:
    """Two backward passes through one head in one iteration: its parameters become ready twice
    while the bucket (both heads) is incomplete."""
    a, _ = ddp(ferrum.ones(3, 2))
    a.sum().backward(retain_graph=True)
    a.sum().backward()


def _sum_hook(state, bucket):
    from ferrum.distributed.algorithms.ddp_comm_hooks import default_hooks
    return default_hooks.allreduce_hook(state, bucket)


def unused_data(it: int) -> np.ndarray:
    return np.random.default_rng(50 + it).standard_normal((4, 4))


def main(out_dir: str) -> int:
    import ferrum.distributed as dist
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {}
    for name in SCENARIOS:
        arrays.update(run_scenario(name, rank, world, meta))
    arrays.update(run_sync_bn_direct(rank, world))
    arrays.update(run_unused(rank, world, meta))
    run_checks(rank, world, meta)
    np.savez(os.path.join(out_dir, f"rank{rank}.npz"), **arrays)
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(meta, f)
    dist.destroy_process_group()
    return 0


# --- the one-process references --------------------------------------------------------------------

def _buffers(model: nn.Module) -> dict[str, np.ndarray]:
    return {n: b.numpy().copy() for n, b in model.named_buffers()}


def _load_buffers(model: nn.Module, bufs: dict[str, np.ndarray]) -> None:
    with ferrum.no_grad():
        for n, b in model.named_buffers():
            b.copy_(ferrum.tensor(bufs[n]))


def reference(name: str, world: int) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """One process, the full batch: the final state (as :func:`_state` names it) and the buffers
    each rank should end with. Without SyncBatchNorm a BatchNorm sees one rank's shard, so the
    reference runs each shard through the model with that rank's buffers, and DDP's rule for them:
    rank 0's buffers are broadcast before each forward that follows a synced one."""
    o = options(name)
    model = build(o["model"], o["dtype"], INIT_SEED)  # rank 0's initialisation
    opt = _optimizer(model)
    per_rank = [_buffers(model) for _ in range(world)]
    if not o["buffers"]:  # each rank keeps its own buffers, from its own initialisation on
        for r in range(world):
            per_rank[r] = _buffers(_perturb(build(o["model"], o["dtype"], INIT_SEED + r), r))
    broadcast = o["buffers"]
    for step in range(o["steps"]):
        opt.zero_grad()
        for k in range(o["accum"]):
            x, y = batch(o["model"], o["dtype"], step, k)
            if o["sync"]:
                with _autocast(o):
                    loss = F.cross_entropy(model(ferrum.tensor(x)), ferrum.tensor(y))
                loss.backward()
                continue
            if broadcast:
                per_rank = [dict(per_rank[0]) for _ in range(world)]
            losses = []
            for r in range(world):
                _load_buffers(model, per_rank[r])
                out = model(ferrum.tensor(shard(x, r, world)))
                losses.append(F.cross_entropy(out, ferrum.tensor(shard(y, r, world))))
                per_rank[r] = _buffers(model)
            (sum(losses[1:], losses[0]) / world).backward()
            broadcast = o["buffers"] and k == o["accum"] - 1
        opt.step()
    if o["sync"]:
        per_rank = [_buffers(model) for _ in range(world)]
    else:
        _load_buffers(model, per_rank[0])
    return _state(model, name), per_rank


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    except Exception:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        raise
