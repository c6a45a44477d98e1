"""What the linear-algebra op modules share, one floor below them: argument checks and PyTorch's
spellings of dtypes in their messages, conjugation, constants on an operand's device, and the
glue around NumPy's LAPACK wrappers (dtype upcasts, per-batch error reports, the finiteness
check that keeps non-finite input away from the LAPACK routines that loop forever on it, and
the recording of multi-output decompositions).

Layering: ``einsum`` -> ``matmul`` -> ``solve`` -> ``decomp`` -> ``linalg_norm`` each import
from here and from the modules before them; nothing here imports them.
"""

from __future__ import annotations

import numpy as np

from .._device import move_array
from .._dtype import from_np, scalar_name
from .._tensor import Tensor, _wrap
from ..autograd.function import Node, record, version_error
from ._common import xp_of


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed (singular or not positive-definite input)."""


_ndarray = np.ndarray

# PyTorch's C++ type names, as its matmul dtype errors print them ("float != double")
_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _tname(d) -> str:
    """PyTorch's ScalarType name of NumPy dtype ``d`` ('Float', 'Long', ...)."""
    return scalar_name(from_np(np.dtype(d)))


def _cname(d) -> str:
    return _C_NAMES.get(np.dtype(d).name, str(d))


def _check(x, op: str, arg: str) -> Tensor:
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    return x


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


# --------------------------------------------------------------------------- conjugation, constants
class _ConjBackward(Node, name="ConjBackward0"):
    def backward_t(self, g):
        return (_conj(g),)


def _conj(t: Tensor) -> Tensor:
    """Complex conjugate (differentiable); real tensors are returned as they are."""
    if t._data.dtype.kind != "c":
        return t
    return record(np.conj(t._data), _ConjBackward, (t,))


def _mH(x: Tensor) -> Tensor:
    """Conjugate transpose of the last two dims."""
    return _conj(x.transpose(-2, -1))


def _const_like(g: Tensor, arr) -> Tensor:
    """Array ``arr`` as a constant Tensor on ``g``'s device."""
    if g._data.__class__ is not _ndarray:
        return _wrap(move_array(arr, g.device))
    return _wrap(arr)


def _eye(like: Tensor, n: int) -> Tensor:
    return _const_like(like, np.eye(n, dtype=like._data.dtype))


# --------------------------------------------------------------------------- LAPACK glue
def _check_float(A: Tensor, op: str) -> None:
    if A._data.dtype.kind not in "fc" and A.dtype.category < 2:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_tname(A._data.dtype)}")


def _check_matrix(A, op: str, square: bool = True) -> Tensor:
    _check(A, op, "A")
    _check_float(A, op)
    d = A._data
    if d.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if square and d.shape[-1] != d.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {d.shape[-2]} by "
                           f"{d.shape[-1]} matrices")
    return A


def _np_dtype_ok(d):
    """Arrays LAPACK takes: float16/bfloat16 are computed in float32."""
    if (d.dtype.kind == "f" and d.dtype.itemsize < 4) or d.dtype.kind == "V" or d.dtype.name == "bfloat16":
        return d.astype(np.float32)
    return d


def _back(r, like):
    """Result ``r`` in the dtype of input array ``like`` (undoes _np_dtype_ok's upcast)."""
    return r.astype(like.dtype) if r.dtype != like.dtype else r


def _real_dtype(dt):
    return np.dtype(np.float64 if dt == np.complex128 else np.float32) if dt.kind == "c" else dt


def _batch_index(shape) -> list:
    return list(np.ndindex(*shape)) if shape else [()]


def _batch_prefix(idx, batch) -> str:
    return f"(Batch element {np.ravel_multi_index(idx, batch)}): " if batch else ""


def _lapack_error(op: str, d, fn, what) -> LinAlgError:
    """The error for a failed factorization, naming the first failing batch element."""
    batch = d.shape[:-2]
    for idx in _batch_index(batch):
        try:
            fn(d[idx])
        except np.linalg.LinAlgError:
            return LinAlgError(f"{op}: {_batch_prefix(idx, batch)}{what(d[idx])}")
    return LinAlgError(f"{op}: {what(d)}")


def _nonfinite(d):
    """(has_nan, has_inf) per matrix of the batch ``d`` (arrays of the batch shape), or None when
    every element is finite (the common case costs one pass over the data)."""
    if d.size == 0 or bool(np.isfinite(d).all()):
        return None
    nan = np.isnan(d).any(axis=(-2, -1))
    inf = np.isinf(d).any(axis=(-2, -1))
    return nan, inf


def _raise_if_nan(op: str, d, bad, what: str) -> None:
    """LinAlgError naming the first matrix with a NaN (LAPACK does not converge on it, in torch)."""
    nan = bad[0]
    if nan.any():
        batch = d.shape[:-2]
        idx = next(i for i in _batch_index(batch) if nan[i])
        raise LinAlgError(f"{op}: {_batch_prefix(idx, batch)}{what}")


