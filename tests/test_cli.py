"""The ``ferrum`` command: ``info`` (BLAS, CPU features, which optional backends are usable),
the global ``--debug`` flag, and the one-line errors of bad input (exit status 2)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from ferrum.cli import collect_info, cpu_features
from ferrum.cli import main as cli


def test_info_json_has_blas_cpu_and_backends(capsys):
    assert cli(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["usable"]) == {"MPI", "CuPy", "onnx", "tensorboardX"}
    for name, state in info["usable"].items():
        assert state.startswith(("yes", "no (")), (name, state)
    # what is importable is reported as such
    assert info["usable"]["onnx"].startswith("yes") == (importlib.util.find_spec("onnx") is not None)
    assert info["usable"]["tensorboardX"].startswith("yes") == (
        importlib.util.find_spec("tensorboardX") is not None)
    if importlib.util.find_spec("threadpoolctl") is not None:
        assert info["blas"] and info["blas"][0]["num_threads"] >= 1
    assert isinstance(info["cpu_features"], list)


def test_cpu_features_from_proc(tmp_path):
    feats = cpu_features()
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith(("flags", "Features")))
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo flags here")
    for f in feats:
        assert f in flags.split()


def test_info_text(capsys):
    assert cli(["info"]) == 0
    out = capsys.readouterr().out
    for label in ("BLAS threads", "CPU features", "MPI", "CuPy", "onnx", "tensorboardX"):
        assert label in out
    assert collect_info()["cpus"] >= 1


def test_debug_flag_and_one_line_errors(tmp_path):
    """In a real process: no traceback without --debug (exit 2), the traceback with it, before or
    after the command."""
    run = [sys.executable, "-m", "ferrum"]
    r = subprocess.run([*run, "evaluate", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "no config.json" in r.stderr and "Traceback" not in r.stderr
    for argv in (["--debug", "evaluate", str(tmp_path)], ["evaluate", str(tmp_path), "--debug"]):
        r = subprocess.run([*run, *argv], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "Traceback" in r.stderr and "BadInput" in r.stderr
    r = subprocess.run([*run, "train", "no-such-recipe"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "unknown recipe" in r.stderr
