"""Collation: merging a list of samples into a batch (``default_collate``) and converting NumPy
leaves to tensors (``default_convert``), as in ``torch.utils.data._utils.collate``.

``collate(batch, collate_fn_map=...)`` dispatches on the type of ``batch[0]``: an exact type match
in ``collate_fn_map`` first, then the first key ``batch[0]`` is an instance of, then the container
rules (mappings per key, namedtuples per field, sequences transposed). ``default_collate`` uses
``default_collate_fn_map``, which programs may extend.

A dataset's ``__getitems__`` may return a :class:`CollatedBatch` instead of a list of samples: the
batch it already built in one vectorised step (``MNIST``, ``CIFAR10``, ``TensorDataset``). It is
still the sequence of samples for any other consumer (a custom ``collate_fn``, ``StackDataset``),
and ``default_collate`` returns its ``collated`` form as is, so the DataLoader's default path costs
one array gather per batch instead of a Python call and a stack per sample.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from operator import attrgetter

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["CollatedBatch", "collate", "default_collate", "default_convert", "default_collate_fn_map",
           "default_collate_err_msg_format", "collate_tensor_fn", "collate_numpy_array_fn",
           "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn", "collate_str_fn"]

# byte strings, unicode strings and objects cannot become tensors
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, "
                                  "dicts or lists; found {}")

_Mapping = collections.abc.Mapping
_MutableMapping = collections.abc.MutableMapping
_Sequence = collections.abc.Sequence
_MutableSequence = collections.abc.MutableSequence
_requires_grad = attrgetter("requires_grad")
_shape = attrgetter("shape")
_dtype = attrgetter("dtype")
_ndarray = np.ndarray


def _factory():
    from ... import _factory as f
    return f


class CollatedBatch(collections.abc.Sequence):
    """Samples fetched together, held as the batch ``default_collate`` would make of them.

    ``collated`` is exactly ``default_collate(samples)`` (e.g. ``[images (B, ...), labels (B,)]``);
    ``samples`` is a function returning the list of samples as ``dataset[i]`` gives them, called
    only if something indexes or iterates the batch (a custom ``collate_fn``, ``StackDataset``).
    """

    __slots__ = ("collated", "_len", "_samples", "_list")

    def __init__(self, collated, length: int, samples: Callable[[], list]) -> None:
        self.collated = collated
        self._len = length
        self._samples = samples
        self._list = None

    def _materialise(self) -> list:
        if self._list is None:
            self._list = list(self._samples())
        return self._list

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        return self._materialise()[i]

    def __repr__(self) -> str:
        return f"CollatedBatch({self.collated!r})"


# --------------------------------------------------------------------------- default_convert
def default_convert(data):
    """Converts every NumPy array (and NumPy scalar) inside ``data`` to a tensor, recursing into
    mappings, namedtuples, tuples (which become lists) and sequences; anything else, including
    string and object arrays, is returned unchanged."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if elem_type is _ndarray and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _factory().as_tensor(data)
    if isinstance(data, _Mapping):
        try:
            if isinstance(data, _MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:  # the mapping type cannot be built from a dict
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # a list, as in torch (backwards compatibility)
    if isinstance(data, _Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, _MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# --------------------------------------------------------------------------- collate
def collate(batch, *, collate_fn_map: dict | None = None):
    """Collates ``batch`` (a sequence of samples) by the type of its first element.

    ``collate_fn_map`` maps a type (or tuple of types) to ``fn(batch, *, collate_fn_map)``; an
    exact type match wins, then the first key the element is an instance of. Containers recurse:
    a mapping collates per key, a namedtuple per field (keeping its type), a tuple becomes a list
    of per-position batches and other sequences keep their type.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for key in collate_fn_map:
            if isinstance(elem, key):
                return collate_fn_map[key](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, _Mapping):
        try:
            if isinstance(elem, _MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                              for k in elem})
                return clone
            return elem_type({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map)
                              for k in elem})
        except TypeError:
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, _Sequence):
        if len(set(map(len, batch))) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, _MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _uniform(arrays) -> bool:
    """Whether the arrays share class, shape and dtype (so one stack of them is exact)."""
    # three C-level passes; a Python loop comparing each array costs several times more
    return (len(set(map(type, arrays))) == 1 and len(set(map(_shape, arrays))) == 1
            and len(set(map(_dtype, arrays))) == 1)


def _stack_arrays(arrays):
    """Stacks same-shape arrays along a new first axis. ``concatenate`` + ``reshape`` skips the
    per-array ``expand_dims`` of ``np.stack`` (about twice as fast for a batch of small images)."""
    a0 = arrays[0]
    if a0.ndim == 0:
        return np.stack(arrays)
    return np.concatenate(arrays).reshape((len(arrays),) + a0.shape)


def collate_tensor_fn(batch, *, collate_fn_map: dict | None = None) -> Tensor:
    """Stacks tensors of one shape along a new first dimension: ``B x (...)`` -> ``(B, ...)``."""
    from ... import _state
    if _state.grad_enabled and any(map(_requires_grad, batch)):
        from ...ops.shape import stack
        return stack(batch, 0)  # records the graph
    arrays = [t._data for t in batch]
    if _uniform(arrays):
        return _wrap(_stack_arrays(arrays))
    from ...ops.shape import stack
    return stack(batch, 0)  # promotion, or the error for mismatched shapes/devices


def collate_numpy_array_fn(batch, *, collate_fn_map: dict | None = None) -> Tensor:
    """Converts NumPy arrays to tensors and stacks them; string/object arrays raise TypeError."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    f = _factory()
    first = f.as_tensor(elem)
    # ferrum keeps this dtype as is (no conversion) and the arrays agree: stack them directly
    if first._data.dtype == elem.dtype and _uniform(batch):
        return _wrap(_stack_arrays(batch))
    return collate([first] + [f.as_tensor(b) for b in batch[1:]], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map: dict | None = None) -> Tensor:
    """NumPy scalars -> a 1-D tensor of their dtype."""
    return _factory().as_tensor(batch)


_REALS = frozenset((float, int, bool))


def collate_float_fn(batch, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python floats -> a float64 tensor."""
    if set(map(type, batch)) <= _REALS:
        return _wrap(np.array(batch, dtype=np.float64))
    from ... import _dtype
    return _factory().tensor(batch, dtype=_dtype.float64)


def collate_int_fn(batch, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python ints -> an int64 tensor (bools -> a bool tensor), inferred as ``tensor(batch)``."""
    types = set(map(type, batch))
    if types == {bool}:
        return _wrap(np.array(batch, dtype=np.bool_))
    if types <= {int, bool}:
        try:
            return _wrap(np.array(batch, dtype=np.int64))
        except OverflowError:
            pass  # the factory reports it
    return _factory().tensor(batch)


def collate_str_fn(batch, *, collate_fn_map: dict | None = None):
    """Strings and bytes stay as they are: the batch is returned as given."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Puts each field of the samples in ``batch`` into a tensor with a new outer (batch) dimension.

    Mapping of element types to the batch:

    - ``Tensor`` of shape ``(...)`` -> ``Tensor`` ``(B, ...)``
    - NumPy array -> ``Tensor`` (string and object arrays raise TypeError); NumPy scalar ->
      ``Tensor`` ``(B,)`` of its dtype
    - ``float`` -> float64 ``Tensor``; ``int`` -> int64 ``Tensor``; ``bool`` -> bool ``Tensor``
    - ``str`` / ``bytes`` -> the list of them, unchanged
    - ``Mapping[K, V_i]`` -> ``Mapping[K, default_collate([V_1, V_2, ...])]``
    - ``NamedTuple[V1_i, V2_i, ...]`` -> ``NamedTuple[default_collate([V1_1, V1_2, ...]), ...]``
    - ``Sequence[V1_i, V2_i, ...]`` -> ``Sequence[default_collate([V1_1, V1_2, ...]), ...]``
      (a tuple gives a list); samples of unequal length raise RuntimeError

    A :class:`CollatedBatch` (from a dataset's ``__getitems__``) is already that batch: its
    ``collated`` form is returned (a fresh list or dict around the same tensors).
    """
    if batch.__class__ is CollatedBatch:
        c = batch.collated
        return list(c) if isinstance(c, list) else copy.copy(c)
    return collate(batch, collate_fn_map=default_collate_fn_map)
