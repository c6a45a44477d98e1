"""``nn.Module`` against ``torch.nn.Module``: registration, traversal order, state dicts, dtype and
device moves, modes, hooks (forward, backward), printing, copying and pickling."""

# Hooks defined in loops are registered and fired within the same iteration: the late binding
# B023 warns about cannot bite.
# ruff: noqa: B023

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ferrum
import ferrum.nn as fnn
from tests.helpers import npv


# --------------------------------------------------------------------------- model builders
def _blocks(nn):
    """Classes with the same structure built on either ``ferrum.nn`` or ``torch.nn``."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.act_scale = nn.Parameter(nn.Linear(1, 2).weight.detach().clone().reshape(2))
            self.register_buffer("count", _zeros(nn, 2, integer=True))
            self.register_buffer("scratch", _zeros(nn, 2), persistent=False)
            self.inner = nn.Sequential(nn.Linear(4, 4), nn.Flatten())

        def forward(self, x):
            return self.inner(self.fc(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block()
            self.head = nn.Linear(4, 2, bias=False)
            self.register_buffer("running", _zeros(nn, 3))
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.table = nn.ModuleDict({"b": nn.Linear(2, 1), "a": nn.Identity()})
            self.scale = nn.Parameter(_zeros(nn, 1) + 1)

        def forward(self, x):
            y = self.head(self.first(x))
            for b in self.blocks:
                y = b(y)
            return self.table["b"](y) * self.scale

    return Block, Net


def _zeros(nn, n, integer=False):
    lib = ferrum if nn is fnn else __import__("torch")
    return lib.zeros(n, dtype=lib.int64 if integer else lib.float32)


def _copy_into(fm, tm, torch):
    """Copies torch's parameters and buffers into the ferrum module (same names)."""
    tsd = tm.state_dict()
    fsd = {k: ferrum.tensor(v.numpy().copy()) for k, v in tsd.items()}
    fm.load_state_dict(fsd)


FBlock, FNet = _blocks(fnn)  # module level, so that pickle finds them
FBlock.__qualname__, FNet.__qualname__ = "FBlock", "FNet"


@pytest.fixture
def pair(torch):
    _, TNet = _blocks(torch.nn)
    f, t = FNet(), TNet()
    _copy_into(f, t, torch)
    return f, t


# --------------------------------------------------------------------------- traversal
def test_named_parameters_order(pair):
    f, t = pair
    assert [n for n, _ in f.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in f.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in f.named_parameters(prefix="model")] == \
        [n for n, _ in t.named_parameters(prefix="model")]
    assert len(list(f.parameters())) == len(list(t.parameters()))
    assert len(list(f.parameters(recurse=False))) == len(list(t.parameters(recurse=False)))


def test_named_buffers_children_modules(pair):
    f, t = pair
    assert [n for n, _ in f.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in f.named_buffers(recurse=False)] == [n for n, _ in t.named_buffers(recurse=False)]
    assert [n for n, _ in f.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in f.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in f.named_modules(prefix="p")] == [n for n, _ in t.named_modules(prefix="p")]
    assert [type(m).__name__ for m in f.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in f.children()] == [type(m).__name__ for m in t.children()]


def _shared(nn):
    if nn is fnn:
        return FTied()

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(3, 3)
            self.dec = nn.Linear(3, 3)
            self.dec.weight = self.enc.weight
            self.again = self.enc  # the same submodule under two names

        def forward(self, x):
            return self.dec(self.enc(x))

    return Tied()


class FTied(fnn.Module):
    def __init__(self):
        super().__init__()
        self.enc = fnn.Linear(3, 3)
        self.dec = fnn.Linear(3, 3)
        self.dec.weight = self.enc.weight
        self.again = self.enc

    def forward(self, x):
        return self.dec(self.enc(x))


def test_shared_parameters_and_modules(torch):
    f, t = _shared(fnn), _shared(torch.nn)
    assert f.dec.weight is f.enc.weight
    for kw in ({}, {"remove_duplicate": False}):
        assert [n for n, _ in f.named_parameters(**kw)] == [n for n, _ in t.named_parameters(**kw)]
        assert [n for n, _ in f.named_modules(**kw)] == [n for n, _ in t.named_modules(**kw)]
    assert len(list(f.parameters())) == len(list(t.parameters())) == 3
    assert list(f.state_dict()) == list(t.state_dict())
    assert [n for n, _ in f.named_children()] == [n for n, _ in t.named_children()]
    # load_state_dict with the tied keys keeps the tie
    sd = {k: ferrum.full(tuple(v.shape), float(i)) for i, (k, v) in enumerate(f.state_dict().items())}
    f.load_state_dict(sd)
    assert f.dec.weight is f.enc.weight
    tsd = {k: torch.full(tuple(v.shape), float(i)) for i, (k, v) in enumerate(t.state_dict().items())}
    t.load_state_dict(tsd)
    np.testing.assert_array_equal(npv(f.enc.weight), t.enc.weight.detach().numpy())
    np.testing.assert_array_equal(npv(f.dec.bias), t.dec.bias.detach().numpy())


