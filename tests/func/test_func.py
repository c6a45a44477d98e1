"""ferrum.func against torch.func: grad/grad_and_value/vjp/jvp/jacrev/jacfwd/hessian on scalar and
vector functions (several argnums, has_aux, pytrees, nesting, composition with autograd),
functional_call on a Linear and a small MLP with buffers, vmap's error, and torch's error types."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
import ferrum.func as ff
import ferrum.nn as nn

DTYPES = ["float32", "float64"]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-11, atol=1e-12)


def _np(t):
    return t.detach().numpy() if hasattr(t, "numpy") and not hasattr(t, "_data") else t._data


def _close(a, b, dtype):
    """Compares nested results (tensors in tuples/lists/dicts) of ferrum and torch."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _close(a[k], b[k], dtype)
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v, dtype)
    else:
        bn = b.detach().numpy()
        assert tuple(a.shape) == bn.shape
        np.testing.assert_allclose(a._data, bn, **_tol(dtype))


def _inputs(torch, dtype, *shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return [ferrum.tensor(a) for a in arrs], [torch.tensor(a) for a in arrs]


# scalar functions of one or two tensors, written once for both libraries (L is ferrum or torch)
SCALAR = {
    "cube_sin": (lambda L: lambda x: (x ** 3).sin().sum(), [(4,)]),
    "logsumexp": (lambda L: lambda x: L.logsumexp(x, 0).sum(), [(3, 4)]),
    "softmax_xent": (lambda L: lambda x: -(L.log_softmax(x, -1)[:, 0]).mean(), [(3, 5)]),
    "norm_tanh": (lambda L: lambda x: x.tanh().norm(), [(2, 3)]),
    "bilinear": (lambda L: lambda x, y: (x @ y).exp().sum(), [(2, 3), (3, 2)]),
    "prod_mix": (lambda L: lambda x, y: (x * y.sigmoid()).sum() / (1 + (x ** 2).sum()), [(5,), (5,)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_grad_and_value_scalar_functions(torch, name, dtype):
    make, shapes = SCALAR[name]
    xs, txs = _inputs(torch, dtype, *shapes)
    nums = [0] if len(shapes) == 1 else [0, 1, (0, 1), -1, (1, 0)]
    for argnums in nums:
        g = ff.grad(make(ferrum), argnums=argnums)(*xs)
        tg = torch.func.grad(make(torch), argnums=argnums)(*txs)
        _close(g, tg, dtype)
        g, v = ff.grad_and_value(make(ferrum), argnums=argnums)(*xs)
        tg, tv = torch.func.grad_and_value(make(torch), argnums=argnums)(*txs)
        _close((g, v), (tg, tv), dtype)
        assert not v.requires_grad and not any(t.requires_grad for t in (g if isinstance(g, tuple) else (g,)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_has_aux_and_pytree_inputs(torch, dtype):
    xs, txs = _inputs(torch, dtype, (3,), (3,))

    def f(L):
        def fn(d, k):
            s = (d["a"] * d["b"].cos()).sum() * k
            return s, {"s": s, "a": d["a"] * 2}
        return fn

    res = ff.grad(f(ferrum), has_aux=True)({"a": xs[0], "b": xs[1]}, 3.0)
    tres = torch.func.grad(f(torch), has_aux=True)({"a": txs[0], "b": txs[1]}, 3.0)
    _close(res, tres, dtype)
    res = ff.grad_and_value(f(ferrum), has_aux=True)({"a": xs[0], "b": xs[1]}, 3.0)
    tres = torch.func.grad_and_value(f(torch), has_aux=True)({"a": txs[0], "b": txs[1]}, 3.0)
    _close(res, tres, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nested_grad(torch, dtype):
    xs, txs = _inputs(torch, dtype, ())
    f = lambda L: lambda x: (x ** 3).sin()  # noqa: E731
    for depth in (2, 3):
        g, tg = f(ferrum), f(torch)
        for _ in range(depth):
            g, tg = ff.grad(g), torch.func.grad(tg)
        _close(g(xs[0]), tg(txs[0]), dtype)
    # perturbation confusion: d/dx [x * d/dy (x + y)] at y = 1 is 1
    x = ferrum.tensor(2.0, dtype=getattr(ferrum, dtype))
    out = ff.grad(lambda x: x * ff.grad(lambda y: x + y)(ferrum.tensor(1.0, dtype=x.dtype)))(x)
    assert out.item() == 1.0
    # grad of a function of the gradient of a vector function
    xs, txs = _inputs(torch, dtype, (4,))
    h = lambda L, G: lambda x: (G(lambda z: (z.sin() * z).sum())(x) ** 2).sum()  # noqa: E731
    _close(ff.grad(h(ferrum, ff.grad))(xs[0]), torch.func.grad(h(torch, torch.func.grad))(txs[0]), dtype)


def test_composes_with_autograd_gradient_penalty(torch):
    """grad of the input inside a loss whose gradient reaches the closure's parameters."""
    w = np.random.randn(3, 3)
    x = np.random.randn(3)
    res = []
    for L, F in ((ferrum, ff), (torch, torch.func)):
        wt = L.tensor(w, requires_grad=True)
        gx = F.grad(lambda v, wt=wt: (v @ wt).tanh().sum())(L.tensor(x))
        assert gx.requires_grad  # depends on w, which requires grad
        ((gx.norm() - 1) ** 2).backward()
        res.append(wt.grad)
    np.testing.assert_allclose(res[0]._data, res[1].numpy(), rtol=1e-11)
    g = ff.grad(lambda v: (v ** 2).sum())(ferrum.tensor(x))
    assert not g.requires_grad and g.grad_fn is None


VECTOR = {
    "sin": (lambda L: lambda x: x.sin(), [(4,)]),
    "matvec": (lambda L: lambda x, y: (x @ y).tanh(), [(3, 4), (4,)]),
    "outer_tuple": (lambda L: lambda x, y: (L.outer(x, y).exp(), (x * 2).sum()), [(2,), (3,)]),
    "softmax": (lambda L: lambda x: L.softmax(x, -1), [(2, 3)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(VECTOR))
@pytest.mark.parametrize("how", ["jacrev", "jacfwd"])
def test_jacobians(torch, how, name, dtype):
    make, shapes = VECTOR[name]
    xs, txs = _inputs(torch, dtype, *shapes)
    nums = [0] if len(shapes) == 1 else [0, 1, (0, 1)]
    for argnums in nums:
        j = getattr(ff, how)(make(ferrum), argnums=argnums)(*xs)
        tj = getattr(torch.func, how)(make(torch), argnums=argnums)(*txs)
        _close(j, tj, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hessian_and_jacobian_has_aux(torch, dtype):
    xs, txs = _inputs(torch, dtype, (3,), (3,))
    f = lambda L: lambda x, y: ((x ** 3) * y.sin()).sum() + (x * y).prod()  # noqa: E731
    for argnums in (0, 1, (0, 1)):
        _close(ff.hessian(f(ferrum), argnums)(*xs), torch.func.hessian(f(torch), argnums)(*txs), dtype)
    g = lambda L: lambda x: (x.exp(), x.sum())  # noqa: E731
    for how in ("jacrev", "jacfwd"):
        _close(getattr(ff, how)(g(ferrum), has_aux=True)(xs[0]),
               getattr(torch.func, how)(g(torch), has_aux=True)(txs[0]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vjp_and_jvp(torch, dtype):
    xs, txs = _inputs(torch, dtype, (2, 3), (3,))
    f = lambda L: lambda x, y: ((x * y).sin(), (x.sum(0) * y).exp())  # noqa: E731
    out, fn = ff.vjp(f(ferrum), *xs)
    tout, tfn = torch.func.vjp(f(torch), *txs)
    _close(out, tout, dtype)
    cs, tcs = _inputs(torch, dtype, (2, 3), (3,), seed=1)
    for _ in range(2):  # vjp_fn may be called again
        _close(fn(tuple(cs)), tfn(tuple(tcs)), dtype)
    out, fn, aux = ff.vjp(lambda x: (x.sin(), {"c": x.cos()}), xs[0], has_aux=True)
    tout, tfn, taux = torch.func.vjp(lambda x: (x.sin(), {"c": x.cos()}), txs[0], has_aux=True)
    _close((out, aux, fn(cs[0])), (tout, taux, tfn(tcs[0])), dtype)
    ts, tts = _inputs(torch, dtype, (2, 3), (3,), seed=2)
    _close(ff.jvp(f(ferrum), tuple(xs), tuple(ts)), torch.func.jvp(f(torch), tuple(txs), tuple(tts)), dtype)


# --------------------------------------------------------------------------- functional_call
def _twins(torch, dtype):
    fm = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))
    fm = fm.to(getattr(ferrum, dtype))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.Tanh(),
                             torch.nn.Linear(5, 2)).to(getattr(torch, dtype))
    tm.load_state_dict({k: torch.from_numpy(np.array(v._data)) for k, v in fm.state_dict().items()})
    return fm, tm


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("train", [True, False])
def test_functional_call_mlp_with_buffers(torch, dtype, train):
    fm, tm = _twins(torch, dtype)
    fm.train(train)
    tm.train(train)
    rng = np.random.default_rng(3)
    new = {k: rng.standard_normal(tuple(v.shape)).astype(dtype) for k, v in fm.named_parameters()}
    new["1.running_var"] = np.abs(rng.standard_normal(5)).astype(dtype) + 0.5
    new["1.running_mean"] = rng.standard_normal(5).astype(dtype)
    before = {k: v._data.copy() for k, v in fm.state_dict().items()}
    x = rng.standard_normal((6, 4)).astype(dtype)
    fp = {k: ferrum.tensor(v) for k, v in new.items()}
    tp = {k: torch.tensor(v) for k, v in new.items()}
    out = ff.functional_call(fm, fp, ferrum.tensor(x))
    tout = torch.func.functional_call(tm, tp, torch.tensor(x))
    _close(out, tout, dtype)
    _close(fp, tp, dtype)  # running statistics updated in place in training mode, as torch
    tsd = tm.state_dict()
    for k, v in fm.state_dict().items():  # the module's own tensors are untouched and back in place
        if k.endswith("num_batches_tracked"):  # not given: the module's own counts, as in torch
            assert v.item() == tsd[k].item()
        else:
            assert np.array_equal(v._data, before[k])
    assert all(isinstance(p, nn.Parameter) for p in fm.parameters())

    if train:  # torch refuses the in-place buffer updates of training mode under a grad transform
        return

    # gradient w.r.t. the substituted parameters, through ferrum.func.grad
    def loss(L, F, m):
        return lambda p, x: (F.functional_call(m, p, (x,)) ** 2).sum()

    params = {k: ferrum.tensor(v) for k, v in new.items() if "running" not in k}
    tparams = {k: torch.tensor(v) for k, v in new.items() if "running" not in k}
    _close(ff.grad(loss(ferrum, ff, fm))(params, ferrum.tensor(x)),
           torch.func.grad(loss(torch, torch.func, tm))(tparams, torch.tensor(x)), dtype)


def test_functional_call_linear_grad_to_given_tensors(torch):
    lin = nn.Linear(3, 2)
    w = ferrum.randn(2, 3, requires_grad=True)
    x = ferrum.randn(4, 3)
    out = ff.functional_call(lin, ({"weight": w}, {"bias": ferrum.zeros(2)}), x)
    out.sum().backward()
    assert lin.weight.grad is None
    np.testing.assert_allclose(w.grad._data, np.ones((4, 2)).T @ x._data, rtol=1e-6)
    np.testing.assert_allclose(out._data, x._data @ w._data.T, rtol=1e-6)
    assert ff.functional_call(lin, {}, x, {}).shape == (4, 2)


def test_functional_call_restores_after_raise_and_strict(torch):
    for L, F in ((ferrum, ff), (torch, torch.func)):
        lin = L.nn.Linear(2, 2)
        w0 = lin.weight
        with pytest.raises(RuntimeError):
            F.functional_call(lin, {"weight": L.eye(3)}, L.ones(1, 2))
        assert lin.weight is w0
        with pytest.raises(RuntimeError, match=r"Missing key\(s\): 'bias'"):
            F.functional_call(lin, {"weight": L.eye(2)}, L.ones(1, 2), strict=True)
        with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'foo'"):
            F.functional_call(lin, {"weight": L.eye(2), "bias": L.zeros(2), "foo": L.zeros(1)}, L.ones(1, 2),
                              strict=True)
        F.functional_call(lin, {"foo": L.zeros(1)}, L.ones(1, 2))  # non-strict: set for the call only
        assert not hasattr(lin, "foo")
        with pytest.raises(ValueError, match="multiple dictionaries"):
            F.functional_call(lin, ({"weight": L.eye(2)}, {"weight": L.eye(2)}), L.ones(1, 2))
        with pytest.raises(ValueError):
            F.functional_call(lin, 3, L.ones(1, 2))
        with pytest.raises(TypeError):
            F.functional_call(lin, {"weight": 3}, L.ones(1, 2))


def test_functional_call_tied_weights(torch):
    outs = []
    for L, F in ((ferrum, ff), (torch, torch.func)):
        class Tied(L.nn.Module):
            def __init__(self, L=L):
                super().__init__()
                self.a = L.nn.Linear(2, 2, bias=False)
                self.b = L.nn.Linear(2, 2, bias=False)
                self.b.weight = self.a.weight

            def forward(self, x):
                return self.a(x) + self.b(x)

        m = Tied()
        m.a.weight.data = L.tensor([[1.0, 2.0], [3.0, 4.0]])
        x = L.ones(1, 2)
        eye = L.eye(2)
        res = [F.functional_call(m, {"a.weight": eye}, x),
               F.functional_call(m, {"a.weight": eye}, x, tie_weights=False),
               F.functional_call(m, {"a.weight": eye, "b.weight": L.zeros(2, 2)}, x, tie_weights=False)]
        with pytest.raises(ValueError, match="tied"):
            F.functional_call(m, {"a.weight": eye, "b.weight": L.zeros(2, 2)}, x)
        outs.append(res)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a.detach()._data, b.detach().numpy())


# --------------------------------------------------------------------------- errors as torch
def test_vmap_is_not_available():
    with pytest.raises(NotImplementedError, match="vmap"):
        ff.vmap(lambda x: x)
    assert issubclass(NotImplementedError, RuntimeError)


@pytest.mark.parametrize("case", [
    "vector_output", "float_output", "float_input", "int_input", "argnums_range", "argnums_float",
    "argnums_dup", "argnums_empty", "argnums_elem_float", "aux_not_tuple", "aux_triple", "no_args",
    "vjp_int_output", "vjp_cot_structure", "vjp_cot_shape", "vjp_float_primal", "jacrev_int_output",
    "jvp_primals_not_tuple", "jvp_tangent_shape", "grad_int_aux", "jacrev_int_aux", "jacfwd_int_aux"])
def test_errors_match_torch(torch, case):
    def call(L, F):
        x = L.ones(3)
        if case == "vector_output":
            F.grad(lambda x: x)(x)
        elif case == "float_output":
            F.grad(lambda x: 3.0)(x)
        elif case == "float_input":
            F.grad(lambda x: x.sum())(3.0)
        elif case == "int_input":
            F.grad(lambda x: x.sum())(L.arange(3))
        elif case == "argnums_range":
            F.grad(lambda x: x.sum(), argnums=1)(x)
        elif case == "argnums_float":
            F.grad(lambda x: x.sum(), argnums=1.0)(x)
        elif case == "argnums_dup":
            F.grad(lambda x, y: x.sum(), argnums=(0, 0))(x, x)
        elif case == "argnums_empty":
            F.grad(lambda x, y: x.sum(), argnums=())(x, x)
        elif case == "argnums_elem_float":
            F.grad(lambda x, y: x.sum(), argnums=(0, 1.0))(x, x)
        elif case == "aux_not_tuple":
            F.grad(lambda x: x.sum(), has_aux=True)(x)
        elif case == "aux_triple":
            F.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(x)
        elif case == "no_args":
            F.grad(lambda: 1)()
        elif case == "vjp_int_output":
            F.vjp(lambda x: (x, 3), x)
        elif case == "vjp_cot_structure":
            F.vjp(lambda x: (x.sin(), x.cos()), x)[1](L.ones(3))
        elif case == "vjp_cot_shape":
            F.vjp(lambda x: x.sin(), x)[1](L.ones(2))
        elif case == "vjp_float_primal":
            F.vjp(lambda x: x, 3.0)
        elif case == "jacrev_int_output":
            F.jacrev(lambda x: 3)(x)
        elif case == "jvp_primals_not_tuple":
            F.jvp(lambda x: x.sin(), x, (x,))
        elif case == "jvp_tangent_shape":
            F.jvp(lambda x: x.sin(), (x,), (L.ones(2),))
        elif case == "grad_int_aux":
            F.grad(lambda x: (x.sum(), 1), has_aux=True)(x)
        elif case.endswith("_int_aux"):
            getattr(F, case.split("_")[0])(lambda x: (x, 1), has_aux=True)(x)

    types = []
    for L, F in ((ferrum, ff), (torch, torch.func)):
        with pytest.raises(Exception) as info:  # noqa: B017,PT011 - the type is what is compared
            call(L, F)
        types.append(info.type)
    assert types[0] is types[1] or issubclass(types[1], types[0]) and types[0] is RuntimeError
