"""ferrum.utils.checkpoint: gradients equal to the plain run (exactly), parity with
torch.utils.checkpoint on the same weights, dropout masks, gradcheck through checkpoint, nesting,
double backward, the freed activations, and torch's warnings and error types."""

from __future__ import annotations

import gc
import itertools
import warnings
import weakref

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn
from ferrum.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

VARIANTS = [True, False]  # use_reentrant
DTYPES = ["float32", "float64"]


def _mlp(dtype, depth=4, width=6, dropout=0.0):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).to(getattr(ferrum, dtype))


def _relu_mlp(dtype, depth=4, width=6):
    """Plain Linear/ReLU: the fused Sequential path."""
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers).to(getattr(ferrum, dtype))


def _encoder(dtype, dropout=0.0):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=dropout, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).to(getattr(ferrum, dtype))


def _grads(model, x):
    return [p.grad._data.copy() for p in model.parameters()] + [x.grad._data.copy()]


def _zero(model, x):
    for p in model.parameters():
        p.grad = None
    x.grad = None


def _run(model, x, fn):
    _zero(model, x)
    out = fn(x)
    (out * out).sum().backward()
    return out._data.copy(), _grads(model, x)


def _same(a, b):
    oa, ga = a
    ob, gb = b
    assert np.array_equal(oa, ob)
    assert len(ga) == len(gb)
    for u, v in zip(ga, gb):
        assert u.dtype == v.dtype and np.array_equal(u, v)


# --------------------------------------------------------------------------- identical to the plain run
@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build", [_mlp, _relu_mlp, _encoder])
def test_grads_equal_plain_run(build, dtype, use_reentrant):
    model = build(dtype)
    shape = (2, 5, 8) if build is _encoder else (5, 6)
    x = ferrum.randn(*shape, dtype=getattr(ferrum, dtype), requires_grad=True)
    plain = _run(model, x, model)
    ck = _run(model, x, lambda t: checkpoint(model, t, use_reentrant=use_reentrant))
    _same(plain, ck)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("segments", [1, 2, 3, 8])
def test_checkpoint_sequential_segments(segments, use_reentrant):
    model = _mlp("float64")  # 8 modules
    x = ferrum.randn(5, 6, dtype=ferrum.float64, requires_grad=True)
    plain = _run(model, x, model)
    _same(plain, _run(model, x, lambda t: checkpoint_sequential(model, segments, t,
                                                                use_reentrant=use_reentrant)))
    mods = list(model.children())  # a list of modules works as well
    _same(plain, _run(model, x, lambda t: checkpoint_sequential(mods, segments, t,
                                                                use_reentrant=use_reentrant)))


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_masks_repeat(use_reentrant, preserve):
    model = _mlp("float32", width=64, dropout=0.5)
    x = ferrum.randn(16, 64, requires_grad=True)
    ferrum.manual_seed(7)
    plain = _run(model, x, model)
    state_plain = ferrum.get_rng_state()._data.copy()
    ferrum.manual_seed(7)
    ck = _run(model, x, lambda t: checkpoint(model, t, use_reentrant=use_reentrant,
                                             preserve_rng_state=preserve))
    # the backward's recomputation leaves the surrounding RNG state as it was only when it restores it
    if preserve:
        _same(plain, ck)
        assert np.array_equal(ferrum.get_rng_state()._data, state_plain)
    else:
        assert np.array_equal(plain[0], ck[0])  # the forward draws the same masks
        assert not all(np.array_equal(a, b) for a, b in zip(plain[1], ck[1]))


# --------------------------------------------------------------------------- parity with torch
def _torch_twin(torch, model, build):
    if build is _encoder:
        layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        tm = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    else:
        mods = []
        for m in model.children():
            if isinstance(m, nn.Linear):
                mods.append(torch.nn.Linear(m.in_features, m.out_features))
            else:
                mods.append(getattr(torch.nn, type(m).__name__)())
        tm = torch.nn.Sequential(*mods)
    sd = {k: torch.from_numpy(np.array(v._data)) for k, v in model.state_dict().items()}
    tm.load_state_dict(sd)
    return tm.to(sd[next(iter(sd))].dtype)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build, how", [(_mlp, "checkpoint"), (_relu_mlp, "checkpoint"),
                                        (_encoder, "checkpoint"), (_mlp, "sequential"),
                                        (_relu_mlp, "sequential")])
