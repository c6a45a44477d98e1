"""The parity harness the distribution tests share.

``parity(torch, name, params, values, dtype)`` builds the same distribution in torch and ferrum
(``params``: name -> NumPy array or Python number; arrays of a floating dtype become leaf tensors
requiring grad) and checks shapes, ``has_rsample``/``has_enumerate_support``, the support's class,
mean/mode/variance/stddev/entropy, and ``log_prob``/``cdf``/``icdf`` at every value (the same
exception type where torch raises), then the gradients of ``sum(log_prob) + sum(entropy)`` with
respect to every parameter, and the shapes and dtypes of ``sample``/``rsample``.
``sample_stats`` checks that sample means and variances match the distribution's moments, and
``check_grads`` runs gradcheck/gradgradcheck of log_prob (and rsample under a fixed seed).
"""

from __future__ import annotations

import numpy as np

import ferrum
import ferrum.distributions as FD

TOL = {"float32": (2e-5, 2e-5), "float64": (1e-9, 1e-10)}


def to_np(t):
    if isinstance(t, ferrum.Tensor):
        return np.asarray(t.detach()._data)
    return t.detach().cpu().numpy()


def close(a, b, dtype, what="", scale=1.0):
    """``b`` (ferrum) equals ``a`` (torch) to the dtype's tolerance (times ``scale``)."""
    a, b = to_np(a), to_np(b)
    if np.float32 in (a.dtype, b.dtype):  # Python-number parameters are of the default dtype
        dtype = "float32"
    rtol, atol = (t * scale for t in TOL[dtype])
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


def make(torch, name, params, dtype, requires_grad=True):
    """(torch distribution, ferrum distribution, torch leaves, ferrum leaves)."""
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    targs, fargs, tleaves, fleaves = {}, {}, {}, {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            floating = v.dtype.kind == "f"
            t = torch.tensor(v, dtype=tdt if floating else None)
            f = ferrum.tensor(v, dtype=fdt if floating else None)
            if floating and requires_grad:
                t.requires_grad_()
                f.requires_grad_()
                tleaves[k], fleaves[k] = t, f
            targs[k], fargs[k] = t, f
        else:
            targs[k] = fargs[k] = v
    tcls, fcls = torch.distributions, FD
    for part in name.split("."):  # "relaxed_bernoulli.LogitRelaxedBernoulli": a class not exported
        tcls, fcls = getattr(tcls, part), getattr(fcls, part)
    return tcls(**targs), fcls(**fargs), tleaves, fleaves


def _both(fn_t, fn_f):
    """Runs both; returns (tval, fval) or (exception type, exception type)."""
    try:
        tv = fn_t()
    except (NotImplementedError, ValueError, RuntimeError) as e:
        te = type(e)
        try:
            fn_f()
        except Exception as fe:  # noqa: BLE001 - compared below
            assert type(fe) is te, f"torch raised {te.__name__}, ferrum {type(fe).__name__}: {fe}"
            return None
        raise AssertionError(f"torch raised {te.__name__}, ferrum returned") from None
    return tv, fn_f()


def parity(torch, name, params, values, dtype, methods=("log_prob", "cdf", "icdf"), props=True):
    td, fd, tl, fl = make(torch, name, params, dtype)
    if any(isinstance(v, float) for v in params.values()):
        dtype = "float32"  # a Python float parameter is of the default dtype: float32 precision throughout
    assert tuple(fd.batch_shape) == tuple(td.batch_shape)
    assert tuple(fd.event_shape) == tuple(td.event_shape)
    assert fd.has_rsample == td.has_rsample
    assert fd.has_enumerate_support == td.has_enumerate_support
    assert type(fd.support).__name__ == type(td.support).__name__
    tloss, floss = 0, 0
    if props:
        for p in ("mean", "mode", "variance", "stddev", "entropy"):
            r = _both(lambda p=p: getattr(td, p)() if p == "entropy" else getattr(td, p),
                      lambda p=p: getattr(fd, p)() if p == "entropy" else getattr(fd, p))
            if r is not None:
                close(*r, dtype, f"{name}.{p}")
                if p == "entropy":
                    tloss, floss = tloss + r[0].sum(), floss + r[1].sum()
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    for v in values:
        for m in methods:
            tv = torch.tensor(v, dtype=tdt if v.dtype.kind == "f" else None)
            fv = ferrum.tensor(v, dtype=fdt if v.dtype.kind == "f" else None)
            r = _both(lambda m=m, tv=tv: getattr(td, m)(tv), lambda m=m, fv=fv: getattr(fd, m)(fv))
            if r is not None:
                close(*r, dtype, f"{name}.{m}")
                if m == "log_prob":
                    finite = np.isfinite(to_np(r[0]))
                    tloss = tloss + r[0][torch.tensor(finite)].sum()
                    floss = floss + r[1][ferrum.tensor(finite)].sum()
    if tl and isinstance(tloss, torch.Tensor) and tloss.requires_grad:
        tg = torch.autograd.grad(tloss, list(tl.values()), allow_unused=True)
        fg = ferrum.autograd.grad(floss, list(fl.values()), allow_unused=True)
        for k, a, b in zip(tl, tg, fg):
            if a is None:
                assert b is None or not np.any(to_np(b)), f"{name}: grad of {k}"
            else:
                close(a, b, dtype, f"{name}: grad of {k}")
    for shape in ((), (3,), (2, 1)):
        ts, fs = td.sample(shape), fd.sample(shape)
        assert tuple(fs.shape) == tuple(ts.shape), (name, shape)
        assert str(fs.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1], (name, fs.dtype, ts.dtype)
        assert not fs.requires_grad
        if fd.has_rsample:
            fr = fd.rsample(shape)
            assert tuple(fr.shape) == tuple(ts.shape)
            assert fr.requires_grad == bool(fl)
    return td, fd


def sample_stats(dist, n=20000, tol=0.05):
    """Sample mean (and variance) within ``tol`` standard errors-ish of the moments (seeded)."""
    ferrum.manual_seed(1)
    s = to_np(dist.sample((n,))).astype(np.float64)
    mean, var = to_np(dist.mean).astype(np.float64), to_np(dist.variance).astype(np.float64)
    se = np.sqrt(var / n)
    assert np.all(np.abs(s.mean(0) - mean) <= 6 * se + tol * 0.1), (s.mean(0), mean)
    np.testing.assert_allclose(s.var(0), var, rtol=tol, atol=1e-3)
    ferrum.manual_seed(7)
    a = to_np(dist.sample((5,)))
    ferrum.manual_seed(7)
    np.testing.assert_array_equal(a, to_np(dist.sample((5,))))


def check_grads(fn, params, seed=None):
    """gradcheck and gradgradcheck (float64) of ``fn(*leaves)`` with respect to ``params`` (NumPy
    arrays); with ``seed``, ferrum's generator is reseeded before every call (for rsample)."""
    leaves = [ferrum.tensor(p, dtype=ferrum.float64, requires_grad=True) for p in params]

    def wrapped(*ps):
        if seed is not None:
            ferrum.manual_seed(seed)
        return fn(*ps)

    assert ferrum.autograd.gradcheck(wrapped, leaves)
    assert ferrum.autograd.gradgradcheck(wrapped, leaves)


def f64(a):
    return ferrum.tensor(a, dtype=ferrum.float64)
