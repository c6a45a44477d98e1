"""Embedding and EmbeddingBag: lookup tables of vectors (PyTorch's ``torch.nn.modules.sparse``).

The functional ops are in ``ops/embedding.py``. ferrum has no sparse gradients, so ``sparse=True``
raises NotImplementedError (a RuntimeError) when the module is built, not at its first call.
"""

from __future__ import annotations

import builtins

import numpy as np

from ... import _factory
from ...autograd.grad_mode import no_grad
from ..._tensor import Tensor
from ...ops.embedding import _check_sparse, embedding, embedding_bag
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]

_pyint, _pybool = builtins.int, builtins.bool


def _norm_padding(padding_idx, num_embeddings: int):
    """PyTorch's module rule: a negative padding_idx counts from the end; outside
    [-num_embeddings, num_embeddings) is an AssertionError (as torch raises)."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, _pybool) or not isinstance(padding_idx, (_pyint, np.integer)):
        raise TypeError(f"padding_idx must be int or None, not {type(padding_idx).__name__}")
    padding_idx = _pyint(padding_idx)
    if padding_idx > 0:
        if padding_idx >= num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _table(self, num_embeddings, embedding_dim, _weight, _freeze, device, dtype) -> bool:
    """Sets ``self.weight``; True when it was created (and so needs ``reset_parameters``)."""
    if _weight is None:
        self.weight = Parameter(_factory.empty((num_embeddings, embedding_dim), device=device, dtype=dtype),
                                requires_grad=not _freeze)
        return True
    if not isinstance(_weight, Tensor):
        raise TypeError(f"_weight must be a Tensor, not {type(_weight).__name__}")
    if list(_weight.shape) != [num_embeddings, embedding_dim]:
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    self.weight = Parameter(_weight, requires_grad=not _freeze)
    return False


def _fill_padding_idx_with_zero(self) -> None:
    if self.padding_idx is not None:
        with no_grad():
            self.weight[self.padding_idx].fill_(0)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``: input (*) of int64/int32
    indices -> output (*, embedding_dim). ``weight`` (num_embeddings, embedding_dim) starts from
    N(0, 1), its ``padding_idx`` row zero; see ``F.embedding`` for padding_idx, max_norm,
    norm_type and scale_grad_by_freq.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        _check_sparse("Embedding", sparse)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _norm_padding(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _table(self, num_embeddings, embedding_dim, _weight, _freeze, device, dtype):
            self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    _fill_padding_idx_with_zero = _fill_padding_idx_with_zero

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (2-D, shared, not copied); ``freeze``: the
        weight does not require grad. The padding row is left as given."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without the per-entry lookup leaving the op:
    input (N) with offsets (B) (B + 1 with ``include_last_offset``), or (B, L) -> (B, embedding_dim).
    ``weight`` (num_embeddings, embedding_dim) starts from N(0, 1), its ``padding_idx`` row zero;
    see ``F.embedding_bag`` for the arguments.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        _check_sparse("EmbeddingBag", sparse)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _norm_padding(padding_idx, num_embeddings)
        if _table(self, num_embeddings, embedding_dim, _weight, False, device, dtype):
            self.reset_parameters()
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    _fill_padding_idx_with_zero = _fill_padding_idx_with_zero

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                             self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings!r}, {self.embedding_dim!r}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (2-D, shared); ``freeze``: the weight does
        not require grad."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
