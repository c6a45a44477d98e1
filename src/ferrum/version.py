"""``ferrum.version``: torch.version's fields. ``cuda``, ``hip``, ``rocm`` and ``xpu`` are None: ferrum
is not compiled against a GPU toolkit (its CUDA path is CuPy's, found at run time: ``ferrum.cuda``)."""

from __future__ import annotations

__all__ = ["__version__", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]

from . import __version__  # noqa: F401  (the package's own, one place)

cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = "unknown"
