"""ops/special_fn.py beyond the registry entries (tests/opinfo/db_special.py): Tensor methods and
in-place variants with autograd, out=, frexp's named tuple, the errors and their types, the
missing derivatives PyTorch refuses, higher derivatives through the polygamma chain, and PyTorch's
numerics at the poles and overflow points."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrum
from tests.opinfo.core import same_exception

DTYPES = ["float32", "float64"]
TOL = {"float32": dict(rtol=2e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _pair(T_f, T_t, arr, dtype, requires_grad=False):
    f = T_f.tensor(arr).to(getattr(T_f, dtype))
    t = T_t.tensor(arr).to(getattr(T_t, dtype))
    if requires_grad:
        f.requires_grad_(True)
        t.requires_grad_(True)
    return f, t


def _close(a, b, dtype="float64"):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), equal_nan=True,
                               **TOL[dtype])


POS = np.array([[0.3, 1.7, 2.5], [3.1, 0.9, 1.2]])
INPLACE = [
    ("lgamma_", ()), ("digamma_", ()), ("polygamma_", (1,)), ("polygamma_", (3,)), ("mvlgamma_", (2,)),
    ("i0_", ()),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args", INPLACE, ids=[f"{n}{a}" for n, a in INPLACE])
def test_unary_inplace_and_grad(torch, name, args, dtype):
    xf, xt = _pair(ferrum, torch, POS + 0.6, dtype, requires_grad=True)
    yf, yt = xf * 1.5, xt * 1.5
    rf, rt = getattr(yf, name)(*args), getattr(yt, name)(*args)
    assert rf is yf and rt is yt
    _close(rf, rt, dtype)
    assert yf._version[0] == 1
    rf.sum().backward()
    rt.sum().backward()
    _close(xf.grad, xt.grad, dtype)
    # the out-of-place method gives the same values
    base = name[:-1]
    _close(getattr(xf.detach(), base)(*args), getattr(xt.detach(), base)(*args), dtype)


def test_inplace_on_leaf_requiring_grad_raises(torch):
    for T in (ferrum, torch):
        x = T.tensor([1.5, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            x.lgamma_()


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_gcd_lcm_methods_and_inplace(torch, dtype):
    a = np.array([[-4, 0, 6, 12], [7, 9, 15, 0]])
    b = np.array([6, 0, 4, 18])
    if dtype == "uint8":
        a = np.abs(a)
    for op in ("gcd", "lcm"):
        af, at = _pair(ferrum, torch, a, dtype)
        bf, bt = _pair(ferrum, torch, b, dtype)
        rf, rt = getattr(af, op)(bf), getattr(at, op)(bt)
        assert str(rf.dtype).split(".")[1] == str(rt.dtype).split(".")[1]
        np.testing.assert_array_equal(rf.numpy(), rt.numpy())
        getattr(af, op + "_")(bf)
        getattr(at, op + "_")(bt)
        np.testing.assert_array_equal(af.numpy(), at.numpy())
        # the top-level in-place spelling (torch.gcd_)
        af2, at2 = _pair(ferrum, torch, a, dtype)
        getattr(ferrum, op + "_")(af2, bf)
        getattr(torch, op + "_")(at2, bt)
        np.testing.assert_array_equal(af2.numpy(), at2.numpy())


def test_gcd_promotes_integer_dtypes(torch):
    rf = ferrum.gcd(ferrum.tensor([4, 6], dtype=ferrum.int32), ferrum.tensor([6, 9]))
    rt = torch.gcd(torch.tensor([4, 6], dtype=torch.int32), torch.tensor([6, 9]))
    assert rf.dtype == ferrum.int64 and rt.dtype == torch.int64
    np.testing.assert_array_equal(rf.numpy(), rt.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_methods_and_inplace_grad(torch, dtype):
    a, b = POS, np.array([1.1, 0.4, 2.2])
    for name in ("logaddexp2", "igamma", "igammac", "ldexp"):
        af, at = _pair(ferrum, torch, a, dtype, requires_grad=name in ("logaddexp2", "ldexp"))
        bf, bt = _pair(ferrum, torch, b if name != "ldexp" else np.array([1, -2, 3]), dtype,
                       requires_grad=name != "ldexp")
        if name == "ldexp":  # a float exponent: see test_ldexp_integer_exponent_gradient
            bf, bt = bf.detach(), bt.detach()
        rf, rt = getattr(af, name)(bf), getattr(at, name)(bt)
        _close(rf, rt, dtype)
        gf = ferrum.autograd.grad(rf.sum(), [t for t in (af, bf) if t.requires_grad])
        gt = torch.autograd.grad(rt.sum(), [t for t in (at, bt) if t.requires_grad])
        for x, y in zip(gf, gt):
            _close(x, y, dtype)
        if name in ("igamma", "igammac", "ldexp"):
            cf, ct = af.detach().clone(), at.detach().clone()
            getattr(cf, name + "_")(bf.detach())
            getattr(ct, name + "_")(bt.detach())
            _close(cf, ct, dtype)


def test_ldexp_integer_exponent_gradient(torch):
    # the gradient is 2**other; torch 2.13 computes that power in the integer dtype of other, so
    # its gradient is 0 for negative integer exponents (a documented difference)
    x = ferrum.tensor([1.5, 2.0, 3.0], dtype=ferrum.float64, requires_grad=True)
    e = ferrum.tensor([1, -2, 3], dtype=ferrum.int32)
    y = ferrum.ldexp(x, e)
    yt = torch.ldexp(torch.tensor([1.5, 2.0, 3.0], dtype=torch.float64), torch.tensor([1, -2, 3]).int())
    _close(y, yt)
    y.sum().backward()
    _close(x.grad, np.array([2.0, 0.25, 8.0]))


def test_ldexp_top_level_inplace(torch):
    xf, xt = _pair(ferrum, torch, np.array([1.5, -3.0, 0.25]), "float32")
    ferrum.ldexp_(xf, ferrum.tensor([2, 0, -3]))
    torch.ldexp_(xt, torch.tensor([2, 0, -3]))
    _close(xf, xt, "float32")
    xf, xt = _pair(ferrum, torch, np.array([1.5, -3.0, 90.0]), "float32")
    ferrum.i0_(xf)
    torch.i0_(xt)
    _close(xf, xt, "float32")


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_argument(torch, dtype):
    xf, xt = _pair(ferrum, torch, POS, dtype)
    for name, call in [
        ("lgamma", lambda T, x, o: T.lgamma(x, out=o)),
        ("digamma", lambda T, x, o: T.digamma(x, out=o)),
        ("polygamma", lambda T, x, o: T.polygamma(2, x, out=o)),
        ("mvlgamma", lambda T, x, o: T.mvlgamma(x + 1, 2, out=o)),
        ("i0", lambda T, x, o: T.i0(x, out=o)),
        ("logaddexp2", lambda T, x, o: T.logaddexp2(x, x.flip(-1), out=o)),
        ("igamma", lambda T, x, o: T.igamma(x, x.flip(-1), out=o)),
        ("ldexp", lambda T, x, o: T.ldexp(x, T.tensor([1, 2, 3]), out=o)),
    ]:
        of = ferrum.empty(0, dtype=getattr(ferrum, dtype))
        ot = torch.empty(0, dtype=getattr(torch, dtype))
        rf, rt = call(ferrum, xf, of), call(torch, xt, ot)
        assert rf is of and rt is ot, name
        _close(of, ot, dtype)
    of, ot = ferrum.empty(2, dtype=ferrum.int64), torch.empty(2, dtype=torch.int64)
    ferrum.gcd(ferrum.tensor([4, 9]), ferrum.tensor([6, 6]), out=of)
    torch.gcd(torch.tensor([4, 9]), torch.tensor([6, 6]), out=ot)
    np.testing.assert_array_equal(of.numpy(), ot.numpy())


def test_out_refuses_autograd(torch):
    for T in (ferrum, torch):
        x = T.tensor([1.5, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError):
            T.lgamma(x, out=T.empty(2))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_frexp_named_tuple(torch, dtype):
    v = np.array([1.5, -0.375, 0.0, -0.0, 1024.0, 3e-5, np.inf, -np.inf, np.nan])
    xf, xt = _pair(ferrum, torch, v, dtype)
    rf, rt = ferrum.frexp(xf), torch.frexp(xt)
    assert type(rf).__name__ == "frexp" and rf._fields == ("mantissa", "exponent")
    assert "return_types.frexp(" in repr(rf)
    assert rf.mantissa.dtype == getattr(ferrum, dtype) and rf.exponent.dtype == ferrum.int32
    np.testing.assert_array_equal(rf.mantissa.float().numpy(), rt.mantissa.float().numpy())
    np.testing.assert_array_equal(rf.exponent.numpy(), rt.exponent.numpy())
    mf, ef = xf.frexp()
    np.testing.assert_array_equal(ef.numpy(), rt.exponent.numpy())
    om, oe = ferrum.empty(0, dtype=getattr(ferrum, dtype)), ferrum.empty(0, dtype=ferrum.int32)
    r = ferrum.frexp(xf, out=(om, oe))
    assert r.mantissa is om and r.exponent is oe
    np.testing.assert_array_equal(oe.numpy(), rt.exponent.numpy())


def test_frexp_gradient(torch):
    xf, xt = _pair(ferrum, torch, np.array([1.5, -6.0, 0.1]), "float64", requires_grad=True)
    ferrum.frexp(xf).mantissa.sum().backward()
    torch.frexp(xt).mantissa.sum().backward()
    _close(xf.grad, xt.grad)
    assert not ferrum.frexp(xf).exponent.requires_grad


ERRORS = [
    ("polygamma negative n", lambda T: T.polygamma(-1, T.ones(2))),
    ("polygamma float n", lambda T: T.polygamma(1.0, T.ones(2))),
    ("mvlgamma p < 1", lambda T: T.mvlgamma(T.ones(2), 0)),
    ("mvlgamma bool", lambda T: T.mvlgamma(T.ones(2, dtype=T.bool), 1)),
    ("logaddexp2 number", lambda T: T.logaddexp2(T.ones(2), 2.0)),
    ("logaddexp2 int", lambda T: T.logaddexp2(T.ones(2, dtype=T.int64), T.ones(2, dtype=T.int64))),
    ("gcd float", lambda T: T.gcd(T.ones(2), T.ones(2))),
    ("gcd bool", lambda T: T.gcd(T.ones(2, dtype=T.bool), T.ones(2, dtype=T.bool))),
    ("gcd number", lambda T: T.gcd(T.ones(2, dtype=T.int64), 2)),
    ("lcm shapes", lambda T: T.lcm(T.ones(2, dtype=T.int64), T.ones(3, dtype=T.int64))),
    ("frexp int", lambda T: T.frexp(T.ones(2, dtype=T.int64))),
    ("ldexp number", lambda T: T.ldexp(T.ones(2), 2)),
    ("ldexp bool exponent", lambda T: T.ldexp(T.ones(2), T.ones(2, dtype=T.bool))),
    ("igamma int", lambda T: T.igamma(T.ones(2, dtype=T.int64), T.ones(2, dtype=T.int64))),
    ("igamma number", lambda T: T.igamma(T.ones(2), 2.0)),
    ("lgamma complex", lambda T: T.lgamma(T.ones(2, dtype=T.complex64))),
    ("digamma not a tensor", lambda T: T.digamma([1.0, 2.0])),
    ("logaddexp2 shapes", lambda T: T.logaddexp2(T.ones(2), T.ones(3))),
]


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_types_match_torch(torch, name, fn):
    with pytest.raises(Exception) as et:
        fn(torch)
    with pytest.raises(Exception) as ef:
        fn(ferrum)
    assert same_exception(ef.value, et.value), (type(ef.value), type(et.value))


@pytest.mark.parametrize("op", ["zeta", "igamma", "igammac"])
def test_no_derivative_in_first_argument(torch, op):
    def call(T, a, b):
        return T.special.zeta(a, b) if op == "zeta" else getattr(T, op)(a, b)

    msgs = []
    for T in (ferrum, torch):
        a = T.tensor([2.5, 3.0], dtype=T.float64, requires_grad=True)
        b = T.tensor([1.5, 0.5], dtype=T.float64, requires_grad=True)
        r = call(T, a, b)
        assert r.requires_grad
        with pytest.raises(NotImplementedError) as e:
            r.sum().backward()
        msgs.append(str(e.value))
        # the second argument alone is differentiable
        a2 = a.detach()
        (g,) = T.autograd.grad(call(T, a2, b).sum(), b)
        msgs.append(g.detach().numpy())
    assert msgs[0] == msgs[2]
    _close(msgs[1], msgs[3])


def test_third_derivative_of_lgamma(torch):
    # lgamma -> digamma -> polygamma(1) -> polygamma(2): each backward is the next op
    gs = []
    for T in (ferrum, torch):
        x = T.tensor([0.7, 1.9, 4.2], dtype=T.float64, requires_grad=True)
        (g1,) = T.autograd.grad(T.lgamma(x).sum(), x, create_graph=True)
        (g2,) = T.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = T.autograd.grad(g2.sum(), x)
        gs.append([g.detach().numpy() for g in (g1, g2, g3)])
    for a, b in zip(*gs):
        _close(a, b)
    _close(gs[0][2], ferrum.polygamma(2, ferrum.tensor([0.7, 1.9, 4.2], dtype=ferrum.float64)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_numerics_at_poles_and_overflow(torch, dtype):
    poles = np.array([0.0, -0.0, -1.0, -2.0, -3.0, -10.0, 0.5, -0.5, np.inf, -np.inf])
    xf, xt = _pair(ferrum, torch, poles, dtype)
    for n in (0, 1, 2, 3):
        _close(ferrum.polygamma(n, xf), torch.polygamma(n, xt), dtype)
    _close(ferrum.lgamma(xf), torch.lgamma(xt), dtype)
    big = np.array([88.0, 88.72, 88.73, 89.0, 95.0, -95.0, math.inf, -math.inf, 700.0, 720.0])
    xf, xt = _pair(ferrum, torch, big, dtype)
    _close(ferrum.i0(xf), torch.i0(xt), dtype)
    _close(ferrum.special.i1(xf), torch.special.i1(xt), dtype)
    tail = np.array([-5.0, -8.0, -8.3, -9.0, -20.0, -40.0, 10.0])
    xf, xt = _pair(ferrum, torch, tail, dtype)
    _close(ferrum.special.ndtr(xf), torch.special.ndtr(xt), dtype)


def test_integer_and_bool_inputs_give_default_float(torch):
    for dt in ("int64", "uint8", "bool"):
        xf = ferrum.tensor([1, 0, 1]).to(getattr(ferrum, dt))
        xt = torch.tensor([1, 0, 1]).to(getattr(torch, dt))
        for name in ("lgamma", "digamma", "i0"):
            rf, rt = getattr(ferrum, name)(xf), getattr(torch, name)(xt)
            assert rf.dtype == ferrum.float32 and rt.dtype == torch.float32
            _close(rf, rt, "float32")
