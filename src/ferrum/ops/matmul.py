"""Products of tensors: matmul (``@``), mm, bmm, mv, dot, vdot, the add* family, outer, inner,
kron, cross, trace, multi_dot and vecdot.

matmul is the hottest op of a dense network (``Linear`` is ``x @ w.t() + b``): its forward is one
``@`` on the raw arrays (BLAS for float32/float64; transposed C arrays need no copy), and its node
has ``__slots__`` and a backward on raw arrays (Tensors under ``create_graph``, where the same
formulas record themselves, so every product here is differentiable any number of times).
``_raw_matmul`` and ``_matmul_grads`` are shared with ``ops.linear``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _state
from .._dtype import result_type
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, attach, record, sum_to
from ._common import canon_dim, same_device
from ._linalg_common import (_batch_mismatch, _check, _check_kind, _cname, _conj, _const_like, _tname,
                             _x)
from .einsum import _einsum_sub
from .elementwise import _cast, _write_out
from .elementwise import _promote as _ew_promote
from .inplace import apply_inplace
from ._autocast import autocast_op

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr",
    "baddbmm", "addbmm", "kron", "cross", "trace", "chain_matmul",
]

_ndarray = np.ndarray
_new = object.__new__


def _mm_dtype_error(ad, bd) -> RuntimeError:
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cname(ad.dtype)} != "
                        f"{_cname(bd.dtype)}")


def _matmul_shape_error(sa, sb) -> RuntimeError:
    """PyTorch's message for shapes that matmul cannot multiply (called only on failure)."""
    na, nb = len(sa), len(sb)
    if na == 1 and nb == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to "
                            f"have the same number of elements, but got {sa[0]} and {sb[0]} elements "
                            "respectively")
    if na == 2 and nb == 1:
        return RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({_x(sa)}), vec ({sb[0]})")
    if na <= 2 and nb == 2:
        a2 = sa if na == 2 else (1,) + tuple(sa)
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(a2)} and {_x(sb)})")
    if na >= 3 and nb <= 2:
        rows = math.prod(sa[:-1])
        if nb == 1:
            return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})")
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{sa[-1]} and {_x(sb)})")
    ba = tuple(sa[:-2]) if na >= 2 else ()
    bb = tuple(sb[:-2]) if nb >= 2 else ()
    err = _batch_mismatch(ba, bb)
    if err is not None:
        return err
    batch = math.prod(np.broadcast_shapes(ba, bb))
    k2 = sb[-2] if nb >= 2 else sb[0]
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                        f"[{batch}, {sa[-1]}] but got: [{batch}, {k2}].")


def _mT(x):
    """Swaps the last two dims of an array or a Tensor."""
    if x.__class__ is Tensor:
        return x.transpose(-2, -1)
    return x.swapaxes(-1, -2)


def _cj(x):
    """Complex conjugate of an array or a Tensor (real ones pass through)."""
    if x.__class__ is Tensor:
        return _conj(x)
    return np.conj(x) if x.dtype.kind == "c" else x


def _unsq(x, d: int):
    if x.__class__ is Tensor:
        return x.unsqueeze(d)
    return np.expand_dims(x, d)


def _raw_matmul(ad, bd):
    """``ad @ bd`` on arrays; an N-D @ 2-D product is folded into one 2-D GEMM."""
    if ad.dtype.itemsize == 2 and ad.dtype.kind in "fV" and bd.dtype == ad.dtype:
        from ._lowp import matmul as lowp_matmul  # bfloat16/float16: a float32 GEMM, rounded once
        return lowp_matmul(ad, bd)
    if bd.ndim == 2 and ad.ndim > 2 and ad.flags.c_contiguous:
        sh = ad.shape
        r = ad.reshape(math.prod(sh[:-1]), sh[-1]) @ bd
        r = r.reshape(sh[:-1] + (bd.shape[1],))
    else:
        r = ad @ bd
    if r.dtype != ad.dtype:  # bfloat16 (ml_dtypes) products come back as float32
        r = np.asarray(r).astype(ad.dtype)
    return r


def _pmatmul(x, y):
    """Polymorphic product used by the backward formulas (arrays, or Tensors under create_graph)."""
    if x.__class__ is Tensor:
        return matmul(x, y)
    return _raw_matmul(x, y)


