"""The parts of the ``lstm`` bench workload's training step, ferrum next to torch, in one process.

    PYTHONPATH=src python benchmarks/lstm_parts.py              # every part, 2 threads
    PYTHONPATH=src python benchmarks/lstm_parts.py -p step -r 9
    PYTHONPATH=src python benchmarks/lstm_parts.py --cpu        # thread CPU time, one thread

The workload (../shared/bench/workloads.py ``lstm``): Embedding(65, 64) -> LSTM(64, 256,
batch_first) -> Linear(256, 65), batch 32, seq 32, cross-entropy, Adam. The embedding is replaced
by a fixed float input here (nn.Embedding is another helper's), so ``step`` is the rest of the
workload's step. Parts, each in torch and ferrum:
  fwd       LSTM forward with grad recording
  fwd_bwd   LSTM forward + backward of out.sum()
  step      LSTM + Linear head + cross_entropy forward, backward, Adam step
  gru       GRU(64, 256) forward + backward (the fused GRU node)
Variants run in interleaved rounds; the report gives the median over rounds of each round's best
(ms), and the ratio ferrum / torch. ``--cpu`` times the calling thread's CPU time with one thread
everywhere (stable when other jobs load the machine).

Measured 2026-12-07 on the 2-core machine while other jobs loaded it (load average 5-8), torch
2.13 (MKL, oneDNN), ms; ``--cpu -r 7 -n 3`` (one thread, thread CPU time), two runs:

    part        torch   ferrum  ratio          history of ferrum's step (same flags):
    fwd          6.13     9.34   1.52          first fused version (expit, NT GEMMs)   36.9  (1.65)
    fwd_bwd     18.27    24.75   1.35          + C-ordered weight copies, cached buffers 33.9 (1.40)
    step        21.27    28.17   1.32          + feature-major layout, one GEMM a step  32.7 (1.35)
    gru         21.22    22.63   1.07          + raw-address GEMMs, padded lda          28.2 (1.32)

The per-step products set the floor: OpenBLAS runs the step's 1024x321 @ 321x32 GEMM in about
200 us where torch's MKL runs its 32x256 @ 256x1024 in 125 us (one thread), i.e. 32 steps x 3
GEMMs (forward, and dW, dh backward) leave ferrum about 7 ms behind before any elementwise work.
Wall clock with 2 threads (this script without ``--cpu``, same loaded machine): fwd 23.2 / 13.9,
fwd_bwd 165 / 33.2, step 152 / 34.0, gru 136 / 26.0 (torch / ferrum): OpenMP's and OpenBLAS's
spinning workers lose whole time slices when a core is taken, which ferrum's two-halves GEMMs
(``ops/_rnn_fused._mm``) avoid. ../shared/bench/bench.py -w lstm (with nn.Embedding) gave
torch 1706 ms, ferrum 210 ms a step at 2 threads (ratio 0.12, spread 8.3 and 7.0: a noisy run),
and torch@1 69.8 ms, ferrum@1 88.4 ms (ratio 1.27, spread 1.4).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

B, T, I, H, V = 32, 32, 64, 256, 65


def _make(fw, mode="LSTM"):
    fw.manual_seed(0)
    rnn = getattr(fw.nn, mode)(I, H, batch_first=True)
    head = fw.nn.Linear(H, V)
    x = fw.tensor(np.random.RandomState(0).randn(B, T, I).astype(np.float32))
    tgt = fw.tensor(np.random.RandomState(1).randint(0, V, (B * T,)).astype(np.int64))
    opt = fw.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=1e-3)
    return rnn, head, x, tgt, opt


def _parts(fw):
    F = fw.nn.functional
    rnn, head, x, tgt, opt = _make(fw)
    gru = _make(fw, "GRU")[0]

    def fwd():
        rnn(x)

    def fwd_bwd():
        out, _ = rnn(x)
        out.sum().backward()

    def step():
        opt.zero_grad()
        out, _ = rnn(x)
        loss = F.cross_entropy(head(out).reshape(-1, V), tgt)
        loss.backward()
        opt.step()

    def gru_fb():
        out, _ = gru(x)
        out.sum().backward()

    return {"fwd": fwd, "fwd_bwd": fwd_bwd, "step": step, "gru": gru_fb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", "--parts", default="fwd,fwd_bwd,step,gru")
    ap.add_argument("-r", "--rounds", type=int, default=7)
    ap.add_argument("-n", "--number", type=int, default=5, help="calls per round")
    ap.add_argument("--cpu", action="store_true", help="thread CPU time, one thread everywhere")
    args = ap.parse_args()
    import torch

    import ferrum
    if args.cpu:
        torch.set_num_threads(1)
        ferrum.set_num_threads(1)
    clock = time.thread_time if args.cpu else time.perf_counter
    fws = {"torch": _parts(torch), "ferrum": _parts(ferrum)}
    parts = args.parts.split(",")
    res = {(f, p): [] for f in fws for p in parts}
    for p in parts:
        for f in fws:
            fws[f][p]()  # warm-up
    for _ in range(args.rounds):
        for p in parts:
            for f in fws:
                fn = fws[f][p]
                best = float("inf")
                for _ in range(args.number):
                    t0 = clock()
                    fn()
                    best = min(best, clock() - t0)
                res[(f, p)].append(best * 1e3)
    print(f"{'part':10s} {'torch':>8s} {'ferrum':>8s} {'ratio':>6s}")
    for p in parts:
        t = statistics.median(res[("torch", p)])
        m = statistics.median(res[("ferrum", p)])
        print(f"{p:10s} {t:8.2f} {m:8.2f} {m / t:6.2f}")


if __name__ == "__main__":
    main()
