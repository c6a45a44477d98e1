"""Samplers: iterables of dataset indices (or of index batches) driving a DataLoader.

Semantics follow ``torch.utils.data.sampler``, draws included: random samplers draw from a
``ferrum.Generator`` (PyTorch's CPU stream) with PyTorch's calls in PyTorch's order (a fresh
generator seeded by one int64 ``random_()`` of the default one, ``randperm``, ``randint``,
``multinomial``), so a seeded program visits its data in PyTorch's order.

``RandomSampler`` also has ``state_dict()``/``load_state_dict()`` (not in PyTorch; for training
checkpoints, see ``ferrum.train.checkpoint``): it remembers how its latest iteration was seeded (its
generator's state before the first draw, or the seed it drew from the default generator), so a
loaded sampler repeats an interrupted iteration exactly and the DataLoader can skip the batches
already consumed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar


from ... import random as _random

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)

# Indices drawn per NumPy call by RandomSampler(replacement=True): large enough that the per-call
# overhead vanishes, small enough that a huge num_samples starts yielding at once.
_CHUNK = 1 << 15


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses implement ``__iter__`` (indices, or lists of indices for
    batch samplers) and may implement ``__len__``."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Yields ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Yields random indices into ``data_source``.

    Without replacement: whole permutations of ``range(len(data_source))`` until ``num_samples``
    indices were given. With replacement: ``num_samples`` independent uniform draws, generated
    lazily in chunks (so ``num_samples`` may be huge). Without a ``generator``, each iteration
    seeds a fresh one from the default generator (reproducible under ``ferrum.manual_seed``).
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")
        # how the latest iteration was seeded ({"state": generator state} or {"seed": int}), whether
        # it is still running, and a loaded seeding the next iteration repeats
        self._iter_start: dict | None = None
        self._iter_active = False
        self._replay: dict | None = None
        # iterations that have drawn their order (iter() is lazy: nothing is drawn before next())
        self._n_started = 0

    @property
    def num_samples(self) -> int:
        # the dataset may change size between iterations
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _generator(self) -> _random.Generator:
        replay, self._replay = self._replay, None
        self._n_started += 1
        if self.generator is not None:
            if replay is not None:
                self.generator.set_state(replay["state"])
            self._iter_start = {"state": self.generator.get_state()}
            return self.generator
        if replay is not None:
            seed = int(replay["seed"])  # drawn from the default generator before the checkpoint
        else:
            seed = _random.int64_seed(None)
        self._iter_start = {"seed": seed}
        return _random.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[int]:
        return self._draw(None)

    def _draw(self, g: _random.Generator | None) -> Iterator[int]:
        # g=None: an iteration of this sampler (seeded by _generator() at the first next(), as
        # PyTorch's draws lazily); else a replay on a scratch generator (_state)
        own = g is None
        if own:
            self._iter_active = True
            g = self._generator()
        n = len(self.data_source)
        total = self.num_samples
        if self.replacement:
            if n <= 0:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from=0 >= to={n}")
            while total > 0:  # one randint per element: chunking does not change the values
                k = min(total, _CHUNK)
                yield from _random.randint(0, n, (k,), generator=g).tolist()
                total -= k
        else:
            for _ in range(total // n):
                yield from _random.randperm(n, generator=g).tolist()
            yield from _random.randperm(n, generator=g).tolist()[:total % n]
        if own:
            self._iter_active = False

    def __len__(self) -> int:
        return self.num_samples

    def _state(self, in_progress: bool, finish: bool = False) -> dict:
        # finish: the consumer abandoned the current iteration; the generator is saved where the
        # iteration would have left it (its last draw, e.g. the empty permutation when n divides
        # num_samples, happens only when the exhausted iterator is asked once more)
        gen = self.generator
        state = None if gen is None else gen.get_state()
        if finish and gen is not None and self._iter_active and self._iter_start is not None:
            scratch = _random.Generator().set_state(self._iter_start["state"])
            for _ in self._draw(scratch):
                pass
            state = scratch.get_state()
        return {"generator": state,
                "iteration": dict(self._iter_start) if in_progress and self._iter_start is not None else None}

    def state_dict(self) -> dict:
        """``{"generator": the generator's state (None without one), "iteration": how the iteration
        in progress was seeded (None between iterations)}``. Not in PyTorch."""
        return self._state(self._iter_active)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores the generator's state; if an iteration was in progress when ``state_dict`` was
        taken, the next iteration repeats it from its beginning (the same indices in the same order,
        leaving the generator where that iteration left it)."""
        if not isinstance(state_dict, dict) or not {"generator", "iteration"} <= state_dict.keys():
            raise ValueError("RandomSampler.load_state_dict: expected a dict with 'generator' and "
                             "'iteration' (from RandomSampler.state_dict())")
        it = state_dict["iteration"]
        if it is not None and not (isinstance(it, dict) and len(it) == 1
                                   and ("seed" in it or "state" in it)):
            raise ValueError(f"RandomSampler.load_state_dict: bad 'iteration' entry {it!r}")
        if it is not None and ("state" in it) != (self.generator is not None):
            raise ValueError("RandomSampler.load_state_dict: the state was saved by a sampler "
                             + ("without" if self.generator is not None else "with") + " a generator")
        if state_dict["generator"] is not None and self.generator is not None:
            self.generator.set_state(state_dict["generator"])
        self._replay = it
        self._iter_active = False


class SubsetRandomSampler(Sampler[int]):
    """Yields the elements of ``indices`` in a random order (without replacement)."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        perm = _random.randperm(len(self.indices), generator=self.generator).tolist()
        yield from map(self.indices.__getitem__, perm)

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Yields ``num_samples`` indices in ``[0, len(weights))`` drawn with probabilities
    proportional to ``weights`` (need not sum to one), with or without replacement."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        from ..._factory import as_tensor
        from ..._dtype import float64
        w = as_tensor(weights, dtype=float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        drawn = _random.multinomial(self.weights, self.num_samples, self.replacement,
                                    generator=self.generator)
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, shorter batch is
    dropped when ``drop_last``.

    ``sampler`` may be any iterable of indices; lists, ranges and ``SequentialSampler`` are sliced
    directly instead of being iterated index by index.
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _sliceable(self):
        s = self.sampler
        cls = s.__class__
        if cls is list or cls is range:
            return s
        if cls is SequentialSampler:
            return range(len(s.data_source))
        return None

    def __iter__(self) -> Iterator[list]:
        bs = self.batch_size
        seq = self._sliceable()
        if seq is not None:
            n = len(seq)
            stop = n - n % bs if self.drop_last else n
            if seq.__class__ is list:
                return (seq[i:i + bs] for i in range(0, stop, bs))
            return (list(seq[i:i + bs]) for i in range(0, stop, bs))
        return self._iter_generic()

    def _iter_generic(self) -> Iterator[list]:
        it = iter(self.sampler)
        bs = self.batch_size
        if self.drop_last:
            # bs references to one iterator: zip pulls bs consecutive indices per tuple and stops
            # at the first incomplete one
            for batch in zip(*([it] * bs)):
                yield list(batch)
        else:
            batch = list(itertools.islice(it, bs))
            while batch:
                yield batch
                batch = list(itertools.islice(it, bs))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