def _matmul_grads(g, a, b, sa: tuple, sb: tuple, a_colmajor: bool = False, b_colmajor: bool = False):
    """(grad_a, grad_b) of ``a @ b`` for output gradient ``g``; ``a``/``b`` None when not needed
    (``a`` is needed for grad_b and ``b`` for grad_a). ``a_colmajor`` / ``b_colmajor``: the 2-D
    operand was a transposed (Fortran-ordered) array; its gradient is then made in that layout, so
    that the transpose that produced it (``w.t()`` in ``Linear``) hands back a C-contiguous array."""
    na, nb = len(sa), len(sb)
    if a is not None:
        a = _cj(a)  # complex: the gradients use conjugated operands
    if b is not None:
        b = _cj(b)
    if na == 2 and nb == 2:
        ga = gb = None
        if b is not None:
            ga = _mT(_pmatmul(b, _mT(g))) if a_colmajor else _pmatmul(g, _mT(b))
        if a is not None:
            gb = _mT(_pmatmul(_mT(g), a)) if b_colmajor else _pmatmul(_mT(a), g)
        return ga, gb
    if na == 1 and nb == 1:
        return (None if b is None else g * b), (None if a is None else g * a)
    g2 = g
    if na == 1:
        g2 = _unsq(g2, -2)
    if nb == 1:
        g2 = _unsq(g2, -1)
    sa2 = (1,) + tuple(sa) if na == 1 else tuple(sa)
    sb2 = tuple(sb) + (1,) if nb == 1 else tuple(sb)
    ga = gb = None
    if b is not None:
        b2 = _unsq(b, -1) if nb == 1 else b
        ga = _pmatmul(g2, _mT(b2))
        if tuple(ga.shape) != sa2:
            ga = sum_to(ga, sa2)
        if na == 1:
            ga = ga.reshape(sa)
    if a is not None:
        a2 = _unsq(a, 0) if na == 1 else a
        if len(sb2) == 2 and g2.ndim > 2:
            # b is shared by every matrix of the batch: one GEMM over the folded batch
            k, m = sb2
            rows = math.prod(g2.shape[:-1])
            gb = _pmatmul(_mT(a2.reshape(rows, k)), g2.reshape(rows, m))
        else:
            gb = _pmatmul(_mT(a2), g2)
            if tuple(gb.shape) != sb2:
                gb = sum_to(gb, sb2)
        if nb == 1:
            gb = gb.reshape(sb)
    return ga, gb


# --------------------------------------------------------------------------- matmul node (hot)
class _ProductNode(Node):
    """Backward of every matrix product: saves the operands (each only when the other needs its
    gradient) and their shapes."""

    __slots__ = ("a", "b", "va", "vb", "sa", "sb", "a_colmajor", "b_colmajor")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        nxt = self.next
        a = b = None
        if nxt[1] is not None:
            a = self.checked_input(self.a, self.va)
            a = a if graph else a._data
        if nxt[0] is not None:
            b = self.checked_input(self.b, self.vb)
            b = b if graph else b._data
        return _matmul_grads(g, a, b, self.sa, self.sb, self.a_colmajor, self.b_colmajor)


class MmBackward0(_ProductNode):
    __slots__ = ()


class BmmBackward0(_ProductNode):
    __slots__ = ()


class MvBackward0(_ProductNode):
    __slots__ = ()


class DotBackward0(_ProductNode):
    __slots__ = ()


class MatmulBackward0(_ProductNode):
    __slots__ = ()


_NODE_BY_DIMS = {(2, 2): MmBackward0, (1, 1): DotBackward0, (2, 1): MvBackward0, (3, 3): BmmBackward0}


def _finish(r, a: Tensor, b: Tensor, cls) -> Tensor:
    """Wraps product ``r`` of ``a`` and ``b`` and records ``cls`` when needed."""
    out = _wrap(r)
    if _state.grad_enabled and (a.requires_grad or b.requires_grad):
        _record(out, a, b, cls)
    return out


def _record(out: Tensor, a: Tensor, b: Tensor, cls) -> None:
    """Attaches a ``cls`` node for ``out = a @ b`` (some operand requires grad); each operand is
    saved only when the other one needs its gradient."""
    ra = a.requires_grad
    rb = b.requires_grad
    ad = a._data
    bd = b._data
    node = attach(out, cls, (a, b))
    node.a = a if rb else None
    node.b = b if ra else None
    node.va = a._version[0]
    node.vb = b._version[0]
    node.sa = ad.shape
    node.sb = bd.shape
    # a 2-D operand that is a transposed C array (w.t() in Linear): its gradient in that layout
    node.a_colmajor = ra and ad.ndim == 2 and not ad.flags.c_contiguous and ad.flags.f_contiguous
    node.b_colmajor = rb and bd.ndim == 2 and not bd.flags.c_contiguous and bd.flags.f_contiguous


