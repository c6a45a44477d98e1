"""Running unmodified PyTorch programs on ferrum, and the compatibility page.

    ferrum compat run script.py args...      (a fresh interpreter; also `python -m ferrum.compat ...`)
    ferrum compat coverage [-o docs/compat.md]

- ``_hook``: the meta-path finder that answers ``import torch`` / ``torch.X.Y`` with ``ferrum`` /
  ``ferrum.X.Y`` themselves, and torchvision's datasets/transforms/models/utils with ferrum's.
- ``_runner``: runs the script as ``__main__`` and reports a missing API by its torch name.
- ``_coverage``: torch's public API per area against ferrum's, as Markdown (``coverage_markdown``).
"""

from ferrum.compat._hook import COMPAT_PAGE, TorchFinder, install, is_installed, uninstall
from ferrum.compat._runner import main, run_script

__all__ = ["COMPAT_PAGE", "TorchFinder", "coverage", "coverage_markdown", "install", "is_installed",
           "main", "run_script", "uninstall"]


def coverage_markdown() -> str:
    """The compatibility page (Markdown), generated from the code: see ``ferrum.compat._coverage``."""
    from ferrum.compat._coverage import coverage_markdown as page

    return page()


def coverage():
    """Per torch area, the names ferrum has and lacks, and where torch's lists came from."""
    from ferrum.compat._coverage import coverage as rows

    return rows()
