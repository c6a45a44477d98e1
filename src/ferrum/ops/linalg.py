"""Products of tensors: matmul (``@``), mm, bmm, mv, dot, outer, the add* family, einsum,
tensordot, kron, cross, trace, matrix_power.

matmul is the hottest op of a dense network (``Linear`` is ``x @ w.t() + b``): its forward is one
``@`` on the raw arrays (BLAS for float32/float64; transposed C arrays need no copy), and its node
has ``__slots__`` and a backward on raw arrays (Tensors under ``create_graph``, where the same
formulas record themselves, so every product here is differentiable any number of times).

einsum is the general bilinear primitive: tensordot, outer, inner and addbmm are built on it. Its
backward is again einsum, with the equation permuted so that the operand being differentiated
becomes the output.

The decompositions and norms live in ``ferrum.linalg`` (loaded on first use); the top-level
aliases of the decompositions (``ferrum.det``, ``ferrum.inverse``, ``Tensor.svd`` ...) are defined
here and import it lazily. ``torch.norm`` / ``Tensor.norm`` belong to ``ops.reduce``.
"""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _state
from .._dtype import result_type
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, edge, record, sum_to, version_error
from ._common import canon_dim, same_device

__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "addr",
    "baddbmm", "addbmm", "einsum", "tensordot", "kron", "cross", "trace", "matrix_power",
    "chain_matmul", "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky",
    "cholesky_inverse", "cholesky_solve", "svd", "qr", "matrix_exp",
]

_new = object.__new__
_ndarray = np.ndarray
_pyint, _pyfloat, _pybool = builtins.int, builtins.float, builtins.bool

# PyTorch's names of scalar types, as its error messages print them
_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_T_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "int16": "Short",
            "int8": "Char", "uint8": "Byte", "bool": "Bool", "float16": "Half", "bfloat16": "BFloat16",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _tname(d) -> str:
    return _T_NAMES.get(np.dtype(d).name, str(d))


def _cname(d) -> str:
    return _C_NAMES.get(np.dtype(d).name, str(d))


def _check(x, op: str, arg: str) -> Tensor:
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


def _mm_dtype_error(ad, bd) -> RuntimeError:
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cname(ad.dtype)} != "
                        f"{_cname(bd.dtype)}")


def _check_kind(d, op: str) -> None:
    if d.dtype.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")


def _x(shape) -> str:
    return "x".join(str(n) for n in shape)


def _batch_mismatch(ba, bb):
    """The RuntimeError for batch shapes that do not broadcast, or None."""
    n = max(len(ba), len(bb))
    ba = (1,) * (n - len(ba)) + tuple(ba)
    bb = (1,) * (n - len(bb)) + tuple(bb)
    for i, (x, y) in enumerate(zip(ba, bb)):
        if x != y and x != 1 and y != 1:
            return RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                f"non-singleton dimension {i}")
    return None


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


class _ConjBackward(Node):
    def backward_t(self, g):
        return (_conj(g),)


def _conj(t: Tensor) -> Tensor:
    """Complex conjugate (differentiable); real tensors are returned as they are."""
    if t._data.dtype.kind != "c":
        return t
    return record(np.conj(t._data), _ConjBackward, (t,))


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


def _matmul_grads(g, a, b, sa: tuple, sb: tuple, lay: int = 0):
    """(grad_a, grad_b) of ``a @ b`` for output gradient ``g``; ``a``/``b`` None when not needed
    (``a`` is needed for grad_b and ``b`` for grad_a). ``lay`` bit 1 / bit 2: 2-D ``a`` / ``b``
    was a transposed (Fortran-ordered) array; its gradient is then made in that layout, so that
    the transpose that produced it (``w.t()`` in ``Linear``) hands back a C-contiguous array."""
    na, nb = len(sa), len(sb)
    if a is not None:
        a = _cj(a)  # complex: the gradients use conjugated operands
    if b is not None:
        b = _cj(b)
    if na == 2 and nb == 2:
        ga = gb = None
        if b is not None:
            ga = _mT(_pmatmul(b, _mT(g))) if lay & 1 else _pmatmul(g, _mT(b))
        if a is not None:
            gb = _mT(_pmatmul(_mT(g), a)) if lay & 2 else _pmatmul(_mT(a), g)
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

    __slots__ = ("a", "b", "va", "vb", "sa", "sb", "lay")
    _saved = ("a", "b")

    def backward(self, g):
        graph = g.__class__ is Tensor
        nxt = self.next
        a = b = None
        if nxt[1] is not None:
            a = self.a
            if a._version[0] != self.va:
                raise version_error(a, self.va, self)
            a = a if graph else a._data
        if nxt[0] is not None:
            b = self.b
            if b._version[0] != self.vb:
                raise version_error(b, self.vb, self)
            b = b if graph else b._data
        return _matmul_grads(g, a, b, self.sa, self.sb, self.lay)


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
    if r.__class__ is not _ndarray and isinstance(r, np.generic):
        r = np.asarray(r)
    out = _new(Tensor)
    out._data = r
    out._grad = None
    out._version = [0]
    out._view = None
    out._hooks = None
    if _state.grad_enabled and (a.requires_grad or b.requires_grad):
        _record(out, a, b, cls)
    else:
        out.requires_grad = False
        out.grad_fn = None
    return out


