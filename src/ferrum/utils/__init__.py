"""Utilities: ``ferrum.utils.data`` (datasets, samplers, DataLoader) and ``ferrum.utils.hooks``
(RemovableHandle). Loaded on first use: the core imports ``hooks`` and must not pull in the data
pipeline with it (about 45 ms of ``import ferrum``)."""

import importlib

__all__ = ["data", "hooks"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
