"""Padding layers (``torch.nn.modules.padding``): ConstantPad1d/2d/3d, ZeroPad1d/2d/3d,
ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d, CircularPad1d/2d/3d.

Each is ``F.pad`` (:func:`ferrum.ops.nn_misc.pad`) with a fixed mode over the last 1, 2 or 3 dims,
so the values, gradients and bad-input errors are that op's. ``padding`` is an int (the same on
every side) or a tuple of 2N ints ordered as F.pad's: (left, right[, top, bottom[, front, back]]).
The class tree and reprs are torch's (``ZeroPad2d`` subclasses ``ConstantPad2d``; the constant
pads print ``padding=..., value=...``, the others the padding tuple alone).
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.nn_misc import pad
from .module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
           "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]


def _ntuple(padding, n: int) -> tuple:
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    return tuple(padding)


class _PadNd(Module):
    _mode = "constant"
    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim of (C, W) or (N, C, W) with ``value``."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dims of (C, H, W) or (N, C, H, W) with ``value``."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dims of (C, D, H, W) or (N, C, D, H, W) with ``value``."""
    _nd = 3


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Mirrors (without repeating the edge) the last dim of (C, W) or (N, C, W)."""
    _nd = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Mirrors the last two dims of (C, H, W) or (N, C, H, W)."""
    _nd = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Mirrors the last three dims of (C, D, H, W) or (N, C, D, H, W)."""
    _nd = 3


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Repeats the edge values of the last dim of (C, W) or (N, C, W)."""
    _nd = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Repeats the edge values of the last two dims of (C, H, W) or (N, C, H, W)."""
    _nd = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Repeats the edge values of the last three dims of (C, D, H, W) or (N, C, D, H, W)."""
    _nd = 3


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        # torch checks the rank in the module (ValueError) before F.pad sees the input
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Wraps the last dim of (C, W) or (N, C, W) around."""
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Wraps the last two dims of (C, H, W) or (N, C, H, W) around."""
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Wraps the last three dims of (C, D, H, W) or (N, C, D, H, W) around."""
    _nd = 3