def test_parity_with_torch(torch, build, how, dtype, use_reentrant):
    model = build(dtype)
    tm = _torch_twin(torch, model, build)
    shape = (2, 5, 8) if build is _encoder else (5, 6)
    xn = np.random.randn(*shape).astype(dtype)
    x = ferrum.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)
    if how == "checkpoint":
        out = checkpoint(model, x, use_reentrant=use_reentrant)
        tout = torch.utils.checkpoint.checkpoint(tm, tx, use_reentrant=use_reentrant)
    else:
        out = checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant)
        tout = torch.utils.checkpoint.checkpoint_sequential(tm, 2, tx, use_reentrant=use_reentrant)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), **tol)
    tp = dict(tm.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad._data, tp[name].grad.numpy(), **tol)


# --------------------------------------------------------------------------- gradcheck
def test_gradcheck_through_checkpoint():
    w = ferrum.randn(3, 3, dtype=ferrum.float64, requires_grad=True)

    def region(x, y):
        return (x @ w).tanh() * y.sin(), (x * y).exp()

    def f(x, y):
        a, b = checkpoint(region, x, y, use_reentrant=False)
        return a + b

    x = ferrum.randn(2, 3, dtype=ferrum.float64, requires_grad=True)
    y = ferrum.randn(2, 3, dtype=ferrum.float64, requires_grad=True)
    assert ferrum.autograd.gradcheck(f, (x, y))
    assert ferrum.autograd.gradgradcheck(f, (x, y))
    # a parameter used inside the region but not passed to checkpoint
    assert ferrum.autograd.gradcheck(lambda v: checkpoint(lambda a: (a @ v).tanh(), x, use_reentrant=False),
                                     (w,))


def test_double_backward_equals_plain():
    x = ferrum.randn(4, dtype=ferrum.float64, requires_grad=True)
    lin = nn.Linear(4, 4).double()

    def f(t):
        return lin((t ** 3).sin()).tanh()

    res = []
    for fn in (f, lambda t: checkpoint(f, t, use_reentrant=False)):
        g, = ferrum.autograd.grad(fn(x).sum(), x, create_graph=True)
        gg = ferrum.autograd.grad((g * g).sum(), [x, lin.weight])
        res.append([g._data] + [a._data for a in gg])
    for a, b in zip(*res):
        assert np.array_equal(a, b)


