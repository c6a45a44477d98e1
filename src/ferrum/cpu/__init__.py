"""``ferrum.cpu``: torch.cpu's device-module answers for the CPU (always available, one device,
nothing to synchronise) and its ``amp`` submodule (the deprecated ``torch.cpu.amp.autocast``)."""

from __future__ import annotations

import importlib

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: CPU ops finish before they return."""


def __getattr__(name: str):
    if name == "amp":
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
