"""Shape ops: the face of four modules, one per sub-family.

- ``view``: whole-tensor views with hot nodes (view/reshape, flatten/unflatten, squeeze/unsqueeze,
  transpose/t/permute/movedim, ``T``/``mT``/``H``/``mH``, expand/broadcast) and ``contiguous``;
- ``subview``: views that keep part of the elements (narrow, select, diagonal, unfold) and the
  "embed" that is their backward;
- ``join``: cat/stack and their forms, atleast_Nd, and split/chunk/tensor_split/unbind;
- ``rearrange``: copies that move elements (flip, roll, rot90, repeat/tile, tril/triu, diag,
  diag_embed, diagflat, meshgrid).

Argument parsing shared by all four is in ``_shape_args``. This module re-exports every name, so
``from ferrum.ops.shape import cat`` and ``from .shape import *`` keep working; importing it
attaches the Tensor methods of all four.
"""

from __future__ import annotations

from ._shape_args import _check, _data, _fmt, _int, _int_seq, _not_tensor  # noqa: F401
from .join import (  # noqa: F401
    CatBackward0, StackBackward0, atleast_1d, atleast_2d, atleast_3d, cat, chunk, column_stack, concat,
    concatenate, dsplit, dstack, hsplit, hstack, row_stack, split, stack, tensor_split, unbind, vsplit,
    vstack, _tensor_list,
)
from .rearrange import (  # noqa: F401
    FlipBackward0, RepeatBackward0, RollBackward0, Rot90Backward0, TrilBackward0, TriuBackward0, diag,
    diag_embed, diagflat, flip, fliplr, flipud, meshgrid, repeat, repeat_interleave, roll, rot90, tile,
    tril, tril_indices, triu, triu_indices,
)
from .subview import (  # noqa: F401
    DiagonalBackward0, NarrowBackward0, SelectBackward0, UnfoldBackward0, diagonal, narrow, narrow_copy,
    select, unfold, _embed, _key_view, _raw_view, _t_view,
)
from .view import (  # noqa: F401
    ExpandBackward0, PermuteBackward0, SqueezeBackward0, TBackward0, TransposeBackward0,
    UnsafeViewBackward0, UnsqueezeBackward0, ViewBackward0, adjoint, broadcast_shapes, broadcast_tensors,
    broadcast_to, contiguous, expand, expand_as, flatten, movedim, moveaxis, permute, ravel, reshape,
    reshape_as, squeeze, swapaxes, swapdims, t, transpose, unflatten, unsqueeze, view, view_as, _can_view,
    _expand_to, _view_out,
)

__all__ = [
    "view", "reshape", "view_as", "reshape_as", "flatten", "unflatten", "ravel", "squeeze",
    "unsqueeze", "transpose", "swapaxes", "swapdims", "permute", "t", "expand", "expand_as",
    "broadcast_to", "broadcast_tensors", "broadcast_shapes", "repeat", "tile", "repeat_interleave", "flip",
    "fliplr",
    "flipud", "roll", "rot90", "narrow", "select", "split", "tensor_split", "chunk", "unbind", "cat",
    "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack",
    "movedim", "moveaxis", "diagonal", "diag", "diag_embed", "diagflat", "tril", "triu",
    "tril_indices", "triu_indices", "meshgrid", "contiguous", "atleast_1d", "atleast_2d",
    "atleast_3d", "adjoint", "narrow_copy", "hsplit", "vsplit", "dsplit",
]
