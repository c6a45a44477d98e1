"""``PairwiseDistance`` and ``CosineSimilarity`` (``torch.nn.modules.distance``): the modules
around ``F.pairwise_distance`` and ``F.cosine_similarity`` (ops/nn_misc.py) that siamese and
metric-learning programs build their heads from. No parameters; torch's attribute names
(``norm``, ``eps``, ``keepdim``; ``dim``, ``eps``) and its empty reprs."""

from __future__ import annotations

from ..._tensor import Tensor
from ...ops.nn_misc import cosine_similarity, pairwise_distance
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class PairwiseDistance(Module):
    """(N, D), (N, D) -> (N,): the p-norm of ``x1 - x2 + eps`` over the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """(*, D, *), (*, D, *) -> the cosine of the angle between them along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)