def _matmul_prep(a, b, op: str = "matmul"):
    """Checks the operands of matmul; returns their arrays."""
    _check(a, op, "input")
    _check(b, op, "other")
    ad = a._data
    bd = b._data
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to {op} need to be at least 1D, but they are {ad.ndim}D "
                           f"and {bd.ndim}D")
    if ad.__class__ is not bd.__class__:
        same_device(op, a, b)
    if ad.dtype != bd.dtype:
        if ad.ndim == 1 and bd.ndim == 1:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{_tname(ad.dtype)} and {_tname(bd.dtype)}")
        raise _mm_dtype_error(ad, bd)
    if ad.dtype.kind == "b":
        _check_kind(ad, "addmm_impl_cpu_" if ad.ndim <= 2 and bd.ndim <= 2 else "bmm")
    k2 = bd.shape[-2] if bd.ndim > 1 else bd.shape[0]
    if ad.shape[-1] != k2:
        raise _matmul_shape_error(ad.shape, bd.shape)
    return ad, bd


@autocast_op("matmul")
def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D @ 1-D is a dot product; a 1-D operand gets a dim
    prepended (first) or appended (second) that is removed from the result; N-D operands are
    batches of matrices whose batch dims broadcast. ``(*, n, k) @ (*, k, m) -> (*, n, m)``."""
    if out is not None:
        return _write_out(out, matmul(input, other))
    ad, bd = _matmul_prep(input, other)
    try:
        r = _raw_matmul(ad, bd)
    except ValueError:
        raise _matmul_shape_error(ad.shape, bd.shape) from None
    return _finish(r, input, other, _NODE_BY_DIMS.get((ad.ndim, bd.ndim), MatmulBackward0))


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _matmul_op(self, other):
    """``self @ other``: the fast path for two float32/float64 CPU matrices of one dtype."""
    if other.__class__ is Tensor and not _state.autocast:
        ad = self._data
        bd = other._data
        dt = ad.dtype
        if ((dt is _F32 or dt is _F64) and bd.dtype is dt and ad.__class__ is _ndarray
                and bd.__class__ is _ndarray and ad.ndim == 2 and bd.ndim == 2
                and ad.shape[1] == bd.shape[0]):
            out = _wrap(ad @ bd)
            if _state.grad_enabled and (self.requires_grad or other.requires_grad):
                _record(out, self, other, MmBackward0)
            return out
        return matmul(self, other)
    if isinstance(other, Tensor):
        return matmul(self, other)
    if isinstance(other, np.ndarray):
        return matmul(self, _wrap(other))
    return NotImplemented


def _rmatmul_op(self, other):
    if isinstance(other, np.ndarray):
        return matmul(_wrap(other), self)
    if isinstance(other, Tensor):
        return matmul(other, self)
    return NotImplemented


@autocast_op("mm")
def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Product of two matrices: ``(n, k) @ (k, m) -> (n, m)`` (no broadcasting)."""
    if out is not None:
        return _write_out(out, mm(input, mat2))
    _check(input, "mm", "input")
    _check(mat2, "mm", "mat2")
    ad, bd = input._data, mat2._data
    if ad.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if bd.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    ad, bd = _matmul_prep(input, mat2, "mm")
    return _finish(_raw_matmul(ad, bd), input, mat2, MmBackward0)


