"""Data sets (``torchvision.datasets``' interface): :class:`MNIST`, :class:`FashionMNIST`, :class:`KMNIST`,
:class:`CIFAR10`, :class:`CIFAR100`, :class:`FakeData`,
:class:`Shakespeare`, :class:`TextFile` (character-level text), and the download/IDX/archive utilities."""

from ._download import (ChecksumError, calculate_md5, check_integrity, download_from_mirrors, download_url,
                        extract_gzip)
from ._idx import read_idx, write_idx
from .cifar import CIFAR10, CIFAR100, extract_tar
from .fakedata import FakeData
from .fashion_mnist import KMNIST, FashionMNIST
from .mnist import MNIST
from .text import CharVocab, Shakespeare, TextFile
from .vision import VisionDataset

__all__ = ["VisionDataset", "FakeData", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100",
           "Shakespeare", "TextFile", "CharVocab",
           "extract_tar",
           "ChecksumError",
           "calculate_md5", "check_integrity", "download_url", "download_from_mirrors", "extract_gzip",
           "read_idx", "write_idx"]