def _record(out: Tensor, a: Tensor, b: Tensor, cls) -> None:
    """Attaches a ``cls`` node for ``out = a @ b`` (some operand requires grad)."""
    ra = a.requires_grad
    rb = b.requires_grad
    node = _new(cls)
    node.next = (edge(a), edge(b))
    node.a = a if rb else None
    node.b = b if ra else None
    node.va = a._version[0]
    node.vb = b._version[0]
    ad = a._data
    bd = b._data
    node.sa = ad.shape
    node.sb = bd.shape
    lay = 0
    if ra and ad.ndim == 2 and not ad.flags.c_contiguous and ad.flags.f_contiguous:
        lay = 1
    if rb and bd.ndim == 2 and not bd.flags.c_contiguous and bd.flags.f_contiguous:
        lay |= 2
    node.lay = lay
    out.requires_grad = True
    out.grad_fn = node


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


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D @ 1-D is a dot product; a 1-D operand gets a dim
    prepended (first) or appended (second) that is removed from the result; N-D operands are
    batches of matrices whose batch dims broadcast. ``(*, n, k) @ (*, k, m) -> (*, n, m)``."""
    if out is not None:
        from .elementwise import _write_out
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
    if other.__class__ is Tensor:
        ad = self._data
        bd = other._data
        dt = ad.dtype
        if ((dt is _F32 or dt is _F64) and bd.dtype is dt and ad.__class__ is _ndarray
                and bd.__class__ is _ndarray and ad.ndim == 2 and bd.ndim == 2
                and ad.shape[1] == bd.shape[0]):
            out = _new(Tensor)
            out._data = ad @ bd
            out._grad = None
            out._version = [0]
            out._view = None
            out._hooks = None
            if _state.grad_enabled and (self.requires_grad or other.requires_grad):
                _record(out, self, other, MmBackward0)
            else:
                out.requires_grad = False
                out.grad_fn = None
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


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Product of two matrices: ``(n, k) @ (k, m) -> (n, m)`` (no broadcasting)."""
    if out is not None:
        from .elementwise import _write_out
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


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched product of 3-D tensors: ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting)."""
    if out is not None:
        from .elementwise import _write_out
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


def mv(input: Tensor, vec: Tensor, *, out=None) -> Tensor:
    """Matrix-vector product: ``(n, m) @ (m,) -> (n,)``."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, mv(input, vec))
    _check(input, "mv", "input")
    _check(vec, "mv", "vec")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    ad, bd = _matmul_prep(input, vec, "mv")
    return _finish(_raw_matmul(ad, bd), input, vec, MvBackward0)


def dot(input: Tensor, tensor: Tensor, *, out=None) -> Tensor:
    """Dot product of two 1-D tensors of the same length and dtype (a 0-d tensor)."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, dot(input, tensor))
    _check(input, "dot", "input")
    _check(tensor, "dot", "tensor")
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D "
                           "tensors")
    ad, bd = _matmul_prep(input, tensor, "dot")
    return _finish(_raw_matmul(ad, bd), input, tensor, DotBackward0)


def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Dot product of 1-D tensors with the first one conjugated."""
    if out is not None:
        from .elementwise import _write_out
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
        return sum_to(g * 0, self.shape), g