@autocast_op("bmm")
def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched product of 3-D tensors: ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting)."""
    if out is not None:
        return _write_out(out, bmm(input, mat2))
    _check(input, "bmm", "input")
    _check(mat2, "bmm", "mat2")
    sa, sb = input._data.shape, mat2._data.shape
    if len(sa) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if len(sb) != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if sb[0] != sa[0] or sb[1] != sa[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    ad, bd = _matmul_prep(input, mat2, "bmm")
    return _finish(_raw_matmul(ad, bd), input, mat2, BmmBackward0)


@autocast_op("mv")
def mv(input: Tensor, vec: Tensor, *, out=None) -> Tensor:
    """Matrix-vector product: ``(n, m) @ (m,) -> (n,)``."""
    if out is not None:
        return _write_out(out, mv(input, vec))
    _check(input, "mv", "input")
    _check(vec, "mv", "vec")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    ad, bd = _matmul_prep(input, vec, "mv")
    return _finish(_raw_matmul(ad, bd), input, vec, MvBackward0)


@autocast_op("dot")
def dot(input: Tensor, tensor: Tensor, *, out=None) -> Tensor:
    """Dot product of two 1-D tensors of the same length and dtype (a 0-d tensor)."""
    if out is not None:
        return _write_out(out, dot(input, tensor))
    _check(input, "dot", "input")
    _check(tensor, "dot", "tensor")
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D "
                           "tensors")
    ad, bd = _matmul_prep(input, tensor, "dot")
    return _finish(_raw_matmul(ad, bd), input, tensor, DotBackward0)


@autocast_op("vdot")
def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Dot product of 1-D tensors with the first one conjugated."""
    if out is not None:
        return _write_out(out, vdot(input, other))
    if isinstance(input, Tensor):
        input = _conj(input)
    return dot(input, other)


# --------------------------------------------------------------------------- add* family
def _scaled(t: Tensor, s) -> Tensor:
    return t if (s.__class__ is not complex and s == 1) else t * s


def _check_expand(shape_in, shape_out, op: str) -> None:
    """``input`` of the add* ops must broadcast to the product's shape (one-directionally)."""
    try:
        ok = tuple(np.broadcast_shapes(tuple(shape_in), tuple(shape_out))) == tuple(shape_out)
    except ValueError:
        ok = False
    if not ok or len(shape_in) > len(shape_out):
        n = len(shape_out)
        si = tuple(shape_in)
        pad = (1,) * max(n - len(si), 0) + si
        bad = next((i for i in range(n) if i < len(pad) and pad[i] not in (1, shape_out[i])), 0)
        raise RuntimeError(f"The expanded size of the tensor ({shape_out[bad] if n else 0}) must match "
                           f"the existing size ({pad[bad] if pad else 0}) at non-singleton dimension "
                           f"{bad}.  Target sizes: {list(shape_out)}.  Tensor sizes: {list(si)}")


class _Beta0Backward(Node):
    def backward_t(self, g):
        # g * beta with beta = 0, as in PyTorch (an inf in g gives nan there, too)
        return sum_to(g * 0, self.shape), g


def _integral_scalars(input: Tensor, prod: Tensor, beta, alpha, op: str):
    """PyTorch's scalars for integer (and bool) tensors: addr refuses a float beta/alpha, the
    other add* ops truncate it toward zero (``addmv(int, ..., beta=0.5)`` ignores ``input``)."""
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, (float, np.floating)) and op == "addr":
            raise RuntimeError(f"{op}: For integral input tensors, argument {name} must not be a floating "
                               "point number.")
    return (int(beta) if isinstance(beta, (float, np.floating)) else beta,
            int(alpha) if isinstance(alpha, (float, np.floating)) else alpha)


def _add_product(input, prod: Tensor, beta, alpha, op: str) -> Tensor:
    """beta * input + alpha * prod, with ``input`` broadcast to ``prod``'s shape."""
    _check(input, op, "input")
    _check_expand(input._data.shape, prod._data.shape, op)
    if input._data.dtype.kind in "biu" and prod._data.dtype.kind in "biu":
        beta, alpha = _integral_scalars(input, prod, beta, alpha, op)
        if input._data.dtype.kind == "b" and prod._data.dtype.kind == "b":
            # PyTorch's bool addr is logical: (beta and input) or (alpha and product)
            r = (np.asarray(bool(beta)) & input._data) | (np.asarray(bool(alpha)) & prod._data)
            return _wrap(np.ascontiguousarray(np.broadcast_to(r, prod._data.shape)))
    if (not _state.grad_enabled or not (input.requires_grad or prod.requires_grad)) \
            and input._data.dtype == prod._data.dtype and prod._data.dtype.kind in "fc":
        r = prod._data
        if alpha != 1:
            r *= alpha
        if beta != 0:
            r += input._data if beta == 1 else input._data * beta
        return prod
    prod = _scaled(prod, alpha)
    if beta == 0:
        if input._data.dtype != prod._data.dtype:
            prod = _cast(prod, result_type(input, prod))
        # input is ignored (its nan/inf do not propagate) but stays in the graph with gradient 0
        return record(prod._data, _Beta0Backward, (input, prod), shape=input._data.shape)
    return _scaled(input, beta) + prod


