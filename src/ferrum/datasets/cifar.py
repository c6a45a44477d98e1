"""CIFAR-10 and CIFAR-100, with torchvision's ``datasets.CIFAR10`` / ``CIFAR100`` interface.

Both of the authors' distributions are read:

- the Python version (``cifar-10-batches-py``: ``data_batch_1..5``, ``test_batch``, ``batches.meta``;
  ``cifar-100-python``: ``train``, ``test``, ``meta``), pickles read through a restricted unpickler
  that can only rebuild NumPy arrays and plain containers;
- the binary version (``cifar-10-batches-bin``: ``data_batch_N.bin`` / ``test_batch.bin``, records
  of 1 label byte + 3072 pixel bytes, ``batches.meta.txt``; ``cifar-100-binary``: ``train.bin`` /
  ``test.bin``, records of a coarse and a fine label byte + 3072 pixels, ``fine_label_names.txt``,
  ``coarse_label_names.txt``).

Pixels are stored channel-planar (1024 R, 1024 G, 1024 B, rows of 32) and kept as one uint8
``(N, 32, 32, 3)`` array, as torchvision does.
"""

from __future__ import annotations

import operator
import os
import pickle
import shutil
import tarfile
import urllib.error
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np


from ..utils.data._collate import CollatedBatch
from .vision import VisionDataset
from ._download import DEFAULT_TIMEOUT, check_integrity, download_url
from .mnist import RestrictedUnpickler

__all__ = ["CIFAR10", "CIFAR100", "extract_tar"]

_NOT_FOUND = "Dataset not found or corrupted. You can use download=True to download it"
_IMAGE_BYTES = 3 * 32 * 32


def _numpy_frombuffer():
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.numeric import _frombuffer
    return _frombuffer


class _CifarUnpickler(RestrictedUnpickler):
    # pickle protocol 5 rebuilds arrays with numpy's _frombuffer(buffer, dtype, shape, order): also safe
    _ALLOWED = {**RestrictedUnpickler._ALLOWED,
                ("numpy._core.numeric", "_frombuffer"): _numpy_frombuffer,
                ("numpy.core.numeric", "_frombuffer"): _numpy_frombuffer}


