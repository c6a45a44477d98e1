"""``ferrum.utils.tensorboard``: :class:`SummaryWriter`, PyTorch's ``torch.utils.tensorboard`` API
writing real TensorBoard event files (through tensorboardX: ``pip install ferrum[tb]``).

Importing this package does not import tensorboardX; creating a writer does, and raises an
``ImportError`` naming the extra when it is missing.
"""

from __future__ import annotations

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
