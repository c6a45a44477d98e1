"""Reverse-mode automatic differentiation: backward, grad, Function, grad modes, gradcheck."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap
from .anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                           set_detect_anomaly)
from .engine import run_backward
from .function import Function, FunctionCtx, Node, once_differentiable
from .gradcheck import gradcheck, gradgradcheck
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)

__all__ = ["backward", "grad", "Function", "FunctionCtx", "Node", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "functional", "Variable",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _grads_tuple(g) -> tuple:
    """Gradients for the outputs: None, one gradient, or a list/tuple of them."""
    if g is None:
        return ()
    return tuple(g) if isinstance(g, (list, tuple)) else (g,)


def _root_grads(outputs, grad_outputs, create_graph: bool, op: str):
    grads = []
    if len(grad_outputs) == 0:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: outputs must be Tensors, got {type(t).__name__}")
        if g is None:
            if not t.requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                                   "a grad_fn")
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs (got a "
                                   f"tensor of shape {list(t._data.shape)}; pass `gradient=`)")
            if t._data.dtype.kind not in "fcV":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs")
            ga = np.ones_like(t._data)  # NumPy dispatches to CuPy for cuda arrays
            g = _wrap(ga) if create_graph else ga
        else:
            if not isinstance(g, Tensor):
                if isinstance(g, (int, float)):
                    g = _wrap(np.full(t._data.shape, g, t._data.dtype))
                else:
                    raise TypeError(f"{op}: gradient must be a Tensor, got {type(g).__name__}")
            if tuple(g._data.shape) != tuple(t._data.shape):
                if g._data.size == t._data.size == 1:
                    g = g.reshape(t._data.shape)
                else:
                    raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                       f"{list(g._data.shape)} and output[{i}] has a shape of "
                                       f"{list(t._data.shape)}.")
            if g._data.__class__ is not t._data.__class__:
                raise RuntimeError(f"{op}: gradient is on {g.device} but the output is on {t.device}")
            if g._data.dtype != t._data.dtype:
                g = g.to(t.dtype)
            g = g if create_graph else g._data.copy()
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             grad_variables=None, inputs=None) -> None:
    """Computes the sum of gradients of ``tensors`` w.r.t. graph leaves, accumulated in ``.grad``."""
    outputs = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    gts = _grads_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outputs, gts, create_graph, "backward")
    capture = None
    if inputs is not None:
        ins = _as_tuple(inputs)
        if not ins:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        capture = {}
        for t in ins:
            capture[t.grad_fn if t.grad_fn is not None else t] = None
    run_backward(outputs, roots, retain_graph, create_graph, capture)
    if capture is not None:
        # leaves accumulated in the engine; non-leaf inputs get their captured gradient here
        for t in _as_tuple(inputs):
            if t.grad_fn is None:
                continue
            g = capture.get(t.grad_fn)
            if g is None:
                continue
            gt = g if isinstance(g, Tensor) else _wrap(g.copy())
            t.grad = gt if t.grad is None else (t.grad + gt)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """Returns the gradients of ``outputs`` w.r.t. ``inputs`` (without touching ``.grad``)."""
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if not ins:
        raise RuntimeError("grad requires non-empty inputs.")
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    gos = _grads_tuple(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_grads(outs, gos, create_graph, "grad")
    capture = {}
    keys = []
    for t in ins:
        k = t.grad_fn if t.grad_fn is not None else t
        capture[k] = None
        keys.append(k)
    run_backward(outs, roots, retain_graph, create_graph, capture, accumulate=False)
    res = []
    for i, (t, k) in enumerate(zip(ins, keys)):
        g = capture.get(k)
        if g is None:
            if materialize_grads:
                z = _wrap(np.zeros_like(t._data))  # NumPy dispatches to CuPy for cuda arrays
                z.requires_grad = create_graph  # as PyTorch: part of a graph that can be differentiated
                res.append(z)
                continue
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            res.append(None)
        else:
            res.append(g if isinstance(g, Tensor) else _wrap(g))
    return tuple(res)


def Variable(data, requires_grad: bool = False):  # noqa: N802 - legacy API
    """Legacy wrapper: returns ``data`` (a Tensor) with ``requires_grad`` set."""
    t = data.detach() if isinstance(data, Tensor) else _wrap(np.asarray(data))
    t.requires_grad = requires_grad
    return t


def __getattr__(name):
    # functional and profiler are imported on first use to keep `import ferrum` light
    if name in ("functional", "profiler"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'ferrum.autograd' has no attribute {name!r}")
