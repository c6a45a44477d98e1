"""softmax and log_softmax: fused, numerically stable primitives (max-shifted)."""

from __future__ import annotations

import numpy as np

from .. import _state
from .._dtype import as_dtype
from .._tensor import Tensor, _wrap
from ..autograd.function import _FREED_MSG, FREED, Node, edge, version_error
from ._common import canon_dim

__all__ = ["softmax", "log_softmax", "conj", "conj_physical", "resolve_conj", "real", "imag"]


def _prepare(input: Tensor, dim, dtype, op: str):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        # PyTorch's legacy implicit dim: 0 for 0-d, 1-d and 3-d inputs, else 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
    d = canon_dim(dim, input.ndim, op)
    x = input if dtype is None else input.to(as_dtype(dtype))
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"\"{op}\" not implemented for '{x.dtype.name.capitalize()}'")
    return x, d


def _softmax_array(a: np.ndarray, d: int, log: bool):
    if a.ndim == 0:
        return np.zeros_like(a) if log else np.ones_like(a)
    m = a.max(axis=d, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # rows of all -inf stay NaN-free where PyTorch gives NaN
    z = a - m
    if log:
        with np.errstate(divide="ignore"):
            z -= np.log(np.exp(z).sum(axis=d, keepdims=True))
        return z
    np.exp(z, out=z)
    z /= z.sum(axis=d, keepdims=True)
    return z


class _SoftmaxBackward(Node):
    """Saves the output y; dx = y * (g - sum(g * y)) or, for log_softmax, g - exp(y) * sum(g)."""

    __slots__ = ("y", "yver", "dim", "log")
    _saved = ("y",)

    def backward(self, g):
        y = self.y
        if y is FREED:
            raise RuntimeError(_FREED_MSG)
        if self.yver[0] != 0:
            raise version_error(_wrap(y, version=self.yver), 0, self)
        d = self.dim
        if g.__class__ is Tensor:
            yt = _wrap(y, version=self.yver)
            yt.requires_grad = True
            yt.grad_fn = self
            if self.log:
                return (g - yt.exp() * g.sum(d, keepdim=True),)
            return (yt * (g - (g * yt).sum(d, keepdim=True)),)
        if y.ndim == 0:
            return (g * 0,)
        if self.log:
            return (g - np.exp(y) * g.sum(axis=d, keepdims=True),)
        t = g * y
        s = t.sum(axis=d, keepdims=True)
        t -= y * s
        return (t,)

    def name(self) -> str:
        return "LogSoftmaxBackward0" if self.log else "SoftmaxBackward0"


def _op(input, dim, dtype, log: bool, op: str) -> Tensor:
    x, d = _prepare(input, dim, dtype, op)
    r = _softmax_array(x._data, d, log)
    out = _wrap(r)
    if x.requires_grad and _state.grad_enabled:
        node = object.__new__(_SoftmaxBackward)
        node.next = (edge(x),)
        node.y = r
        node.yver = out._version
        node.dim = d
        node.log = log
        out.requires_grad = True
        out.grad_fn = node
    return out


def softmax(input: Tensor, dim: int | None = None, dtype=None, *, _stacklevel: int = 3) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed with the row maximum subtracted."""
    return _op(input, dim, dtype, False, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, dtype=None, *, _stacklevel: int = 3) -> Tensor:
    """x - logsumexp(x) along ``dim``; stable for large logits."""
    return _op(input, dim, dtype, True, "log_softmax")


# --------------------------------------------------------------------------- complex helpers
class _ConjBackward(Node):
    def backward_t(self, g):
        return (conj(g),)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (the tensor itself for real dtypes)."""
    d = input._data
    if d.dtype.kind != "c":
        return input
    from ..autograd.function import record
    return record(np.conj(d), _ConjBackward, (input,))


conj_physical = conj


def resolve_conj(input: Tensor) -> Tensor:
    return input


class _RealBackward(Node):
    def backward_t(self, g):
        return (g.to(self.cdt) if not self.imag else g.to(self.cdt) * 1j,)


def real(input: Tensor) -> Tensor:
    """The real part (the tensor itself for real dtypes)."""
    d = input._data
    if d.dtype.kind != "c":
        return input
    from ..autograd.function import record
    return record(np.ascontiguousarray(d.real), _RealBackward, (input,), cdt=input.dtype, imag=False)


def imag(input: Tensor) -> Tensor:
    """The imaginary part; only for complex tensors."""
    d = input._data
    if d.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    from ..autograd.function import record
    return record(np.ascontiguousarray(d.imag), _RealBackward, (input,), cdt=input.dtype, imag=True)


Tensor.softmax = lambda self, dim=None, dtype=None: softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim=None, dtype=None: log_softmax(self, dim, dtype)
Tensor.conj = conj
Tensor.conj_physical = conj
Tensor.resolve_conj = resolve_conj
Tensor.real = property(real)
Tensor.imag = property(imag)
Tensor.is_conj = lambda self: False

