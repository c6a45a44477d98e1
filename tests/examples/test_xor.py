"""examples/xor.py runs and solves XOR."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "xor.py"


@pytest.mark.timeout(120)
def test_xor_example():
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=110)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4/4 correct" in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if " xor " in ln]
    assert len(lines) == 4
    for ln in lines:  # "a xor b = t   predicted p -> pred"
        assert ln.split("=")[1].split()[0] == ln.rsplit("->", 1)[1].strip()
