"""Datasets: the map-style and iterable base classes, their combinators, and ``random_split``.

Semantics follow ``torch.utils.data.dataset``: a map-style ``Dataset`` implements ``__getitem__``
(and usually ``__len__``); an ``IterableDataset`` implements ``__iter__``. ``+`` concatenates
(``ConcatDataset``) or chains (``ChainDataset``) them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

import numpy as np

from ... import _state
from ..._tensor import Tensor, _wrap
from ._collate import CollatedBatch

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


def batch_indices(indices: Sequence[int], n: int, name: str) -> np.ndarray:
    """``indices`` (ints in ``[-n, n)``) as an integer array, with the errors ``dataset[i]`` raises:
    TypeError for a non-integer, IndexError for one out of range. For batched ``__getitems__``."""
    idx = np.asarray(indices)
    if idx.size == 0:
        return idx.astype(np.intp).reshape(-1)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        bad = next((i for i in np.ravel(idx) if not isinstance(i, (int, np.integer))
                    or isinstance(i, (bool, np.bool_))), idx)
        raise TypeError(f"{name} indices must be integers, not {type(bad).__name__}")
    lo, hi = int(idx.min()), int(idx.max())
    if lo < -n or hi >= n:
        raise IndexError(f"{name} index {lo if lo < -n else hi} is out of range for a data set of {n} "
                         f"samples")
    return idx


class Dataset(Generic[T_co]):
    """An abstract map-style dataset: subclasses implement ``__getitem__(index)`` and usually
    ``__len__()``. ``a + b`` is ``ConcatDataset([a, b])``.

    There is deliberately no default ``__len__`` (``len()`` of a dataset without one raises
    TypeError) and no default ``__getitems__`` (a DataLoader then falls back to per-index fetches).
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset[T_co]") -> "ConcatDataset[T_co]":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """An abstract dataset that is a stream of samples: subclasses implement ``__iter__``.

    ``a + b`` is ``ChainDataset([a, b])``. ``len()`` raises TypeError unless a subclass defines
    ``__len__``. With several DataLoader workers each worker iterates its own copy; use
    ``get_worker_info()`` inside ``__iter__`` to shard the stream.
    """

    def __add__(self, other: "Dataset[T_co]") -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple]):
    """Wraps tensors that share their first dimension; sample ``i`` is ``tuple(t[i] for t)``.

    Args:
        *tensors: tensors of shapes ``(N, ...)`` with the same ``N``.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list) -> list | CollatedBatch:
        """The samples at ``indices``, gathered with one fancy index per tensor (a
        :class:`CollatedBatch` equal to ``default_collate([self[i] for i in indices])``)."""
        tensors = self.tensors
        if not indices or (_state.grad_enabled and any(t.requires_grad for t in tensors)):
            return [self[i] for i in indices]  # a stack that records the graph, as per sample
        idx = batch_indices(indices, len(self), "TensorDataset")
        cols = []
        for t in tensors:
            a = t._data
            if a.__class__ is not np.ndarray:  # a device array takes a device index
                from ...ops._common import xp_of
                cols.append(_wrap(a[xp_of(a).asarray(idx)]))
            else:
                cols.append(_wrap(a[idx]))
        return CollatedBatch(cols, len(idx), lambda: [self[i] for i in indices])

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Stacks datasets of equal length: ``StackDataset(a, b)[i] == (a[i], b[i])`` and
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args:
            if kwargs:
                raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                                 "``kwargs``) like input/output, but both types are given.")
            self._length = len(args[0])
            if any(self._length != len(d) for d in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            parts = list(kwargs.values())
            self._length = len(parts[0])
            if any(self._length != len(d) for d in parts):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    @staticmethod
    def _column(dataset, indices: list) -> list:
        fetch = getattr(dataset, "__getitems__", None)
        if callable(fetch):
            items = fetch(indices)
            if len(items) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, "
                                 f"got {len(items)}")
            return list(items)
        return [dataset[i] for i in indices]

    def __getitems__(self, indices: list) -> list:
        if isinstance(self.datasets, dict):
            keys = list(self.datasets)
            cols = [self._column(d, indices) for d in self.datasets.values()]
            return [dict(zip(keys, row)) for row in zip(*cols)] if cols else []
        cols = [self._column(d, indices) for d in self.datasets]
        return list(zip(*cols))

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[T_co]):
    """The concatenation of map-style datasets; ``cumulative_sizes[i]`` is the total length of
    ``datasets[:i + 1]``."""

    datasets: list
    cumulative_sizes: list

    @staticmethod
    def cumsum(sequence) -> list:
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        # past the end, k == len(datasets) and the list lookup raises IndexError, as in torch
        return self.datasets[k][idx - self.cumulative_sizes[k - 1] if k else idx]

    @property
    def cummulative_sizes(self) -> list:
        warnings.warn("cummulative_sizes attribute is renamed to cumulative_sizes",
                      DeprecationWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset):
    """Chains iterable datasets: iterating it iterates each of ``datasets`` in turn (lazily)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset[T_co]):
    """The view of ``dataset`` at ``indices``: ``Subset(ds, idx)[i] == ds[idx[i]]``.

    A subclass that overrides ``__getitem__`` must also override ``__getitems__`` (as in torch), so
    batched fetching by a DataLoader cannot bypass the custom logic.
    """

    dataset: Dataset
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to ensure "
                "DataLoader works correctly with your custom logic. A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        ind = self.indices
        mapped = [ind[i] for i in indices]
        fetch = getattr(self.dataset, "__getitems__", None)
        if callable(fetch):
            return fetch(mapped)
        ds = self.dataset
        return [ds[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset[T], lengths: Sequence[int | float],
                 generator=None) -> list[Subset[T]]:
    """Splits ``dataset`` randomly into non-overlapping ``Subset``s of the given ``lengths``.

    ``lengths`` are either integers summing to ``len(dataset)`` or fractions summing to 1: each
    split gets ``floor(frac * len(dataset))`` items and the remainder is handed out one by one,
    round-robin from the first split. ``generator`` (a ``ferrum.Generator``) drives the
    permutation; the default generator is used when it is None.
    """
    from ...random import default_generator, randperm

    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              f"dataset.", stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = randperm(sum(lengths), generator=generator or default_generator).tolist()
    return [Subset(dataset, perm[end - length:end])
            for end, length in zip(itertools.accumulate(lengths), lengths)]
