"""``VisionDataset``: what the image data sets share (torchvision's base class of the same name)."""

from __future__ import annotations

from typing import Any

import numpy as np

import ferrum

from ..utils.data.dataset import Dataset

__all__ = ["VisionDataset"]


class VisionDataset(Dataset):
    """Base of the image data sets: ``root``, ``train``, ``transform``, ``target_transform``, a
    torchvision-style repr, and :meth:`_item` which applies the transforms."""

    def _item(self, image: np.ndarray, target: Any) -> tuple[Any, Any]:
        # a copy, so a transform that works in place cannot change the data set
        img = ferrum.from_numpy(image.copy())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        for name in ("transform", "target_transform"):
            t = getattr(self, name)
            if t is not None:
                lines.append(f"{name.replace('_', ' ').capitalize()}: {t!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + ln for ln in lines)
