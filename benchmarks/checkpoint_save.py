"""Cost of a training checkpoint against a plain ``ferrum.save`` of the same state dict: the CRC-32,
the in-memory serialisation, the fsyncs and the rename (``ferrum.train.checkpoint``).

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/checkpoint_save.py [MB]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zlib

import ferrum
from ferrum.train.checkpoint import read_checkpoint, save_checkpoint


class _Sd:
    def __init__(self, sd):
        self.sd = sd

    def state_dict(self):
        return self.sd


def best(fn, n=3):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(mb: int = 50) -> None:
    n = mb * 1024 * 1024 // 4
    sd = {f"w{i}": ferrum.randn(n // 8) for i in range(8)}
    raw = b"".join(t.numpy().tobytes() for t in sd.values())
    with tempfile.TemporaryDirectory() as d:
        plain, ck = os.path.join(d, "plain.pt"), os.path.join(d, "c.ckpt")
        t_crc = best(lambda: zlib.crc32(raw))
        t_plain = best(lambda: ferrum.save(sd, plain))
        t_ck = best(lambda: save_checkpoint(ck, model=_Sd(sd), rng=True))
        t_load_plain = best(lambda: ferrum.load(plain))
        t_load_ck = best(lambda: read_checkpoint(ck))
    print(f"{mb} MB state dict: crc32 {mb / t_crc:.0f} MB/s; ferrum.save {t_plain * 1e3:.0f} ms, "
          f"save_checkpoint {t_ck * 1e3:.0f} ms ({t_ck / t_plain:.2f}x); "
          f"ferrum.load {t_load_plain * 1e3:.0f} ms, read_checkpoint {t_load_ck * 1e3:.0f} ms "
          f"({t_load_ck / t_load_plain:.2f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
