"""The glibc allocator tuning applied at import (ferrum._alloc)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ferrum


def _probe(env_value: str | None) -> str:
    env = dict(os.environ)
    env.pop("FERRUM_MALLOC_TUNING", None)
    if env_value is not None:
        env["FERRUM_MALLOC_TUNING"] = env_value
    code = "import ferrum; print(ferrum._alloc.applied)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip()


@pytest.mark.timeout(240)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_applied_by_default_and_disabled_by_env():
    assert _probe(None) == str(ferrum._alloc.applied)
    assert _probe("0") == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_freed_buffers_are_reused_without_page_faults():
    if not ferrum._alloc.applied:
        pytest.skip("allocator tuning not available (not glibc)")
    import resource

    import numpy as np

    def churn():
        keep = [np.ones((512, 784), np.float32) for _ in range(3)]
        return sum(float(k[0, 0]) for k in keep)

    for _ in range(5):
        churn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        churn()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # 20 rounds of 3 x 1.6 MB would be ~23,000 page faults if each block came from fresh pages
    assert faults < 2000
