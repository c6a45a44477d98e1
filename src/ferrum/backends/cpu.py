"""``ferrum.backends.cpu``: CPU backend switches (torch.backends.cpu), and the allocator switch.

``tune_allocator()`` fixes glibc's malloc thresholds for this process so that freed NumPy buffers
are reused instead of handed back to the OS and faulted in again (see ``ferrum._alloc`` for the
numbers). It changes the whole process's allocator, so ``import ferrum`` does not call it: the
program that owns the process does (``ferrum train`` does; a training script may).
"""

from __future__ import annotations

import platform

from .. import _alloc

__all__ = ["get_cpu_capability", "tune_allocator", "allocator_tuned"]


def tune_allocator() -> bool:
    """Sets fixed glibc mmap/trim thresholds for this process (Linux/glibc only; a no-op elsewhere
    or when ``FERRUM_MALLOC_TUNING=0``). Returns True when the thresholds are in effect."""
    return _alloc.tune()


def allocator_tuned() -> bool:
    """True once ``tune_allocator()`` has set the thresholds in this process."""
    return _alloc.applied


def get_cpu_capability() -> str:
    """The best SIMD level NumPy's kernels dispatch to here ('AVX512', 'AVX2', 'DEFAULT'), in
    torch's spelling."""
    try:
        import numpy as np
        found = np.__cpu_features__  # NumPy >= 1.20
    except AttributeError:
        found = {}
    if found.get("AVX512_SKX") or found.get("AVX512F"):
        return "AVX512"
    if found.get("AVX2"):
        return "AVX2"
    return "DEFAULT" if platform.machine() in ("x86_64", "AMD64") else "NO AVX"
