"""gradcheck / gradgradcheck: compare autograd's gradients with finite differences."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _wrap

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _diff_inputs(inputs):
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(func, inputs):
    """The differentiable (floating point or complex) tensor outputs of ``func``."""
    outs = _as_tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind in "fcV"]


def _host(a):
    """A NumPy copy-or-view of array ``a`` (CuPy arrays are copied to the host)."""
    return a if isinstance(a, np.ndarray) else a.get()


def _numerical(func, inputs, idx, eps):
    """jac[k][j]: d outputs[j] / d inputs[idx[k]] as (in_numel, out_numel) arrays."""
    base = _outputs(func, inputs)
    jacs = []
    for i in idx:
        d = inputs[i]._data  # perturbed in place, element by element (any strides)
        cols = [np.zeros((d.size, o._data.size), dtype=np.result_type(o._data.dtype, np.float64))
                for o in base]
        for k, pos in enumerate(np.ndindex(d.shape)):
            orig = d[pos].copy()
            d[pos] = orig - eps
            lo = [_f64(o._data) for o in _outputs(func, inputs)]
            d[pos] = orig + eps
            hi = [_f64(o._data) for o in _outputs(func, inputs)]
            d[pos] = orig
            for j, (a, b) in enumerate(zip(lo, hi)):
                cols[j][k] = ((b - a) / (2 * eps)).reshape(-1)
        jacs.append(cols)
    return jacs


def _f64(a):
    a = _host(a)
    return a.astype(np.float64, copy=True) if a.dtype.kind != "c" else a.copy()


def _analytical(func, inputs, idx):
    from . import grad
    outs = _outputs(func, inputs)
    jacs = [[np.zeros((inputs[i]._data.size, o._data.size)) for o in outs] for i in idx]
    diff_in = [inputs[i] for i in idx]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(o._data.size):
            go = np.zeros_like(o._data, order="C")  # NumPy dispatches to CuPy for cuda arrays
            go.reshape(-1)[m] = 1
            gs = grad(o, diff_in, grad_outputs=_wrap(go), retain_graph=True, allow_unused=True)
            for k, g in enumerate(gs):
                if g is not None:
                    if tuple(g.shape) != tuple(diff_in[k].shape):
                        raise GradcheckError(f"Gradient has incorrect shape for input {idx[k]}: "
                                             f"{tuple(g.shape)} vs {tuple(diff_in[k].shape)}")
                    if g._data.dtype != diff_in[k]._data.dtype:
                        raise GradcheckError(f"Gradient has dtype {g.dtype} but input {idx[k]} has "
                                             f"dtype {diff_in[k].dtype}")
                    jacs[k][j][:, m] = _host(g._data).reshape(-1)
    return jacs, outs


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """Checks gradients of ``func`` at ``inputs`` (use float64; complex128 too) against central
    differences."""
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    if not idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none "
                         "of the them have requires_grad=True.")
    if any(isinstance(t, Tensor) and t._data.dtype.kind == "c" for t in inputs) or any(
            o._data.dtype.kind == "c" for o in _outputs(func, inputs)):
        func, inputs = _as_real(func, inputs)
    try:
        ana, outs = _analytical(func, inputs, idx)
        num = _numerical(func, inputs, idx, eps)
        for k, i in enumerate(idx):
            for j in range(len(outs)):
                a, n = ana[k][j], num[k][j]
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    bad = np.argmax(np.abs(a - n) - (atol + rtol * np.abs(n)))
                    raise GradcheckError(
                        f"Jacobian mismatch for output {j} with respect to input {i},\n"
                        f"numerical:{n.reshape(-1)[:10]}\nanalytical:{a.reshape(-1)[:10]}\n"
                        f"(worst at flat index {bad}: numerical {n.reshape(-1)[bad]}, analytical "
                        f"{a.reshape(-1)[bad]})")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _as_real(func, inputs):
    """The real function PyTorch's complex gradcheck checks: complex inputs and outputs seen as
    (real, imag) pairs, so the real and imaginary parts are perturbed separately. Its gradient
    with respect to ``view_as_real(z)`` is ``view_as_real`` of the gradient with respect to ``z``
    (PyTorch's convention: dL/dx + i dL/dy), which is what this checks."""
    from ..ops.complex_ops import view_as_complex, view_as_real
    cplx = [isinstance(t, Tensor) and t._data.dtype.kind == "c" for t in inputs]
    real_in = tuple(view_as_real(t.detach()).clone().requires_grad_(t.requires_grad) if c else t
                    for t, c in zip(inputs, cplx))

    def real_func(*args):
        outs = func(*(view_as_complex(a) if c else a for a, c in zip(args, cplx)))
        single = isinstance(outs, Tensor)
        outs = tuple(view_as_real(o) if isinstance(o, Tensor) and o._data.dtype.kind == "c" else o
                     for o in _as_tuple(outs))
        return outs[0] if single else outs
    return real_func, real_in


def _like(a: np.ndarray, ref):
    """Host array ``a`` on the device of array ``ref``."""
    if isinstance(ref, np.ndarray):
        return a
    from .._device import xp_of_array
    return xp_of_array(ref).asarray(a)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """Checks second derivatives: gradcheck of the (create_graph) backward of ``func``."""
    from . import grad
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _wrap(_like(_random_like(rng, o._data), o._data)).requires_grad_(True)
            for o in outs if o.requires_grad)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def new_func(*args):
        ins = args[:n_in]
        gos = args[n_in:]
        o = [t for t in _outputs(func, ins) if t.requires_grad]
        diff = [ins[i] for i in idx]
        gs = grad(o, diff, grad_outputs=list(gos), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


def _random_like(rng, a):
    """Standard normal values of ``a``'s shape and dtype (both parts random for complex)."""
    r = rng.standard_normal(a.shape)
    if a.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(a.shape)
    return r.astype(a.dtype)