def _load_pickle(path: str) -> dict[str, Any]:
    """A CIFAR pickle as a dict with str keys (Python 2 pickles' str and Python 3's bytes keys alike)."""
    with open(path, "rb") as f:
        try:
            entry = _CifarUnpickler(f, encoding="latin1").load()
        except pickle.UnpicklingError as e:
            raise RuntimeError(f"CIFAR: refusing to load {path}: {e}") from None
        except (EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
            raise RuntimeError(f"CIFAR: {path} is not a valid CIFAR pickle: "
                               f"{type(e).__name__}: {e}") from None
    if not isinstance(entry, dict):
        raise RuntimeError(f"CIFAR: {path} holds a {type(entry).__name__}, expected a dict")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _names(values: Any) -> list[str]:
    return [v.decode("latin1") if isinstance(v, bytes) else str(v) for v in values]


def _unsafe_member(m: tarfile.TarInfo, dest: Path) -> str | None:
    """Why extracting ``m`` into ``dest`` is unsafe, or None."""
    name = m.name
    p = PurePosixPath(name)
    if name.startswith(("/", "\\")) or p.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in p.parts or ".." in name.replace("\\", "/").split("/"):
        return "path leaves the destination ('..')"
    if not (m.isfile() or m.isdir()):
        return "links and special files are not extracted"
    target = (dest / name).resolve()
    if target != dest and dest not in target.parents:
        return "path leaves the destination"
    return None


def extract_tar(from_path: str | os.PathLike, to_path: str | os.PathLike) -> Path:
    """Extract a (gzipped) tar archive into ``to_path``, refusing unsafe members.

    Every member is checked first: an absolute path, a ``..`` component, a symbolic or hard link
    or a device file raises ``RuntimeError`` naming it, and nothing is extracted. Members are
    extracted with regular permissions only (no set-uid bits, no ownership changes).
    """
    dest = Path(to_path).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        tf = tarfile.open(from_path, "r:*")
    except (tarfile.TarError, OSError) as e:
        raise RuntimeError(f"extract_tar: cannot open {from_path}: {e}") from None
    with tf:
        members = tf.getmembers()
        for m in members:
            why = _unsafe_member(m, dest)
            if why is not None:
                raise RuntimeError(f"extract_tar: refusing to extract {from_path}: member {m.name!r}: {why}")
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(dest, members=members, **kwargs)
    return dest


class CIFAR10(VisionDataset):
    """CIFAR-10: 50000 training and 10000 test 32x32 colour images in 10 classes.

    ``CIFAR10(root, train=True, transform=None, target_transform=None, download=False)``;
    ``img, target = ds[i]``: ``img`` a uint8 ``(32, 32, 3)`` ferrum tensor (HWC; torchvision gives a
    PIL image) passed through ``transform``, ``target`` an int passed through ``target_transform``.
    ``ds.data`` is the uint8 ``(N, 32, 32, 3)`` NumPy array, ``ds.targets`` a list of ints,
    ``ds.classes`` the class names from the meta file.

    ``root`` holds ``cifar-10-batches-py`` (the Python version) or ``cifar-10-batches-bin`` (the
    binary version); ``format`` (ferrum's addition) picks one: ``"python"``, ``"binary"`` or
    ``None`` (whichever is there, Python first; ``download`` fetches the Python version). The files
    of the Python version are checked against their MD5 as in torchvision; downloads against the
    archive's.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [
        ["test_batch", "40351d587109b95175f43aff81a1287e"],
    ]
    meta = {
        "filename": "batches.meta",
        "key": "label_names",
        "md5": "5ff9c542aee3614f3951f8cda6e48888",
    }

    # the binary version
    bin_base_folder = "cifar-10-batches-bin"
    bin_url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    bin_filename = "cifar-10-binary.tar.gz"
    bin_tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    bin_train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    bin_test_list = ["test_batch.bin"]
    bin_meta = "batches.meta.txt"
    bin_coarse_meta: str | None = None
    label_bytes = 1  # CIFAR-100's binary records start with a coarse and a fine label byte

    # seconds a download may stall
    timeout = DEFAULT_TIMEOUT

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False,
                 format: str | None = None) -> None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"{type(self).__name__}: root must be a str or os.PathLike, got "
                            f"{type(root).__name__}")
        if format not in (None, "python", "binary"):
            raise ValueError(f"{type(self).__name__}: format must be 'python', 'binary' or None, "
                             f"got {format!r}")
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform

        if download:
            self.download(format=format or "python")
        fmt = self._find_format(format)
        if fmt is None:
            raise RuntimeError(_NOT_FOUND)
        #: which version was read: "python" or "binary"
        self.format = fmt
        data, fine, coarse = self._load_python() if fmt == "python" else self._load_binary()
        self.data = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = [int(t) for t in fine]
        self._coarse = None if coarse is None else [int(t) for t in coarse]

    # --- torchvision's attributes ---------------------------------------------------------------

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        n = len(self.data)
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers, not "
                            f"{type(index).__name__}") from None
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__} index {index} is out of range for a data set of "
                             f"{n} samples")
        return self._item(self.data[i], self.targets[i])

    def __getitems__(self, indices: list) -> list | CollatedBatch:
        """The samples at ``indices`` fetched at once (see ``MNIST.__getitems__``)."""
        return self._items(self.data, self.targets, indices)

    # --- finding and reading the files ----------------------------------------------------------

    def _python_files(self) -> list[list[str]]:
        return self.train_list if self.train else self.test_list

    def _check_integrity(self) -> bool:
        """True when the Python version's split and meta files are there with the right MD5."""
        folder = os.path.join(self.root, self.base_folder)
        for fname, md5 in [*self._python_files(), [self.meta["filename"], self.meta["md5"]]]:
            if not check_integrity(os.path.join(folder, fname), md5):
                return False
        return True

    def _binary_files(self) -> list[str]:
        names = list(self.bin_train_list if self.train else self.bin_test_list) + [self.bin_meta]
        if self.bin_coarse_meta:
            names.append(self.bin_coarse_meta)
        return names

    def _check_binary(self) -> bool:
        folder = os.path.join(self.root, self.bin_base_folder)
        return all(os.path.isfile(os.path.join(folder, n)) for n in self._binary_files())

    def _find_format(self, format: str | None) -> str | None:
        if format in (None, "python") and self._check_integrity():
            return "python"
        if format in (None, "binary") and self._check_binary():
            return "binary"
        return None

    def _load_python(self) -> tuple[np.ndarray, list, list | None]:
        folder = os.path.join(self.root, self.base_folder)
        data, fine, coarse = [], [], []
        for fname, _ in self._python_files():
            path = os.path.join(folder, fname)
            entry = _load_pickle(path)
            try:
                x = np.asarray(entry["data"], dtype=np.uint8)
                labels = entry["labels"] if "labels" in entry else entry["fine_labels"]
            except KeyError as e:
                raise RuntimeError(f"{type(self).__name__}: {path} has no {e} entry") from None
            if x.ndim != 2 or x.shape[1] != _IMAGE_BYTES or len(labels) != len(x):
                raise RuntimeError(f"{type(self).__name__}: {path} holds data {x.shape} and {len(labels)} "
                                   f"labels; expected (N, {_IMAGE_BYTES}) and N")
            data.append(x)
            fine.extend(labels)
            if coarse is not None and "coarse_labels" in entry:
                coarse.extend(entry["coarse_labels"])
            else:
                coarse = None
        meta_path = os.path.join(folder, self.meta["filename"])
        meta = _load_pickle(meta_path)
        if self.meta["key"] not in meta:
            raise RuntimeError(f"{type(self).__name__}: {meta_path} has no {self.meta['key']!r} entry")
        self.classes = _names(meta[self.meta["key"]])
        if "coarse_label_names" in meta:
            self.coarse_classes = _names(meta["coarse_label_names"])
        return np.concatenate(data), fine, coarse

    def _load_binary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        folder = os.path.join(self.root, self.bin_base_folder)
        rec = self.label_bytes + _IMAGE_BYTES
        chunks = []
        for fname in (self.bin_train_list if self.train else self.bin_test_list):
            path = os.path.join(folder, fname)
            raw = np.fromfile(path, dtype=np.uint8)
            if raw.size == 0 or raw.size % rec:
                raise RuntimeError(f"{type(self).__name__}: {path} has {raw.size} bytes, not a whole number "
                                   f"of {rec}-byte records ({self.label_bytes} label byte(s) + "
                                   f"{_IMAGE_BYTES} pixels)")
            chunks.append(raw.reshape(-1, rec))
        records = np.concatenate(chunks)
        fine = records[:, self.label_bytes - 1].astype(np.int64)
        coarse = records[:, 0].astype(np.int64) if self.label_bytes == 2 else None
        self.classes = self._read_names(os.path.join(folder, self.bin_meta))
        if self.bin_coarse_meta:
            self.coarse_classes = self._read_names(os.path.join(folder, self.bin_coarse_meta))
        return records[:, self.label_bytes:], fine, coarse

    @staticmethod
    def _read_names(path: str) -> list[str]:
        with open(path, encoding="latin1") as f:
            return [ln.strip() for ln in f if ln.strip()]

    # --- download -------------------------------------------------------------------------------

    def download(self, format: str = "python") -> None:
        """Download the archive of the Python (or binary) version, verify its MD5, extract it."""
        if format == "python":
            if self._check_integrity():
                return
            url, filename, md5 = self.url, self.filename, self.tgz_md5
        elif format == "binary":
            if self._check_binary():
                return
            url, filename, md5 = self.bin_url, self.bin_filename, self.bin_tgz_md5
        else:
            raise ValueError(f"{type(self).__name__}.download: format must be 'python' or 'binary', "
                             f"got {format!r}")
        os.makedirs(self.root, exist_ok=True)
        try:
            archive = download_url(url, self.root, filename=filename, md5=md5, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"Error downloading {url}: HTTP {e.code} {e.reason}") from None
        except urllib.error.URLError as e:
            raise RuntimeError(f"Error downloading {url}: {e.reason}") from None
        except OSError as e:
            raise RuntimeError(f"Error downloading {url}: {type(e).__name__}: {e}") from None
        folder = self.base_folder if format == "python" else self.bin_base_folder
        # extract next to the final folder, then move it into place: a failed extraction leaves nothing
        staging = os.path.join(self.root, f".{folder}.{os.getpid()}.extract")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            extract_tar(archive, staging)
            src = os.path.join(staging, folder)
            if not os.path.isdir(src):
                raise RuntimeError(f"{type(self).__name__}: {archive} has no folder {folder!r}")
            dest = os.path.join(self.root, folder)
            if os.path.isdir(dest):
                shutil.rmtree(dest)
            os.replace(src, dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


class CIFAR100(CIFAR10):
    """CIFAR-100: 50000 training and 10000 test 32x32 colour images in 100 classes (20 superclasses).

    Same interface as :class:`CIFAR10`; ``targets`` are the fine labels (as in torchvision), and
    ferrum also keeps ``coarse_targets`` and ``coarse_classes`` (the 20 superclasses).
    """

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [
        ["train", "16019d7e3df5f24257cddd939b257f8d"],
    ]
    test_list = [
        ["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"],
    ]
    meta = {
        "filename": "meta",
        "key": "fine_label_names",
        "md5": "7973b15100ade9c7d40fb424638fde48",
    }

    bin_base_folder = "cifar-100-binary"
    bin_url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    bin_filename = "cifar-100-binary.tar.gz"
    bin_tgz_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    bin_train_list = ["train.bin"]
    bin_test_list = ["test.bin"]
    bin_meta = "fine_label_names.txt"
    bin_coarse_meta = "coarse_label_names.txt"
    label_bytes = 2

    @property
    def coarse_targets(self) -> list[int] | None:
        """The superclass (coarse) label of each image."""
        return self._coarse
