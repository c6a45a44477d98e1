"""Scaled dot-product attention at the shapes of ../shared/bench's gpt workload (B 16, H 4, T 64,
head dim 32, causal, float32), forward + backward, ferrum against torch 2.13, with the parts of
ferrum's fused node timed on raw arrays.

    PYTHONPATH=src python benchmarks/attention_parts.py               # 2 BLAS threads, wall clock
    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/attention_parts.py --cpu -r 7

Variants (q, k, v are strided head views of one packed (B, T, 3C) projection, as in the gpt model):
  ferrum_sdpa / torch_sdpa      F.scaled_dot_product_attention(q, k, v, is_causal=True) + backward
  ferrum_composed / torch_composed   the gpt workload's own attention: q kᵀ * s, masked_fill,
                                softmax, @ v (several nodes) + backward
  p_scores   np.matmul(k, (q * s)ᵀ, out=)    p_mask: copyto(-inf, where=triangle)
  p_softmax  scores + mask + the in-place softmax (over axis -2)     p_pv:   Pᵀᵀ @ v
  p_bwd_mm   the backward's four products    p_bwd_ew: rowsum(g ∘ out), dPᵀ -= ., dPᵀ *= Pᵀ (and a copy)
They run in interleaved rounds in one process; the report gives the median over rounds of the
per-round minimum (ms). ``--cpu`` times the calling thread's CPU time on one thread (set
OMP_NUM_THREADS=1), the figure that stays stable when other jobs load the machine.

Measured 2026-12-07 with ``--cpu -r 7 -n 10`` (thread CPU ms, one thread, the machine loaded by
other jobs; two runs):

    ferrum_sdpa 2.44 / 2.52   torch_sdpa 2.57 / 2.37   ferrum_composed 4.18 / 4.09
    torch_composed 3.67 / 3.48   p_scores 0.29   p_mask 0.09   p_softmax 0.79 / 0.74 (with scores
    and mask)   p_pv 0.14   p_bwd_mm 0.68 / 0.65   p_bwd_ew 0.19
    ratio ferrum_sdpa / torch_sdpa 0.95 / 1.07; ferrum_sdpa / torch_composed 0.66 / 0.72
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

B, H, T, D = 16, 4, 64, 32


def _variants():
    import torch

    import ferrum
    import ferrum.nn.functional as FF
    from ferrum.ops.attention import _causal_excluded, _softmax_cols_

    C = H * D
    rng = np.random.default_rng(0)
    packed = rng.standard_normal((B, T, 3 * C)).astype(np.float32)
    g = rng.standard_normal((B, H, T, D)).astype(np.float32)
    sc = 1.0 / math.sqrt(D)

    def heads(fw, x):
        q, k, v = x.split(C, dim=2)
        return [t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v)]

    fx = ferrum.tensor(packed, requires_grad=True)
    tx = torch.tensor(packed, requires_grad=True)
    fg, tg = ferrum.tensor(g), torch.tensor(g)
    fmask = ferrum.tril(ferrum.ones(T, T)) == 0
    tmask = torch.tril(torch.ones(T, T)) == 0

    def ferrum_sdpa():
        q, k, v = heads(ferrum, fx)
        FF.scaled_dot_product_attention(q, k, v, is_causal=True).backward(fg)
        fx.grad = None

    def torch_sdpa():
        q, k, v = heads(torch, tx)
        torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).backward(tg)
        tx.grad = None

    def composed(fw, x, mask, gg, F):
        q, k, v = heads(fw, x)
        att = (q @ k.transpose(-2, -1)) * sc
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        (att @ v).backward(gg)
        x.grad = None

    qa, ka, va = (packed[:, :, i * C:(i + 1) * C].reshape(B, T, H, D).transpose(0, 2, 1, 3) for i in range(3))
    tri = _causal_excluded(T, T, True)
    s = np.empty((B, H, T, T), np.float32)  # the scores transposed, (S, L), as ferrum's node keeps them

    def p_scores():
        np.matmul(ka, (qa * np.float32(sc)).swapaxes(-1, -2), out=s)

    def p_mask():
        np.copyto(s, -np.inf, where=tri)

    def p_softmax():
        p_scores()
        p_mask()
        _softmax_cols_(s)

    def p_pv():
        np.matmul(s.swapaxes(-1, -2), va)

    y = np.matmul(s.swapaxes(-1, -2), va)

    def p_bwd_mm():
        np.matmul(s, g)
        dpt = np.matmul(va, g.swapaxes(-1, -2))
        np.matmul(dpt.swapaxes(-1, -2), ka)
        np.matmul(dpt, qa)

    dp0 = np.matmul(va, g.swapaxes(-1, -2))

    def p_bwd_ew():
        dpt = dp0.copy()
        dot = np.einsum("...i,...i->...", g, y)
        dpt -= dot[..., None, :]
        dpt *= s

    return {
        "ferrum_sdpa": ferrum_sdpa, "torch_sdpa": torch_sdpa,
        "ferrum_composed": lambda: composed(ferrum, fx, fmask, fg, FF),
        "torch_composed": lambda: composed(torch, tx, tmask, tg, torch.nn.functional),
        "p_scores": p_scores, "p_mask": p_mask, "p_softmax": p_softmax, "p_pv": p_pv,
        "p_bwd_mm": p_bwd_mm, "p_bwd_ew": p_bwd_ew,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--rounds", type=int, default=5)
    ap.add_argument("-n", "--number", type=int, default=20, help="calls per round")
    ap.add_argument("--cpu", action="store_true", help="thread CPU time instead of wall clock")
    a = ap.parse_args()
    if a.cpu:
        import torch
        torch.set_num_threads(1)
    clock = time.thread_time if a.cpu else time.perf_counter
    vs = _variants()
    for f in vs.values():  # warm-up
        f()
        f()
    res: dict = {k: [] for k in vs}
    for _ in range(a.rounds):
        for k, f in vs.items():
            best = math.inf
            for _ in range(a.number):
                t0 = clock()
                f()
                best = min(best, clock() - t0)
            res[k].append(best)
    med = {k: statistics.median(v) * 1e3 for k, v in res.items()}
    for k, v in med.items():
        print(f"{k:16s} {v:8.3f} ms")
    print(f"ratio ferrum_sdpa / torch_sdpa = {med['ferrum_sdpa'] / med['torch_sdpa']:.2f}; "
          f"ferrum_sdpa / torch_composed = {med['ferrum_sdpa'] / med['torch_composed']:.2f}")


if __name__ == "__main__":
    main()
