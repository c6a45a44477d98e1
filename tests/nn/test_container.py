"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
from tests.helpers import npv


def _names(m):
    return [n for n, _ in m.named_modules()]


def _norm(text):
    """ferrum names its dtypes and tensor types ferrum.*, torch torch.*."""
    return text.replace("ferrum.", "torch.")


def _both(torch):
    return ((ferrum, fnn), (torch, torch.nn))


# --------------------------------------------------------------------------- Sequential
def test_sequential_forward_matches_torch(torch):
    f = fnn.Sequential(fnn.Linear(3, 4), fnn.Flatten(), fnn.Linear(4, 2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    f.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(npv(f(ferrum.tensor(x))), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_sequential_indexing_and_mutation(torch):
    results = []
    for _, nn in _both(torch):
        a, b, c, d = nn.Linear(1, 1), nn.Identity(), nn.Flatten(), nn.Linear(2, 2)
        s = nn.Sequential(a, b, c)
        r = {"neg": s[-1] is c, "first": s[0] is a, "len": len(s), "iter": [m is x for m, x in
                                                                          zip(s, (a, b, c))]}
        sl = s[1:]
        r["slice_type"] = type(sl).__name__
        r["slice_names"] = _names(sl)
        r["slice_rev"] = _names(s[::-1])
        with pytest.raises(IndexError):
            s[3]
        with pytest.raises(IndexError):
            s[-4]
        s.append(d)
        r["append"] = _names(s)
        s.insert(1, nn.Identity())
        r["insert"] = _names(s)
        s.insert(-1, nn.Identity())
        r["insert_neg"] = _names(s)
        with pytest.raises(IndexError):
            s.insert(99, nn.Identity())
        s.extend([nn.Identity(), nn.Identity()])
        r["extend"] = _names(s)
        popped = s.pop(0)
        r["pop"] = (popped is a, _names(s))
        del s[1]
        r["del"] = _names(s)
        del s[1:3]
        r["del_slice"] = _names(s)
        s[0] = nn.Linear(3, 3)
        r["set"] = (_names(s), s[0].in_features)
        s2 = s + nn.Sequential(nn.Identity())
        r["add"] = (type(s2).__name__, _names(s2), len(s))
        with pytest.raises(ValueError):
            s + [nn.Identity()]
        s += nn.Sequential(nn.Identity())
        r["iadd"] = _names(s)
        r["mul"] = _names(nn.Sequential(nn.Identity(), nn.Identity()) * 2)
        od = nn.Sequential(OrderedDict([("x", nn.Linear(1, 1)), ("y", nn.Identity())]))
        r["od"] = (_names(od), od.x is od[0], _names(od[1:]), repr(od[1:]))
        od.append(nn.Identity())
        r["od_append"] = _names(od)
        results.append(r)
    assert results[0] == results[1]


def test_sequential_repr(torch):
    f = fnn.Sequential(fnn.Linear(1, 2), fnn.Sequential(fnn.Identity()), fnn.Flatten(0, 1))
    t = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Sequential(torch.nn.Identity()),
                            torch.nn.Flatten(0, 1))
    assert repr(f) == repr(t)
    assert repr(f[1:]) == repr(t[1:])
    assert repr(fnn.Sequential()) == repr(torch.nn.Sequential())


def test_sequential_copy_pickle():
    s = fnn.Sequential(fnn.Linear(2, 2), fnn.Identity())
    for c in (copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert isinstance(c, fnn.Sequential) and len(c) == 2
        np.testing.assert_array_equal(npv(c[0].weight), npv(s[0].weight))


# --------------------------------------------------------------------------- ModuleList
def test_module_list_api(torch):
    results = []
    for _, nn in _both(torch):
        mods = [nn.Linear(1, 1), nn.Identity(), nn.Flatten()]
        ml = nn.ModuleList(mods)
        r = {"len": len(ml), "iter": [m is x for m, x in zip(ml, mods)], "neg": ml[-1] is mods[2]}
        r["slice"] = (type(ml[1:]).__name__, _names(ml[1:]), repr(ml[::2]))
        ml.append(nn.Linear(2, 2))
        ml.extend([nn.Identity()])
        ml.insert(1, nn.Flatten())
        r["after"] = (_names(ml), repr(ml))
        ml.insert(len(ml), nn.Identity())  # torch's insert mis-handles negative indices
        r["insert_end"] = _names(ml)
        del ml[0]
        r["del"] = _names(ml)
        del ml[::2]
        r["del_slice"] = (_names(ml), repr(ml))
        p = ml.pop(1)
        r["pop"] = (type(p).__name__, _names(ml))
        ml[0] = nn.Linear(4, 4)
        r["set"] = ml[0].in_features
        ml2 = ml + nn.ModuleList([nn.Identity()])
        r["add"] = (type(ml2).__name__, _names(ml2))
        ml += [nn.Identity()]
        r["iadd"] = _names(ml)
        with pytest.raises(IndexError):
            ml[10]
        with pytest.raises(TypeError):
            ml.extend(nn.Identity())
        r["params"] = [n for n, _ in ml.named_parameters()]
        r["repr_empty"] = repr(nn.ModuleList())
        r["dir_has_digits"] = "0" in dir(ml)
        results.append(r)
    assert results[0] == results[1]


def test_module_list_not_callable():
    with pytest.raises(NotImplementedError):
        fnn.ModuleList([fnn.Identity()])(ferrum.ones(1))


# --------------------------------------------------------------------------- ModuleDict
def test_module_dict_api(torch):
    results = []
    for _, nn in _both(torch):
        md = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.Identity()})
        r = {"keys": list(md.keys()), "iter": list(md), "len": len(md), "in": ("a" in md, "z" in md)}
        md["c"] = nn.Flatten()
        md.update([("d", nn.Identity()), ("a", nn.Linear(2, 2))])
        md.update(OrderedDict([("e", nn.Identity())]))
        md.update(nn.ModuleDict({"f": nn.Identity()}))
        r["after"] = (list(md.keys()), [type(v).__name__ for v in md.values()],
                      [k for k, _ in md.items()], repr(md))
        p = md.pop("c")
        del md["d"]
        r["pop"] = (type(p).__name__, list(md))
        with pytest.raises(KeyError):
            md["zz"]
        with pytest.raises(ValueError):
            md.update([("x", nn.Identity(), 3)])
        with pytest.raises(TypeError):
            md.update(3)
        r["params"] = [n for n, _ in md.named_parameters()]
        md.clear()
        r["clear"] = (len(md), repr(md))
        results.append(r)
    assert results[0] == results[1]


# --------------------------------------------------------------------------- ParameterList / Dict
def test_parameter_list(torch):
    results = []
    for lib, nn in _both(torch):
        pl = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        pl.append(nn.Parameter(lib.zeros(1, dtype=lib.float64), requires_grad=False))
        pl.extend([lib.zeros(2, dtype=lib.float16)])
        pl.append("not a tensor")
        r = {"len": len(pl), "types": [type(p).__name__ for p in pl],
             "params": [n for n, _ in pl.named_parameters()], "repr": _norm(repr(pl)),
             "rg": [getattr(p, "requires_grad", None) for p in pl]}
        r["slice"] = (type(pl[1:3]).__name__, len(pl[1:3]))
        pl[0] = lib.full((1,), 2.0)
        r["set"] = (type(pl[0]).__name__, float(pl[0][0]))
        r["neg"] = pl[-2].shape == (2,)
        with pytest.raises(IndexError):
            pl[9]
        results.append(r)
    assert results[0] == results[1]


def test_parameter_dict(torch):
    results = []
    for lib, nn in _both(torch):
        pd = nn.ParameterDict({"w": nn.Parameter(lib.zeros(2)), "a": lib.ones(3)})
        pd["b"] = lib.zeros(1, 2)
        pd.update([("c", nn.Parameter(lib.zeros(1)))])
        pd.update({"z": lib.zeros(1), "y": lib.zeros(1)})
        r = {"keys": list(pd.keys()), "len": len(pd), "types": [type(v).__name__ for v in pd.values()],
             "params": [n for n, _ in pd.named_parameters()], "repr": _norm(repr(pd)),
             "in": ("a" in pd, "q" in pd), "get": pd.get("q", 5)}
        popped = pd.pop("a")
        r["pop"] = (type(popped).__name__, list(pd))
        del pd["b"]
        r["del"] = list(pd)
        cp = pd.copy()
        r["copy"] = (type(cp).__name__, list(cp), cp["w"] is pd["w"])
        r["setdefault"] = type(pd.setdefault("n", lib.zeros(1))).__name__
        r["or"] = list(pd | nn.ParameterDict({"o": lib.zeros(1)}))
        with pytest.raises(AttributeError):  # torch raises AttributeError here; ferrum's is also a KeyError
            pd["missing"]
        pd.clear()
        r["clear"] = (len(pd), repr(pd))
        results.append(r)
    assert results[0] == results[1]


def test_parameter_containers_train_and_to(torch):
    pl = fnn.ParameterList([ferrum.zeros(2)])
    pd = fnn.ParameterDict({"a": ferrum.zeros(2)})
    m = fnn.Module()
    m.pl, m.pd = pl, pd
    p0, pa = pl[0], pd["a"]
    m.double()
    assert pl[0] is p0 and pd["a"] is pa and p0.dtype == ferrum.float64
    assert [n for n, _ in m.named_parameters()] == ["pl.0", "pd.a"]
    c = copy.deepcopy(m)
    assert list(c.pd.keys()) == ["a"] and len(c.pl) == 1


def test_parameter_containers_nested_repr(torch):
    out = []
    for lib, nn in _both(torch):
        m = nn.Module()
        m.pl = nn.ParameterList([lib.zeros(2, dtype=lib.float64), "s"])
        m.pd = nn.ParameterDict(OrderedDict([("z", lib.zeros(1, 2)), ("a", nn.Parameter(lib.ones(3)))]))
        m.lin = nn.Linear(1, 1)
        out.append(_norm(repr(m)))
    assert out[0] == out[1]


def test_sequential_multiply(torch):
    out = []
    for _, nn in _both(torch):
        s = nn.Sequential(nn.Linear(1, 1), nn.Identity())
        r = [_names(s * 2), _names(2 * s)]
        with pytest.raises(ValueError):
            s * 0
        with pytest.raises(TypeError):
            s * 1.5
        t = nn.Sequential(nn.Identity())
        t *= 3
        r.append((_names(t), len(t)))
        assert (s * 2)[0] is (s * 2)[2]  # the same module objects repeated
        out.append(r)
    assert out[0] == out[1]


def test_parameter_dict_ops(torch):
    out = []
    for lib, nn in _both(torch):
        a = nn.ParameterDict({"x": lib.zeros(1)})
        b = nn.ParameterDict({"y": lib.zeros(2)})
        pq = nn.ParameterDict(OrderedDict([("p", lib.zeros(1)), ("q", lib.zeros(1))]))
        r = [list(a | b), list(reversed(pq))]
        a |= b
        r.append(list(a))
        k, v = a.popitem()
        r.append((k, tuple(v.shape), list(a)))
        with pytest.raises(TypeError):
            a[3] = lib.zeros(1)
        r.append(list(a.fromkeys(["m", "n"], lib.zeros(1)).keys()))
        out.append(r)
    assert out[0] == out[1]


# --------------------------------------------------------------------------- Linear/ReLU fast path
def _mlp_and_plain(dtype=ferrum.float64):
    nn = ferrum.nn
    m = nn.Sequential(nn.Linear(7, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.ReLU(), nn.Linear(4, 3))
    m.to(dtype)

    def plain(x):
        for mod in m:
            x = mod(x)
        return x
    return m, plain


@pytest.mark.parametrize("grad", [True, False])
def test_linear_relu_chain_matches_module_by_module(grad):
    m, plain = _mlp_and_plain()
    x = ferrum.randn(6, 7, dtype=ferrum.float64, requires_grad=grad)
    y = m(x)
    y_ref = plain(x)
    assert y.is_contiguous()
    assert ferrum.equal(y, y_ref)
    if grad:
        (gx,) = ferrum.autograd.grad(y.square().sum(), x)
        (gx_ref,) = ferrum.autograd.grad(y_ref.square().sum(), x)
        assert ferrum.allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)
        assert ferrum.autograd.gradcheck(m, (x,))
        assert ferrum.autograd.gradgradcheck(m, (x,))


def test_linear_relu_chain_runs_hooks_and_keeps_inputs_intact():
    m, _ = _mlp_and_plain()
    seen = []
    m[1].register_forward_hook(lambda mod, args, out: seen.append(out.clone()))
    x = ferrum.randn(6, 7, dtype=ferrum.float64)
    x_before = x.clone()
    m(x)
    assert len(seen) == 1 and bool((seen[0] >= 0).all())
    assert ferrum.equal(x, x_before)


class _MyLinear(ferrum.nn.Linear):
    """A subclass that only adds a method: its call is Linear's, so the fused path takes it."""

    def scale(self) -> float:
        return 1.0


class _MyReLU(ferrum.nn.ReLU):
    pass


class _DoubledLinear(ferrum.nn.Linear):
    def forward(self, input):
        return super().forward(input) * 2


def test_linear_relu_chain_takes_subclasses_that_keep_forward(monkeypatch):
    from ferrum.nn.modules import container
    nn = ferrum.nn
    m = nn.Sequential(_MyLinear(7, 5), _MyReLU(), nn.Linear(5, 3)).to(ferrum.float64)
    assert container._linear_relu_kinds(list(m)) == [container._LINEAR, container._RELU,
                                                      container._LINEAR]
    calls = []
    real = container._linear_relu_chain
    monkeypatch.setattr(container, "_linear_relu_chain", lambda *a: calls.append(1) or real(*a))
    x = ferrum.randn(4, 7, dtype=ferrum.float64, requires_grad=True)
    y = m(x)
    assert calls == [1]
    y_ref = x
    for mod in m:
        y_ref = mod(y_ref)
    assert ferrum.equal(y, y_ref)
    (gx,) = ferrum.autograd.grad(y.sum(), x)
    (gx_ref,) = ferrum.autograd.grad(y_ref.sum(), x)
    assert ferrum.allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)


