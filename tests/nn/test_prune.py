"""nn.utils.prune against torch: masks (the random ones from the same seed), state dicts, parameters and
buffers, forward outputs and gradients reaching ``<name>_orig``, iterative pruning, remove, errors."""

import math

import numpy as np
import pytest

import ferrum
import ferrum.nn.utils.prune as fprune

DTYPES = ["float32", "float64"]


@pytest.fixture
def torch(torch):
    import torch.nn.utils.prune  # noqa: F401  (torch.nn.utils does not import it)
    return torch


def _np(t):
    return t.detach().numpy()


def _f(t):
    return ferrum.tensor(t.detach().numpy())


def _pair(torch, kind, dtype):
    torch.manual_seed(7)
    if kind == "linear":
        tm, fm = torch.nn.Linear(6, 5), ferrum.nn.Linear(6, 5)
    else:
        tm, fm = torch.nn.Conv2d(3, 4, 3), ferrum.nn.Conv2d(3, 4, 3)
    tm = tm.to(getattr(torch, dtype))
    fm = fm.to(getattr(ferrum, dtype))
    fm.load_state_dict({k: _f(v) for k, v in tm.state_dict().items()})
    return fm, tm


def _input(torch, kind, dtype):
    torch.manual_seed(11)
    shape = (3, 6) if kind == "linear" else (2, 3, 6, 6)
    return torch.randn(*shape, dtype=getattr(torch, dtype))


