"""torch.multiprocessing.spawn: each spawned process re-imports this file and must get the same torch."""
import sys

import torch
import torch.multiprocessing as mp


def worker(rank, world, queue_path):
    t = torch.full((2,), float(rank + 1))
    with open(f"{queue_path}.{rank}", "w") as f:
        f.write(f"{rank} {world} {t.sum().item():.1f} {torch.__name__} {torch.nn.Module.__module__}\n")


if __name__ == "__main__":
    out = sys.argv[1]
    mp.spawn(worker, args=(2, out), nprocs=2)
    for rank in range(2):
        with open(f"{out}.{rank}") as f:
            print("RESULT", "rank" + str(rank), f.read().strip())
