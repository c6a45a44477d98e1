"""``nn.utils.rnn``: PackedSequence and the pad/pack helpers, with PyTorch's semantics and errors.

A PackedSequence holds the rows of a batch of variable-length sequences time step by time step:
``data`` (sum(lengths), *) is the rows of step 0 for every sequence, then step 1 for every
sequence still running, ...; ``batch_sizes[t]`` (int64, CPU) is how many sequences run at step t
(non-increasing). Sequences are stored longest first; ``sorted_indices`` maps a packed position to
the original batch position and ``unsorted_indices`` is its inverse.

Every conversion is one gather of rows (advanced indexing with a precomputed index array), so it
is differentiable through ferrum's indexing op, and its backward is one scatter-add: packing and
padding cost a single pass over the data whatever the number of time steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import _factory
from ..._tensor import Tensor, _wrap
from ...ops.join import cat

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation._data)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=p.dtype)
    return _wrap(inv)


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences (see the module docstring). Build it with
    :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand; constructing one from
    (data, batch_sizes, sorted_indices) fills ``unsorted_indices`` as PyTorch does."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                    "created manually. They should be instantiated by functions like pack_sequence and "
                    "pack_padded_sequences in nn.utils.rnn. https://pytorch.org/docs/stable/"
                    "nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        # PackedSequence((data, batch_sizes)): the tuple form
        if not isinstance(data, (list, tuple)) or len(data) != 2:
            raise TypeError("PackedSequence() expects (data, batch_sizes) or a 2-tuple of them")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(*args, **kwargs)``; the indices follow data's device, batch_sizes stays on CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = None if self.sorted_indices is None else self.sorted_indices.to(dev)
        ui = None if self.unsorted_indices is None else self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, si, ui)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=_dt("float64"))

    def float(self) -> PackedSequence:
        return self.to(dtype=_dt("float32"))

    def half(self) -> PackedSequence:
        return self.to(dtype=_dt("float16"))

    def long(self) -> PackedSequence:
        return self.to(dtype=_dt("int64"))

    def int(self) -> PackedSequence:
        return self.to(dtype=_dt("int32"))

    def short(self) -> PackedSequence:
        return self.to(dtype=_dt("int16"))

    def char(self) -> PackedSequence:
        return self.to(dtype=_dt("int8"))

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dt("uint8"))

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return self.data.is_pinned()


def _dt(name: str):
    from ... import _dtype
    return getattr(_dtype, name)


def _lengths_array(lengths) -> np.ndarray:
    """``lengths`` (list, tuple, tensor) as an int64 NumPy vector, with PyTorch's 1-D check."""
    if isinstance(lengths, Tensor):
        a = np.asarray(lengths.detach().cpu()._data)
        if a.dtype.kind == "f":
            a = a.astype(np.int64)
    else:
        a = np.asarray(lengths)
        if a.dtype.kind not in "iub":
            a = a.astype(np.int64)
    a = a.astype(np.int64, copy=False)
    if a.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {a.ndim}D cpu "
                           "Long tensor")
    return a


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch: input (T, B, *) (or (B, T, *) with ``batch_first``) and the B lengths
    -> PackedSequence. With ``enforce_sorted`` the lengths must be non-increasing; otherwise the
    batch is sorted here and ``sorted_indices`` remembers the order. Differentiable in ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError("pack_padded_sequence(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    lens = _lengths_array(lengths)
    if input.ndim < 2:
        raise RuntimeError("pack_padded_sequence(): expected input of at least 2 dimensions, got "
                           f"{input.ndim}")
    bdim = 0 if batch_first else 1
    B, T = input.shape[bdim], input.shape[1 - bdim]
    sorted_indices = None
    if enforce_sorted:
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _wrap(order.astype(np.int64))
    if lens.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={B})")
    if B and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           "'lengths' that is <= 0")
    if B > 1 and np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                           "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                           "pack_sequence to sidestep this requirement if you do not need ONNX "
                           "exportability.")
    if B and lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence(): a length ({int(lens[0])}) is larger than the padded "
                           f"sequence length ({T}) of input {list(input.shape)}")
    steps = int(lens[0]) if B else 0
    batch_sizes = (lens[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)
    cols = np.arange(B) if order is None else order
    # row (t, b) of the packed data reads element t of sequence cols[b]
    t_idx = np.repeat(np.arange(steps), batch_sizes)
    b_idx = np.concatenate([cols[:n] for n in batch_sizes]) if steps else np.zeros(0, np.int64)
    rest = tuple(input.shape[2:])
    flat = input.reshape((B * T,) + rest)
    idx = b_idx * T + t_idx if batch_first else t_idx * B + b_idx
    data = flat[_wrap(idx.astype(np.int64))]
    return PackedSequence(data, _wrap(batch_sizes), sorted_indices, None)


def _packed_lengths(batch_sizes: np.ndarray) -> np.ndarray:
    """Length of each sorted sequence from the batch sizes."""
    B = int(batch_sizes[0]) if batch_sizes.shape[0] else 0
    return (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Inverse of :func:`pack_padded_sequence`: -> (padded (T, B, *) or (B, T, *), lengths (B,)
    int64), in the original batch order. ``total_length`` pads to that many steps (it must be at
    least the longest length: ValueError otherwise). Differentiable in ``sequence.data``."""
    data = sequence.data
    bs = np.asarray(sequence.batch_sizes._data).astype(np.int64)
    T = bs.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being {T}")
        T_out = int(total_length)
    else:
        T_out = T
    B = int(bs[0]) if T else 0
    lens = _packed_lengths(bs)
    offs = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(np.int64) if T else np.zeros(0, np.int64)
    N = data.shape[0]
    # slot (t, s) of the sorted batch reads packed row offs[t] + s, or the padding row N
    src = np.full((T_out, B), N, np.int64)
    s_ar = np.arange(B)
    valid = s_ar[None, :] < bs[:, None]
    src[:T][valid] = (offs[:, None] + s_ar[None, :])[valid]
    ui = sequence.unsorted_indices
    if ui is not None:
        u = np.asarray(ui._data).astype(np.int64)
        src = src[:, u]
        lens = lens[u]
    if batch_first:
        src = src.T
    rest = tuple(data.shape[1:])
    pad_row = _factory.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    ext = cat([data, pad_row], 0)
    out = ext[_wrap(np.ascontiguousarray(src).reshape(-1))].reshape(src.shape + rest)
    return out, _wrap(lens.astype(np.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Pads a list of (L_i, *) tensors to (max L, B, *) (or (B, max L, *) with ``batch_first``)
    with ``padding_value``, on the right or (``padding_side='left'``) on the left."""
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    else:
        sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    for s in sequences:
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence(): expected a sequence of Tensors, got {type(s).__name__}")
    rest = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        r = tuple(s.shape[1:])
        if r != rest:
            k = next((i for i, (a, b) in enumerate(zip(rest, r)) if a != b), 0)
            raise RuntimeError(f"The size of tensor a ({rest[k] if k < len(rest) else 1}) must match the "
                               f"size of tensor b ({r[k] if k < len(r) else 1}) at non-singleton dimension "
                               f"{k + 1}")
    T = max(s.shape[0] for s in sequences)
    lens = np.array([s.shape[0] for s in sequences], np.int64)
    data = cat([s if s.ndim else s.reshape(1) for s in sequences], 0) if len(sequences) > 1 else sequences[0]
    N = data.shape[0]
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    t = np.arange(T)[:, None]
    if padding_side == "right":
        pos = t
        valid = t < lens[None, :]
    else:
        pos = t - (T - lens[None, :])
        valid = pos >= 0
    src = np.where(valid, starts[None, :] + pos, N)
    if batch_first:
        src = src.T
    pad_row = _factory.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    ext = cat([data, pad_row], 0)
    return ext[_wrap(np.ascontiguousarray(src).reshape(-1).astype(np.int64))].reshape(src.shape + rest)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Inverse of :func:`pad_sequence` (right padding): the list of (L_i, *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = _lengths_array(lengths)
    return [padded_sequences[i][:int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences: Iterable[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of (L_i, *) tensors (longest first, unless ``enforce_sorted=False``)."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Inverse of :func:`pack_sequence`: the list of (L_i, *) tensors in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

