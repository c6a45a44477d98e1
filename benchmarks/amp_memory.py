"""Activation memory of the gpt training step (../shared/bench/workloads.py's char GPT, batch 16 x 64)
in float32 and under bfloat16 autocast: the bytes NumPy holds after the forward pass and the loss,
before backward (what the autograd graph keeps alive: saved activations, casts, outputs), measured
with tracemalloc (NumPy reports its array buffers to it), and the peak during backward.

    PYTHONPATH=src .venv/bin/python benchmarks/amp_memory.py
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
import workloads  # noqa: E402

import ferrum  # noqa: E402


def measure(amp: bool, batch: int = 16, vocab: int = 65, ctx: int = 64) -> tuple[float, float]:
    ferrum.manual_seed(0)
    model = workloads._gpt(ferrum, vocab, ctx)
    idx, tgt = ferrum.randint(0, vocab, (batch, ctx)), ferrum.randint(0, vocab, (batch, ctx))

    def loss_fn():
        with ferrum.autocast("cpu", enabled=amp):
            return ferrum.nn.functional.cross_entropy(model(idx).reshape(-1, vocab), tgt.reshape(-1))

    loss_fn().backward()  # warm caches (causal masks, buffers) outside the measurement
    model.zero_grad(set_to_none=False)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss = loss_fn()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.reset_peak()
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return held / 2**20, peak / 2**20


def main() -> None:
    print(f"{'gpt step':22} {'held after forward':>18} {'peak in backward':>17}")
    for amp in (False, True):
        held, peak = measure(amp)
        print(f"{'bf16 autocast' if amp else 'float32':22} {held:15.2f} MiB {peak:14.2f} MiB")


if __name__ == "__main__":
    main()
