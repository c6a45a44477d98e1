"""Tokens per second of ``ferrum.models.GPT.generate`` (with its key/value cache, and without)
against torch 2.13's eager generation of the same model without a cache (nanoGPT's loop: the
whole window through the model for every new token). Issue 11 asks for ferrum with the cache >=
torch without one.

    PYTHONPATH=src python benchmarks/generate_speed.py [--new 60 300] [--batch 1] [--rounds 5]

The model is the shakespeare-gpt default (4 layers, 4 heads, width 128, block_size 64, vocabulary
76) with ferrum's initial weights copied into the torch twin; a 1-token prompt; temperature 0.8,
top-k 20. Variants run interleaved in rounds and the best round counts (the machine is shared).
With ``--new`` <= block_size every ferrum step after the prompt is one position; beyond it the
window slides and each token is a full pass over the window in both frameworks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import ferrum

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shakespeare_twin import torch_twin  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--new", type=int, nargs="+", default=[60, 300], help="tokens to generate")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    ferrum.set_num_threads(args.threads)
    ferrum.manual_seed(0)
    m = ferrum.models.GPT(vocab_size=76, block_size=64)
    tm = torch_twin(torch, m)
    tm.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in m.state_dict().items()})
    tm.eval()
    bs = m.config.block_size

    def torch_generate(idx, n):
        with torch.no_grad():
            for _ in range(n):
                logits = tm(idx[:, -bs:])[:, -1, :] / 0.8
                v, _ = torch.topk(logits, 20)
                logits[logits < v[:, [-1]]] = -float("inf")
                idx = torch.cat((idx, torch.multinomial(torch.softmax(logits, -1), 1)), 1)
        return idx

    p = ferrum.zeros(args.batch, 1, dtype=ferrum.int64)
    tp = torch.zeros(args.batch, 1, dtype=torch.int64)
    print(f"GPT 4x128, block_size {bs}, batch {args.batch}, {args.threads} thread(s); tokens/s (best of "
          f"{args.rounds} interleaved rounds)")
    print(f"{'new tokens':>10}  {'ferrum cache':>12}  {'ferrum no cache':>15}  {'torch no cache':>14}  "
          "cache/torch")
    for n in args.new:
        variants = {"cache": lambda n=n: m.generate(p, n, 0.8, 20),
                    "nocache": lambda n=n: m.generate(p, n, 0.8, 20, use_cache=False),
                    "torch": lambda n=n: torch_generate(tp, n)}
        best = dict.fromkeys(variants, float("inf"))
        for _ in range(args.rounds):
            for k, f in variants.items():
                t0 = time.perf_counter()
                f()
                best[k] = min(best[k], time.perf_counter() - t0)
        rate = {k: n * args.batch / v for k, v in best.items()}
        print(f"{n:>10}  {rate['cache']:>12.0f}  {rate['nocache']:>15.0f}  {rate['torch']:>14.0f}  "
              f"{rate['cache'] / rate['torch']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
