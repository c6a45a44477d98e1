"""Generation speed of ``ferrum.models.GPT.generate`` (keys and values cached per layer) against torch's
eager generation of the same model without a cache (nanoGPT's loop: crop the context to
``block_size``, run the whole window, keep the last position's logits), the comparison issue 11 asks
for: tokens/s with the cache >= torch's without one.

Both models have the ``shakespeare-gpt`` recipe's default size (4 layers, 4 heads, d 128, block 64,
vocab 65) and the same weights (ferrum's state dict copied into the torch twin of
benchmarks/shakespeare_twin.py); decoding is greedy (temperature 0 / argmax), so both produce the same
tokens, which the script checks. ferrum without the cache is timed too. Rounds are interleaved in one
process; the median tokens/s of the rounds is printed.

The default (prompt 8 + 56 new tokens) stays within ``block_size``, where the cache makes a token cost
one position. Past it the window slides, every position's learned position embedding changes, and
the cache must be rebuilt each step to give the uncached tokens, so longer runs (``--tokens 256``)
measure mostly the full-window forward of both frameworks.

    PYTHONPATH=src .venv/bin/python benchmarks/gpt_generate.py [--tokens 56] [--rounds 5] [--threads 1]

2026-12-07, 2-core Xeon at load ~6 (other jobs), --threads 1 (multi-threaded BLAS under that load
spin-waits and means nothing): tokens/s ferrum with cache 237, ferrum without 82, torch without 154
(1.54x torch); with --tokens 128 (sliding window): 288 / 208 / 388 (0.74x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import ferrum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shakespeare_twin import torch_twin  # noqa: E402


def torch_generate(torch, model, idx, new_tokens: int, block_size: int):
    """nanoGPT's eager loop, greedy: no cache, the whole (cropped) context every step."""
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(idx[:, -block_size:])[:, -1, :]
            idx = torch.cat((idx, logits.argmax(-1, keepdim=True)), dim=1)
    return idx


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=56, help="new tokens per generation (default 56)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=8, help="prompt length (default 8)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
        ferrum.set_num_threads(args.threads)
    ferrum.manual_seed(0)
    model = ferrum.models.GPT(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
    model.eval()
    twin = torch_twin(torch, model)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    twin.eval()
    prompt = np.random.default_rng(0).integers(0, 65, (args.batch, args.prompt))
    fp, tp = ferrum.from_numpy(prompt), torch.from_numpy(prompt)
    runs = {
        "ferrum, cache": lambda: model.generate(fp, args.tokens, temperature=0.0),
        "ferrum, no cache": lambda: model.generate(fp, args.tokens, temperature=0.0, use_cache=False),
        "torch, no cache": lambda: torch_generate(torch, twin, tp, args.tokens, 64),
    }
    outs = {name: fn() for name, fn in runs.items()}              # warm-up, and the same tokens
    ref = outs["torch, no cache"].numpy()
    for name, out in outs.items():
        same = (out.numpy() == ref).mean()
        print(f"{name}: {same:.1%} of the tokens equal torch's")
    rates = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            rates[name].append(args.batch * args.tokens / (time.perf_counter() - t0))
    base = statistics.median(rates["torch, no cache"])
    print(f"{'':18} {'tokens/s':>10} {'x torch':>8}   (batch {args.batch}, {args.tokens} new tokens, "
          f"median of {args.rounds} rounds)")
    for name, r in rates.items():
        m = statistics.median(r)
        print(f"{name:18} {m:10.0f} {m / base:8.2f}")


if __name__ == "__main__":
    main()