class _DecompNode(Node):
    """One output of a multi-output decomposition (Q or R of qr, U, S or Vh of svd ...).

    ferrum's nodes have one output each, so each output gets its own node, which computes the part
    of the input's gradient that comes from its own output's gradient (``self.which``); the
    backward formulas are linear in the output gradients, so the engine's sum over the outputs is
    the whole gradient. Every node keeps all outputs (``self.outs``, with their graph, so double
    backward works), checked against in-place changes here. Subclasses write
    ``grad(A, outs, grads)`` with ``grads`` None except at ``which``.
    """

    _saved = ("saved", "outs")

    def backward_t(self, g, A):
        outs, vers = self.outs
        for o, v in zip(outs, vers):
            if o._version[0] != v:
                raise version_error(o, v, self)
        grads = [None] * len(outs)
        grads[self.which] = g
        return (self.grad(A, outs, grads),)


def _record_multi(arrays, node_cls, A: Tensor, **attrs) -> list:
    """Wraps the outputs ``arrays`` of a decomposition of ``A``; records a ``node_cls`` (a
    :class:`_DecompNode`) on each when ``A`` needs a gradient."""
    outs = [record(a, node_cls, (A,), save=(A,), which=i, **attrs) for i, a in enumerate(arrays)]
    if outs[0].grad_fn is not None:
        link = (outs, [o._version[0] for o in outs])
        for o in outs:
            o.grad_fn.outs = link
    return outs


# --------------------------------------------------------------------------- SVD and eigh that never hang
_SVD_NAN_MSG = "The algorithm failed to converge because the input matrix contained non-finite values."
_EIGH_FAIL_MSG = ("The algorithm failed to converge because the input matrix is ill-conditioned or has too "
                  "many repeated eigenvalues.")


def _stack_eye(like, batch: tuple, m: int, n: int):
    """A batch of (m, n) identity matrices in the dtype and on the device of array ``like``."""
    xp = xp_of(like)
    return xp.broadcast_to(xp.eye(m, n, dtype=like.dtype), batch + (m, n)).copy()


def _svd_arrays(d, compute_uv: bool = True, full_matrices: bool = True):
    """``np.linalg.svd`` of the batch ``d`` (float16/bfloat16 in float32) that never hangs.

    LAPACK's gesdd loops forever on an infinite entry, so finiteness is checked first and only
    finite matrices reach it. As in PyTorch, a matrix with a NaN raises LinAlgError; one with an
    infinity (and no NaN) gets NaN singular values and identity singular vectors (so that pinv
    and matrix_rank, which drop NaN singular values, give 0 as PyTorch does).
    """
    dd = _np_dtype_ok(d)
    bad = _nonfinite(dd)
    try:
        if bad is None:
            return np.linalg.svd(dd, full_matrices=full_matrices, compute_uv=compute_uv)
        _raise_if_nan("linalg.svd", dd, bad, _SVD_NAN_MSG)
        batch = dd.shape[:-2]
        m, n = dd.shape[-2:]
        k = min(m, n)
        ok = ~bad[1]
        s = xp_of(dd).full(batch + (k,), np.nan, _real_dtype(dd.dtype))
        if compute_uv:
            u = _stack_eye(dd, batch, m, m if full_matrices else k)
            vh = _stack_eye(dd, batch, n if full_matrices else k, n)
        if ok.any():
            r = np.linalg.svd(dd[ok], full_matrices=full_matrices, compute_uv=compute_uv)
            if not compute_uv:
                s[ok] = r
                return s
            u[ok], s[ok], vh[ok] = r
        return (u, s, vh) if compute_uv else s
    except np.linalg.LinAlgError:
        raise LinAlgError(f"linalg.svd: {_SVD_NAN_MSG}") from None


def _eigh_arrays(d, uplo: str, compute_v: bool = True):
    """``np.linalg.eigh`` / ``eigvalsh`` of the batch ``d`` with PyTorch's answers on non-finite
    input (only the ``uplo`` triangle is read): a NaN raises LinAlgError, an infinity gives NaN
    eigenvalues and identity eigenvectors."""
    dd = _np_dtype_ok(d)
    tri = np.tril(dd) if uplo == "L" else np.triu(dd)
    bad = _nonfinite(tri)
    fn = np.linalg.eigh if compute_v else np.linalg.eigvalsh
    try:
        if bad is None:
            return fn(dd, UPLO=uplo)
        _raise_if_nan("linalg.eigh", dd, bad, _EIGH_FAIL_MSG)
        batch = dd.shape[:-2]
        n = dd.shape[-1]
        ok = ~bad[1]
        w = xp_of(dd).full(batch + (n,), np.nan, _real_dtype(dd.dtype))
        v = _stack_eye(dd, batch, n, n)
        if ok.any():
            r = fn(dd[ok], UPLO=uplo)
            if compute_v:
                w[ok], v[ok] = r
            else:
                w[ok] = r
        return (w, v) if compute_v else w
    except np.linalg.LinAlgError:
        raise LinAlgError(f"linalg.eigh: {_EIGH_FAIL_MSG}") from None