def test_linear_relu_chain_leaves_overridden_forward_to_the_module():
    from ferrum.nn.modules import container
    nn = ferrum.nn
    m = nn.Sequential(_DoubledLinear(7, 5), nn.ReLU(), nn.Linear(5, 3)).to(ferrum.float64)
    assert container._linear_relu_kinds(list(m)) is None
    x = ferrum.randn(4, 7, dtype=ferrum.float64)
    ref = m[2](m[1](m[0](x)))
    assert ferrum.equal(m(x), ref)
    assert ferrum.equal(m[0](x), nn.functional.linear(x, m[0].weight, m[0].bias) * 2)
    # a forward set on one instance is that instance's call too
    lin = nn.Linear(7, 5).to(ferrum.float64)
    lin.forward = lambda inp: inp[:, :5] * 0
    m2 = nn.Sequential(lin, nn.ReLU())
    assert container._linear_relu_kinds(list(m2)) is None
    assert ferrum.equal(m2(x), ferrum.zeros(4, 5, dtype=ferrum.float64))
    # LazyLinear overrides forward (it initialises itself): module by module until it is a Linear
    lazy = nn.Sequential(nn.LazyLinear(3), nn.ReLU())
    assert container._linear_relu_kinds(list(lazy)) is None
    lazy(ferrum.randn(2, 4))
    assert container._linear_relu_kinds(list(lazy)) is not None
