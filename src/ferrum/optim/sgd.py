"""Stochastic gradient descent (optionally with momentum and Nesterov momentum)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor, _wrap
from ..ops import _blas
from ..ops._common import xp_of
from . import _lowp
from .optimizer import Optimizer, _check_fused, _check_lr, _mul, _scalar, _sub

__all__ = ["SGD"]

_neg = np.negative


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    Per parameter, with ``g`` the gradient: ``g += weight_decay * p``; with momentum
    ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` on the first step) and
    ``g = g + momentum * buf`` (nesterov) or ``g = buf``; then ``p -= lr * g``.
    State: ``'momentum_buffer'`` (when ``momentum != 0``).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float | Tensor = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, differentiable, foreach)
        if fused:
            self._step_supports_amp_scaling = True

    _group_defaults = (("nesterov", False), ("maximize", False), ("foreach", None),
                       ("differentiable", False), ("fused", False))

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        if self._step_supports_amp_scaling and self._amp_skip():
            return loss
        scratch = self._scratch
        state_of = self.state
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            wd = _scalar(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                gt = p._grad
                if gt is None:
                    continue
                a = p._data
                g = gt._data
                buf = None
                first = False
                if momentum != 0:
                    st = state_of[p]
                    bt = st.get("momentum_buffer")
                    if bt is None:
                        # PyTorch starts the buffer as a copy of the (decayed) gradient
                        bt = st["momentum_buffer"] = _wrap(xp_of(a).empty(a.shape, a.dtype))
                        first = True
                    buf = bt._data
                if _lowp.is_low(a):
                    _sgd_low(a, g, buf, first, lr, wd, momentum, dampening, nesterov, maximize)
                    p._version[0] += 1
                    continue
                # BLAS writes through the pointer: a read-only parameter takes the ufunc kernel,
                # which raises NumPy's error as before
                kernel = _sgd_blas if _blas.usable(a, g) and a.flags.writeable and (
                    buf is None or _blas.usable(buf)) else _sgd_kernel
                kernel(a, g, buf, scratch(a, 0), scratch(a, 1), lr, wd, momentum, dampening,
                       nesterov, maximize, first)
                p._version[0] += 1
        return loss


def _sgd_low(a, g, buf, first, lr, wd, momentum, dampening, nesterov, maximize):
    """One SGD update of a float16/bfloat16 parameter: float32 working copies, rounded after
    every torch op (see ``_lowp``)."""
    r = _lowp.rounder(a.dtype)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a32 = _lowp.load(a)
        g32 = _lowp.load(g)
        if maximize:
            np.negative(g32, out=g32)
        if wd != 0:
            _lowp.add_(g32, a32, wd, r)
        b32 = None if buf is None else (np.empty_like(g32) if first else _lowp.load(buf))
        _lowp.sgd(a32, g32, b32, first, lr, momentum, dampening, nesterov, r)
    _lowp.store(a, a32)
    if buf is not None:
        _lowp.store(buf, b32)


def _sgd_kernel(a, g, buf, t0, t1, lr, wd, momentum, dampening, nesterov, maximize, first):
    """One SGD update of ``a`` in place (``t0``, ``t1``: scratch arrays of ``a``'s shape). The
    working gradient is ``_work_grad``'s, inlined: this is the hottest loop of the package."""
    if maximize:
        g = _neg(g, out=t0)
        if wd != 0:
            t0 += _mul(a, wd, out=t1)
    elif wd != 0:
        _mul(a, wd, out=t0)
        t0 += g
        g = t0
    if buf is not None:
        if first:
            np.copyto(buf, g)
        else:
            buf *= momentum
            if dampening != 0:
                buf += _mul(g, 1 - dampening, out=t1)
            else:
                buf += g
        if nesterov:
            _mul(buf, momentum, out=t1)
            t1 += g
            g = t1
        else:
            g = buf
    t = t1 if g is t1 else t0
    _sub(a, _mul(g, lr, out=t), out=a)


def _sgd_blas(a, g, buf, t0, t1, lr, wd, momentum, dampening, nesterov, maximize, first):
    """``_sgd_kernel`` through BLAS axpy/scal (C-contiguous float32/float64 arrays): PyTorch's
    ``_single_tensor_sgd`` operation for operation, each ``add(x, alpha=c)`` an axpy (one rounding,
    as PyTorch's fmadd), so the result is PyTorch's to the bit. One pass fewer than the ufuncs and
    no temporary on the plain momentum path, and the axpys run on OpenBLAS's threads.
    Measured (benchmarks/mlp_parts.py sgd: the bench MLP's 6 parameters, 535K float32, momentum
    0.9; median of 7 rounds, busy shared 2-core machine): 452 -> 369 us on 1 BLAS thread, 454 -> 261
    us on 2 (both cores' L2 caches hold half the vectors each). Inside the training step (caches
    cold after the backward GEMMs; ``mlp_parts.py -e insitu``, 2 threads, load ~1, two runs):
    547/522 us with the ufuncs -> 367/348 us, torch 350/342 us. Not kept: the three operations
    chunk by chunk (8K elements, so a chunk of ``buf`` stays in L1 between them) on this thread and
    a worker: 592 us in the step, the ~200 ctypes calls and the GIL cost more than the cache saves;
    OpenBLAS ``saxpby`` for ``buf`` (one pass) is not threaded: 104-125 us against 102-109 us for
    scal + threaded axpy on 401K floats.
    """
    axpy = _blas.axpy
    if maximize:
        g = _neg(g, out=t0)
    if wd != 0:
        if g is not t0:
            np.copyto(t0, g)
            g = t0
        axpy(wd, a, g)
    if buf is not None:
        if first:
            np.copyto(buf, g)
        else:
            _blas.scal(momentum, buf)
            axpy(1 - dampening, g, buf)
        if nesterov:
            if g is not t0:
                np.copyto(t1, g)
                g = t1
            axpy(momentum, buf, g)
        else:
            g = buf
    axpy(-lr, g, a)
