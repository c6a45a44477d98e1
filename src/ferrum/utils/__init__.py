"""Utilities: ``ferrum.utils.data`` (datasets, samplers, DataLoader), ``ferrum.utils.hooks``
(RemovableHandle), and torchvision.utils' ``make_grid``/``save_image`` (``ferrum.utils.image``).
Loaded on first use: the core imports ``hooks`` and must not pull in the data
pipeline with it (about 45 ms of ``import ferrum``)."""

import importlib

__all__ = ["checkpoint", "data", "hooks", "image", "make_grid", "save_image"]


def __getattr__(name: str):
    if name in ("make_grid", "save_image"):
        return getattr(importlib.import_module(".image", __name__), name)
    if name in __all__:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
