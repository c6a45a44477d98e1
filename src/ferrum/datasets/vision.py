"""``VisionDataset``: what the image data sets share (torchvision's base class of the same name).

Besides the per-sample ``_item``, it holds the batched fetch behind the data sets'
``__getitems__``: the images of a batch are gathered with one fancy index and, when the transform
supports it (:func:`ferrum.transforms.supports_batch`), converted in one vectorised call, giving a
:class:`~ferrum.utils.data._collate.CollatedBatch` equal to collating ``ds[i]`` for each index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ferrum

from .._tensor import _wrap
from ..utils.data._collate import CollatedBatch
from ..utils.data.dataset import Dataset, batch_indices

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

    def _items(self, images: np.ndarray, targets: np.ndarray | list, indices: list) -> list | CollatedBatch:
        """The samples at ``indices``: ``images`` and ``targets`` are the whole data set's (an
        array of images and an int64 array or list of int labels)."""
        if len(indices) == 0:
            return []
        if not isinstance(images, np.ndarray):  # replaced by the program with something else
            return [self[i] for i in indices]
        idx = batch_indices(indices, len(images), type(self).__name__)
        imgs = images[idx]  # a fresh array: transforms may work in place
        if isinstance(targets, np.ndarray):
            labels = targets[idx]
            per_sample = labels.tolist
        else:
            labels = [targets[i] for i in idx.tolist()]
            per_sample = lambda: labels  # noqa: E731
        from ..transforms import supports_batch
        tf = self.transform
        if (self.target_transform is not None or not supports_batch(tf)
                or (labels.__class__ is list and any(t.__class__ is not int for t in labels))):
            return [self._item(img, t) for img, t in zip(imgs, per_sample())]
        batch = _wrap(imgs)
        if tf is not None:
            batch = tf.apply_batch(batch)
        labels = _wrap(np.asarray(labels, dtype=np.int64))
        return CollatedBatch([batch, labels], len(idx),
                             lambda: [self._item(img, t) for img, t in zip(imgs, per_sample())])

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", self.extra_repr()]
        for name in ("transform", "target_transform"):
            t = getattr(self, name)
            if t is not None:
                lines.append(f"{name.replace('_', ' ').capitalize()}: {t!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + ln for ln in lines)
