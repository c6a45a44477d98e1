"""``FakeData``: random images with random labels (torchvision.datasets.FakeData), the data set
PyTorch's ImageNet example trains on with ``--dummy`` and that benchmarks use in place of a
download.

Sample ``i`` is drawn from a generator seeded with ``i + random_offset``, so it is the same every
time it is read (and in every DataLoader worker) without holding ``size`` images in memory. The
image is what torchvision hands its transforms after its own ``ToPILImage`` step: an 8-bit image,
here the (H, W, C) uint8 tensor that ferrum's transforms take in place of a PIL image (ferrum has no
PIL), so ``transforms.ToTensor()`` gives the (C, H, W) float image in [0, 1]. The target is an int in
``[0, num_classes)``.

Differences from torchvision: the pixel values and labels come from ferrum's generator, so they
differ from torchvision's for the same index (both are uniform noise; no program can rely on them).
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``FakeData(size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
    target_transform=None, random_offset=0)``; ``image_size`` is (C, H, W)."""

    def __init__(self, size: int = 1000, image_size: tuple = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        if len(image_size) != 3:
            raise ValueError(f"image_size must be (C, H, W), got {tuple(image_size)}")
        self.root = None
        self.train = True
        self.size = int(size)
        self.image_size = tuple(int(s) for s in image_size)
        self.num_classes = int(num_classes)
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = int(random_offset)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"FakeData indices must be integers, not {type(index).__name__}") from None
        if not 0 <= i < self.size:  # torchvision refuses negative indices too
            raise IndexError(f"FakeData index out of range: {index} (size {self.size})")
        rng = np.random.default_rng(i + self.random_offset)
        c, h, w = self.image_size
        image = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        target = int(rng.integers(0, self.num_classes))
        return self._item(image, target)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"]
        for name in ("transform", "target_transform"):
            t = getattr(self, name)
            if t is not None:
                lines.append(f"{name.replace('_', ' ').capitalize()}: {t!r}")
        return "Dataset FakeData\n" + "\n".join("    " + ln for ln in lines)