def test_get_submodule_parameter_buffer(pair, torch):
    f, t = pair
    assert f.get_submodule("first.inner.0") is f.first.inner[0]
    assert f.get_submodule("") is f
    assert f.get_parameter("first.fc.weight") is f.first.fc.weight
    assert f.get_parameter("scale") is f.scale
    assert f.get_buffer("first.count") is f.first.count
    for name in ("first.nope", "head.weight"):
        with pytest.raises(AttributeError):
            t.get_submodule(name)
        with pytest.raises(AttributeError):
            f.get_submodule(name)
    with pytest.raises(AttributeError):
        f.get_parameter("first.count")
    with pytest.raises(AttributeError):
        f.get_buffer("first.fc.weight")


# --------------------------------------------------------------------------- registration
def test_registration_by_assignment():
    m = fnn.Module()
    m.w = fnn.Parameter(ferrum.ones(2))
    m.sub = fnn.Linear(2, 2)
    m.buf = fnn.Buffer(ferrum.zeros(3))
    m.tmp = fnn.Buffer(ferrum.zeros(1), persistent=False)
    m.plain = ferrum.ones(1)  # a plain tensor is a plain attribute
    assert list(m._parameters) == ["w"]
    assert list(m._modules) == ["sub"]
    assert list(m._buffers) == ["buf", "tmp"]
    assert type(m.buf) is ferrum.Tensor
    assert list(m.state_dict()) == ["w", "buf", "sub.weight", "sub.bias"]
    assert "plain" in m.__dict__
    # re-assigning a buffer name with a tensor keeps it a buffer, persistence kept
    m.tmp = ferrum.ones(1)
    assert "tmp" in m._buffers and "tmp" not in m.state_dict()
    # a parameter name given None stays a (None) parameter and is skipped
    m.w = None
    assert m.w is None and "w" in m._parameters and "w" not in m.state_dict()
    # a Parameter replaces a submodule of the same name
    m.sub = fnn.Parameter(ferrum.ones(1))
    assert "sub" not in m._modules and "sub" in m._parameters


def test_registration_matches_torch(torch):
    for nn, lib in ((fnn, ferrum), (torch.nn, torch)):
        m = nn.Module()
        m.register_buffer("a", lib.zeros(2))
        m.register_buffer("b", lib.zeros(2), persistent=False)
        m.c = nn.Buffer(lib.zeros(1), persistent=False)
        m.register_parameter("p", nn.Parameter(lib.zeros(1)))
        m.register_parameter("q", None)
        m.register_module("s", nn.Identity())
        m.add_module("t", None)
        assert list(m.state_dict()) == ["p", "a"]
        assert [n for n, _ in m.named_buffers()] == ["a", "b", "c"]
        assert [n for n, _ in m.named_modules()] == ["", "s"]


@pytest.mark.parametrize("lib_name", ["ferrum", "torch"])
def test_registration_errors(lib_name, torch):
    lib = ferrum if lib_name == "ferrum" else torch
    nn = lib.nn
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        m.weight = lib.ones(2, 2)  # a plain Tensor for a parameter
    with pytest.raises(TypeError):
        m.register_parameter("x", lib.ones(1))
    nonleaf = nn.Parameter(lib.ones(2), requires_grad=False)
    nonleaf.mul_(lib.ones(2, requires_grad=True))  # in place with a grad input: no longer a leaf
    with pytest.raises(ValueError):
        m.register_parameter("y", nonleaf)
    with pytest.raises(TypeError):
        m.register_parameter("y", lib.ones(2, requires_grad=True) * 2)
    with pytest.raises(KeyError):
        m.register_parameter("a.b", nn.Parameter(lib.ones(1)))
    with pytest.raises(KeyError):
        m.register_parameter("", nn.Parameter(lib.ones(1)))
    with pytest.raises(KeyError):
        m.register_buffer("a.b", lib.ones(1))
    with pytest.raises(KeyError):
        m.register_buffer("weight", lib.ones(1))  # already a parameter
    with pytest.raises(KeyError):
        m.add_module("a.b", nn.Identity())
    with pytest.raises(KeyError):
        m.add_module("", nn.Identity())
    with pytest.raises(TypeError):
        m.register_buffer(3, lib.ones(1))
    with pytest.raises(TypeError):
        m.register_buffer("z", [1.0])
    with pytest.raises(TypeError):
        m.add_module("q", 3)
    with pytest.raises(TypeError):
        m.bias_mod = None
        m.add_module("m1", nn.Identity())
        m.m1 = 3  # not a module for a module name

    class Early(nn.Module):
        def __init__(self, what):
            if what == "param":
                self.w = nn.Parameter(lib.ones(1))
            elif what == "module":
                self.s = nn.Identity()
            else:
                self.register_buffer("b", lib.ones(1))
            super().__init__()

    for what in ("param", "module", "buffer"):
        with pytest.raises(AttributeError):
            Early(what)


