"""Data sets (``torchvision.datasets``' interface): :class:`MNIST`, and the download/IDX utilities."""

from ._download import (ChecksumError, calculate_md5, check_integrity, download_from_mirrors, download_url,
                        extract_gzip)
from ._idx import read_idx, write_idx
from .mnist import MNIST

__all__ = ["MNIST", "ChecksumError", "calculate_md5", "check_integrity", "download_url",
           "download_from_mirrors", "extract_gzip", "read_idx", "write_idx"]
