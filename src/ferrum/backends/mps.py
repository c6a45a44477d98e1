"""``ferrum.backends.mps``: Apple's Metal (MPS) backend, which ferrum does not have.

Programs ask ``torch.backends.mps.is_available()`` to choose between "mps", "cuda" and "cpu"; ferrum
answers as a PyTorch build without MPS does: not built, not available, and the macOS queries raise
``RuntimeError``.
"""

from __future__ import annotations

__all__ = ["is_available", "is_built", "is_macos_or_newer", "is_macos13_or_newer"]


def is_built() -> bool:
    """Whether ferrum was built with MPS support: never."""
    return False


def is_available() -> bool:
    """Whether MPS can be used: never."""
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:
    """RuntimeError: the question needs the MPS backend (as in torch without it)."""
    raise RuntimeError("Cannot execute isOnMacOSorNewer() without MPS backend.")


def is_macos13_or_newer(minor: int = 0) -> bool:
    """RuntimeError: the question needs the MPS backend (as in torch without it)."""
    return is_macos_or_newer(13, minor)