def test_error_messages_match_torch(torch):
    def msg(lib, fn):
        with pytest.raises(Exception) as e:
            fn(lib)
        return str(e.value).replace("torch.", "").replace("ferrum.", "")

    cases = [
        lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.ones(2, 2)),
        lambda lib: lib.nn.Linear(2, 2).register_parameter("a.b", lib.nn.Parameter(lib.ones(1))),
        lambda lib: lib.nn.Linear(2, 2).register_buffer("weight", lib.ones(1)),
        lambda lib: lib.nn.Linear(2, 2).register_parameter(
            "y", lib.ones(2, requires_grad=True) * 2),
        lambda lib: lib.nn.Linear(2, 2).register_parameter(
            "y", lib.nn.Parameter(lib.ones(2), requires_grad=False).mul_(lib.ones(2, requires_grad=True))),
        lambda lib: lib.nn.Module()(lib.ones(1)),
        lambda lib: lib.nn.Linear(2, 2).nope,
    ]
    for c in cases:
        assert msg(ferrum, c) == msg(torch, c)


def test_delattr_and_dir():
    m = fnn.Linear(2, 3)
    m.register_buffer("b", ferrum.zeros(1))
    m.sub = fnn.Identity()
    m.other = 5
    d = dir(m)
    for name in ("weight", "bias", "b", "sub", "other", "forward", "in_features"):
        assert name in d
    del m.b, m.sub, m.other, m.bias
    assert "b" not in m._buffers and "sub" not in m._modules and "bias" not in m._parameters
    assert not hasattr(m, "other")
    with pytest.raises(AttributeError):
        del m.missing


def test_forward_not_implemented(torch):
    with pytest.raises(NotImplementedError) as fe:
        fnn.Module()(ferrum.ones(1))
    with pytest.raises(NotImplementedError) as te:
        torch.nn.Module()(torch.ones(1))
    assert str(fe.value) == str(te.value)


# --------------------------------------------------------------------------- state dict
def test_state_dict_keys_values(pair, torch):
    f, t = pair
    fsd, tsd = f.state_dict(), t.state_dict()
    assert list(fsd) == list(tsd)
    for k in fsd:
        np.testing.assert_array_equal(npv(fsd[k]), tsd[k].numpy())
        assert not fsd[k].requires_grad and type(fsd[k]) is ferrum.Tensor
    assert list(fsd._metadata) == list(tsd._metadata)
    assert fsd._metadata[""] == {"version": 1}
    # detached but the same memory
    fsd["first.fc.weight"][0, 0] = 42.0
    assert float(f.first.fc.weight[0, 0]) == 42.0
    kv = f.state_dict(keep_vars=True)
    assert kv["head.weight"] is f.head.weight
    assert list(f.state_dict(prefix="pre.")) == list(t.state_dict(prefix="pre."))


def test_load_state_dict_roundtrip(pair):
    f, _ = pair
    g = FNet()
    res = g.load_state_dict(f.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    for (_, p1), (_, p2) in zip(f.named_parameters(), g.named_parameters()):
        np.testing.assert_array_equal(npv(p1), npv(p2))
    np.testing.assert_array_equal(npv(g.first.count), npv(f.first.count))
    # parameters are updated in place (the same objects)
    w = g.head.weight
    g.load_state_dict(f.state_dict())
    assert g.head.weight is w


def _mismatch_sets(lib, f_or_t_model):
    sd = f_or_t_model.state_dict()
    extra = OrderedDict(sd)
    extra["first.fc.extra"] = lib.zeros(1)
    extra["bogus"] = lib.zeros(1)
    extra["table.c.weight"] = lib.zeros(1)
    missing = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("first.inner")
                          and k != "scale")
    both = OrderedDict(missing)
    both["zzz.weight"] = lib.zeros(1)
    return {"extra": extra, "missing": missing, "both": both}


def test_load_state_dict_missing_unexpected(pair, torch):
    f, t = pair
    fsets, tsets = _mismatch_sets(ferrum, f), _mismatch_sets(torch, t)
    for key in fsets:
        fr = f.load_state_dict(fsets[key], strict=False)
        tr = t.load_state_dict(tsets[key], strict=False)
        assert fr.missing_keys == tr.missing_keys, key
        assert fr.unexpected_keys == tr.unexpected_keys, key
        assert repr(fr) == repr(tr)
        with pytest.raises(RuntimeError) as fe:
            f.load_state_dict(fsets[key])
        with pytest.raises(RuntimeError) as te:
            t.load_state_dict(tsets[key])
        assert str(fe.value) == str(te.value)


def test_load_state_dict_size_mismatch_message(pair, torch):
    f, t = pair
    fsd, tsd = f.state_dict(), t.state_dict()
    fsd["head.weight"] = ferrum.zeros(3, 3)
    tsd["head.weight"] = torch.zeros(3, 3)
    fsd["first.fc.bias"] = ferrum.zeros(5)
    tsd["first.fc.bias"] = torch.zeros(5)
    for strict in (True, False):
        with pytest.raises(RuntimeError) as fe:
            f.load_state_dict(fsd, strict=strict)
        with pytest.raises(RuntimeError) as te:
            t.load_state_dict(tsd, strict=strict)
        assert str(fe.value).replace("ferrum.Size", "torch.Size") == str(te.value)
        assert "head.weight" in str(fe.value) and "[3, 3]" in str(fe.value) and "[2, 4]" in str(fe.value)


