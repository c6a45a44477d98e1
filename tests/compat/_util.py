"""Running the test programs of scripts/ in a fresh interpreter: under `ferrum compat run`, or
under the real torch for parity."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ferrum

SCRIPTS = Path(__file__).parent / "scripts"
_SRC = str(Path(ferrum.__file__).resolve().parents[1])
TIMEOUT = 120


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("FERRUM_COMPAT", None)
    extra = dict(extra or {})
    paths = (extra.pop("PYTHONPATH", None), _SRC, env.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return {**env, **extra}


def run(argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """``python argv...`` with this ferrum on the path (``env`` adds variables; its PYTHONPATH goes
    first)."""
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=TIMEOUT,
                          env=_env(env))


def compat_run(script: str, *args: str) -> subprocess.CompletedProcess:
    """``ferrum compat run scripts/<script> args...`` (the CLI, which starts its own interpreter)."""
    return run(["-m", "ferrum.cli", "compat", "run", str(SCRIPTS / script), *args])


def torch_run(script: str, *args: str) -> subprocess.CompletedProcess:
    """``python scripts/<script> args...`` with the real torch."""
    return run([str(SCRIPTS / script), *args])


def results(proc: subprocess.CompletedProcess) -> dict[str, list[str]]:
    """The program's ``RESULT key values...`` lines; fails the test with its stderr if it failed."""
    assert proc.returncode == 0, proc.stderr
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            key, *vals = line.split()[1:]
            out[key] = vals
    return out


def assert_same(got: dict[str, list[str]], want: dict[str, list[str]], rtol: float = 1e-4) -> None:
    """Equal keys; numbers within ``rtol`` (float32 sums in another order), everything else equal."""
    assert got.keys() == want.keys()
    for key in want:
        assert len(got[key]) == len(want[key]), key
        for g, w in zip(got[key], want[key]):
            try:
                gf, wf = float(g), float(w)
            except ValueError:
                assert g == w, (key, got[key], want[key])
                continue
            assert abs(gf - wf) <= rtol * max(abs(wf), 1.0), (key, got[key], want[key])