def _check_same(torch, fm, tm, kind, dtype):
    tsd, fsd = tm.state_dict(), fm.state_dict()
    assert list(fsd) == list(tsd)
    for k in tsd:
        assert fsd[k].dtype == getattr(ferrum, dtype)
        np.testing.assert_array_equal(_np(fsd[k]), _np(tsd[k]), err_msg=k)
    assert [n for n, _ in fm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in fm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert fprune.is_pruned(fm) == torch.nn.utils.prune.is_pruned(tm)
    x = _input(torch, kind, dtype)
    ty = tm(x)
    fy = fm(_f(x))
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(_np(fy), _np(ty), rtol=tol, atol=tol)
    (ty * ty).sum().backward()
    (fy * fy).sum().backward()
    tp, fp = dict(tm.named_parameters()), dict(fm.named_parameters())
    for k in tp:
        np.testing.assert_allclose(_np(fp[k].grad), _np(tp[k].grad), rtol=1e-4 if tol > 1e-10 else 1e-10,
                                   atol=tol * 10, err_msg=k)


# One step: (function name, positional args after (module, name), keyword args).
STEPS = {
    "identity": ("identity", (), {}),
    "rand_u_float": ("random_unstructured", (), {"amount": 0.3}),
    "rand_u_int": ("random_unstructured", (), {"amount": 4}),
    "l1_float": ("l1_unstructured", (), {"amount": 0.45}),
    "l1_int": ("l1_unstructured", (), {"amount": 3}),
    "rand_s0": ("random_structured", (), {"amount": 0.4, "dim": 0}),
    "rand_s1": ("random_structured", (), {"amount": 2, "dim": 1}),
    "rand_s_neg": ("random_structured", (), {"amount": 1, "dim": -1}),
    "ln2_0": ("ln_structured", (), {"amount": 0.5, "n": 2, "dim": 0}),
    "ln1_1": ("ln_structured", (), {"amount": 1, "n": 1, "dim": 1}),
    "lninf_neg": ("ln_structured", (), {"amount": 1, "n": math.inf, "dim": -1}),
    "lnfro": ("ln_structured", (), {"amount": 0.25, "n": "fro", "dim": 0}),
    "zero": ("l1_unstructured", (), {"amount": 0}),
}

SEQUENCES = [
    ("identity",), ("rand_u_float",), ("rand_u_int",), ("l1_float",), ("l1_int",), ("rand_s0",),
    ("rand_s1",), ("rand_s_neg",), ("ln2_0",), ("ln1_1",), ("lninf_neg",), ("lnfro",), ("zero",),
    ("l1_float", "l1_int"), ("rand_u_float", "ln2_0"), ("ln1_1", "rand_u_int", "l1_float"),
    ("rand_s0", "rand_s1"), ("identity", "rand_s_neg", "zero"), ("lnfro", "ln1_1", "rand_u_float"),
]


def _run(mod, lib, steps, name="weight"):
    for s in steps:
        fn, args, kw = STEPS[s]
        getattr(lib, fn)(mod, name, *args, **kw)


# 'fro' is a matrix norm: torch refuses it over a conv weight's three non-channel dims.
GRID = [(kind, steps) for kind in ("linear", "conv") for steps in SEQUENCES
        if not (kind == "conv" and "lnfro" in steps)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,steps", GRID, ids=[f"{k}-{'-'.join(s)}" for k, s in GRID])
def test_pruning_matches_torch(torch, kind, dtype, steps):
    fm, tm = _pair(torch, kind, dtype)
    torch.manual_seed(3)
    ferrum.manual_seed(3)
    _run(tm, torch.nn.utils.prune, steps)
    _run(fm, fprune, steps)
    th = [h for h in tm._forward_pre_hooks.values()]
    fh = [h for h in fm._forward_pre_hooks.values()]
    assert len(fh) == len(th) == 1
    assert type(fh[0]).__name__ == type(th[0]).__name__
    if len(steps) > 1:
        assert [type(m).__name__ for m in fh[0]] == [type(m).__name__ for m in th[0]]
    _check_same(torch, fm, tm, kind, dtype)
    # after an optimizer-like change of <name>_orig the hook recomputes the masked weight
    with torch.no_grad():
        tm.weight_orig.add_(1.0)
    with ferrum.no_grad():
        fm.weight_orig.add_(1.0)
    x = _input(torch, kind, dtype)
    np.testing.assert_allclose(_np(fm(_f(x))), _np(tm(x)), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(_np(fm.weight), _np(tm.weight))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [("l1_float",), ("rand_s0", "l1_int"), ("ln2_0",)], ids="-".join)
def test_remove_matches_torch(torch, dtype, steps):
    fm, tm = _pair(torch, "conv", dtype)
    torch.manual_seed(5)
    ferrum.manual_seed(5)
    _run(tm, torch.nn.utils.prune, steps)
    _run(fm, fprune, steps)
    assert fprune.remove(fm, "weight") is fm
    torch.nn.utils.prune.remove(tm, "weight")
    assert isinstance(fm.weight, ferrum.nn.Parameter)
    assert not fm._forward_pre_hooks
    _check_same(torch, fm, tm, "conv", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_and_weight_pruned_separately(torch, dtype):
    fm, tm = _pair(torch, "linear", dtype)
    for lib, m in ((torch.nn.utils.prune, tm), (fprune, fm)):
        lib.l1_unstructured(m, "bias", amount=2)
        lib.ln_structured(m, "weight", amount=2, n=1, dim=0)
        lib.l1_unstructured(m, "bias", amount=1)
    assert len(fm._forward_pre_hooks) == 2
    _check_same(torch, fm, tm, "linear", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["l1", "ln"])
def test_importance_scores(torch, dtype, which):
    fm, tm = _pair(torch, "linear", dtype)
    torch.manual_seed(1)
    scores = torch.randn(5, 6, dtype=getattr(torch, dtype))
    if which == "l1":
        torch.nn.utils.prune.l1_unstructured(tm, "weight", 0.5, importance_scores=scores)
        fprune.l1_unstructured(fm, "weight", 0.5, importance_scores=_f(scores))
    else:
        torch.nn.utils.prune.ln_structured(tm, "weight", 2, 2, 1, importance_scores=scores)
        fprune.ln_structured(fm, "weight", 2, 2, 1, importance_scores=_f(scores))
    _check_same(torch, fm, tm, "linear", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amount", [0.3, 7, 0.0])
def test_global_unstructured(torch, dtype, amount):
    torch.manual_seed(2)
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    tnet = tnet.to(getattr(torch, dtype))
    fnet = ferrum.nn.Sequential(ferrum.nn.Linear(4, 5), ferrum.nn.ReLU(), ferrum.nn.Linear(5, 3))
    fnet = fnet.to(getattr(ferrum, dtype))
    fnet.load_state_dict({k: _f(v) for k, v in tnet.state_dict().items()})
    # the first layer already pruned: its mask is combined with the global one
    torch.manual_seed(6)
    ferrum.manual_seed(6)
    torch.nn.utils.prune.random_unstructured(tnet[0], "weight", 0.2)
    fprune.random_unstructured(fnet[0], "weight", 0.2)
    for lib, net in ((torch.nn.utils.prune, tnet), (fprune, fnet)):
        params = [(net[0], "weight"), (net[2], "weight"), (net[2], "bias")]
        lib.global_unstructured(params, pruning_method=lib.L1Unstructured, amount=amount)
    assert list(fnet.state_dict()) == list(tnet.state_dict())
    for k, v in tnet.state_dict().items():
        np.testing.assert_array_equal(_np(fnet.state_dict()[k]), _np(v), err_msg=k)
    assert type(fnet[0]._forward_pre_hooks[next(iter(fnet[0]._forward_pre_hooks))]).__name__ == \
        "PruningContainer"
    x = torch.randn(3, 4, dtype=getattr(torch, dtype))
    np.testing.assert_allclose(_np(fnet(_f(x))), _np(tnet(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["RandomUnstructured", "L1Unstructured"])
def test_global_unstructured_importance_and_random(torch, method):
    torch.manual_seed(4)
    ta, tb = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
    fa, fb = ferrum.nn.Linear(3, 4), ferrum.nn.Linear(4, 2)
    fa.load_state_dict({k: _f(v) for k, v in ta.state_dict().items()})
    fb.load_state_dict({k: _f(v) for k, v in tb.state_dict().items()})
    scores = torch.randn(4, 3)
    torch.manual_seed(9)
    ferrum.manual_seed(9)
    torch.nn.utils.prune.global_unstructured(
        [(ta, "weight"), (tb, "weight")], getattr(torch.nn.utils.prune, method),
        importance_scores={(ta, "weight"): scores}, amount=0.4)
    fprune.global_unstructured(
        [(fa, "weight"), (fb, "weight")], getattr(fprune, method),
        importance_scores={(fa, "weight"): _f(scores)}, amount=0.4)
    np.testing.assert_array_equal(_np(fa.weight_mask), _np(ta.weight_mask))
    np.testing.assert_array_equal(_np(fb.weight_mask), _np(tb.weight_mask))
    assert type(fa._forward_pre_hooks[next(iter(fa._forward_pre_hooks))]).__name__ == "CustomFromMask"


def test_custom_from_mask_and_prune_method(torch):
    fm, tm = _pair(torch, "linear", "float32")
    mask = (torch.arange(30).reshape(5, 6) % 3 != 0).to(torch.float32)
    torch.nn.utils.prune.custom_from_mask(tm, "weight", mask)
    fprune.custom_from_mask(fm, "weight", _f(mask))
    torch.nn.utils.prune.custom_from_mask(tm, "weight", mask.flip(0))
    fprune.custom_from_mask(fm, "weight", _f(mask.flip(0)))
    _check_same(torch, fm, tm, "linear", "float32")
    # prune(): the tensor times the mask, no module
    t = torch.randn(4, 5)
    for tmeth, fmeth in ((torch.nn.utils.prune.L1Unstructured(0.5), fprune.L1Unstructured(0.5)),
                         (torch.nn.utils.prune.LnStructured(2, 1, dim=0), fprune.LnStructured(2, 1, dim=0))):
        np.testing.assert_array_equal(_np(fmeth.prune(_f(t))), _np(tmeth.prune(t)))
        np.testing.assert_array_equal(_np(fmeth.prune(_f(t), importance_scores=_f(-t.flip(1)))),
                                      _np(tmeth.prune(t, importance_scores=-t.flip(1))))


def test_container_api():
    m = ferrum.nn.Linear(3, 2)
    a = fprune.L1Unstructured.apply(m, "weight", amount=1)
    assert isinstance(a, fprune.L1Unstructured) and a._tensor_name == "weight"
    c = fprune.RandomUnstructured.apply(m, "weight", amount=1)
    assert isinstance(c, fprune.PruningContainer) and len(c) == 2 and c[0] is a
    assert [type(x) for x in c] == [fprune.L1Unstructured, fprune.RandomUnstructured]
    c2 = fprune.Identity.apply(m, "weight")
    assert c2 is c and len(c) == 3
    assert float(m.weight_mask.sum()) == 4.0
    b = fprune.L1Unstructured(1)
    b._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods"):
        c.add_pruning_method(b)
    with pytest.raises(TypeError, match="not a BasePruningMethod"):
        c.add_pruning_method(3)


def _errors(lib, nn):
    m = nn.Linear(4, 3)
    cases = [
        lambda: lib.l1_unstructured(m, "weight", amount=-1),
        lambda: lib.l1_unstructured(m, "weight", amount=1.5),
        lambda: lib.l1_unstructured(m, "weight", amount=-0.1),
        lambda: lib.l1_unstructured(m, "weight", amount="0.5"),
        lambda: lib.random_unstructured(m, "weight", amount=13),
        lambda: lib.random_structured(m, "bias", amount=1, dim=0),
        lambda: lib.ln_structured(m, "weight", amount=1, n=2, dim=2),
        lambda: lib.random_structured(m, "weight", amount=5, dim=0),
        lambda: lib.remove(m, "weight"),
        lambda: lib.global_unstructured(3, lib.L1Unstructured, amount=1),
        lambda: lib.global_unstructured([(m, "weight")], lib.L1Unstructured, importance_scores=[1], amount=1),
        lambda: lib.global_unstructured([(m, "weight")], lib.RandomStructured, amount=1),
    ]
    out = []
    for fn in cases:
        try:
            fn()
            out.append(None)
        except Exception as e:  # noqa: BLE001
            out.append(type(e).__name__)
    return out


def test_errors_match_torch(torch):
    expect = _errors(torch.nn.utils.prune, torch.nn)
    got = _errors(fprune, ferrum.nn)
    assert None not in expect
    assert got == expect


def test_importance_scores_shape_error(torch):
    tm, fm = torch.nn.Linear(4, 3), ferrum.nn.Linear(4, 3)
    with pytest.raises(AssertionError):
        torch.nn.utils.prune.l1_unstructured(tm, "weight", 1, importance_scores=torch.ones(3, 3))
    with pytest.raises(AssertionError, match="same shape"):
        fprune.l1_unstructured(fm, "weight", 1, importance_scores=ferrum.ones(3, 3))
    assert list(fm.state_dict()) == ["weight", "bias"]


def test_failed_prune_leaves_module_untouched():
    # (torch drops the existing hook in this case; ferrum leaves the module as it was)
    m = ferrum.nn.Linear(4, 3)
    w = m.weight
    with pytest.raises(ValueError):
        fprune.random_unstructured(m, "weight", amount=20)
    assert m.weight is w and list(m.state_dict()) == ["weight", "bias"] and not m._forward_pre_hooks
    fprune.l1_unstructured(m, "weight", amount=10)
    hook = next(iter(m._forward_pre_hooks.values()))
    mask = m.weight_mask.clone()
    with pytest.raises(ValueError):
        fprune.l1_unstructured(m, "weight", amount=3)   # only 2 entries left
    assert next(iter(m._forward_pre_hooks.values())) is hook
    np.testing.assert_array_equal(_np(m.weight_mask), _np(mask))
    assert fprune.is_pruned(m)


def test_is_pruned_nested_and_training_step():
    net = ferrum.nn.Sequential(ferrum.nn.Linear(3, 4), ferrum.nn.Tanh(), ferrum.nn.Linear(4, 1))
    assert not fprune.is_pruned(net)
    fprune.l1_unstructured(net[2], "weight", amount=2)
    assert fprune.is_pruned(net)
    opt = ferrum.optim.SGD(net.parameters(), lr=0.1)
    x = ferrum.randn(5, 3)
    net(x).pow(2).sum().backward()
    g = net[2].weight_orig.grad
    assert (g[net[2].weight_mask == 0] == 0).all()
    opt.step()
    net(x)
    assert (net[2].weight[net[2].weight_mask == 0] == 0).all()
    fprune.remove(net[2], "weight")
    assert not fprune.is_pruned(net)


def test_module_lifecycle_matches_torch(torch):
    import copy
    outs = []
    for lib, nn, lib_t in ((torch.nn.utils.prune, torch.nn, torch), (fprune, ferrum.nn, ferrum)):
        torch.manual_seed(0)
        ferrum.manual_seed(0)
        m = nn.Linear(3, 4)
        lib.l1_unstructured(m, "weight", 0.5)
        # module.weight has a grad_fn, so deepcopy refuses it (both) ...
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(m)
        # ... unless pruned under no_grad; the copy carries its own hook
        with lib_t.no_grad():
            m2 = nn.Linear(3, 4)
            lib.l1_unstructured(m2, "weight", 0.5)
        c = copy.deepcopy(m2)
        assert lib.is_pruned(c)
        # a pruned state dict loads into a module pruned with an identity mask
        m3 = nn.Linear(3, 4)
        lib.identity(m3, "weight")
        m3.load_state_dict(m.state_dict())
        x = lib_t.ones(1, 3)
        assert (m3(x) - m(x)).abs().max().item() == 0
        # .double() converts weight_orig/mask; the hook recomputes weight on the next call
        m.double()
        before = str(m.weight.dtype).split(".")[1]
        m(lib_t.ones(1, 3, dtype=lib_t.float64))
        outs.append((before, str(m.weight.dtype).split(".")[1], lib.Identity.PRUNING_TYPE,
                     lib.LnStructured.PRUNING_TYPE, lib.CustomFromMask.PRUNING_TYPE))
    assert outs[0] == outs[1]


def test_global_unstructured_generator_and_list_agree():
    a, b = ferrum.nn.Linear(3, 4), ferrum.nn.Linear(3, 4)
    b.load_state_dict(a.state_dict())
    fprune.global_unstructured([(a, "weight"), (a, "bias")], fprune.L1Unstructured, amount=5)
    fprune.global_unstructured(((b, n) for n in ("weight", "bias")), fprune.L1Unstructured, amount=5)
    assert float(a.weight_mask.sum() + a.bias_mask.sum()) == 11.0
    assert (a.weight_mask == b.weight_mask).all() and (a.bias_mask == b.bias_mask).all()