def test_load_state_dict_errors_and_assign(torch):
    m = fnn.Linear(2, 2)
    with pytest.raises(TypeError):
        m.load_state_dict([1, 2])
    w = ferrum.ones(2, 2)
    old = m.weight
    m.load_state_dict({"weight": w, "bias": ferrum.zeros(2)}, assign=True)
    assert isinstance(m.weight, fnn.Parameter) and m.weight is not old
    assert m.weight.requires_grad
    m.weight.detach()[0, 0] = 7.0  # assign shares the given tensor's memory
    assert float(w[0, 0]) == 7.0
    tm = torch.nn.Linear(2, 2)
    tw = torch.ones(2, 2)
    tm.load_state_dict({"weight": tw, "bias": torch.zeros(2)}, assign=True)
    assert isinstance(tm.weight, torch.nn.Parameter) and tm.weight.requires_grad
    # non-tensor values: torch reports them
    with pytest.raises(RuntimeError) as fe:
        m.load_state_dict({"weight": [1.0], "bias": ferrum.zeros(2)})
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict({"weight": [1.0], "bias": torch.zeros(2)})
    assert str(fe.value).replace("ferrum.", "torch.") == str(te.value)


def test_load_state_dict_buffers_and_non_persistent(torch):
    for nn, lib in ((fnn, ferrum), (torch.nn, torch)):
        m = nn.Module()
        m.register_buffer("a", lib.zeros(2))
        m.register_buffer("b", lib.zeros(2), persistent=False)
        r = m.load_state_dict({"a": lib.ones(2), "b": lib.ones(2)}, strict=False)
        assert r.unexpected_keys == ["b"] and r.missing_keys == []
        assert float(m.a[0]) == 1.0 and float(m.b[0]) == 0.0


def test_state_dict_hooks_and_extra_state():
    class WithExtra(fnn.Module):
        def __init__(self):
            super().__init__()
            self.lin = fnn.Linear(1, 1)
            self.k = 3

        def get_extra_state(self):
            return {"k": self.k}

        def set_extra_state(self, state):
            self.k = state["k"]

    m = WithExtra()
    sd = m.state_dict()
    assert list(sd) == ["_extra_state", "lin.weight", "lin.bias"]
    m2 = WithExtra()
    m2.k = 0
    m2.load_state_dict(sd)
    assert m2.k == 3
    seen = []
    m2.register_load_state_dict_post_hook(lambda mod, inc: seen.append(list(inc.missing_keys)))
    m2.load_state_dict(sd)
    assert seen == [[]]


# --------------------------------------------------------------------------- modes, grads, apply
def test_train_eval(pair):
    f, t = pair
    f.eval()
    t.eval()
    assert [m.training for m in f.modules()] == [m.training for m in t.modules()]
    assert f.train() is f
    assert all(m.training for m in f.modules())
    f.first.train(False)
    assert [m.training for m in f.modules()] == [False if n.startswith("first") else True
                                                 for n, _ in f.named_modules()]
    with pytest.raises(ValueError):
        f.train("yes")


def test_apply_zero_grad_requires_grad(pair, torch):
    f, t = pair
    seen = []
    assert f.apply(lambda m: seen.append(type(m).__name__)) is f
    assert seen[-1] == "Net" and seen[0] == "Linear"
    f(ferrum.ones(2, 3)).sum().backward()
    t(torch.ones(2, 3)).sum().backward()
    # the unused act_scale has no grad in either
    assert [p.grad is None for p in f.parameters()] == [p.grad is None for p in t.parameters()]
    for (n, p), (_, q) in zip(f.named_parameters(), t.named_parameters()):
        if q.grad is not None:
            np.testing.assert_allclose(npv(p.grad), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    f.zero_grad(set_to_none=False)
    t.zero_grad(set_to_none=False)
    assert [p.grad is None for p in f.parameters()] == [p.grad is None for p in t.parameters()]
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0.0 for p in f.parameters())
    f.zero_grad()
    assert all(p.grad is None for p in f.parameters())
    f.requires_grad_(False)
    assert not any(p.requires_grad for p in f.parameters())
    f.requires_grad_()
    assert all(p.requires_grad for p in f.parameters())


def test_apply_order_matches_torch(pair):
    f, t = pair
    fs, ts = [], []
    f.apply(lambda m: fs.append(type(m).__name__))
    t.apply(lambda m: ts.append(type(m).__name__))
    assert fs == ts


# --------------------------------------------------------------------------- dtype and device
def test_double_keeps_parameters_and_optimizer(pair):
    f, _ = pair
    ids = [id(p) for p in f.parameters()]
    params = list(f.parameters())  # what an optimizer built now holds

    def step():
        with ferrum.no_grad():
            for p in params:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-0.1)

    f(ferrum.ones(2, 3)).sum().backward()
    assert f.double() is f
    assert [id(p) for p in f.parameters()] == ids
    assert all(p.dtype == ferrum.float64 for p in f.parameters())
    assert all(p.grad is None or p.grad.dtype == ferrum.float64 for p in f.parameters())
    assert f.first.count.dtype == ferrum.int64  # integer buffers untouched
    assert f.running.dtype == ferrum.float64 and f.first.scratch.dtype == ferrum.float64
    before = npv(f.head.weight).copy()
    f.zero_grad()
    f(ferrum.ones(2, 3, dtype=ferrum.float64)).sum().backward()
    step()
    assert not np.array_equal(before, npv(f.head.weight))
    assert f.head.weight.dtype == ferrum.float64
    f.float()
    assert all(p.dtype == ferrum.float32 for p in f.parameters())
    f.half()
    assert all(p.dtype == ferrum.float16 for p in f.parameters())
    assert f.first.count.dtype == ferrum.int64


