"""Tests of ferrum.ops.einsum (einsum, tensordot): forward and gradients against torch, the
equation forms, errors; integer and bool operands (PyTorch's int64 accumulation of the labels one
operand sums alone, bool products, refused bool contractions)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F
from ferrum.autograd import gradcheck, gradgradcheck

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import ft_copy as ft


RNG = np.random.default_rng(2024)

# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- einsum
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,i->", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...ij", [(2, 3, 4)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,jk", [(2, 1), (3, 4)]),
    ("Ab,ba", [(2, 3), (3, 2)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij,ij->ij", [(2, 1), (1, 3)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES)
def test_einsum_vs_torch(torch, eq, shapes):
    xs = [arr(s) for s in shapes]
    fs = [ft(x, True) for x in xs]
    ts = [tt(torch, x, True) for x in xs]
    r = F.einsum(eq, *fs)
    tr = torch.einsum(eq, *ts)
    close(r, tr, 1e-12, 1e-12)
    g = arr(tuple(tr.shape))
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    for f, t in zip(fs, ts):
        close(f.grad, t.grad, 1e-10, 1e-10)


@pytest.mark.parametrize(
    "eq,shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 2)]),
        ("ii->i", [(3, 3)]),
        ("...ij,...jk", [(2, 2, 3), (3, 2)]),
        ("ij,j->", [(2, 3), (3,)]),
        ("iij->j", [(2, 2, 2)]),
        ("ij,ij->ij", [(2, 1), (1, 3)]),
    ],
)
def test_einsum_gradcheck(eq, shapes):
    fs = [ft(arr(s), True) for s in shapes]
    fn = lambda *xs: F.einsum(eq, *xs)  # noqa: E731
    assert gradcheck(fn, fs)
    assert gradgradcheck(fn, fs)


def test_einsum_forms_and_dtypes(torch):
    a, b = arr((2, 3)), arr((3, 4))
    expect = a @ b
    close(F.einsum("ij,jk->ik", [ft(a), ft(b)]), expect)
    close(F.einsum(ft(a), [0, 1], ft(b), [1, 2], [0, 2]), expect)
    close(F.einsum(ft(a), [Ellipsis, 1], ft(b), [1, 2]), expect)
    ia, ib = arr((2, 3), np.int32), arr((3, 4), np.int32)
    r = F.einsum("ij,jk->ik", ft(ia), ft(ib))
    close(r, torch.einsum("ij,jk->ik", tt(torch, ia), tt(torch, ib)))
    big = arr((80, 90)), arr((90, 70))  # takes NumPy's optimized (BLAS) path
    close(F.einsum("ij,jk->ik", ft(big[0]), ft(big[1])), big[0] @ big[1], 1e-10, 1e-10)
    # the result never aliases an input
    x = ft(arr((3, 3)))
    y = F.einsum("ij->ji", x)
    y.add_(1.0)
    assert not np.shares_memory(npv(x), npv(y))


@pytest.mark.parametrize(
    "args,msg",
    [
        (
            ("ij,jk", (2, 3), (4, 5)),
            "subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3",
        ),
        (("ij,jk->ik", (2, 3)), "fewer operands were provided than specified in the equation"),
        (("ij,ij->ij", (2, 3), (2, 3), (2, 3)), "more operands were provided"),
        (("i.j", (2, 3)), "found '.' for operand 0 that is not part of any ellipsis"),
        (
            ("ij", (2, 3, 4)),
            r"number of subscripts in the equation \(2\) does not match the number of "
            r"dimensions \(3\) for operand 0 and no ellipsis was given",
        ),
        (("ij->k", (2, 3)), "output subscript k does not appear in the equation for any input operand"),
        (("ij->ii", (2, 3)), "output subscript i appears more than once in the output"),
        (("i1", (2, 3)), "invalid subscript given at index 1"),
    ],
)
def test_einsum_errors(torch, args, msg):
    eq, *shapes = args
    with pytest.raises(RuntimeError, match=msg):
        F.einsum(eq, *[ft(arr(s)) for s in shapes])
    with pytest.raises(RuntimeError, match=msg):
        torch.einsum(eq, *[tt(torch, arr(s)) for s in shapes])
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.einsum("ij,jk->ik", ft(arr((2, 3), np.float32)), ft(arr((3, 5))))


# --------------------------------------------------------------------------- tensordot, cross, trace, power
@pytest.mark.parametrize(
    "sa,sb,dims",
    [
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3), (3, 4), 1),
        ((2, 3), (4, 5), 0),
        ((2, 3, 4), (4, 2, 5), ([2, 0], [0, 1])),
        ((3, 4), (4, 3), ([0], [1])),
    ],
)
def test_tensordot_vs_torch(torch, sa, sb, dims):
    a, b = arr(sa), arr(sb)
    fa, fb = ft(a, True), ft(b, True)
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    r, tr = F.tensordot(fa, fb, dims), torch.tensordot(ta, tb, dims)
    close(r, tr, 1e-12, 1e-12)
    close(r, np.tensordot(a, b, dims), 1e-12, 1e-12)
    r.sum().backward()
    tr.sum().backward()
    close(fa.grad, ta.grad, 1e-10, 1e-10)
    close(fb.grad, tb.grad, 1e-10, 1e-10)


def test_tensordot_errors():
    with pytest.raises(
        RuntimeError,
        match="contracted dimensions need to match, but first has size 3 in dim -1 "
        "and second has size 4 in dim 0",
    ):
        F.tensordot(ft(arr((2, 3))), ft(arr((4, 5))), dims=1)


def operands(T, spec):
    out = []
    for shape, dtype in spec:
        if dtype == "bool":
            out.append(T.tensor(np.arange(int(np.prod(shape))).reshape(shape) % 3 != 1))
        else:
            out.append(T.full(shape, 100, dtype=getattr(T, dtype)))
    return out


CASES = [
    ("i->", [((2,), "int8")]),
    ("ij->i", [((2, 3), "int8")]),
    ("ii->", [((3, 3), "int16")]),
    ("ii->i", [((3, 3), "int8")]),
    ("ij->ji", [((2, 3), "uint8")]),
    ("i->", [((4,), "uint8")]),
    ("i,i->", [((2,), "int8"), ((2,), "int8")]),
    ("i,j->ij", [((2,), "int8"), ((3,), "int8")]),
    ("ij,jk->ik", [((2, 2), "int8"), ((2, 2), "int8")]),
    ("ij,j->j", [((2, 2), "int8"), ((2,), "int8")]),
    ("ij,j->i", [((2, 2), "int8"), ((2,), "int8")]),
    ("i,j->", [((2,), "int8"), ((2,), "int8")]),
    ("ij,kl->", [((2, 2), "int32"), ((2, 2), "int32")]),
    ("ij,ij->ij", [((1, 2), "int8"), ((2, 2), "int8")]),
    ("i->", [((3,), "bool")]),
    ("ij->j", [((2, 3), "bool")]),
    ("i->i", [((3,), "bool")]),
    ("i,j->ij", [((2,), "bool"), ((3,), "bool")]),
    ("i,i->i", [((3,), "bool"), ((3,), "bool")]),
    ("ij,j->j", [((2, 2), "bool"), ((2,), "bool")]),
    ("i,j->", [((2,), "bool"), ((3,), "bool")]),
]


@pytest.mark.parametrize("eq, spec", CASES)
def test_einsum_integer_and_bool_operands_vs_torch(torch, eq, spec):
    tr = torch.einsum(eq, *operands(torch, spec))
    fr = F.einsum(eq, *operands(F, spec))
    assert str(fr.dtype).split(".")[1] == str(tr.dtype).split(".")[1]
    np.testing.assert_array_equal(npv(fr), npv(tr))


@pytest.mark.parametrize("eq, spec", [
    ("i,i->", [((3,), "bool"), ((3,), "bool")]),
    ("ij,jk->ik", [((2, 2), "bool"), ((2, 2), "bool")]),
    ("ij,jk->k", [((2, 2), "int8"), ((2, 2), "int8")]),  # int64 after the sum over i against int8
    ("ij,jk->i", [((2, 2), "int8"), ((2, 2), "int8")]),
    ("ij,jk->k", [((2, 2), "bool"), ((2, 2), "bool")]),
])
def test_einsum_contractions_torch_refuses(torch, eq, spec):
    with pytest.raises((RuntimeError, NotImplementedError)) as te:
        torch.einsum(eq, *operands(torch, spec))
    with pytest.raises(te.type, match=str(te.value).split("]")[0][:20].replace("(", r"\(")):
        F.einsum(eq, *operands(F, spec))


def test_tensordot_and_outer_on_integers_stay_in_their_dtype(torch):
    a = np.array([100, 100], np.int8)
    for fn in (lambda T, x: T.tensordot(x, x, 1), lambda T, x: T.outer(x, x), lambda T, x: T.inner(x, x)):
        fr, tr = fn(F, F.tensor(a)), fn(torch, torch.tensor(a))
        assert str(fr.dtype).split(".")[1] == str(tr.dtype).split(".")[1]
        np.testing.assert_array_equal(npv(fr), npv(tr))
