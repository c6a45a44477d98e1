"""The name mapping of ferrum.compat._hook (the finder itself runs in test_runner's subprocesses:
installing it here would replace the real torch that other tests in this process use)."""

from __future__ import annotations

import pytest

from ferrum.compat._hook import ferrum_name


@pytest.mark.parametrize("name,want", [
    ("torch", "ferrum"),
    ("torch.nn", "ferrum.nn"),
    ("torch.nn.functional", "ferrum.nn.functional"),
    ("torch.utils.data", "ferrum.utils.data"),
    ("torchvision", "torchvision"),
    ("torchvision.transforms", "ferrum.transforms"),
    ("torchvision.transforms.functional", "ferrum.transforms.functional"),
    ("torchvision.models.resnet", "ferrum.models.resnet"),
    ("torchvision.utils", "ferrum.utils"),
    ("torchvision.io", ""),
    ("torchaudio", None),
    ("torchx", None),
    ("numpy", None),
])
def test_ferrum_name(name, want):
    assert ferrum_name(name) == want


def test_boot_module_is_inert_when_imported():
    """Importing _boot/sitecustomize.py as a ferrum module (docs generators walk packages) does nothing."""
    import importlib
    import sys

    before = (list(sys.path), sys.modules.get("sitecustomize"), list(sys.meta_path))
    importlib.import_module("ferrum.compat._boot.sitecustomize")
    assert (list(sys.path), sys.modules.get("sitecustomize"), list(sys.meta_path)) == before
