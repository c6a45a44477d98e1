"""DistributedSampler, with PyTorch's exact index partition.

Processes that mix ferrum and PyTorch (or checkpoints resumed across them) must see the same
shard of the data for the same ``seed`` and ``epoch``. PyTorch shuffles with
``randperm(n, generator=Generator().manual_seed(seed + epoch))`` on its CPU generator, a 32-bit
Mersenne Twister; ferrum's generators are PCG64. So this module reproduces that particular
permutation itself:

- the engine is the standard MT19937 seeded with the low 32 bits of the seed (Knuth's
  linear-congruential state initialisation); its state is loaded into NumPy's ``MT19937`` bit
  generator, whose ``random_raw`` yields the same 32-bit outputs at C speed;
- for ``n`` below ``2**32 // 20`` the permutation is the forward Fisher-Yates shuffle that draws
  one 32-bit output per position: position ``i`` swaps with ``i + r_i % (n - i)``. The swaps are
  evaluated with array operations rather than one by one (see ``_fisher_yates``).

Larger datasets (PyTorch switches to 64-bit draws there) get a permutation shared by all replicas
that is not PyTorch's, with a warning.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np

from .dataset import Dataset
from .sampler import Sampler

__all__ = ["DistributedSampler"]

_MT_N = 624
_MASK32 = 0xFFFF_FFFF
# PyTorch's CPU randperm uses the 32-bit-draw shuffle below this size (and a 64-bit variant above)
_SMALL_RANDPERM = _MASK32 // 20


def _mt19937(seed: int) -> np.random.MT19937:
    """A NumPy MT19937 bit generator in the state ``std::mt19937(seed & 0xffffffff)`` starts in."""
    s = seed & _MASK32
    key = [s]
    for j in range(1, _MT_N):  # a sequential recurrence: 623 steps on Python ints, microseconds
        s = (1812433253 * (s ^ (s >> 30)) + j) & _MASK32
        key.append(s)
    bg = np.random.MT19937()
    # pos == 624: the first draw regenerates the whole block, as a freshly seeded engine does
    bg.state = {"bit_generator": "MT19937", "state": {"key": np.array(key, dtype=np.uint32), "pos": _MT_N}}
    return bg


def _fisher_yates(n: int, partner: np.ndarray) -> np.ndarray:
    """The result of swapping position ``i`` with ``partner[i] >= i`` for ``i = 0 .. n-2`` in turn,
    starting from ``arange(n)``, computed without a sequential loop.

    Step ``i`` only writes positions ``i`` (final from then on) and ``partner[i] > i``. So the
    element that step ``i`` fixes at position ``i`` is whatever position ``partner[i]`` holds at
    that time: the element that the latest earlier step aimed at the same position moved there,
    or the position's original element if no earlier step aimed at it. And the element a step
    ``i`` moves away is what position ``i`` held just before it, which in turn is given by the
    latest earlier step aimed at ``i``: a chain of strictly decreasing steps, resolved for all
    positions at once by pointer jumping.
    """
    m = n - 1
    steps = np.arange(m, dtype=np.int64)
    # group steps by target position, in step order within a group: sort the unique keys
    # target * n + step (a plain sort of int64 is several times faster than a stable argsort)
    key = np.sort(partner * n + steps)
    target, order = np.divmod(key, n)
    same = target[1:] == target[:-1]
    # prev_same[i]: the latest step before i that targeted the same position as i, else -1
    prev_same = np.full(m, -1, dtype=np.int64)
    prev_same[order[1:][same]] = order[:-1][same]
    # into[p]: the latest step before p that targeted position p, else -1. The last step of
    # p's group is <= p; when it is p itself, the one before it in the group is wanted.
    group_end = np.append(~same, True)
    into = np.full(n, -1, dtype=np.int64)
    into[target[group_end]] = order[group_end]
    head = into[:m]
    self_aimed = head == steps
    head[self_aimed] = prev_same[self_aimed]
    # held[p]: the element position p holds when step p reaches it (the original p when no
    # earlier step moved anything into it), by pointer jumping along `into`
    held = np.where(into >= 0, into, np.arange(n, dtype=np.int64))
    while True:
        nxt = held[held]
        if np.array_equal(nxt, held):
            break
        held = nxt
    perm = np.empty(n, dtype=np.int64)
    untouched = np.where(partner == steps, held[:m], partner)
    perm[:m] = np.where(prev_same >= 0, held[np.maximum(prev_same, 0)], untouched)
    perm[m] = held[m]
    return perm


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` on CPU, as int64.

    Raises NotImplementedError for ``n >= 2**32 // 20`` (PyTorch's 64-bit-draw variant).
    """
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    if n >= _SMALL_RANDPERM:
        raise NotImplementedError(f"reproducing PyTorch's permutation of {n} >= {_SMALL_RANDPERM} "
                                  f"indices is not supported")
    draws = _mt19937(seed).random_raw(n - 1).astype(np.int64)
    steps = np.arange(n - 1, dtype=np.int64)
    # step i swaps position i with i + r_i % (n - i)
    return _fisher_yates(n, draws % (n - steps) + steps)


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
        if n < _SMALL_RANDPERM:
            return torch_randperm(n, seed)
        # Beyond PyTorch's small-n algorithm: still one permutation shared by every replica (the
        # shards stay a partition), but not PyTorch's.
        warnings.warn(f"DistributedSampler: the shuffled order of {n} indices differs from "
                      f"PyTorch's (only datasets below {_SMALL_RANDPERM} items reproduce it)",
                      stacklevel=3)
        return np.random.Generator(np.random.PCG64(seed & 0xFFFF_FFFF_FFFF_FFFF)).permutation(n)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch: with ``shuffle=True`` each epoch gets its own ordering."""
        self.epoch = epoch
