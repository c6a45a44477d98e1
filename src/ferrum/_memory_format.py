"""Memory formats (``torch.memory_format``): the values PyTorch programs pass as ``memory_format=``.

ferrum's arrays are strided NumPy/CuPy arrays, so a format is a request for a layout:
``preserve_format`` (the default of ``clone``/``*_like``: keep a dense input's strides),
``contiguous_format`` (C order), ``channels_last``/``channels_last_3d`` (accepted; a copy in C
order until the convolution layers use them).
"""

from __future__ import annotations

__all__ = ["memory_format", "preserve_format", "contiguous_format", "channels_last", "channels_last_3d"]


class memory_format:  # noqa: N801 - PyTorch's name
    """One memory format; compared by identity, printed as PyTorch prints its own."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"ferrum.{self._name}"

    def __reduce__(self):
        return self._name


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