@autocast_op("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); ``input`` broadcasts to ``(n, m)``. With beta = 0,
    ``input`` is ignored (nan and inf in it do not propagate)."""
    if out is not None:
        return _write_out(out, addmm(input, mat1, mat2, beta=beta, alpha=alpha))
    return _add_product(input, mm(mat1, mat2), beta, alpha, "addmm")


@autocast_op("addmv")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    if out is not None:
        return _write_out(out, addmv(input, mat, vec, beta=beta, alpha=alpha))
    return _add_product(input, mv(mat, vec), beta, alpha, "addmv")


@autocast_op("addr")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    if out is not None:
        return _write_out(out, addr(input, vec1, vec2, beta=beta, alpha=alpha))
    return _add_product(input, outer(vec1, vec2), beta, alpha, "addr")


@autocast_op("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    if out is not None:
        return _write_out(out, baddbmm(input, batch1, batch2, beta=beta, alpha=alpha))
    return _add_product(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


@autocast_op("addbmm")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * sum_i batch1[i] @ batch2[i]."""
    if out is not None:
        return _write_out(out, addbmm(input, batch1, batch2, beta=beta, alpha=alpha))
    _check(batch1, "addbmm", "batch1")
    _check(batch2, "addbmm", "batch2")
    sa, sb = batch1._data.shape, batch2._data.shape
    if len(sa) != 3 or len(sb) != 3:
        raise RuntimeError(f"batch1 and batch2 must be 3D tensors, but got {len(sa)}D and {len(sb)}D")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    _matmul_prep(batch1, batch2, "addbmm")
    prod = _einsum_sub((batch1, batch2), ((0, 1, 2), (0, 2, 3)), (1, 3), "addbmm")
    return _add_product(input, prod, beta, alpha, "addbmm")


def outer(input: Tensor, vec2: Tensor, *, out=None) -> Tensor:
    """Outer product of two 1-D tensors: ``(n,), (m,) -> (n, m)`` (dtypes promote)."""
    if out is not None:
        return _write_out(out, outer(input, vec2))
    _check(input, "outer", "input")
    _check(vec2, "outer", "vec2")
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    a, b = _promote(input, vec2, "outer")
    return _einsum_sub((a, b), ((0,), (1,)), (0, 1), "outer")


ger = outer


def _promote(a: Tensor, b: Tensor, op: str):
    if a._data.dtype == b._data.dtype:
        if a._data.__class__ is not b._data.__class__:
            same_device(op, a, b)
        return a, b
    return _ew_promote(a, b, op)


def inner(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Sum of products over the last dims: ``(*a, k), (*b, k) -> (*a, *b)``; a 0-d operand
    multiplies."""
    if out is not None:
        return _write_out(out, inner(input, other))
    _check(input, "inner", "input")
    _check(other, "inner", "other")
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    sa, sb = input._data.shape, other._data.shape
    if sa[-1] != sb[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(sa)} and {list(sb)}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = len(sa), len(sb)
    k = na + nb - 1
    subs_a = tuple(range(na - 1)) + (k,)
    subs_b = tuple(range(na - 1, na + nb - 2)) + (k,)
    return _einsum_sub((input, other), (subs_a, subs_b), tuple(range(na + nb - 2)), "inner")



def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Kronecker product: the shapes multiply dim by dim (the shorter one padded with leading 1s)."""
    if out is not None:
        return _write_out(out, kron(input, other))
    _check(input, "kron", "input")
    _check(other, "kron", "other")
    sa, sb = tuple(input._data.shape), tuple(other._data.shape)
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + sa
    sb = (1,) * (n - len(sb)) + sb
    ia = []
    ib = []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    r = input.reshape(tuple(ia)) * other.reshape(tuple(ib))
    return r.reshape(tuple(x * y for x, y in zip(sa, sb)))


# --------------------------------------------------------------------------- cross, trace
class LinalgCrossBackward0(Node):
    def backward_t(self, g, a, b):
        d = self.dim
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(_cross(_conj(b), g, d), self.sa)
        if self.next[1] is not None:
            gb = sum_to(_cross(g, _conj(a), d), self.sb)
        return ga, gb


def _cross(a: Tensor, b: Tensor, d: int) -> Tensor:
    """a x b along dim ``d`` (negative), broadcasting the other dims."""
    r = np.cross(a._data, b._data, axis=d)
    return record(r, LinalgCrossBackward0, (a, b), save=(a, b), dim=d, sa=a._data.shape,
                  sb=b._data.shape)


def _cross_impl(input, other, dim, op: str) -> Tensor:
    _check(input, op, "input")
    _check(other, op, "other")
    ad, bd = input._data, other._data
    if ad.ndim != bd.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"expected scalar type {_tname(ad.dtype)} but found {_tname(bd.dtype)}")
    err = _batch_mismatch(ad.shape, bd.shape)
    if err is not None:
        raise err
    d = canon_dim(dim, ad.ndim, op)
    if ad.shape[d] != 3 or bd.shape[d] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got {ad.shape[d]} and "
                           f"{bd.shape[d]}")
    return _cross(input, other, d - ad.ndim)


