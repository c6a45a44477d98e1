"""Run by test_two_nodes.py on two "machines" (network namespaces joined by a veth pair), one rank on
each: data-parallel training of a small float64 model with gradients averaged by all_reduce, checked
against the same training on the full batch in one process, plus a 4 MB allreduce whose bytes the
test sees on the veth interfaces."""

from __future__ import annotations

import os

import numpy as np

import ferrum
import ferrum.distributed as dist


def train(model, x, y, steps: int, average: bool) -> None:
    opt = ferrum.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        loss = ferrum.nn.functional.mse_loss(model(x), y)
        loss.backward()
        if average:
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
        opt.step()


def make_model(seed: int):
    ferrum.manual_seed(seed)
    return ferrum.nn.Sequential(ferrum.nn.Linear(6, 8), ferrum.nn.Tanh(), ferrum.nn.Linear(8, 1)).double()


def main() -> None:
    dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    x = ferrum.tensor(rng.normal(size=(8 * n, 6)))
    y = ferrum.tensor(rng.normal(size=(8 * n, 1)))
    model = make_model(seed=r)  # different on each rank until rank 0's parameters are broadcast
    with ferrum.no_grad():
        for p in model.parameters():
            dist.broadcast(p, src=0)
    train(model, x[8 * r:8 * (r + 1)], y[8 * r:8 * (r + 1)], steps=20, average=True)
    ref = make_model(seed=0)
    train(ref, x, y, steps=20, average=False)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)
    big = ferrum.full((1 << 20,), float(r + 1))
    dist.all_reduce(big)
    assert big[0].item() == n * (n + 1) / 2
    print(f"TRAINED {r} of {n} on {os.environ.get('MASTER_ADDR')}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
