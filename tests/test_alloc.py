"""The glibc allocator switch (ferrum._alloc, ferrum.backends.cpu.tune_allocator): not applied by
``import ferrum``, applied on request, disabled by FERRUM_MALLOC_TUNING=0."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import ferrum

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")


def _probe(code: str, env_value: str | None = None) -> str:
    env = dict(os.environ)
    env.pop("FERRUM_MALLOC_TUNING", None)
    if env_value is not None:
        env["FERRUM_MALLOC_TUNING"] = env_value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip()


@pytest.mark.timeout(240)
@linux_only
def test_import_leaves_the_allocator_alone_and_the_switch_applies_it():
    assert _probe("import ferrum, ferrum._alloc; print(ferrum._alloc.applied)") == "False"
    code = ("import ferrum, ferrum._alloc, ferrum.backends.cpu as c; r = c.tune_allocator(); "
            "print(r, c.allocator_tuned(), ferrum._alloc.applied)")
    out = _probe(code)
    assert out in ("True True True", "False False False")  # False where libc has no mallopt (musl)
    assert _probe(code, "0") == "False False False"


def test_backends_cpu_is_a_module_with_torchs_capability_query(torch):
    import ferrum.backends.cpu as c
    assert ferrum.backends.cpu is c
    assert c.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT", "NO AVX")
    assert isinstance(torch.backends.cpu.get_cpu_capability(), str)


@pytest.mark.timeout(240)
@linux_only
def test_freed_buffers_are_reused_without_page_faults():
    code = """
import resource, numpy as np, ferrum.backends.cpu as c
if not c.tune_allocator():
    print("skip"); raise SystemExit
def churn():
    keep = [np.ones((512, 784), np.float32) for _ in range(3)]
    return sum(float(k[0, 0]) for k in keep)
for _ in range(5):
    churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    out = _probe(code)
    if out == "skip":
        pytest.skip("allocator tuning not available (not glibc)")
    # 20 rounds of 3 x 1.6 MB would be ~15,000 page faults if each block came from fresh pages
    assert int(out) < 2000