@pytest.mark.parametrize("how", ["dtype", "kw", "tensor", "device", "device_dtype", "kw_tensor"])
def test_to_forms(how):
    m = fnn.Linear(2, 2)
    m.register_buffer("idx", ferrum.arange(3))
    w = m.weight
    arg = {"dtype": ((ferrum.float64,), {}), "kw": ((), {"dtype": ferrum.float64}),
           "tensor": ((ferrum.zeros(1, dtype=ferrum.float64),), {}),
           "device": (("cpu",), {}), "device_dtype": (("cpu", ferrum.float64), {}),
           "kw_tensor": ((), {"tensor": ferrum.zeros(1, dtype=ferrum.float64)})}[how]
    assert m.to(*arg[0], **arg[1]) is m
    assert m.weight is w
    want = ferrum.float32 if how == "device" else ferrum.float64
    assert m.weight.dtype == want and m.bias.dtype == want and m.idx.dtype == ferrum.int64
    assert m.weight.device == ferrum.device("cpu")


def test_to_rejects_integer_dtype(torch):
    with pytest.raises(TypeError) as fe:
        fnn.Linear(1, 1).to(ferrum.int32)
    with pytest.raises(TypeError) as te:
        torch.nn.Linear(1, 1).to(torch.int32)
    assert str(fe.value).replace("ferrum", "torch") == str(te.value)


# --------------------------------------------------------------------------- forward hooks
def test_forward_pre_hooks_and_hooks():
    m = fnn.Linear(2, 2)
    calls = []

    def pre(mod, args):
        calls.append("pre")
        return (args[0] * 0,)

    def pre_kw(mod, args, kwargs):
        calls.append("pre_kw")
        return args, kwargs

    def first(mod, args):
        calls.append("first")

    def post(mod, args, out):
        calls.append("post")
        return out + 1

    def post_kw(mod, args, kwargs, out):
        calls.append("post_kw")
        assert kwargs == {}

    h1 = m.register_forward_pre_hook(pre)
    h2 = m.register_forward_pre_hook(pre_kw, with_kwargs=True)
    h3 = m.register_forward_pre_hook(first, prepend=True)
    h4 = m.register_forward_hook(post)
    h5 = m.register_forward_hook(post_kw, with_kwargs=True)
    x = ferrum.ones(1, 2)
    out = m(x)
    assert calls == ["first", "pre", "pre_kw", "post", "post_kw"]
    np.testing.assert_allclose(npv(out), npv(m.bias)[None] + 1, rtol=1e-6)
    for h in (h1, h2, h3, h4, h5):
        h.remove()
    h1.remove()  # twice is fine
    assert not m._has_hooks
    np.testing.assert_allclose(npv(m(x)), npv(x @ m.weight.T + m.bias), rtol=1e-6)


def test_pre_hook_returning_single_value_and_kwargs(torch):
    for lib in (ferrum, torch):
        class Two(lib.nn.Module):
            def forward(self, a, scale=1.0):
                return a * scale

        m = Two()
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a non-tuple is wrapped
        m.register_forward_pre_hook(lambda mod, args, kw: (args, {"scale": 10.0}), with_kwargs=True)
        assert float(m(lib.ones(1))[0]) == 20.0
        with pytest.raises(RuntimeError):
            m.register_forward_pre_hook(lambda mod, args, kw: 3, with_kwargs=True)
            m(lib.ones(1))


def test_forward_hook_always_call(torch):
    for lib in (ferrum, torch):
        class Bad(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Bad()
        seen = []
        m.register_forward_hook(lambda mod, a, o: seen.append("normal"))
        m.register_forward_hook(lambda mod, a, o: seen.append(("always", o)), always_call=True)
        with pytest.raises(ValueError):
            m(lib.ones(1))
        assert seen == [("always", None)], lib


def test_hook_handle_context_manager():
    m = fnn.Identity()
    seen = []
    with m.register_forward_hook(lambda mod, a, o: seen.append(1)):
        m(ferrum.ones(1))
    m(ferrum.ones(1))
    assert seen == [1]


def test_global_forward_hooks(torch):
    seen = []
    h = fnn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    hp = fnn.modules.module.register_module_forward_pre_hook(lambda m, a: seen.append("pre"))
    try:
        net = fnn.Sequential(fnn.Linear(2, 2), fnn.Identity())
        net(ferrum.ones(1, 2))
    finally:
        h.remove()
        hp.remove()
    tseen = []
    th = torch.nn.modules.module.register_module_forward_hook(lambda m, a, o: tseen.append(type(m).__name__))
    thp = torch.nn.modules.module.register_module_forward_pre_hook(lambda m, a: tseen.append("pre"))
    try:
        tnet = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Identity())
        tnet(torch.ones(1, 2))
    finally:
        th.remove()
        thp.remove()
    assert seen == tseen
    seen.clear()
    net(ferrum.ones(1, 2))
    assert seen == []


