"""The parts of a convolution's training step (forward + backward), for the convolutions of
../shared/bench's micro_conv, lenet and resnet, next to torch's total for the same layer.

    PYTHONPATH=src python benchmarks/conv_parts.py                 # every shape, 2 BLAS threads
    PYTHONPATH=src python benchmarks/conv_parts.py -s micro -r 7   # one shape, more rounds
    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/conv_parts.py --cpu   # see below

Per shape, the parts of both kernel schemes of ops/conv.py are timed on raw arrays:
  im2col      the patch gather into the cached (C*K, N*P) buffer
  gemm_fwd    W @ col;  gemm_dw: g @ col^T;  gemm_dcol: W^T @ g;  col2im: the scatter-add back
  shift_fwd / shift_dx / shift_dw   the shifted-GEMM kernels (stride-1 layers only), layout copies included
and then the whole layer, ``F.conv2d`` forward + backward in ferrum (``ferrum``) and in torch
(``torch``). Variants run in interleaved rounds in one process; the report gives the median over
rounds of the per-round minimum (ms), the figure to read on a busy machine. ``--cpu`` times the
calling thread's CPU time instead, on one thread everywhere (torch, OpenBLAS, ferrum's copy
threads): the one measurement that stays stable when other processes load the 2 cores.
``ops/conv.py``'s docstring quotes these numbers.

Measured 2026-12-07 with ``--cpu -r 3 -n 2`` (thread CPU time, ms; the machine was loaded by other
jobs, so wall-clock runs swung 2-5x and are not quoted):

    shape         im2col  gemm_fwd gemm_dw gemm_dcol col2im  shift fwd/dx/dw    ferrum  torch  ratio
    micro          11.6    30.8    27.6    35.2    18.4    24.4/24.2/36.1     94.7   67.9   1.39
    lenet_c1        0.50    0.57    0.89    0.57    0.94        -              4.56   6.15   0.74
    lenet_c2        0.59    0.41    0.73    0.43    1.09        -              2.98   1.84   1.62
    resnet_stem     0.40    1.09    1.39    1.00    0.64        -              7.16   4.74   1.51
    resnet_b1       5.89   15.3    12.0    12.0     8.59     8.8/8.8/13.0      33.1   16.1   2.06
    resnet_b2_s2    3.26    2.79    3.38    2.73    4.29        -             21.5   10.6    2.02
    resnet_b2       3.53    6.40    6.46    5.51    4.88     6.6/6.3/8.6       22.9   12.7   1.81
    resnet_down     0.23    0.39    0.52    0.39    0.93        -              4.25   5.24   0.81

(im2col/col2im columns are the "cn" column order; lenet_c2 runs the batch-last order, ``_lay``.)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SHAPES = {  # name: (N, C, H, W, O, k, stride, pad)
    "micro": (32, 64, 32, 32, 64, 3, 1, 1),
    "lenet_c1": (64, 1, 28, 28, 6, 5, 1, 2),
    "lenet_c2": (64, 6, 14, 14, 16, 5, 1, 0),
    "resnet_stem": (32, 3, 32, 32, 32, 3, 1, 1),
    "resnet_b1": (32, 32, 32, 32, 32, 3, 1, 1),
    "resnet_b2_s2": (32, 32, 32, 32, 64, 3, 2, 1),
    "resnet_b2": (32, 64, 16, 16, 64, 3, 1, 1),
    "resnet_down": (32, 32, 32, 32, 64, 1, 2, 0),
}


def _variants(shape):
    import torch

    import ferrum
    import ferrum.nn.functional as FF
    from ferrum.ops import _im2col as ic

    N, C, H, W, O, k, s, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((O, C, k, k)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    g = rng.standard_normal((N, O, Ho, Wo)).astype(np.float32)
    pads, dil, st, out = ((p, p), (p, p)), (1, 1), (s, s), (Ho, Wo)
    col = ic.im2col(x, (k, k), st, pads, dil, out)
    gt = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(O, -1)
    w2 = w.reshape(O, -1)

    def gather():
        ic.give("col", ic.im2col(x, (k, k), st, pads, dil, out))

    dcol = w2.T @ gt
    v = {"im2col": gather,
         "gemm_fwd": lambda: w2 @ col,
         "gemm_dw": lambda: gt @ col.T,
         "gemm_dcol": lambda: w2.T @ gt,
         "col2im": lambda: ic.col2im(dcol, x.shape, (k, k), st, pads, dil, out)}
    if ic.gemm_ok(x, w) and ic.shift_ok(st, pads, dil, (k, k), C):
        v["shift_fwd"] = lambda: ic.shift_fwd(x, w, pads, dil, 1, out, b)
        v["shift_dx"] = lambda: ic.shift_gin(g, w, x.shape, pads, dil, 1)
        v["shift_dw"] = lambda: ic.shift_gw(x, g, w.shape, pads, dil, 1)
    fx, fw, fb = (ferrum.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    fg, tg = ferrum.tensor(g), torch.tensor(g)

    def fer():
        FF.conv2d(fx, fw, fb, s, p).backward(fg)
        fx.grad = fw.grad = fb.grad = None

    def tor():
        torch.nn.functional.conv2d(tx, tw, tb, s, p).backward(tg)
        tx.grad = tw.grad = tb.grad = None

    v["ferrum"] = fer
    v["torch"] = tor
    return v, 2.0 * N * O * C * k * k * Ho * Wo * 3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--shapes", default=",".join(SHAPES))
    ap.add_argument("-r", "--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=3, help="timed calls per round")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--cpu", action="store_true", help="thread CPU time, one thread everywhere")
    a = ap.parse_args()
    import torch

    import ferrum
    from ferrum.ops import _parallel
    clock = time.perf_counter
    if a.cpu:
        a.threads = 1
        _parallel._enabled = False
        clock = time.thread_time
    torch.set_num_threads(a.threads)
    ferrum.set_num_threads(a.threads)
    for name in a.shapes.split(","):
        variants, flops = _variants(SHAPES[name])
        mins: dict = {k: [] for k in variants}
        for _ in range(a.rounds):
            for k, fn in variants.items():
                fn()
                ts = []
                for _ in range(a.n):
                    t0 = clock()
                    fn()
                    ts.append(clock() - t0)
                mins[k].append(min(ts))
        parts = "  ".join(f"{k} {statistics.median(t) * 1e3:.2f}" for k, t in mins.items())
        tt = statistics.median(mins["torch"])
        print(f"{name:13s} {parts}  | ferrum/torch {statistics.median(mins['ferrum']) / tt:.2f}"
              f"  ({flops / tt / 1e9:.0f} GFLOP/s torch)")


if __name__ == "__main__":
    main()
