"""Dropout layers (``torch.nn.Dropout`` and its channel-wise and alpha variants).

In training mode each draws a fresh mask from ferrum's global generator per call; in eval mode
(``module.eval()``) each returns its input unchanged.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops import nn_misc as M
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes elements with probability ``p`` and scales the rest by 1 / (1 - p). Any shape."""

    def forward(self, input: Tensor) -> Tensor:
        if not self.training:
            return input
        return M.dropout(input, self.p, True, self.inplace)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) or (C, L) input."""

    def forward(self, input: Tensor) -> Tensor:
        return M.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) or (N, C, L) input."""

    def forward(self, input: Tensor) -> Tensor:
        return M.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        return M.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's self-normalizing mean and variance. Any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return M.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels: (N, C, *)."""

    def forward(self, input: Tensor) -> Tensor:
        return M.feature_alpha_dropout(input, self.p, self.training)