# --------------------------------------------------------------------------- backward hooks
def _two_input(nn):
    class TwoIn(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, a, flag, b):
            return self.lin(a) * b, a.sum() * 2

    return TwoIn()


def _grads_tuple(gs):
    return [None if g is None else np.array(npv(g)) for g in gs]


def _assert_tuple_close(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("which", ["linear", "two_input"])
@pytest.mark.parametrize("modify", [False, True])
@pytest.mark.parametrize("input_grad", [True, False])
def test_full_backward_hooks_vs_torch(which, modify, input_grad, torch):
    rng = np.random.default_rng(1)
    fm = fnn.Linear(3, 3) if which == "linear" else _two_input(fnn)
    tm = torch.nn.Linear(3, 3) if which == "linear" else _two_input(torch.nn)
    _copy_into(fm, tm, torch)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((2, 3)).astype(np.float32)
    record = {"f": [], "t": []}

    def make(key):
        def pre(mod, gout):
            record[key].append(("pre", _grads_tuple(gout)))
            if modify:
                return tuple(None if g is None else g * 2 for g in gout)

        def hook(mod, gin, gout):
            record[key].append(("hook", _grads_tuple(gin), _grads_tuple(gout)))
            if modify:
                return tuple(None if g is None else g * 3 for g in gin)
        return pre, hook

    results = {}
    for key, lib, m in (("f", ferrum, fm), ("t", torch, tm)):
        pre, hook = make(key)
        hp = m.register_full_backward_pre_hook(pre)
        hh = m.register_full_backward_hook(hook)
        ta = lib.tensor(a, requires_grad=input_grad)
        tb = lib.tensor(b, requires_grad=input_grad)
        out = m(ta) if which == "linear" else m(ta, "flag", tb)
        loss = out.sum() if which == "linear" else out[0].sum() + out[1] * 0.5
        loss.backward()
        results[key] = ([ta.grad, tb.grad] if input_grad else []) + [p.grad for p in m.parameters()]
        hp.remove()
        hh.remove()
    assert [r[0] for r in record["f"]] == [r[0] for r in record["t"]]
    for rf, rt in zip(record["f"], record["t"]):
        for xf, xt in zip(rf[1:], rt[1:]):
            _assert_tuple_close(xf, xt)
    _assert_tuple_close(_grads_tuple(results["f"]), _grads_tuple(results["t"]))


def test_backward_hook_handles_remove():
    m = fnn.Linear(2, 2)
    seen = []
    h = m.register_full_backward_hook(lambda mod, gi, go: seen.append(1))
    x = ferrum.ones(1, 2, requires_grad=True)
    m(x).sum().backward()
    h.remove()
    m(x).sum().backward()
    assert seen == [1]
    assert not m._has_hooks


def test_backward_hook_wrong_count_raises():
    m = fnn.Linear(2, 2)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError):
        m(ferrum.ones(1, 2, requires_grad=True)).sum().backward()


# --------------------------------------------------------------------------- printing
def _repr_models(nn):
    class NoExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 3)

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Linear(1, 1, bias=False)

        def extra_repr(self):
            return "alpha=1,\nbeta=2"

    class OnlyExtra(nn.Module):
        def extra_repr(self):
            return "k=3"

    return [
        nn.Sequential(nn.Linear(4, 3), nn.Flatten(), nn.Unflatten(1, (3, 1))),
        nn.Sequential(nn.Sequential(nn.Linear(1, 2), nn.Identity()), nn.Linear(2, 2)),
        nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("dec", nn.Bilinear(2, 3, 4))])),
        nn.ModuleList([nn.Linear(1, 1), nn.ModuleList(), nn.Sequential()]),
        nn.ModuleDict({"x": nn.Linear(1, 2), "y": nn.ModuleDict({"z": nn.Identity()})}),
        NoExtra(), WithExtra(), OnlyExtra(), nn.Module(), nn.Sequential(),
        nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1), nn.Linear(1, 1), nn.Identity()]),
    ]


def test_repr_matches_torch(torch):
    for fm, tm in zip(_repr_models(fnn), _repr_models(torch.nn)):
        assert repr(fm) == repr(tm)
        assert str(fm) == str(tm)


# --------------------------------------------------------------------------- copying
def _identity_hook(module, args, output):
    return output


def test_deepcopy_and_pickle(pair):
    f, _ = pair
    f.head.register_forward_hook(_identity_hook)
    x = ferrum.ones(2, 3)
    for clone in (copy.deepcopy(f), pickle.loads(pickle.dumps(f))):
        assert type(clone) is type(f)
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in f.named_parameters()]
        for p, q in zip(clone.parameters(), f.parameters()):
            assert isinstance(p, fnn.Parameter) and p is not q and p.requires_grad
            np.testing.assert_array_equal(npv(p), npv(q))
        np.testing.assert_allclose(npv(clone(x)), npv(f(x)), rtol=1e-6)
        clone.head.weight.detach()[0, 0] = 123.0
        assert float(f.head.weight[0, 0]) != 123.0


