"""Keeps large NumPy buffers in the process heap between training steps (glibc only).

glibc serves blocks above a *dynamic* threshold with fresh ``mmap`` pages and trims the heap top
back to the OS once enough of it is free. A training step frees and reallocates megabytes of
activations and gradients every iteration, so with the defaults each step faulted in about a
thousand fresh pages (measured: ~1,100 minor faults and 2-3 ms per step of the 784-512-256-10 MLP,
against zero with fixed thresholds). Fixing the thresholds makes freed blocks reusable, as
PyTorch's caching allocator does for its own tensors. Set ``FERRUM_MALLOC_TUNING=0`` to leave
the allocator as it is.
"""

from __future__ import annotations

import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 256 * 1024 * 1024

applied = False


def tune() -> bool:
    """Sets fixed mmap/trim thresholds; True when they were applied."""
    global applied
    if applied or os.environ.get("FERRUM_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return applied
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    applied = (bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
               and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    return applied
