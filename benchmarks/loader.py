#!/usr/bin/env python
"""Data loader throughput: ferrum's DataLoader against torch's, side by side in one process.

    python benchmarks/loader.py                       # MNIST train, batch 128, 2 workers, 3 epochs each
    python benchmarks/loader.py --epochs 5 --workers 4 --no-normalize
    FERRUM_DATA=/data python benchmarks/loader.py --json out.json

Workload: MNIST's 60000 training images (``ferrum.datasets.MNIST(root=$FERRUM_DATA or
~/.cache/ferrum)``) with ``ToTensor + RandomCrop(28, padding=2) + Normalize((0.1307,), (0.3081,))``,
shuffled, ``batch_size`` 128, ``num_workers`` 2. Only the loader is timed: each batch is iterated and
touched (one element read), no model runs. torchvision is not a dependency, so the torch side is a
``torch.utils.data.Dataset`` over the same uint8 arrays with the same augmentation written in torch
ops (``div(255)``, ``F.pad`` + random slice, ``sub``/``div``). Epochs alternate torch, ferrum, torch,
... so that both see the same machine state; worker start-up is part of each epoch for both (no
persistent workers unless ``--persistent``).

Prints samples/s per epoch and the median for each, the ratio ferrum / torch (target: >= 1.0), and
the resident memory (RSS, and the part private to the process) of each ferrum worker, sampled in
the middle of a ferrum epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

import ferrum  # noqa: E402
from ferrum import transforms as T  # noqa: E402

MEAN, STD = 0.1307, 0.3081
TARGET = 1.0


# --------------------------------------------------------------------------------------------------
# the torch side: a Dataset over the same arrays, the same augmentation in torch ops


def make_torch_dataset(torch, data: np.ndarray, targets: np.ndarray, normalize: bool, padding: int):
    import torch.nn.functional as tF

    class TorchMNIST(torch.utils.data.Dataset):
        def __init__(self):
            self.data = torch.from_numpy(data)
            self.targets = torch.from_numpy(targets)

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            img = self.data[i].unsqueeze(0).to(torch.float32).div(255)  # ToTensor
            img = tF.pad(img, (padding,) * 4)  # RandomCrop(28, padding): pad, then a random window
            h, w = img.shape[-2] - 28 + 1, img.shape[-1] - 28 + 1
            top = int(torch.randint(0, h, (1,)).item())
            left = int(torch.randint(0, w, (1,)).item())
            img = img[:, top:top + 28, left:left + 28]
            if normalize:
                img = img.sub(MEAN).div(STD)
            return img, int(self.targets[i])

    return TorchMNIST()


# --------------------------------------------------------------------------------------------------
# memory of the worker processes


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces: the parent pid is the 2nd field after ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def _memory_kib(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            private = 0
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    private += int(line.split()[1])
            out["private"] = private
    except OSError:
        pass
    return out


# --------------------------------------------------------------------------------------------------


def run_epoch(loader, probe=None) -> tuple[float, int, dict | None]:
    """(seconds, samples, probe result) of one pass over ``loader``; ``probe()`` runs mid-epoch."""
    n = 0
    probed = None
    nb = len(loader)
    t0 = time.perf_counter()
    for b, (x, y) in enumerate(loader):
        x[0, 0, 0, 0].item()  # touch the batch
        n += len(y)
        if probe is not None and b == nb // 2:
            probed = probe()
    return time.perf_counter() - t0, n, probed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=3, help="epochs per framework (interleaved)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--padding", type=int, default=2)
    ap.add_argument("--no-normalize", action="store_true", help="leave out Normalize")
    ap.add_argument("--persistent", action="store_true", help="persistent_workers=True for both")
    ap.add_argument("--limit", type=int, default=None, help="use the first N training images only")
    ap.add_argument("--only", choices=("ferrum", "torch"), default=None, help="run one side only")
    ap.add_argument("--root", default=os.environ.get("FERRUM_DATA", "~/.cache/ferrum"))
    ap.add_argument("--json", default=None, help="write the results to this file")
    args = ap.parse_args(argv)
    normalize = not args.no_normalize

    tfs = [T.ToTensor(), T.RandomCrop(28, padding=args.padding)]
    if normalize:
        tfs.append(T.Normalize((MEAN,), (STD,)))
    ds = ferrum.datasets.MNIST(root=args.root, train=True, transform=T.Compose(tfs))
    if args.limit:
        ds.data = ds.data_array[:args.limit]
        ds.targets = ds.targets_array[:args.limit]
    print(f"data: MNIST train, {len(ds)} images from {ds.root} ({ds.source}); batch {args.batch_size}, "
          f"{args.workers} workers, transform {ds.transform!r}".replace("\n", " "))

    loaders = {}
    if args.only != "torch":
        from ferrum.utils.data import DataLoader
        loaders["ferrum"] = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                       persistent_workers=args.persistent and args.workers > 0)
    if args.only != "ferrum":
        try:
            import torch
        except ImportError:
            print("torch is not installed: ferrum only")
        else:
            tds = make_torch_dataset(torch, ds.data_array, ds.targets_array, normalize, args.padding)
            loaders["torch"] = torch.utils.data.DataLoader(
                tds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                persistent_workers=args.persistent and args.workers > 0)

    rates: dict[str, list[float]] = {k: [] for k in loaders}
    worker_mem: list[dict] = []
    me = os.getpid()

    def probe():
        return {pid: _memory_kib(pid) for pid in _children(me)}

    # one untimed warm-up pass over a few batches each (imports, page cache, code caches)
    for loader in loaders.values():
        for b, _ in enumerate(loader):
            if b >= 3:
                break
    for epoch in range(args.epochs):
        for name in sorted(loaders, reverse=True):  # torch first, then ferrum, each epoch
            sec, n, probed = run_epoch(loaders[name], probe if name == "ferrum" and args.workers else None)
            rates[name].append(n / sec)
            if probed:
                worker_mem.append(probed)
            print(f"epoch {epoch + 1} {name:>6}: {n / sec:10.0f} samples/s ({sec:.2f} s, {n} samples)")

    summary = {k: statistics.median(v) for k, v in rates.items()}
    print()
    for k, v in summary.items():
        print(f"{k:>6}: median {v:10.0f} samples/s")
    if "ferrum" in summary and "torch" in summary:
        ratio = summary["ferrum"] / summary["torch"]
        ok = "ok" if ratio >= TARGET else "MISSED"
        print(f"ratio ferrum/torch: {ratio:.2f}x (target >= {TARGET:.1f}x) {ok}")
    main_mem = _memory_kib(me)
    print(f"main process: RSS {main_mem.get('rss', 0) / 1024:.1f} MiB, private "
          f"{main_mem.get('private', 0) / 1024:.1f} MiB")
    if worker_mem:
        last = worker_mem[-1]
        for pid, m in sorted(last.items()):
            print(f"ferrum worker pid {pid}: RSS {m.get('rss', 0) / 1024:.1f} MiB, private "
                  f"{m.get('private', 0) / 1024:.1f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rates": rates, "median": summary, "worker_memory_kib": worker_mem,
                       "main_memory_kib": main_mem, "args": vars(args)}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
