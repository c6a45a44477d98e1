"""Samplers: coverage, determinism, statistics and errors (against torch where the output is not
random), BatchSampler batches and DistributedSampler shards equal to torch's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import ferrum as F
from ferrum.utils.data import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ferrum._rng_streams import fisher_yates as _fisher_yates
from ferrum.utils.data.distributed import torch_randperm


def _gen(seed):
    return F.Generator().manual_seed(seed)


# --------------------------------------------------------------------------- Sampler / Sequential
def test_sampler_base_and_sequential(torch):
    with pytest.raises(NotImplementedError):
        iter(Sampler())
    with pytest.raises(TypeError):  # no data_source argument in 2.x, as torch
        Sampler([1, 2])
    s = SequentialSampler(range(7))
    assert list(s) == list(torch.utils.data.SequentialSampler(range(7))) == list(range(7))
    assert len(s) == 7 and list(SequentialSampler([])) == []


# --------------------------------------------------------------------------- RandomSampler
@pytest.mark.parametrize("n", [1, 5, 100])
def test_random_sampler_is_a_permutation(n):
    s = RandomSampler(range(n), generator=_gen(0))
    out = list(s)
    assert len(s) == n and sorted(out) == list(range(n))


@pytest.mark.parametrize("n, num_samples", [(5, 3), (5, 12), (7, 7), (4, 100)])
def test_random_sampler_num_samples_without_replacement(n, num_samples):
    out = list(RandomSampler(range(n), num_samples=num_samples, generator=_gen(1)))
    assert len(out) == num_samples
    # whole permutations first, then a partial one: every block of n is a permutation
    for k in range(num_samples // n):
        assert sorted(out[k * n:(k + 1) * n]) == list(range(n))
    assert len(set(out[(num_samples // n) * n:])) == num_samples % n


def test_random_sampler_generator_determinism():
    a = list(RandomSampler(range(50), generator=_gen(5)))
    b = list(RandomSampler(range(50), generator=_gen(5)))
    c = list(RandomSampler(range(50), generator=_gen(6)))
    assert a == b and a != c
    s = RandomSampler(range(50), generator=_gen(5))
    assert list(s) != list(s)  # the generator advances between epochs
    F.manual_seed(3)
    d = list(RandomSampler(range(50)))
    F.manual_seed(3)
    assert list(RandomSampler(range(50))) == d  # no generator: seeded from the default one


def test_random_sampler_replacement_statistics():
    n, m = 10, 200_000
    out = np.array(list(RandomSampler(range(n), replacement=True, num_samples=m, generator=_gen(2))))
    assert out.min() >= 0 and out.max() < n and len(out) == m
    freq = np.bincount(out, minlength=n) / m
    np.testing.assert_allclose(freq, 1 / n, atol=0.005)


def test_random_sampler_lazy_huge_num_samples():
    s = RandomSampler(range(10), replacement=True, num_samples=10**10, generator=_gen(0))
    assert len(s) == 10**10
    first = list(itertools.islice(iter(s), 100))
    assert len(first) == 100 and all(0 <= i < 10 for i in first)
    # without replacement it is lazy too: one permutation at a time
    s = RandomSampler(range(10), num_samples=10**10, generator=_gen(0))
    assert sorted(itertools.islice(iter(s), 10)) == list(range(10))


def test_random_sampler_errors(torch):
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(TypeError):
        torch.utils.data.RandomSampler(range(3), replacement=1)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match=f"num_samples should be a positive integer value, but got "
                                             f"num_samples={bad}"):
            RandomSampler(range(3), num_samples=bad)
    with pytest.raises(ValueError):
        RandomSampler([])  # num_samples defaults to len == 0
    with pytest.raises(ZeroDivisionError):
        list(RandomSampler([], num_samples=3))
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        list(RandomSampler([], replacement=True, num_samples=3))
    with pytest.raises(RuntimeError):
        list(torch.utils.data.RandomSampler([], replacement=True, num_samples=3))


# --------------------------------------------------------------------------- SubsetRandomSampler
def test_subset_random_sampler():
    idx = [10, 3, 77, 42, 5]
    s = SubsetRandomSampler(idx, generator=_gen(0))
    out = list(s)
    assert len(s) == 5 and sorted(out) == sorted(idx)
    assert list(SubsetRandomSampler(idx, generator=_gen(0))) == out
    assert list(SubsetRandomSampler([])) == []
    tidx = F.tensor([4, 5, 6])  # tensors index to 0-d tensors, as torch yields them
    assert sorted(int(i) for i in SubsetRandomSampler(tidx)) == [4, 5, 6]


# --------------------------------------------------------------------------- WeightedRandomSampler
def test_weighted_sampler_frequencies():
    w = [0.1, 0.9, 0.4, 0.7, 3.0, 0.0]
    m = 100_000
    s = WeightedRandomSampler(w, m, generator=_gen(1))
    out = np.array(list(s))
    assert len(s) == m == len(out)
    freq = np.bincount(out, minlength=len(w)) / m
    np.testing.assert_allclose(freq, np.array(w) / sum(w), atol=0.01)
    assert freq[5] == 0


def test_weighted_sampler_without_replacement():
    w = F.tensor([0.9, 0.4, 0.05, 0.2, 0.3, 0.1])
    out = list(WeightedRandomSampler(w, 6, replacement=False, generator=_gen(0)))
    assert sorted(out) == list(range(6))
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler([1.0, 2.0], 3, replacement=False))
    a = list(WeightedRandomSampler(w, 50, generator=_gen(9)))
    assert a == list(WeightedRandomSampler(w, 50, generator=_gen(9)))


def test_weighted_sampler_errors(torch):
    for bad in (0, -3, 1.5, True):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            WeightedRandomSampler([1.0], bad)
        with pytest.raises(ValueError):
            torch.utils.data.WeightedRandomSampler([1.0], bad)
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=1"):
        WeightedRandomSampler([1.0], 2, replacement=1)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape "
                                         r"\(2, 2\)"):
        WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 2)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        torch.utils.data.WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 2)
    assert WeightedRandomSampler([1, 2], 3).weights.dtype == F.float64


# --------------------------------------------------------------------------- BatchSampler
def _gen_iterable(items):
    class It:  # a plain iterable with __len__, none of the sliceable fast paths
        def __iter__(self):
            return iter(items)

        def __len__(self):
            return len(items)

    return It()


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11, 64])
@pytest.mark.parametrize("batch_size", [1, 3, 10, 100])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("kind", ["list", "range", "sequential", "iterable"])
def test_batch_sampler_matches_torch(torch, n, batch_size, drop_last, kind):
    idx = list(range(100, 100 + n))[::-1]
    source = {"list": lambda: idx, "range": lambda: range(n),
              "sequential": lambda: SequentialSampler(range(n)), "iterable": lambda: _gen_iterable(idx)}[kind]
    tsource = {"list": idx, "range": range(n), "sequential": torch.utils.data.SequentialSampler(range(n)),
               "iterable": _gen_iterable(idx)}[kind]
    fb = BatchSampler(source(), batch_size, drop_last)
    tb = torch.utils.data.BatchSampler(tsource, batch_size, drop_last)
    got, want = list(fb), list(tb)
    assert got == want
    assert all(type(b) is list for b in got)
    assert len(fb) == len(tb) == len(want)
    assert list(fb) == want  # re-iterable


def test_batch_sampler_over_random_sampler():
    s = RandomSampler(range(23), generator=_gen(0))
    batches = list(BatchSampler(s, 5, False))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(i for b in batches for i in b) == list(range(23))


def test_batch_sampler_errors(torch):
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but got "
                                             f"batch_size={bad}"):
            BatchSampler(range(3), bad, False)
        with pytest.raises(ValueError):
            torch.utils.data.BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=0"):
        BatchSampler(range(3), 2, 0)


# --------------------------------------------------------------------------- DistributedSampler
@pytest.mark.parametrize("n", [0, 1, 2, 5, 100, 1000, 2049])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 + 7, -3])
def test_torch_randperm_equal(torch, n, seed):
    g = torch.Generator().manual_seed(seed)
    assert torch_randperm(n, seed).tolist() == torch.randperm(n, generator=g).tolist()


def _swap_loop(n, partner):
    perm = list(range(n))
    for i, j in enumerate(partner.tolist()):
        perm[i], perm[j] = perm[j], perm[i]
    return perm


@pytest.mark.parametrize("n", [2, 3, 4, 7, 50, 513])
@pytest.mark.parametrize("pattern", ["random", "identity", "last", "next"])
def test_fisher_yates_vectorised_equals_swap_loop(n, pattern):
    steps = np.arange(n - 1)
    partner = {"random": steps + np.random.default_rng(n).integers(0, n - steps),
               "identity": steps,  # no swaps
               "last": np.full(n - 1, n - 1),  # every step aims at the same position
               "next": steps + 1}[pattern]  # a chain through every position (a rotation)
    assert _fisher_yates(n, partner.astype(np.int64)).tolist() == _swap_loop(n, partner)


def test_torch_randperm_equal_60000(torch):
    for seed in (0, 12345):
        g = torch.Generator().manual_seed(seed)
        assert torch_randperm(60000, seed).tolist() == torch.randperm(60000, generator=g).tolist()


def _shards(sampler_cls, n, replicas, shuffle, seed, epoch, drop_last):
    out = []
    for rank in range(replicas):
        s = sampler_cls(range(n), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                        drop_last=drop_last)
        s.set_epoch(epoch)
        out.append((list(s), len(s), s.num_samples, s.total_size))
    return out


# n = 60000 with one replica count only: each shard costs two permutations of 60,000
_SIZES_REPLICAS = [(n, r) for n in (0, 1, 3, 10, 17, 1000, 4097) for r in (1, 2, 3, 8)] + [(60000, 3)]


@pytest.mark.parametrize("n, replicas", _SIZES_REPLICAS)
@pytest.mark.parametrize("shuffle, drop_last", [(True, False), (True, True), (False, False), (False, True)])
def test_distributed_sampler_equals_torch(torch, n, replicas, shuffle, drop_last):
    for seed, epoch in ((0, 0), (7, 3)):
        want = _shards(torch.utils.data.DistributedSampler, n, replicas, shuffle, seed, epoch, drop_last)
        got = _shards(DistributedSampler, n, replicas, shuffle, seed, epoch, drop_last)
        assert got == want


def test_distributed_sampler_epochs_differ_and_cover(torch):
    s = DistributedSampler(range(101), num_replicas=4, rank=1, seed=5)
    e0 = list(s)
    s.set_epoch(1)
    assert list(s) != e0
    shards = [list(DistributedSampler(range(101), num_replicas=4, rank=r)) for r in range(4)]
    flat = [i for sh in shards for i in sh]
    assert len(flat) == 104 and set(flat) == set(range(101))  # padded by 3 repeats


def test_distributed_sampler_needs_replicas_without_process_group():
    try:
        import ferrum.distributed  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            DistributedSampler(range(10))
        with pytest.raises(RuntimeError, match="Requires distributed package to be available"):
            DistributedSampler(range(10), num_replicas=2)
    else:
        pytest.skip("ferrum.distributed exists: its process-group behaviour is tested there")


def test_distributed_sampler_errors(torch):
    for rank in (-1, 4):
        with pytest.raises(ValueError, match=r"Invalid rank .*, rank should be in the interval \[0, 3\]"):
            DistributedSampler(range(10), num_replicas=4, rank=rank)
        with pytest.raises(ValueError, match=r"rank should be in the interval \[0, 3\]"):
            torch.utils.data.DistributedSampler(range(10), num_replicas=4, rank=rank)
