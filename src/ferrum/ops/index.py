"""Indexing ops: ``t[key]``, ``t[key] = v``, gather/scatter, index_*, masked_*, take, nonzero.

A face: the code lives in :mod:`.getitem` (the three primitives, key normalisation,
``__getitem__``/``__setitem__``, ``index_put``), :mod:`.gather_scatter` (gather/scatter, the
``index_*`` family, ``masked_*``, take/put, nonzero) and :mod:`._indexing` (raw-array helpers both
share). This module re-exports their public names, and the primitives and helpers other op
modules build on, so ``from .index import _adv`` and ``ferrum.ops.index.gather`` keep working.

Everything reduces to three primitives on raw keys (tuples NumPy understands): basic indexing (a
view, whose backward embeds the gradient into zeros), ``_adv`` (advanced indexing, a copy, whose
backward puts the gradient into zeros) and ``_put`` (an out-of-place index_put, whose backward
indexes the gradient). The last two are each other's backward, so every gradient is
differentiable again.
"""

from __future__ import annotations

from ._indexing import (  # noqa: F401
    _add_rows, _check_range, _coords, _index_error, _lift, _maybe_out, _raw_index, _tname, _to_dev,
    _ufunc_at, _unlift, _write, _xp, _zeros,
)
from .gather_scatter import (  # noqa: F401
    GatherBackward0, ScatterReduceBackward0, _scalar_value, argwhere, gather, index_add, index_add_,
    index_copy, index_copy_, index_fill, index_fill_, index_select, masked_fill, masked_fill_,
    masked_scatter, masked_scatter_, masked_select, nonzero, put, put_, scatter, scatter_, scatter_add,
    scatter_add_, scatter_reduce, scatter_reduce_, take, take_along_dim,
)
from .getitem import (  # noqa: F401
    IndexAddBackward0, IndexBackward0, IndexCopyBackward0, IndexFillBackward0, IndexPutBackward0,
    IndexSelectBackward0, MaskedScatterBackward0, MaskedSelectBackward0, PutBackward0, ScatterAddBackward0,
    ScatterBackward0, SelectBackward0, SliceBackward0, TakeAlongDimBackward0, TakeBackward0, _adv, _basic,
    _const, _getitem, _normalize, _put, _setitem, index_put, index_put_,
)

__all__ = [
    "index_select", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy",
    "index_fill", "index_put", "index_put_", "masked_fill", "masked_select", "masked_scatter", "take",
    "take_along_dim", "put", "nonzero", "argwhere",
]