def test_deepcopy_keeps_ties():
    m = _shared(fnn)
    c = copy.deepcopy(m)
    assert c.dec.weight is c.enc.weight and c.again is c.enc
    p = pickle.loads(pickle.dumps(m))
    assert p.dec.weight is p.enc.weight and p.again is p.enc


def test_pickled_tied_module_loads_its_state_dict():
    m = _shared(fnn)
    p = pickle.loads(pickle.dumps(m))
    assert p.dec.weight is p.enc.weight
    assert repr(p.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
    assert list(p.state_dict()) == list(m.state_dict())


def test_split_names_keep_the_module_path(torch):
    """module.py is split (global hooks, state dict) but every name stays importable from it, and
    reprs and pickles keep naming ferrum.nn.modules.module, as torch's name torch.nn.modules.module."""
    mm = fnn.modules.module
    for name in ("Module", "register_module_forward_pre_hook", "register_module_forward_hook",
                 "register_module_full_backward_hook", "register_module_full_backward_pre_hook",
                 "_IncompatibleKeys", "_addindent", "_global_hooks_on", "_refresh_global_flag",
                 "_global_forward_hooks", "_PublicStateDictHook", "_parse_to", "RemovableHandle"):
        assert hasattr(mm, name), name
    res = fnn.Linear(2, 2).load_state_dict({"weight": ferrum.ones(2, 2)}, strict=False)
    tres = torch.nn.Linear(2, 2).load_state_dict({"weight": torch.ones(2, 2)}, strict=False)
    assert type(res).__module__ == type(tres).__module__.replace("torch", "ferrum", 1)
    back = pickle.loads(pickle.dumps(res))
    assert type(back) is type(res) and repr(back) == repr(res) == repr(tres)
    h = mm.register_module_forward_hook(lambda *a: None)
    assert mm._global_hooks_on[0]
    h.remove()
    assert not mm._global_hooks_on[0]


def test_module_call_passes_kwargs():
    class K(fnn.Module):
        def forward(self, x, *, y=0):
            return x + y

    assert float(K()(ferrum.ones(1), y=2)[0]) == 3.0


# --------------------------------------------------------------------------- more edge cases vs torch
def test_unexpected_key_edge_cases(torch):
    out = []
    for lib in (ferrum, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False), lib.nn.Linear(2, 1))
        sd = dict(m.state_dict())
        sd["0.bias"] = lib.zeros(2)  # a None parameter: unexpected
        sd["1"] = lib.zeros(1)  # a child's name without a dot: unexpected
        sd["0.weight.x"] = lib.zeros(1)  # below a parameter: unexpected
        sd["1.sub.w"] = lib.zeros(1)  # below a missing grandchild: not reported (no such child)
        r = m.load_state_dict(sd, strict=False)
        out.append((r.missing_keys, r.unexpected_keys))
    assert out[0] == out[1]


def test_scalar_parameter_from_one_element_checkpoint(torch):
    for lib in (ferrum, torch):
        m = lib.nn.Module()
        m.s = lib.nn.Parameter(lib.tensor(0.0))
        m.load_state_dict({"s": lib.tensor([3.0])})
        assert float(m.s) == 3.0 and m.s.ndim == 0


def test_state_dict_hooks_see_local_metadata(torch):
    seen = {}
    for name, lib in (("f", ferrum), ("t", torch)):
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))
        def post(mod, sd, prefix, meta, name=name):
            seen[name] = (prefix, dict(meta))

        def pre(mod, prefix, keep_vars, name=name):
            seen[name + "pre"] = (prefix, keep_vars)

        m[0].register_state_dict_post_hook(post)
        m[0].register_state_dict_pre_hook(pre)
        m.state_dict(keep_vars=True)
    assert seen["f"] == seen["t"] and seen["fpre"] == seen["tpre"]


def test_load_state_dict_pre_hook_can_rename(torch):
    for lib in (ferrum, torch):
        m = lib.nn.Linear(1, 1)

        def rename(module, sd, prefix, *rest):
            if prefix + "old_w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "old_w")

        m.register_load_state_dict_pre_hook(rename)
        m.load_state_dict({"old_w": lib.full((1, 1), 5.0), "bias": lib.zeros(1)})
        assert float(m.weight) == 5.0


@pytest.mark.parametrize("case", ["dtype_flag", "device_dtype_kw", "none", "device_kw_none"])
def test_to_more_forms(case, torch):
    res = []
    for lib in (ferrum, torch):
        m = lib.nn.Linear(1, 1)
        if case == "dtype_flag":
            m.to(lib.float64, True)
        elif case == "device_dtype_kw":
            m.to("cpu", lib.float64, non_blocking=True)
        elif case == "none":
            m.to(None)
        else:
            m.to(device=None, dtype=lib.float64)
        res.append(str(m.weight.dtype).split(".")[1])
    assert res[0] == res[1]


def test_to_bad_arguments(torch):
    for lib in (ferrum, torch):
        with pytest.raises(TypeError):
            lib.nn.Linear(1, 1).to(lib.float64, lib.float32)
        with pytest.raises(TypeError):
            lib.nn.Linear(1, 1).to(foo=1)