def _add_product(input, prod: Tensor, beta, alpha, op: str) -> Tensor:
    """beta * input + alpha * prod, with ``input`` broadcast to ``prod``'s shape."""
    _check(input, op, "input")
    _check_expand(input._data.shape, prod._data.shape, op)
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
            from .elementwise import _cast
            prod = _cast(prod, result_type(input, prod))
        # input is ignored (its nan/inf do not propagate) but stays in the graph with gradient 0
        return record(prod._data, _Beta0Backward, (input, prod), shape=input._data.shape)
    return _scaled(input, beta) + prod


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); ``input`` broadcasts to ``(n, m)``. With beta = 0,
    ``input`` is ignored (nan and inf in it do not propagate)."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, addmm(input, mat1, mat2, beta=beta, alpha=alpha))
    return _add_product(input, mm(mat1, mat2), beta, alpha, "addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, addmv(input, mat, vec, beta=beta, alpha=alpha))
    return _add_product(input, mv(mat, vec), beta, alpha, "addmv")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, addr(input, vec1, vec2, beta=beta, alpha=alpha))
    return _add_product(input, outer(vec1, vec2), beta, alpha, "addr")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, baddbmm(input, batch1, batch2, beta=beta, alpha=alpha))
    return _add_product(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta * input + alpha * sum_i batch1[i] @ batch2[i]."""
    if out is not None:
        from .elementwise import _write_out
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
        from .elementwise import _write_out
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
    from .elementwise import _promote as p
    return p(a, b, op)


def inner(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Sum of products over the last dims: ``(*a, k), (*b, k) -> (*a, *b)``; a 0-d operand
    multiplies."""
    if out is not None:
        from .elementwise import _write_out
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


# --------------------------------------------------------------------------- einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_EINSUM_OPT_SIZE = 4096  # above this many elements in an operand, let NumPy pick a BLAS path


def _parse_einsum(equation: str, shapes) -> tuple:
    """Equation -> (subs per operand as label tuples, output labels). Labels are ints: the letters
    are 0..51, ellipsis dims get labels from 52 up (right-aligned across operands)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    pos = 0
    parsed = []
    n_ell = 0
    for i, term in enumerate(terms):
        labels = []
        ell = None
        j = 0
        while j < len(term):
            c = term[j]
            if c == ".":
                if term[j:j + 3] != "..." or ell is not None:
                    raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any "
                                       "ellipsis" if term[j:j + 3] != "..." else
                                       f"einsum(): found '.' for operand {i} for which an ellipsis was "
                                       "already found")
                ell = len(labels)
                j += 3
                continue
            k = _LETTERS.find(c)
            if k < 0:
                raise RuntimeError(f"einsum(): invalid subscript given at index {pos + j} in the equation "
                                   "string, subscripts must be in [a-zA-Z]")
            labels.append(k)
            j += 1
        pos += len(term) + 1
        nd = len(shapes[i])
        if ell is None and len(labels) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) does "
                               f"not match the number of dimensions ({nd}) for operand {i} and no "
                               "ellipsis was given")
        if ell is not None and len(labels) > nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) is "
                               f"more than the number of dimensions ({nd}) for operand {i}")
        if ell is not None:
            n_ell = max(n_ell, nd - len(labels))
        parsed.append((labels, ell, nd))
    subs = []
    for labels, ell, nd in parsed:
        if ell is None:
            subs.append(tuple(labels))
        else:
            k = nd - len(labels)
            subs.append(tuple(labels[:ell]) + tuple(52 + n_ell - k + m for m in range(k))
                        + tuple(labels[ell:]))
    ell_labels = tuple(range(52, 52 + n_ell))
    if rhs is None:
        counts: dict = {}
        for s in subs:
            for lab in s:
                counts[lab] = counts.get(lab, 0) + 1
        out = ell_labels + tuple(sorted(lab for lab, c in counts.items() if c == 1 and lab < 52))
    else:
        out = []
        seen_ell = False
        j = 0
        used = {lab for s in subs for lab in s}
        while j < len(rhs):
            c = rhs[j]
            if c == ".":
                if rhs[j:j + 3] != "..." or seen_ell:
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis"
                                       if rhs[j:j + 3] != "..." else
                                       "einsum(): found '.' for output for which an ellipsis was "
                                       "already found")
                seen_ell = True
                out.extend(ell_labels)
                j += 3
                continue
            k = _LETTERS.find(c)
            if k < 0:
                raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + j} in the "
                                   "equation string, subscripts must be in [a-zA-Z]")
            if k not in used:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for "
                                   "any input operand")
            if k in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            out.append(k)
            j += 1
        out = tuple(out)
    return subs, out


def _label_name(lab: int) -> str:
    return _LETTERS[lab] if 0 <= lab < 52 else "..."


def _einsum_sub(operands, subs, out, op: str = "einsum") -> Tensor:
    """einsum on integer sublists: ``operands[i]`` has labels ``subs[i]``; the result ``out``.

    Size-1 dims broadcast against other sizes of the same label, as in PyTorch.
    """
    arrays = [t._data for t in operands]
    dt = arrays[0].dtype
    for a in arrays:
        if a.dtype != dt:
            raise RuntimeError(f"expected scalar type {_tname(dt)} but found {_tname(a.dtype)}")
        if a.__class__ is not arrays[0].__class__:
            same_device(op, *operands)
    if dt.kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    sizes: dict = {}
    for i, (s, a) in enumerate(zip(subs, arrays)):
        for lab, n in zip(s, a.shape):
            prev = sizes.get(lab)
            if prev is None or prev == 1:
                sizes[lab] = n
            elif n != prev and n != 1:
                raise RuntimeError(f"einsum(): subscript {_label_name(lab)} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {prev}")
    # broadcast size-1 dims become labels of their own (summed away, trivially)
    nxt = max([lab for s in subs for lab in s] + list(out) + [-1]) + 1
    new_subs = []
    for s, a in zip(subs, arrays):
        if any(n == 1 and sizes[lab] != 1 for lab, n in zip(s, a.shape)):
            s2 = []
            for lab, n in zip(s, a.shape):
                if n == 1 and sizes[lab] != 1:
                    s2.append(nxt)
                    sizes[nxt] = 1
                    nxt += 1
                else:
                    s2.append(lab)
            s = tuple(s2)
        new_subs.append(tuple(s))
    subs = new_subs
    # compact the labels to 0..n-1 for NumPy (which takes at most 52)
    used = sorted({lab for s in subs for lab in s} | set(out))
    if len(used) > 52:
        raise RuntimeError(f"einsum(): too many distinct subscripts ({len(used)}); at most 52 are supported")
    remap = {lab: i for i, lab in enumerate(used)}
    subs = tuple(tuple(remap[lab] for lab in s) for s in subs)
    out = tuple(remap[lab] for lab in out)
    sizes = {remap[lab]: n for lab, n in sizes.items() if lab in remap}
    r = _raw_einsum(arrays, subs, out)
    return record(r, EinsumBackward, tuple(operands), save=tuple(operands), subs=subs, out_subs=out,
                  sizes=sizes)


def _raw_einsum(arrays, subs, out):
    eq = ",".join("".join(_LETTERS[lab] for lab in s) for s in subs) + "->" + \
        "".join(_LETTERS[lab] for lab in out)
    big = len(arrays) > 2 or (len(arrays) == 2 and builtins.max(a.size for a in arrays) > _EINSUM_OPT_SIZE)
    dt = arrays[0].dtype
    if dt.kind == "V" or dt.name == "bfloat16":  # NumPy's einsum has no bfloat16 loops
        arrays = [a.astype(np.float32) for a in arrays]
    try:
        r = np.einsum(eq, *arrays, optimize=big)
    except ValueError as e:
        raise RuntimeError(f"einsum(): {e}") from None
    if r.dtype != dt:
        return np.asarray(r).astype(dt)
    if r.__class__ is not _ndarray and isinstance(r, np.generic):
        return np.asarray(r)
    for a in arrays:
        if np.may_share_memory(r, a):
            return r.copy()
    return r


class EinsumBackward(Node):
    """Gradient of operand i: the einsum of the output gradient with the other operands, whose
    output is operand i's subscripts. Labels only operand i has get a ones vector; a label repeated
    within operand i (a diagonal) gets identity matrices tying the repeats together."""

    def backward_t(self, g, *ops):
        subs, out, sizes = self.subs, self.out_subs, self.sizes
        grads = []
        nxt_label = builtins.max(sizes) + 1 if sizes else 0
        for i, s in enumerate(subs):
            if self.next[i] is None:
                grads.append(None)
                continue
            operands = [g]
            sl = [out]
            for j, (t, sj) in enumerate(zip(ops, subs)):
                if j != i:
                    operands.append(_conj(t))
                    sl.append(sj)
            have = set(out).union(*[set(x) for x in sl[1:]]) if len(sl) > 1 else set(out)
            target = []
            seen = set()
            for lab in s:
                if lab in seen:  # a repeat: a fresh label tied to the first by an identity matrix
                    n = sizes[lab]
                    eye = _const_like(g, np.eye(n, dtype=g._data.dtype))
                    operands.append(eye)
                    sl.append((lab, nxt_label))
                    target.append(nxt_label)
                    nxt_label += 1
                    continue
                seen.add(lab)
                target.append(lab)
                if lab not in have:
                    operands.append(_const_like(g, np.ones(sizes[lab], dtype=g._data.dtype)))
                    sl.append((lab,))
                    have.add(lab)
            gi = _einsum_sub(operands, sl, tuple(target))
            grads.append(gi)
        return tuple(grads)


def _const_like(g: Tensor, arr) -> Tensor:
    d = g._data
    if d.__class__ is not _ndarray:
        from .._device import move_array
        return _wrap(move_array(arr, g.device))
    return _wrap(arr)


def einsum(*args) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)``. Supports ``...`` (broadcast dims),
    implicit output (the labels seen once, sorted, after the ellipsis dims), size-1 broadcasting,
    a list of operands as the second argument, and the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at "
                        "least one operand and its subscripts list")
    if isinstance(args[0], str):
        equation = args[0]
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        for i, t in enumerate(operands):
            if not isinstance(t, Tensor):
                raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
        if not operands:
            raise RuntimeError("einsum(): must provide at least one operand")
        subs, out = _parse_einsum(equation, [t._data.shape for t in operands])
        return _einsum_sub(operands, subs, out)
    # sublist format
    items = list(args)
    operands, sublists = [], []
    while len(items) >= 2 and isinstance(items[0], Tensor):
        operands.append(items.pop(0))
        sublists.append(items.pop(0))
    out_list = items.pop(0) if items else None
    if items or not operands:
        raise TypeError("einsum(): expected operands and subscript lists alternating, then an optional "
                        "output subscript list")
    letters = []
    for s in sublists:
        letters.append("".join("..." if x is Ellipsis else _LETTERS[_sub_int(x)] for x in s))
    eq = ",".join(letters)
    if out_list is not None:
        eq += "->" + "".join("..." if x is Ellipsis else _LETTERS[_sub_int(x)] for x in out_list)
    return einsum(eq, *operands)


def _sub_int(x) -> int:
    x = int(x)
    if not 0 <= x < 52:
        raise ValueError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), "
                         f"got {x}")
    return x


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contracts dims of ``a`` with dims of ``b``: ``dims`` is an int (the last ``dims`` of ``a``
    with the first ``dims`` of ``b``) or a pair of lists of dims."""
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, tensordot(a, b, dims))
    _check(a, "tensordot", "a")
    _check(b, "tensordot", "b")
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        d = int(dims)
        if d < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={d}")
        if d > na or d > nb:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={d}")
        da, db = list(range(na - d, na)), list(range(d))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dims")
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
        da = [canon_dim(x, na, "tensordot") for x in da]
        db = [canon_dim(x, nb, "tensordot") for x in db]
    sa, sb = a._data.shape, b._data.shape
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[x]} in dim "
                               f"{x - na if x - na < 0 else x} and second has size {sb[y]} in dim {y}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    subs_a = list(range(na))
    subs_b = list(range(na, na + nb))
    for x, y in zip(da, db):
        subs_b[y] = subs_a[x]
    out_subs = [s for i, s in enumerate(subs_a) if i not in da] + \
               [s for i, s in enumerate(subs_b) if i not in db]
    return _einsum_sub((a, b), (tuple(subs_a), tuple(subs_b)), tuple(out_subs), "tensordot")


