"""DistributedSampler, with PyTorch's exact index partition.

Processes that mix ferrum and PyTorch (or checkpoints resumed across them) must see the same
shard of the data for the same ``seed`` and ``epoch``. PyTorch shuffles with
``randperm(n, generator=Generator().manual_seed(seed + epoch))`` on its CPU generator; ferrum's
generators draw PyTorch's streams (``ferrum/_rng_streams.py``), so this is ferrum's own randperm.

Datasets of ``2**32 // 20`` samples or more (PyTorch switches to 64-bit draws there) get a
permutation shared by all replicas that is not PyTorch's, with a warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np

from ... import _rng_streams
from .dataset import Dataset
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` on CPU, as int64.

    Raises NotImplementedError for ``n >= 2**32 // 20`` (PyTorch's 64-bit-draw variant).
    """
    if n >= _rng_streams.SMALL_RANDPERM:
        raise NotImplementedError(f"reproducing PyTorch's permutation of {n} >= "
                                  f"{_rng_streams.SMALL_RANDPERM} indices is not supported")
    return _rng_streams.randperm(_rng_streams.Stream(seed), n)


def _dist():
    try:
        from ... import distributed as dist
    except ImportError:
        return None
    if not getattr(dist, "is_available", lambda: False)():
        return None
    return dist


class DistributedSampler(Sampler[int]):
    """Restricts sampling to this process's shard of ``dataset`` (``rank`` of ``num_replicas``).

    Every replica gets ``num_samples`` indices: with ``drop_last=False`` the (shuffled) index list
    is padded by repeating it from its start to a multiple of ``num_replicas``; with
    ``drop_last=True`` its tail is cut instead. Replica ``rank`` takes every ``num_replicas``-th
    index from position ``rank``. With ``shuffle=True`` the order is PyTorch's
    ``randperm(len(dataset))`` for a CPU generator seeded with ``seed + epoch``, so ferrum and
    PyTorch processes shard identically. Call ``set_epoch(epoch)`` before each epoch.
    """

    def __init__(self, dataset: Dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            dist = _dist()
            if dist is None:
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            dist = _dist()
            if dist is None:
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            # cut to the largest multiple of num_replicas so every replica gets equal data
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = self._permutation(n, self.seed + self.epoch)
        else:
            indices = np.arange(n, dtype=np.int64)
        total = self.total_size
        if n and total > n:
            # padding repeats the list from its start, cyclically (np.resize does exactly that)
            indices = np.resize(indices, total)
        else:
            indices = indices[:total]
        if len(indices) != total:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({total})")
        mine = indices[self.rank:total:self.num_replicas]
        if len(mine) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(mine)}) does not match "
                                 f"num_samples ({self.num_samples})")
        return iter(mine.tolist())

    @staticmethod
    def _permutation(n: int, seed: int) -> np.ndarray:
        if n < _rng_streams.SMALL_RANDPERM:
            return torch_randperm(n, seed)
        # Beyond PyTorch's small-n algorithm: still one permutation shared by every replica (the
        # shards stay a partition), but not PyTorch's.
        warnings.warn(f"DistributedSampler: the shuffled order of {n} indices differs from "
                      f"PyTorch's (only datasets below {_rng_streams.SMALL_RANDPERM} items reproduce it)",
                      stacklevel=3)
        return np.random.Generator(np.random.PCG64(seed & 0xFFFF_FFFF_FFFF_FFFF)).permutation(n)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch: with ``shuffle=True`` each epoch gets its own ordering."""
        self.epoch = epoch