@autocast_op("cross")
def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3, deprecated;
    ``ferrum.linalg.cross`` defaults to the last dim)."""
    if out is not None:
        return _write_out(out, cross(input, other, dim))
    if dim is None:
        _check(input, "cross", "input")
        _check(other, "cross", "other")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
                      "pass the dim explicitly or simply use torch.linalg.cross.", UserWarning,
                      stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape) \
            if input._data.ndim == other._data.ndim else input._data.shape
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shape {list(input._data.shape)})")
    return _cross_impl(input, other, dim, "linalg.cross")


class TraceBackward0(Node):
    def backward_t(self, g):
        n, m = self.shape
        return (g * _const_like(g, np.eye(n, m, dtype=g._data.dtype)),)


@autocast_op("trace")
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    _check(input, "trace", "input")
    d = input._data
    if d.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {d.ndim}")
    if d.dtype.kind in "biu":
        r = np.trace(d, dtype=np.int64)
    else:
        r = np.trace(d)
    return record(np.asarray(r), TraceBackward0, (input,), shape=d.shape)


@autocast_op("chain_matmul")
def chain_matmul(*matrices) -> Tensor:
    """Product of 2-D matrices (deprecated in PyTorch for ``linalg.multi_dot``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    return multi_dot(matrices)


# --------------------------------------------------------------------------- ferrum.linalg products
@autocast_op("linalg_multi_dot")
def multi_dot(tensors, *, out=None) -> Tensor:
    """Product of a chain of matrices (the first may be 1-D, as may the last)."""
    if out is not None:
        return _write_out(out, multi_dot(tensors))
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        nd = t._data.ndim
        if (i in (0, len(ts) - 1) and nd not in (1, 2)) or (0 < i < len(ts) - 1 and nd != 2):
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D" +
                               (" or 1D" if i in (0, len(ts) - 1) else "") + f" but got {nd}D")
    r = ts[0]
    for t in ts[1:]:
        r = matmul(r, t)
    return r


@autocast_op("linalg_vecdot")
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Dot products of vectors along ``dim`` (``x`` conjugated), broadcasting the other dims."""
    if out is not None:
        return _write_out(out, vecdot(x, y, dim=dim))
    _check(x, "linalg.vecdot", "x")
    _check(y, "linalg.vecdot", "y")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_tname(x._data.dtype)} and y of type {_tname(y._data.dtype)} instead")
    return (_conj(x) * y).sum(dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """``linalg.cross``: cross product of 3-vectors along ``dim`` (default the last); other dims
    broadcast."""
    if out is not None:
        return _write_out(out, linalg_cross(input, other, dim=dim))
    return _cross_impl(input, other, dim, "linalg.cross")


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``linalg.diagonal``: the diagonals of a batch of matrices (a view)."""
    return A.diagonal(offset=offset, dim1=dim1, dim2=dim2)


# --------------------------------------------------------------------------- Tensor methods
def _inplace(name, fn):
    def op(self, *args, **kwargs):
        return apply_inplace(self, lambda t: fn(t, *args, **kwargs), name)
    op.__name__ = name
    op.__doc__ = f"In-place {name[:-1]}."
    return op


def __imatmul__(self, other):  # noqa: N807
    return apply_inplace(self, matmul, "matmul_", other)


def _attach():
    T = Tensor
    T.__matmul__ = _matmul_op
    T.__rmatmul__ = _rmatmul_op
    T.__imatmul__ = __imatmul__
    for name in ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
                 "addr", "baddbmm", "addbmm", "kron", "trace"]:
        setattr(T, name, globals()[name])
    T.cross = lambda self, other, dim=None: cross(self, other, dim)
    for name in ["addmm", "addmv", "addr", "baddbmm", "addbmm"]:
        setattr(T, name + "_", _inplace(name + "_", globals()[name]))


_attach()