def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Kronecker product: the shapes multiply dim by dim (the shorter one padded with leading 1s)."""
    if out is not None:
        from .elementwise import _write_out
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


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3, deprecated;
    ``ferrum.linalg.cross`` defaults to the last dim)."""
    if out is not None:
        from .elementwise import _write_out
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


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` (a batch of square matrices) to the integer power ``n`` (negative: of the inverse)."""
    _check(input, "matrix_power", "input")
    d = input._data
    if d.ndim < 2 or d.shape[-1] != d.shape[-2]:
        dims = f"{d.shape[-2]} by {d.shape[-1]}" if d.ndim >= 2 else f"{d.ndim}-D"
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{dims} matrices")
    n = int(n)
    if n == 0:
        eye = np.broadcast_to(np.eye(d.shape[-1], dtype=d.dtype), d.shape).copy()
        r = _const_like(input, eye)
        return r
    x = input
    if n < 0:
        from .. import linalg as la
        x = la.inv(input)
        n = -n
    result = None
    while True:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if not n:
            break
        x = matmul(x, x)
    return result


def chain_matmul(*matrices) -> Tensor:
    """Product of 2-D matrices (deprecated in PyTorch for ``linalg.multi_dot``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    from .. import linalg as la
    return la.multi_dot(matrices)


# --------------------------------------------------------------------------- lazy aliases of ferrum.linalg
def det(input: Tensor) -> Tensor:
    """Determinant of a batch of square matrices (``linalg.det``)."""
    from .. import linalg as la
    return la.det(input)


def logdet(input: Tensor) -> Tensor:
    """log(det(input)): nan for a negative determinant, -inf for a zero one."""
    from .. import linalg as la
    sign, logabs = la.slogdet(input)
    from .elementwise import where
    return where(sign < 0, math.nan, logabs) if input._data.dtype.kind != "c" else logabs + sign.log()


def slogdet(input: Tensor):
    from .. import linalg as la
    return la.slogdet(input)


def inverse(input: Tensor, *, out=None) -> Tensor:
    from .. import linalg as la
    return la.inv(input, out=out)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    from .. import linalg as la
    return la.pinv(input, rtol=rcond)


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    from .. import linalg as la
    return la.cholesky(input, upper=upper, out=out)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: N803
    """Solves ``A X = B`` given the Cholesky factor of ``A``."""
    from .. import linalg as la
    Lh = _conj(L.transpose(-2, -1))  # noqa: N806
    A = Lh @ L if upper else L @ Lh  # noqa: N806
    return la.solve(A, B, out=out)


def cholesky_inverse(L: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: N803
    """Inverse of ``A`` given its Cholesky factor."""
    from .. import linalg as la
    Lh = _conj(L.transpose(-2, -1))  # noqa: N806
    A = Lh @ L if upper else L @ Lh  # noqa: N806
    return la.inv(A, out=out)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """``torch.svd``: (U, S, V) with V (not its conjugate transpose); reduced when ``some``."""
    from .. import linalg as la
    return la._torch_svd(input, some, compute_uv)


def qr(input: Tensor, some: bool = True, *, out=None):
    from .. import linalg as la
    return la.qr(input, "reduced" if some else "complete")


def matrix_exp(input: Tensor) -> Tensor:
    from .. import linalg as la
    return la.matrix_exp(input)


# --------------------------------------------------------------------------- Tensor methods
def _inplace(name, fn):
    def op(self, *args, **kwargs):
        from .inplace import apply_inplace
        return apply_inplace(self, lambda t: fn(t, *args, **kwargs), name)
    op.__name__ = name
    op.__doc__ = f"In-place {name[:-1]}."
    return op


def _attach():
    T = Tensor
    T.__matmul__ = _matmul_op
    T.__rmatmul__ = _rmatmul_op
    for name in ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv",
                 "addr", "baddbmm", "addbmm", "kron", "trace", "matrix_power", "det", "logdet",
                 "slogdet", "inverse", "pinverse", "cholesky", "cholesky_inverse", "cholesky_solve",
                 "svd", "qr", "matrix_exp"]:
        setattr(T, name, globals()[name])
    T.cross = lambda self, other, dim=None: cross(self, other, dim)
    for name in ["addmm", "addmv", "addr", "baddbmm", "addbmm"]:
        setattr(T, name + "_", _inplace(name + "_", globals()[name]))

    def __imatmul__(self, other):  # noqa: N807
        from .inplace import apply_inplace
        return apply_inplace(self, matmul, "matmul_", other)
    T.__imatmul__ = __imatmul__


_attach()
