"""Elementwise ops: the face of the family, re-exporting every name of its modules.

The code lives one module per sub-family: ``arith`` (add/sub/mul/div hot nodes, pow, division,
the arithmetic operators), ``binary`` (atan2, hypot, xlogy, copysign, lerp, ...), ``unary``
(the unary table, rounding, abs/neg, clone), ``compare`` (comparisons, logical, bitwise, is*)
and ``select`` (where, clamp, maximum/minimum). Shared coercion is in ``_promote`` and ``out=``
in ``_common``. ``from .elementwise import X`` keeps working for every public name and for the
private helpers other modules import (``_cast``, ``_write_out``, ``_promote``,
``record_unary``, ...). relu lives in ``ops.activation`` (one relu, one node for ``torch.relu``,
``Tensor.relu`` and ``F.relu``), which attaches it to Tensor itself.
"""

from __future__ import annotations

from ._common import _write_out  # noqa: F401
from ._promote import (  # noqa: F401
    _as_tensor_operand, _binary_record, _cast, _CastBackward, _coerce_pair, _float_dt, _float_kinds,
    _int64, _operand_tensor, _promote, _scalar_operand, _shape_error, _ZeroGradBackward,
)
from .arith import *  # noqa: F401,F403
from .arith import (  # noqa: F401
    AddBackward0, AddBackward1, DivBackward0, MulBackward0, MulBackward1, RDivBackward, SubBackward0,
    _rdiv_scalar, _rsub_scalar, pow,
)
from .select import *  # noqa: F401,F403
from .select import _WhereBackward  # noqa: F401
from .unary import *  # noqa: F401,F403
from .unary import UnaryBackward, _np_sigmoid, abs, record_unary, round  # noqa: F401
from .binary import *  # noqa: F401,F403
from .compare import *  # noqa: F401,F403
from . import arith as _arith, binary as _binary, compare as _compare, select as _select, unary as _unary

__all__ = sorted(set(_arith.__all__ + _binary.__all__ + _unary.__all__ + _compare.__all__
                     + _select.__all__))
del _arith, _binary, _compare, _select, _unary


def __getattr__(name: str):
    # ``elementwise.relu`` is the activation's relu; looked up on use, because activation imports
    # this module (a module-level import here would be a cycle)
    if name == "relu":
        from .activation import relu
        return relu
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