def test_getters_and_init_messages_match_torch(torch):
    def msg(lib, fn):
        with pytest.raises(Exception) as e:
            fn(lib)
        return type(e.value).__name__, str(e.value)

    cases = [lambda lib: lib.nn.Module(3), lambda lib: lib.nn.Module(a=3)]
    for target in ("", "weight", "nope", "x.y"):
        for getter in ("get_parameter", "get_buffer", "get_submodule"):
            if getter == "get_submodule" and target == "":
                continue
            if getter == "get_parameter" and target == "weight":
                continue
            cases.append(lambda lib, t=target, g=getter: getattr(lib.nn.Linear(2, 2), g)(t))
    for c in cases:
        assert msg(ferrum, c) == msg(torch, c)


def test_set_submodule():
    m = fnn.Sequential(fnn.Sequential(fnn.Linear(1, 1)))
    new = fnn.Identity()
    m.set_submodule("0.0", new)
    assert m[0][0] is new
    with pytest.raises(AttributeError):
        m.set_submodule("0.zz.q", fnn.Identity())
    m.set_submodule("0.0", fnn.Linear(1, 1))
    with pytest.raises(AttributeError):
        m.set_submodule("0.0.weight", fnn.Identity())
    with pytest.raises(AttributeError):
        m.set_submodule("0.zz", fnn.Identity(), strict=True)


def test_always_call_after_forward_hook_raises(torch):
    for lib in (ferrum, torch):
        m = lib.nn.Identity()
        seen = []

        def bad(mod, args, out):
            raise KeyError("bad hook")

        m.register_forward_hook(bad)
        m.register_forward_hook(lambda mod, a, o: seen.append(o is not None), always_call=True)
        with pytest.raises(KeyError):
            m(lib.ones(1))
        assert seen == [True]


def test_global_hooks_with_kwargs_and_always_call(torch):
    seen = []
    for lib in (ferrum, torch):
        mm = lib.nn.modules.module
        h1 = mm.register_module_forward_hook(lambda m, a, kw, o: seen.append(("kw", lib.__name__)),
                                             with_kwargs=True)
        h2 = mm.register_module_forward_hook(lambda m, a, o: seen.append(("always", o)), always_call=True)

        class Bad(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        try:
            with pytest.raises(ValueError):
                Bad()(lib.ones(1))
            lib.nn.Identity()(lib.ones(1))
        finally:
            h1.remove()
            h2.remove()
    assert [s[0] for s in seen] == ["always", "kw", "always"] * 2


def test_global_full_backward_hook(torch):
    shapes = []
    for lib in (ferrum, torch):
        got = []
        h = lib.nn.modules.module.register_module_full_backward_hook(
            lambda m, gi, go: got.append((type(m).__name__, [tuple(g.shape) for g in gi if g is not None])))
        try:
            net = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Linear(2, 1))
            net(lib.ones(4, 3, requires_grad=True)).sum().backward()
        finally:
            h.remove()
        shapes.append(got)
    assert shapes[0] == shapes[1]


def test_backward_pre_hook_wrong_count_raises(torch):
    for lib in (ferrum, torch):
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
        with pytest.raises(RuntimeError):
            m(lib.ones(1, 2, requires_grad=True)).sum().backward()


def test_backward_hooks_ignore_tensor_kwargs(torch):
    got = []
    for lib in (ferrum, torch):
        class KW(lib.nn.Module):
            def forward(self, a, b=None):
                return a * b

        m = KW()
        m.register_full_backward_hook(
            lambda mod, gi, go: got.append(([npv(g).tolist() for g in gi], [npv(g).tolist() for g in go])))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        m(a, b=b).sum().backward()
        got.append(npv(b.grad).tolist())
    assert got[:2] == got[2:]


def test_backward_hooks_under_no_grad_and_with_create_graph(torch):
    m = fnn.Linear(2, 1)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(1))
    with ferrum.no_grad():
        m(ferrum.ones(1, 2, requires_grad=True))
    assert seen == []
    x = ferrum.tensor([[1.0, 2.0]], requires_grad=True)
    (gx,) = ferrum.autograd.grad(m(x).pow(2).sum(), x, create_graph=True)
    assert seen == [1] and gx.requires_grad
    gx.sum().backward()
    tm = torch.nn.Linear(2, 1)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(npv(m.weight)))
        tm.bias.copy_(torch.tensor(npv(m.bias)))
    tx = torch.tensor([[1.0, 2.0]], requires_grad=True)
    (tgx,) = torch.autograd.grad(tm(tx).pow(2).sum(), tx, create_graph=True)
    tgx.sum().backward()
    np.testing.assert_allclose(npv(x.grad), tx.grad.numpy(), rtol=1e-5)


def test_state_dict_post_hook_must_return_none(torch):
    for lib in (ferrum, torch):
        m = lib.nn.Linear(1, 1)
        m.register_state_dict_post_hook(lambda *a: {"x": 1})
        with pytest.raises(RuntimeError):
            m.state_dict()
    m = fnn.Linear(1, 1)
    m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"only": 1})
    assert m.state_dict() == {"only": 1}
