"""What ``ferrum compat`` costs: start-up of a trivial program run through the hook against the same
program importing ferrum directly, and attribute access on ``torch.*`` (ferrum's modules
themselves, so it should equal ferrum's).

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/compat_overhead.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

IMPORTS = ("import {0}\nimport {0}.nn as nn\nimport {0}.nn.functional as F\nimport {0}.optim\n"
           "from {0}.utils.data import DataLoader\nx = {0}.zeros(3)\n")


def startup(code: str, compat: bool, repeat: int = 5) -> float:
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "prog.py"
        script.write_text(code)
        argv = [sys.executable, *(["-m", "ferrum.compat"] if compat else []), str(script)]
        src = str(Path(__file__).resolve().parents[1] / "src")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(argv, check=True, env=env)
            best = min(best, time.perf_counter() - t)
    return best


def attribute_access() -> tuple[float, float]:
    import ferrum
    import ferrum.nn.functional
    from ferrum.compat import install, uninstall

    install()
    import torch  # noqa: E402 - ferrum, through the hook

    n = 200_000
    t_torch = min(timeit.repeat(lambda: torch.nn.functional.relu, number=n, repeat=5)) / n
    t_ferrum = min(timeit.repeat(lambda: ferrum.nn.functional.relu, number=n, repeat=5)) / n
    uninstall()
    return t_torch, t_ferrum


if __name__ == "__main__":
    direct = startup(IMPORTS.format("ferrum"), compat=False)
    hooked = startup(IMPORTS.format("torch"), compat=True)
    print(f"start-up, best of 5: `python prog.py` (import ferrum) {direct * 1e3:.0f} ms, "
          f"`python -m ferrum.compat prog.py` (import torch) {hooked * 1e3:.0f} ms")
    t, f = attribute_access()
    print(f"torch.nn.functional.relu {t * 1e9:.1f} ns, ferrum.nn.functional.relu {f * 1e9:.1f} ns")
