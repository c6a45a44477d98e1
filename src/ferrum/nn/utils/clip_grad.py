"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``,
``clip_grads_with_norm_`` (PyTorch's ``torch.nn.utils.clip_grad``).

All of them work on the gradients' arrays directly, without autograd (PyTorch runs them under
``no_grad``), one vectorised NumPy/CuPy call per gradient. ``foreach`` is accepted for
compatibility; every gradient takes the same path whatever its value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Union

import numpy as np

from ..._device import move_array
from ..._dtype import get_default_dtype, to_np
from ..._tensor import Tensor, _wrap
from ...ops._common import xp_of

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]

_tensor_or_tensors = Union[Tensor, Iterable[Tensor]]

_INF = math.inf


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _norm_of(a, p: float, out_dtype):
    """The ``p``-norm of every element of array ``a``, as a 0-d array of ``out_dtype``."""
    xp = xp_of(a)
    if a.dtype.kind == "c":
        a = xp.abs(a)
    elif a.dtype.itemsize < 4 or a.dtype.kind not in "f":
        # half precision (and bfloat16) accumulate in float32, as PyTorch's opmath does
        a = a.astype(np.float32)
    if a.size == 0 and (p == _INF or p == -_INF):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because "
                           "the operation does not have an identity")
    if p == 2.0:
        x = a.ravel()
        r = xp.sqrt(xp.dot(x, x))
    elif p == 1.0:
        r = xp.abs(a).sum()
    elif p == _INF:
        # two reductions, no |a| temporary (a is real here)
        r = xp.maximum(a.max(), -a.min())
    elif p == -_INF:
        r = xp.abs(a).min()
    elif p == 0.0:
        r = xp.count_nonzero(a)
    else:
        r = (xp.abs(a) ** p).sum() ** (1.0 / p)
    return xp.asarray(r, dtype=out_dtype)


def _writable(g: Tensor, op: str):
    d = g._data
    if not getattr(d.flags, "writeable", True):
        raise RuntimeError(f"{op}: unsupported operation: a gradient is read-only (for example an "
                           "expanded tensor), so it cannot be modified in place; clone() it first")
    return d


def _real_dtype(dt):
    return np.empty(0, dt).real.dtype if dt.kind == "c" else dt


def get_total_norm(tensors: _tensor_or_tensors, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector
    (the norm of the per-tensor norms). ``norm_type`` may be ``inf`` (or ``'inf'``).

    Returns a 0-d tensor (``tensor(0.)`` for no tensors); raises RuntimeError when the norm is
    nan or inf and ``error_if_nonfinite``.
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _wrap(np.array(0.0, dtype=to_np(get_default_dtype())))
    with np.errstate(invalid="ignore", over="ignore"):
        return _total_norm(tensors, norm_type, error_if_nonfinite)


def _total_norm(tensors: list, norm_type: float, error_if_nonfinite: bool) -> Tensor:
    datas = [t._data for t in tensors]
    # PyTorch stacks the per-tensor norms (in each tensor's real dtype): the stack promotes
    out_dtype = _real_dtype(np.result_type(*[d.dtype for d in datas]))
    norms = [_norm_of(d, norm_type, _real_dtype(d.dtype)) for d in datas]
    first = datas[0]
    xp = xp_of(first)
    if xp is np:
        if all(n.__class__ is np.ndarray for n in norms):
            stacked = np.array(norms, dtype=out_dtype)
        else:
            stacked = np.array([move_array(n, tensors[0].device) for n in norms], dtype=out_dtype)
    else:
        dev = tensors[0].device
        stacked = xp.stack([move_array(n, dev).astype(out_dtype) for n in norms])
    total = _norm_of(stacked, norm_type, out_dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the "
                           "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return _wrap(total)


def clip_grads_with_norm_(parameters: _tensor_or_tensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scales the gradients of ``parameters`` in place by
    ``min(1, max_norm / (total_norm + 1e-6))`` (``total_norm`` from ``get_total_norm``)."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    max_norm = float(max_norm)
    if isinstance(total_norm, Tensor):
        t = total_norm._data
        xp = xp_of(t)
        # computed in the norm's dtype, as PyTorch does
        coef = xp.asarray(xp.minimum(max_norm / (t + 1e-6), 1.0))
    else:
        coef = np.asarray(min(max_norm / (float(total_norm) + 1e-6), 1.0))
    host = coef.__class__ is np.ndarray
    # a non-finite norm scales the grads to nan/0 silently, as in PyTorch
    with np.errstate(invalid="ignore", over="ignore"):
        for g in grads:
            d = _writable(g, "clip_grad_norm_")
            c = coef if host and d.__class__ is np.ndarray else move_array(coef, g.device)
            # the coefficient multiplies in its own precision (float32 for half grads), then casts
            xp_of(d).multiply(d, c, out=d, casting="unsafe")
            g._version[0] += 1


def clip_grad_norm_(parameters: _tensor_or_tensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Clips the gradient norm of ``parameters`` (a tensor or an iterable of them) in place.

    The norm is computed over all gradients together, as if concatenated into one vector; when it
    exceeds ``max_norm`` every gradient is scaled by ``max_norm / (norm + 1e-6)``. Parameters
    without a gradient are skipped. Returns the total norm before clipping (a 0-d tensor).
    """
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: _tensor_or_tensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated: use ``clip_grad_norm_``."""
    warnings.warn("`ferrum.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`ferrum.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: _tensor_or_tensors, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamps the gradients of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is None:
            continue
        d = _writable(g, "clip_grad_value_")
        xp_of(d).clip(d, -clip_value, clip_value, out=d)
        g._version[0] += 1
