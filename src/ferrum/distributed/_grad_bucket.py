"""``GradBucket``: what a DistributedDataParallel communication hook receives (torch's
``torch.distributed.GradBucket``).

A bucket is one flat, contiguous 1-D tensor holding the gradients of several parameters of one
dtype back to back (DDP fills it in the order the gradients become ready during backward). A hook
(``ddp.register_comm_hook(state, hook)``, ``hook(state, bucket) -> Future``) reduces
``bucket.buffer()`` across ranks, in place or into a new tensor that its Future returns; DDP then
writes the reduced values back into the parameters' ``.grad``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GradBucket"]


class GradBucket:
    """One gradient bucket of DistributedDataParallel, as a communication hook sees it."""

    def __init__(self, index: int, buffer: Any, gradients: list, parameters: list, offsets: list,
                 is_last: bool) -> None:
        self._index = index
        self._buffer = buffer
        self._gradients = gradients
        self._parameters = parameters
        self._offsets = offsets
        self._is_last = is_last

    def index(self) -> int:
        """The bucket's position (bucket 0 holds the last parameters of the model: gradients
        become ready from the output back, so DDP fills and reduces bucket 0 first)."""
        return self._index

    def buffer(self):
        """The flat 1-D tensor of the bucket's gradients (already divided by nothing: a hook
        averages itself, e.g. divides by the world size)."""
        return self._buffer

    def gradients(self) -> list:
        """One tensor per parameter of the bucket: views of :meth:`buffer` shaped like the
        parameter."""
        return list(self._gradients)

    def parameters(self) -> list:
        """The bucket's parameters, in the bucket's order."""
        return list(self._parameters)

    def is_last(self) -> bool:
        """True for the bucket that is reduced last in an iteration (the model's first
        parameters)."""
        return self._is_last

    def set_buffer(self, buffer: Any) -> None:
        """Replaces the bucket's flat tensor (a hook that reduces into a tensor of its own)."""
        self._buffer = buffer
