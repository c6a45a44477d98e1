"""Keeps large NumPy buffers in the process heap between training steps (glibc only).

glibc serves blocks above a *dynamic* threshold with fresh ``mmap`` pages and trims the heap top
back to the OS once enough of it is free. Fixing both thresholds (``tune()``) makes freed blocks
reusable, as a caching allocator would. It is a process-wide change, so it is an explicit switch,
``ferrum.backends.cpu.tune_allocator()``, called by the program that owns the process (``ferrum
train``), not by ``import ferrum``. Set ``FERRUM_MALLOC_TUNING=0`` to make the switch a no-op.

The decision, measured on the shared 2-core machine (glibc 2.x, NumPy 2.4.6, 2026-12-06), each
tuned/untuned pair in separate processes, alternated:
- the MLP training step (784-512-256-10, batch 128, Adam, 1 thread, 600 steps after 30 of
  warm-up): 0.0 minor page faults per step with and without tuning (glibc's dynamic threshold
  rises to the 1.6 MB weight-sized blocks after their first free); CPU time per step, median of
  15 blocks, tuned/untuned 6.67/7.14, 6.64/6.44, 5.93/5.78 ms: no difference beyond the noise;
- the whole job, ``ferrum train mnist-mlp --epochs 1`` (469 steps with the DataLoader, plus
  evaluation): 17,085 and 16,811 minor faults tuned against 29,988 and 29,449 untuned, about 27
  per step, some 40 us of a ~3 ms step (user CPU 24.7/26.2 s and 32.1/31.5 s: noise);
- a churn of three 1.6 MB buffers allocated and freed together (the pattern that makes glibc
  trim): 752 faults per round untuned, 0 tuned (tests/test_alloc.py).
So tuning saves little in the main job and nothing in the MLP step, while changing the host's
allocator from a library import would reach every program that imports ferrum: the job opts in.
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