def test_reentrant_backward_is_not_differentiable_like_torch(torch):
    x = ferrum.randn(3, dtype=ferrum.float64, requires_grad=True)
    y = checkpoint(lambda t: (t ** 3).sin(), x, use_reentrant=True)
    y.sum().backward(create_graph=True)
    tx = torch.tensor(x._data, requires_grad=True)
    ty = torch.utils.checkpoint.checkpoint(lambda t: (t ** 3).sin(), tx, use_reentrant=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty.sum().backward(create_graph=True)
    assert x.grad.requires_grad == tx.grad.requires_grad
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- non-reentrant features
def test_autograd_grad_wrt_parameters_and_kwargs():
    model = _mlp("float64")
    x = ferrum.randn(3, 6, dtype=ferrum.float64, requires_grad=True)

    def fn(t, *, scale, bias=None):
        return model(t) * scale + bias

    b = ferrum.randn(6, dtype=ferrum.float64, requires_grad=True)
    params = [x, b, *model.parameters()]
    got = ferrum.autograd.grad(checkpoint(fn, x, scale=2.0, bias=b, use_reentrant=False).sum(), params)
    exp = ferrum.autograd.grad(fn(x, scale=2.0, bias=b).sum(), params)
    for a, e in zip(got, exp):
        assert np.array_equal(a._data, e._data)


def test_tuple_outputs_closure_tensor_and_unused_output():
    w = ferrum.randn(3, 3, requires_grad=True)
    x = ferrum.randn(2, 3, requires_grad=True)
    z = ferrum.randn(2, 3, requires_grad=True)

    def run(ck):
        h = (x @ w).tanh()  # a non-leaf captured by the region's closure

        def region(a):
            return {"s": (a * h).sin(), "e": [a.exp(), a.argmax(1)]}

        out = checkpoint(region, z, use_reentrant=False) if ck else region(z)
        assert out["e"][1].dtype == ferrum.int64
        return ferrum.autograd.grad(out["s"].sum() + 0.5 * out["e"][0].sum(), [w, x, z]), \
            ferrum.autograd.grad(checkpoint(region, z, use_reentrant=False)["e"][0].sum() if ck
                                 else region(z)["e"][0].sum(), [z])

    (g1, u1), (g2, u2) = run(True), run(False)
    for a, b in zip(g1 + u1, g2 + u2):
        assert np.array_equal(a._data, b._data)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_nested_checkpoints(use_reentrant):
    lin1, lin2 = nn.Linear(3, 3), nn.Linear(3, 3)
    x = ferrum.randn(2, 3, requires_grad=True)

    def inner(t):
        return lin2(t).relu()

    def outer(t):
        return checkpoint(inner, lin1(t).tanh(), use_reentrant=use_reentrant) * 2

    params = [x, *lin1.parameters(), *lin2.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reentrant: the inner input does not require grad under no_grad
        checkpoint(outer, x, use_reentrant=use_reentrant).sum().backward()
    got = [p.grad._data.copy() for p in params]
    for p in params:
        p.grad = None
    (lin2(lin1(x).tanh()).relu() * 2).sum().backward()
    for a, p in zip(got, params):
        assert np.array_equal(a, p.grad._data)


def test_inputs_not_requiring_grad():
    lin = nn.Linear(3, 3)
    x = ferrum.randn(2, 3)
    y = checkpoint(lin, x, use_reentrant=False)
    assert y.requires_grad
    y.sum().backward()
    g = lin.weight.grad._data.copy()
    lin.weight.grad = None
    lin(x).sum().backward()
    assert np.array_equal(g, lin.weight.grad._data)
    y = checkpoint(lambda t: t * 2, x, use_reentrant=False)  # nothing requires grad
    assert not y.requires_grad and y.grad_fn is None


def test_intermediate_kept_by_the_function_and_custom_function_inside():
    """A region whose module keeps an intermediate (so part of its graph outlives the cut) and a
    region with a two-output custom Function still give the plain run's gradients."""
    class Keep(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2 = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, x):
            h = self.l1(x).tanh()
            self.last_hidden = h
            return self.l2(h).sin()

    class Split(ferrum.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3

    m = Keep()
    x = ferrum.randn(2, 3, requires_grad=True)
    ps = [x, *m.parameters()]
    got = ferrum.autograd.grad(checkpoint(m, x, use_reentrant=False).sum(), ps)
    exp = ferrum.autograd.grad(m(x).sum(), ps)
    assert all(np.array_equal(a._data, b._data) for a, b in zip(got, exp))
    f = lambda t: [o.exp() for o in Split.apply(t.sin())]  # noqa: E731
    a, b = checkpoint(f, x, use_reentrant=False)
    got = ferrum.autograd.grad((a * b).sum(), x)
    a, b = f(x)
    assert np.array_equal(got[0]._data, ferrum.autograd.grad((a * b).sum(), x)[0]._data)


def test_input_returned_as_output_keeps_its_graph():
    w = ferrum.randn(3, requires_grad=True)
    x = ferrum.randn(3, requires_grad=True)
    res = []
    for ck in (True, False):
        a = w * 2  # a non-leaf whose node only `a` holds
        f = lambda p, q: (p * q, q)  # noqa: E731
        u, v = checkpoint(f, x, a, use_reentrant=False) if ck else f(x, a)
        assert v is a
        res.append(ferrum.autograd.grad((u * v).sum() + v.sum(), [w, x]))
    for g, e in zip(*res):
        assert np.array_equal(g._data, e._data)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_hooks_run_once(use_reentrant):
    calls = []
    lin = nn.Linear(3, 3)
    lin.weight.register_hook(lambda g: calls.append("weight"))
    x = ferrum.randn(2, 3, requires_grad=True)
    x.register_hook(lambda g: calls.append("input"))
    y = checkpoint(lin, x, use_reentrant=use_reentrant)
    y.register_hook(lambda g: calls.append("output"))
    y.sum().backward()
    assert sorted(calls) == ["input", "output", "weight"]


def test_region_activations_are_freed():
    """The region's graph (and every activation it saved) is gone once checkpoint returns."""
    x = ferrum.randn(4, 8, requires_grad=True)
    lin = nn.Linear(8, 8)
    refs = []

    def region(t):
        h = lin(t).tanh()
        refs.append(weakref.ref(h))
        return lin(h).sigmoid()

    plain = region(x)
    gc.collect()
    assert refs[0]() is not None  # the plain graph keeps it
    del plain
    y = checkpoint(region, x, use_reentrant=False)
    assert refs[1]() is None
    y.sum().backward()
    assert x.grad is not None


def test_second_backward_and_retain_graph():
    lin = nn.Linear(3, 3)
    x = ferrum.randn(2, 3, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=False)
    y.sum().backward(retain_graph=True)
    g1 = x.grad._data.copy()
    y.sum().backward()
    assert np.array_equal(x.grad._data, 2 * g1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_inplace_on_input_after_forward_raises_like_torch(torch, use_reentrant):
    for lib, ck in ((ferrum, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        x = lib.ones(3, requires_grad=True)
        a = x * 1
        y = ck(lambda t: t.sin(), a, use_reentrant=use_reentrant)
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_no_grad_runs_function_plainly():
    lin = nn.Linear(3, 3)
    with ferrum.no_grad():
        y = checkpoint(lin, ferrum.randn(2, 3, requires_grad=True), use_reentrant=False)
    assert not y.requires_grad


def test_context_fn_runs_forward_and_recomputation_contexts():
    log = []

    class Ctx:
        def __init__(self, tag):
            self.tag = tag

        def __enter__(self):
            log.append(self.tag)

        def __exit__(self, *exc):
            return False

    x = ferrum.randn(3, requires_grad=True)
    y = checkpoint(lambda t: t.exp(), x, use_reentrant=False, context_fn=lambda: (Ctx("fwd"), Ctx("rec")))
    assert log == ["fwd"]
    y.sum().backward()
    assert log == ["fwd", "rec"]


def test_nondeterministic_shape_raises_checkpoint_error(torch):
    for lib, ck, err in ((ferrum, checkpoint, CheckpointError),
                         (torch, torch.utils.checkpoint.checkpoint, torch.utils.checkpoint.CheckpointError)):
        count = itertools.count()
        x = lib.ones(3, requires_grad=True)
        y = ck(lambda t, c=count: t[: 3 - next(c) % 2].exp(), x, use_reentrant=False)
        with pytest.raises(err, match="different metadata"):
            y.sum().backward()
        assert issubclass(err, RuntimeError)


def test_debug_lists_the_graph_nodes_in_the_determinism_error():
    from ferrum.utils.checkpoint import set_checkpoint_debug_enabled
    for ctx_debug, arg_debug in ((None, True), (True, False)):
        count = itertools.count()
        x = ferrum.ones(3, requires_grad=True)
        with set_checkpoint_debug_enabled(ctx_debug):
            y = checkpoint(lambda t, c=count: t[: 3 - next(c) % 2].exp(), x, use_reentrant=False,
                           debug=arg_debug)
        with pytest.raises(CheckpointError, match="(?s)original forward:.*ExpBackward0.*recomputation:"):
            y.sum().backward()
    y = checkpoint(lambda t: t.exp(), x, use_reentrant=False, determinism_check="none")
    y.sum().backward()


def test_backward_inside_autocast_recomputes_as_forward():
    lin = nn.Linear(4, 4)
    x = ferrum.randn(3, 4, requires_grad=True)
    y = checkpoint(lin, x, use_reentrant=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ferrum.autocast("cpu", dtype=ferrum.bfloat16):
            y.sum().backward()
    g = x.grad._data.copy()
    x.grad = None
    lin(x).sum().backward()
    assert np.array_equal(g, x.grad._data)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_autocast_state_reentered_for_recomputation(use_reentrant):
    """The recomputation runs in the forward's autocast state (bfloat16 here) even though the
    backward runs outside the region, so the gradients equal the plain autocast run's. (The
    reference runs in its own region: within one region autocast caches the weight's cast.)"""
    lin = nn.Linear(8, 8)
    x = ferrum.randn(4, 8, requires_grad=True)
    grads = []
    for ck in (True, False):
        with ferrum.autocast("cpu", dtype=ferrum.bfloat16):
            y = checkpoint(lin, x, use_reentrant=use_reentrant) if ck else lin(x)
        assert y.dtype == ferrum.bfloat16
        (y.float() ** 2).sum().backward()
        grads.append([t.grad._data.copy() for t in (x, lin.weight, lin.bias)])
        x.grad = lin.weight.grad = lin.bias.grad = None
    for a, b in zip(*grads):
        assert a.dtype == b.dtype and np.array_equal(a, b)


# --------------------------------------------------------------------------- warnings and errors as torch
def _outcome(call):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            call()
            exc = None
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            exc = type(e).__name__
    return exc, sorted({type(m.message).__name__ for m in w})


def _both(torch, call):
    """call(lib, ck, ck_seq, lin, x) in ferrum and in torch: same exception type and warning types."""
    out = []
    for lib, mod in ((ferrum, ferrum.utils.checkpoint), (torch, torch.utils.checkpoint)):
        lin = lib.nn.Linear(3, 3)
        x = lib.ones(2, 3, requires_grad=True)
        out.append(_outcome(lambda lib=lib, mod=mod, lin=lin, x=x:
                            call(lib, mod.checkpoint, mod.checkpoint_sequential, lin, x)))
    assert out[0] == out[1]
    return out[0]


@pytest.mark.parametrize("case", [
    "no_use_reentrant", "no_use_reentrant_seq", "reentrant_grad", "reentrant_backward_inputs",
    "reentrant_kwargs", "reentrant_debug", "reentrant_context_fn", "bad_determinism", "no_input_grad",
    "seq_kwargs", "seq_zero_segments", "seq_too_many_segments", "not_callable", "raising_function",
    "debug_with_context_fn"])
def test_errors_and_warnings_match_torch(torch, case):
    def call(lib, ck, seq, lin, x):
        if case == "no_use_reentrant":
            ck(lin, x).sum().backward()
        elif case == "no_use_reentrant_seq":
            seq(lib.nn.Sequential(lin, lin), 1, x)
        elif case == "reentrant_grad":
            lib.autograd.grad(ck(lin, x, use_reentrant=True).sum(), x)
        elif case == "reentrant_backward_inputs":
            ck(lin, x, use_reentrant=True).sum().backward(inputs=[x])
        elif case == "reentrant_kwargs":
            ck(lin, x, use_reentrant=True, foo=1)
        elif case == "reentrant_debug":
            ck(lin, x, use_reentrant=True, debug=True)
        elif case == "reentrant_context_fn":
            ck(lin, x, use_reentrant=True, context_fn=lambda: (None, None))
        elif case == "bad_determinism":
            ck(lin, x, use_reentrant=False, determinism_check="all")
        elif case == "no_input_grad":
            y = ck(lin, x.detach(), use_reentrant=True)
            assert not y.requires_grad
        elif case == "seq_kwargs":
            seq(lib.nn.Sequential(lin, lin), 1, x, use_reentrant=False, foo=2)
        elif case == "seq_zero_segments":
            seq(lib.nn.Sequential(lin, lin), 0, x, use_reentrant=False)
        elif case == "seq_too_many_segments":
            seq(lib.nn.Sequential(lin, lin), 3, x, use_reentrant=False)
        elif case == "not_callable":
            ck(3, x, use_reentrant=False)
        elif case == "raising_function":
            ck(lambda t: t.no_such_method(), x, use_reentrant=False)
        elif case == "debug_with_context_fn":
            ck(lin, x, use_reentrant=False, debug=True,
               context_fn=lambda: (ferrum.autograd.no_grad(), ferrum.autograd.no_grad()))

    exc, warns = _both(torch, call)
    if case.startswith("no_use_reentrant") or case == "no_input_grad":
        assert warns == ["UserWarning"]
    else:
        assert exc is not None
