"""Tests of ferrum.ops.linalg (matmul & co, einsum, tensordot, kron, cross, trace) and of the
ferrum.linalg namespace (norms, decompositions, solvers): forward against NumPy and torch,
gradients against torch and finite differences (gradcheck / gradgradcheck), error types."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrum as F
from ferrum.autograd import grad, gradcheck, gradgradcheck

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import ft_copy as ft

RNG = np.random.default_rng(2024)


# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


def spd(n, batch=(), seed=0):
    """A well-conditioned symmetric positive-definite matrix (batch)."""
    r = np.random.default_rng(seed)
    m = r.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def distinct_sym(n, batch=(), seed=0):
    """A symmetric matrix with well-separated eigenvalues."""
    r = np.random.default_rng(seed)
    q, _ = np.linalg.qr(r.standard_normal(batch + (n, n)))
    w = np.arange(1, n + 1, dtype=np.float64) * 1.5 - n / 2
    return (q * w) @ np.swapaxes(q, -1, -2)


# --------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (1, 3, 3, 4)),
    ((4, 2, 3), (4, 3, 5)),
    ((0, 3), (3, 2)),
    ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_backward_vs_torch(torch, sa, sb):
    a, b = arr(sa), arr(sb)
    fa, fb = ft(a, True), ft(b, True)
    out = fa @ fb
    close(out, np.matmul(a, b), 1e-12, 1e-12)
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    tout = ta @ tb
    g = arr(tuple(tout.shape))
    out.backward(ft(g))
    tout.backward(tt(torch, g))
    close(fa.grad, ta.grad, 1e-10, 1e-10)
    close(fb.grad, tb.grad, 1e-10, 1e-10)
    close(F.matmul(fa, fb), out)


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3,), (3,)),
        ((2, 3), (3,)),
        ((3,), (3, 2)),
        ((2, 3), (3, 2)),
        ((2, 1, 2, 3), (3, 3, 2)),
        ((2, 2, 3), (3,)),
        ((2,), (2, 2, 3)),
    ],
)
def test_matmul_gradcheck(sa, sb):
    a, b = ft(arr(sa), True), ft(arr(sb), True)
    assert gradcheck(F.matmul, (a, b))
    assert gradgradcheck(F.matmul, (a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.float16])
def test_matmul_dtypes(torch, dtype):
    a, b = arr((3, 4), dtype), arr((4, 2), dtype)
    r = ft(a) @ ft(b)
    tr = tt(torch, a) @ tt(torch, b)
    tol = 1e-2 if dtype == np.float16 else 1e-5
    close(r, tr, tol, tol)
    assert r.dtype == getattr(F, np.dtype(dtype).name)
    # batched and vector forms too
    close(F.matmul(ft(arr((2, 3, 4), dtype)), ft(b)).shape, np.zeros((2, 3, 2)).shape, dtype=False)


def test_matmul_noncontiguous(torch):
    a, b = arr((4, 3)), arr((5, 4))
    fa, fb = ft(a, True), ft(b, True)
    out = fa.t() @ fb.t()  # (3, 4) @ (4, 5), both transposed views
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    tout = ta.t() @ tb.t()
    close(out, tout, 1e-12, 1e-12)
    out.sum().backward()
    tout.sum().backward()
    close(fa.grad, ta.grad, 1e-12, 1e-12)
    close(fb.grad, tb.grad, 1e-12, 1e-12)
    # strided slices and a batched transposed operand
    x = ft(arr((6, 8)))[::2, 1::2]
    y = ft(arr((3, 4, 5))).transpose(0, 2)  # (5, 4, 3)
    close(x @ y, np.matmul(npv(x), npv(y)), 1e-12, 1e-12)


def test_matmul_transposed_operands_gradcheck():
    a, b = ft(arr((4, 3)), True), ft(arr((5, 4)), True)
    fn = lambda a, b: a.t() @ b.t()  # noqa: E731
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))
    x, w = ft(arr((8, 5), np.float32), True), ft(arr((3, 5), np.float32), True)
    (x @ w.t()).sum().backward()
    assert w.grad.is_contiguous() and x.grad.is_contiguous()


def test_linear_pattern_and_grad_fn(torch):
    x = ft(arr((8, 5)), True)
    w = ft(arr((3, 5)), True)
    b = ft(arr((3,)), True)
    y = x @ w.t() + b
    assert y.grad_fn is not None and (x @ w.t()).grad_fn.name() == "MmBackward0"
    tx, tw, tb_ = tt(torch, npv(x), True), tt(torch, npv(w), True), tt(torch, npv(b), True)
    ty = tx @ tw.t() + tb_
    y.pow(2).sum().backward()
    ty.pow(2).sum().backward()
    for f, t in ((x, tx), (w, tw), (b, tb_)):
        close(f.grad, t.grad, 1e-10, 1e-10)


def test_matmul_nograd_and_requires_grad_flags():
    a, b = ft(arr((2, 3)), True), ft(arr((3, 2)))
    with F.no_grad():
        r = a @ b
    assert not r.requires_grad and r.grad_fn is None
    r = a @ b
    assert r.requires_grad
    r2 = ft(arr((2, 3))) @ ft(arr((3, 2)))
    assert not r2.requires_grad
    # only the operand that requires grad gets a gradient
    r.sum().backward()
    assert a.grad is not None and b.grad is None


def test_matmul_double_backward_vs_torch(torch):
    a, b = arr((2, 3, 4)), arr((4, 2))
    fa, fb = ft(a, True), ft(b, True)
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    (ga,) = grad((fa @ fb).pow(2).sum(), fa, create_graph=True)
    (tga,) = torch.autograd.grad((ta @ tb).pow(2).sum(), ta, create_graph=True)
    close(ga, tga, 1e-10, 1e-10)
    ga.sum().backward()
    tga.sum().backward()
    close(fb.grad, tb.grad, 1e-10, 1e-10)
    close(fa.grad, ta.grad, 1e-10, 1e-10)


def test_matmul_inplace_modified_input_raises():
    a, b = ft(arr((2, 3)), True), ft(arr((3, 2)))
    r = a @ b
    b.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        r.sum().backward()


def test_matmul_numpy_operands():
    a = arr((2, 3))
    b = arr((3, 2))
    close(ft(a) @ b, a @ b, dtype=False)
    close(a @ ft(b), a @ b, dtype=False)
    t = ft(arr((2, 2)))
    t @= ft(np.eye(2))
    assert t.shape == (2, 2)


@pytest.mark.parametrize(
    "sa,sb,msg",
    [
        ((2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
        ((3,), (4,), "inconsistent tensor size"),
        ((2, 3), (4,), r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
        ((3,), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
        ((2, 2, 3), (2, 4, 5), r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\]"),
        ((3, 2, 3), (2, 3, 5), "must match the size of tensor b"),
        ((2, 2, 3), (4, 4), r"\(4x3 and 4x4\)"),
    ],
)
def test_matmul_shape_errors(torch, sa, sb, msg):
    with pytest.raises(RuntimeError, match=msg):
        ft(arr(sa)) @ ft(arr(sb))
    with pytest.raises(RuntimeError, match=msg):
        tt(torch, arr(sa)) @ tt(torch, arr(sb))


def test_matmul_dtype_and_0d_errors():
    with pytest.raises(
        RuntimeError, match="expected m1 and m2 to have the same dtype, but got: float != double"
    ):
        ft(arr((2, 3), np.float32)) @ ft(arr((3, 5)))
    with pytest.raises(
        RuntimeError, match="expected m1 and m2 to have the same dtype, but got: float != long int"
    ):
        ft(arr((2, 3), np.float32)) @ ft(arr((3, 5), np.int64))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype"):
        ft(arr((3,), np.float32)) @ ft(arr((3,)))
    with pytest.raises(
        RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 0D and 1D"
    ):
        F.matmul(F.tensor(1.0), ft(arr((3,))))
    with pytest.raises(RuntimeError, match="at least 1D"):
        ft(arr((3,))) @ F.tensor(1.0)
    with pytest.raises(NotImplementedError, match="Bool"):
        ft(np.ones((2, 2), bool)) @ ft(np.ones((2, 2), bool))
    with pytest.raises(TypeError):
        F.matmul(np.ones(3), ft(arr((3,))))


# --------------------------------------------------------------------------- mm, bmm, mv, dot, outer ...
def test_mm_bmm_mv_dot_vs_torch(torch):
    cases = [
        (F.mm, torch.mm, (2, 3), (3, 4)),
        (F.bmm, torch.bmm, (2, 2, 3), (2, 3, 4)),
        (F.mv, torch.mv, (2, 3), (3,)),
        (F.dot, torch.dot, (3,), (3,)),
        (F.vdot, torch.vdot, (3,), (3,)),
        (F.outer, torch.outer, (3,), (2,)),
        (F.ger, torch.ger, (3,), (2,)),
        (F.inner, torch.inner, (2, 3), (4, 3)),
        (F.inner, torch.inner, (3,), (3,)),
        (F.kron, torch.kron, (2, 3), (4, 1, 2)),
        (F.kron, torch.kron, (2,), (3,)),
    ]
    for ff, tf, sa, sb in cases:
        a, b = arr(sa), arr(sb)
        fa, fb = ft(a, True), ft(b, True)
        ta, tb = tt(torch, a, True), tt(torch, b, True)
        r, tr = ff(fa, fb), tf(ta, tb)
        close(r, tr, 1e-12, 1e-12)
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-10, 1e-10)
        close(fb.grad, tb.grad, 1e-10, 1e-10)
        assert gradcheck(ff, (ft(a, True), ft(b, True)))
    # methods
    a, b = ft(arr((2, 3))), ft(arr((3, 2)))
    close(a.mm(b), a @ b)
    close(a.matmul(b), a @ b)
    close(ft(arr((2, 3))).mv(ft(arr((3,)))).shape, np.zeros(2).shape, dtype=False)


def test_inner_scalar_and_outer_promotion(torch):
    a = arr((2, 3))
    close(
        F.inner(F.tensor(2.0, dtype=F.float64), ft(a)),
        torch.inner(torch.tensor(2.0, dtype=torch.float64), tt(torch, a)),
    )
    r = F.outer(ft(arr((3,), np.float32)), ft(arr((2,))))
    assert r.dtype == F.float64


def test_product_errors():
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        F.mm(ft(arr((3,))), ft(arr((3, 3))))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)"):
        F.mm(ft(arr((2, 3))), ft(arr((4, 3))))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        F.bmm(ft(arr((2, 3))), ft(arr((4, 3))))
    with pytest.raises(
        RuntimeError,
        match=r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[3, 3\]",
    ):
        F.bmm(ft(arr((2, 2, 3))), ft(arr((3, 3, 3))))
    with pytest.raises(RuntimeError, match="size mismatch"):
        F.mv(ft(arr((2, 3))), ft(arr((4,))))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        F.dot(ft(arr((3, 1))), ft(arr((3,))))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        F.dot(ft(arr((3,))), ft(arr((4,))))
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        F.outer(ft(arr((2, 3))), ft(arr((3,))))
    with pytest.raises(RuntimeError, match="inner\\(\\) the last dimension must match"):
        F.inner(ft(arr((2, 3))), ft(arr((4, 4))))
    with pytest.raises(TypeError):
        F.mm([1, 2], ft(arr((2, 2))))


# --------------------------------------------------------------------------- add* family
def test_addmm_family_vs_torch(torch):
    cases = [
        ("addmm", (5,), (2, 3), (3, 5)),
        ("addmm", (2, 5), (2, 3), (3, 5)),
        ("addmv", (2,), (2, 3), (3,)),
        ("addr", (3, 2), (3,), (2,)),
        ("baddbmm", (2, 1, 4), (2, 3, 5), (2, 5, 4)),
        ("addbmm", (3, 4), (2, 3, 5), (2, 5, 4)),
    ]
    for name, si, sa, sb in cases:
        for beta, alpha in ((1, 1), (0.5, 2.0), (0, -1.5)):
            i, a, b = arr(si), arr(sa), arr(sb)
            fargs = [ft(x, True) for x in (i, a, b)]
            targs = [tt(torch, x, True) for x in (i, a, b)]
            r = getattr(F, name)(*fargs, beta=beta, alpha=alpha)
            tr = getattr(torch, name)(*targs, beta=beta, alpha=alpha)
            close(r, tr, 1e-12, 1e-12)
            g = arr(tuple(tr.shape))
            r.backward(ft(g))
            tr.backward(tt(torch, g))
            for f, t in zip(fargs, targs):
                if t.grad is None:
                    assert f.grad is None or np.all(npv(f.grad) == 0)
                else:
                    close(f.grad, t.grad, 1e-10, 1e-10)
            # the no-grad fast path
            with F.no_grad():
                r2 = getattr(F, name)(*[ft(x) for x in (i, a, b)], beta=beta, alpha=alpha)
            close(r2, tr, 1e-12, 1e-12)
    assert gradcheck(
        lambda i, a, b: F.addmm(i, a, b, beta=0.3, alpha=1.7),
        (ft(arr((3,)), True), ft(arr((2, 4)), True), ft(arr((4, 3)), True)),
    )
    assert gradgradcheck(
        lambda i, a, b: F.baddbmm(i, a, b, alpha=0.5),
        (ft(arr((1, 2)), True), ft(arr((2, 2, 3)), True), ft(arr((2, 3, 2)), True)),
    )


def test_addmm_beta0_ignores_nan_and_inplace(torch):
    i = np.full((2, 2), np.nan)
    a, b = arr((2, 3)), arr((3, 2))
    close(F.addmm(ft(i), ft(a), ft(b), beta=0), a @ b)
    t = ft(arr((2, 2)))
    expect = npv(t) + a @ b
    t.addmm_(ft(a), ft(b))
    close(t, expect)
    with pytest.raises(RuntimeError, match="expanded size"):
        F.addmm(ft(arr((3, 2))), ft(a), ft(b))


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


def test_cross_vs_torch(torch):
    for sa, sb, dim in (((4, 3), (4, 3), 1), ((4, 3), (1, 3), -1), ((3, 2, 3), (3, 2, 3), 0)):
        a, b = arr(sa), arr(sb)
        fa, fb = ft(a, True), ft(b, True)
        ta, tb = tt(torch, a, True), tt(torch, b, True)
        r, tr = F.cross(fa, fb, dim=dim), torch.cross(ta, tb, dim=dim)
        close(r, tr, 1e-12, 1e-12)
        close(F.linalg.cross(ft(a), ft(b), dim=dim), torch.linalg.cross(tt(torch, a), tt(torch, b), dim=dim))
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-10, 1e-10)
        close(fb.grad, tb.grad, 1e-10, 1e-10)
    assert gradgradcheck(lambda a, b: F.linalg.cross(a, b), (ft(arr((2, 3)), True), ft(arr((1, 3)), True)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = arr((3, 4)), arr((3, 4))
        close(F.cross(ft(a), ft(b)), np.cross(a, b, axis=0))
    ia, ib = arr((2, 3), np.int64), arr((2, 3), np.int64)
    close(F.linalg.cross(ft(ia), ft(ib)), torch.linalg.cross(tt(torch, ia), tt(torch, ib)))
    with pytest.raises(
        RuntimeError, match="linalg.cross: inputs dimension 1 must have length 3. Got 2 and 2"
    ):
        F.cross(ft(arr((4, 2))), ft(arr((4, 2))), dim=1)
    with pytest.raises(RuntimeError, match="inputs must have the same number of dimensions"):
        F.linalg.cross(ft(arr((4, 3))), ft(arr((3,))))


def test_trace_and_matrix_power(torch):
    a = arr((3, 4))
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.trace(fa), torch.trace(ta)
    close(r, tr)
    r.backward()
    tr.backward()
    close(fa.grad, ta.grad)
    assert F.trace(ft(arr((3, 3), np.int32))).dtype == F.int64
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 3"):
        F.trace(ft(arr((2, 2, 2))))
    m = arr((2, 3, 3)) * 0.5 + np.eye(3) * 2
    for n in (0, 1, 2, 5, -1, -2):
        close(F.matrix_power(ft(m), n), torch.linalg.matrix_power(tt(torch, m), n), 1e-9, 1e-9)
    assert gradcheck(lambda x: F.matrix_power(x, 3), (ft(m, True),))
    assert gradcheck(lambda x: F.linalg.matrix_power(x, -2), (ft(m, True),))
    with pytest.raises(
        RuntimeError, match="A must be batches of square matrices, but they are 3 by 2 matrices"
    ):
        F.matrix_power(ft(arr((3, 2))), 2)


# --------------------------------------------------------------------------- ferrum.linalg: norms
VEC_ORDS = [2, 1, 0, 3, 0.5, -1, -2, math.inf, -math.inf]


@pytest.mark.parametrize("ord", VEC_ORDS)
def test_vector_norm_vs_torch(torch, ord):
    x = np.array([[1.0, 3.0, 3.0, -3.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, -2.0, 0.5]])
    for dim, keepdim in ((None, False), (1, False), (1, True), ((0, 1), True), (0, False)):
        fx, tx = ft(x, True), tt(torch, x, True)
        r = F.linalg.vector_norm(fx, ord, dim, keepdim)
        tr = torch.linalg.vector_norm(tx, ord, dim, keepdim)
        close(r, tr, 1e-12, 1e-12)
        if ord == 0:
            continue
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fx.grad, tx.grad, 1e-10, 1e-10)
        assert np.all(np.isfinite(npv(fx.grad)))


def test_vector_norm_zero_grad_and_gradcheck(torch):
    z = ft(np.zeros(3), True)
    F.linalg.vector_norm(z).backward()
    close(z.grad, np.zeros(3))
    for ord in (2, 1, 3, 0.5, math.inf, -1):
        x = ft(arr((2, 3)) + 0.1, True)
        assert gradcheck(lambda t, o=ord: F.linalg.vector_norm(t, o, dim=1), (x,))
    x = ft(arr((2, 3)), True)
    assert gradgradcheck(lambda t: F.linalg.vector_norm(t, 2, dim=-1), (x,))
    assert gradgradcheck(lambda t: F.linalg.vector_norm(t, 3), (x,))
    # dtype handling
    f32 = ft(arr((4,), np.float32))
    assert F.linalg.vector_norm(f32).dtype == F.float32
    assert F.linalg.vector_norm(f32, dtype=F.float64).dtype == F.float64
    assert F.linalg.vector_norm(ft(np.ones(3, np.complex64))).dtype == F.float32
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        F.linalg.vector_norm(ft(np.ones(3, np.int64)))
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        F.linalg.vector_norm(ft(np.ones((0, 4))), math.inf)
    close(F.linalg.vector_norm(ft(np.ones((0, 4)))), np.array(0.0))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_vs_torch(torch, ord):
    a = np.array([[1.0, 2.0], [-3.0, 2.0]])
    fa, ta = ft(a, True), tt(torch, a, True)
    r, tr = F.linalg.matrix_norm(fa, ord), torch.linalg.matrix_norm(ta, ord)
    close(r, tr, 1e-12, 1e-12)
    r.backward()
    tr.backward()
    close(fa.grad, ta.grad, 1e-10, 1e-10)
    b = arr((2, 3, 4))
    for dim, keepdim in (((-2, -1), False), ((0, 2), True), ((2, 0), False)):
        close(
            F.linalg.matrix_norm(ft(b), ord, dim, keepdim),
            torch.linalg.matrix_norm(tt(torch, b), ord, dim, keepdim),
            1e-10,
            1e-10,
        )
    c = ft(arr((3, 4)), True)
    assert gradcheck(lambda t: F.linalg.matrix_norm(t, ord), (c,))


def test_norm_dispatch_and_errors(torch):
    a = arr((3, 4))
    for kw in (
        {},
        {"ord": 2},
        {"ord": "fro"},
        {"ord": "nuc"},
        {"ord": 1, "dim": 1},
        {"dim": (0, 1)},
        {"ord": -math.inf, "dim": 0, "keepdim": True},
        {"ord": math.inf},
    ):
        close(F.linalg.norm(ft(a), **kw), torch.linalg.norm(tt(torch, a), **kw), 1e-10, 1e-10)
    v = arr((5,))
    close(F.linalg.norm(ft(v), 3), torch.linalg.norm(tt(torch, v), 3))
    b3 = arr((2, 3, 4))
    close(F.linalg.norm(ft(b3)), torch.linalg.norm(tt(torch, b3)), 1e-12, 1e-12)
    with pytest.raises(
        RuntimeError, match="If dim is not specified but ord is, the input must be 1D or 2D. Got 3D"
    ):
        F.linalg.norm(ft(arr((3, 3, 3))), ord=2)
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        F.linalg.matrix_norm(ft(arr((3, 3))), dim=(0,))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        F.linalg.matrix_norm(ft(arr((3,))))
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        F.linalg.matrix_norm(ft(arr((3, 3))), ord=3)
    close(F.linalg.cond(ft(np.eye(3) * 2)), torch.linalg.cond(tt(torch, np.eye(3) * 2)))
    m = spd(3)
    for p in (None, "fro", 1, math.inf, -2):
        close(F.linalg.cond(ft(m), p), torch.linalg.cond(tt(torch, m), p), 1e-9, 1e-9)


# --------------------------------------------------------------------------- inv, det, slogdet, solve
def test_inv_det_slogdet_vs_torch(torch):
    a = arr((2, 3, 3)) + 3 * np.eye(3)
    for ff, tf in (
        (F.linalg.inv, torch.linalg.inv),
        (F.linalg.det, torch.linalg.det),
        (lambda x: F.linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet),
        (F.inverse, torch.inverse),
        (F.det, torch.det),
        (F.logdet, torch.logdet),
    ):
        fa, ta = ft(a, True), tt(torch, a, True)
        r, tr = ff(fa), tf(ta)
        close(r, tr, 1e-10, 1e-10)
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-9, 1e-9)
        assert gradcheck(ff, (ft(a, True),))
        assert gradgradcheck(ff, (ft(a[0], True),))
    s, la = F.linalg.slogdet(ft(np.array([[-1.0, 2.0], [2.0, 4.0]])))
    assert s.item() == -1.0 and abs(la.item() - math.log(8)) < 1e-12
    s, la = F.linalg.slogdet(ft(np.array([[1.0, 2.0], [2.0, 4.0]])))
    assert s.item() == 0 and la.item() == -math.inf
    assert math.isnan(F.logdet(ft(np.array([[-1.0, 2.0], [2.0, 4.0]]))).item())


def test_det_grad_singular_is_adjugate():
    m = ft(np.array([[1.0, 2.0], [2.0, 4.0]]), True)
    F.linalg.det(m).backward()
    close(m.grad, np.array([[4.0, -2.0], [-2.0, 1.0]]), 1e-10, 1e-10)


def test_linalg_errors(torch):
    with pytest.raises(F.linalg.LinAlgError, match="linalg.inv: .*singular"):
        F.linalg.inv(ft(np.zeros((3, 3))))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\)"):
        F.linalg.inv(ft(np.stack([np.eye(2), np.zeros((2, 2))])))
    with pytest.raises(
        RuntimeError, match="A must be batches of square matrices, but they are 3 by 2 matrices"
    ):
        F.linalg.inv(ft(np.zeros((3, 2))))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        F.linalg.det(ft(np.ones((3, 3), np.int64)))
    with pytest.raises(F.linalg.LinAlgError, match="leading minor of order 1 is not positive-definite"):
        F.linalg.cholesky(ft(-np.eye(3)))
    with pytest.raises(F.linalg.LinAlgError, match="leading minor of order 2"):
        F.linalg.cholesky(ft(np.array([[1.0, 2.0], [2.0, 1.0]])))
    with pytest.raises(RuntimeError, match="singular"):
        F.linalg.solve(ft(np.zeros((3, 3))), ft(np.ones(3)))
    with pytest.raises(
        RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)"
    ):
        F.linalg.solve(ft(np.eye(3)), ft(np.ones(4)))
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype"):
        F.linalg.solve(ft(np.eye(3, dtype=np.float32)), ft(np.ones(3)))
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        F.linalg.eigh(ft(np.eye(3)), UPLO="X")
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        F.linalg.qr(ft(np.eye(3)), mode="x")
    assert issubclass(F.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize(
    "sa,sb,left",
    [
        ((3, 3), (3,), True),
        ((2, 3, 3), (2, 3), True),
        ((3, 3), (3, 2), True),
        ((4, 1, 3, 3), (2, 3, 2), True),
        ((3, 3), (2, 3), False),
        ((2, 3, 3), (3,), True),
    ],
)
def test_solve_vs_torch(torch, sa, sb, left):
    a, b = arr(sa) + 3 * np.eye(3), arr(sb)
    fa, fb = ft(a, True), ft(b, True)
    ta, tb = tt(torch, a, True), tt(torch, b, True)
    r, tr = F.linalg.solve(fa, fb, left=left), torch.linalg.solve(ta, tb, left=left)
    close(r, tr, 1e-10, 1e-10)
    g = arr(tuple(tr.shape))
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    close(fa.grad, ta.grad, 1e-9, 1e-9)
    close(fb.grad, tb.grad, 1e-9, 1e-9)


def test_solve_gradgradcheck_and_triangular(torch):
    a, b = ft(arr((3, 3)) + 3 * np.eye(3), True), ft(arr((3, 2)), True)
    assert gradcheck(F.linalg.solve, (a, b))
    assert gradgradcheck(F.linalg.solve, (a, b))
    m, rhs = arr((3, 3)) + 3 * np.eye(3), arr((3, 2))
    for upper in (True, False):
        for unit in (True, False):
            close(
                F.linalg.solve_triangular(ft(m), ft(rhs), upper=upper, unitriangular=unit),
                torch.linalg.solve_triangular(tt(torch, m), tt(torch, rhs), upper=upper, unitriangular=unit),
                1e-10,
                1e-10,
            )
    close(
        F.linalg.solve_triangular(ft(m), ft(rhs.T), upper=True, left=False),
        torch.linalg.solve_triangular(tt(torch, m), tt(torch, rhs.T), upper=True, left=False),
        1e-10,
        1e-10,
    )


# --------------------------------------------------------------------------- cholesky, qr, eigh, svd
def test_cholesky_vs_torch(torch):
    p = spd(3, (2,))
    for upper in (False, True):
        fa, ta = ft(p, True), tt(torch, p, True)
        r, tr = F.linalg.cholesky(fa, upper=upper), torch.linalg.cholesky(ta, upper=upper)
        close(r, tr, 1e-10, 1e-10)
        g = arr(tuple(tr.shape))
        r.backward(ft(g))
        tr.backward(tt(torch, g))
        close(fa.grad, ta.grad, 1e-9, 1e-9)
    sym = lambda x: F.linalg.cholesky(x + x.transpose(-2, -1))  # noqa: E731
    x = ft(spd(3) / 2, True)
    assert gradcheck(sym, (x,))
    assert gradgradcheck(sym, (x,))
    close(F.cholesky(ft(p)), torch.cholesky(tt(torch, p)), 1e-10, 1e-10)
    L, info = F.linalg.cholesky_ex(ft(-np.eye(2)))
    assert info.item() == 1


@pytest.mark.parametrize(
    "shape,mode",
    [
        ((4, 3), "reduced"),
        ((3, 3), "reduced"),
        ((3, 5), "reduced"),
        ((2, 4, 3), "reduced"),
        ((3, 3), "complete"),
        ((3, 5), "complete"),
    ],
)
def test_qr_vs_torch(torch, shape, mode):
    a = arr(shape)
    fa, ta = ft(a, True), tt(torch, a, True)
    (q, r), (tq, tr) = F.linalg.qr(fa, mode), torch.linalg.qr(ta, mode)
    close(q @ r, a, 1e-10, 1e-10)
    # same LAPACK convention: the factors agree up to the signs of R's rows
    sign = np.sign(np.diagonal(npv(r), axis1=-2, axis2=-1)) * np.sign(
        np.diagonal(npv(tr), axis1=-2, axis2=-1)
    )
    close(npv(r) * sign[..., :, None], tr, 1e-9, 1e-9)
    gq, gr = arr(tuple(tq.shape)), arr(tuple(tr.shape))
    ((q * ft(gq)).sum() + (r * ft(gr)).sum()).backward()
    ((tq * tt(torch, gq)).sum() + (tr * tt(torch, gr)).sum()).backward()
    if np.all(sign > 0):
        close(fa.grad, ta.grad, 1e-8, 1e-8)
    fn = lambda x: tuple(F.linalg.qr(x, mode))  # noqa: E731
    assert gradcheck(fn, (ft(arr(shape), True),))


def test_qr_gradgrad_and_modes(torch):
    assert gradgradcheck(lambda x: tuple(F.linalg.qr(x)), (ft(arr((3, 2)), True),))
    q, r = F.linalg.qr(ft(arr((3, 4))), mode="r")
    assert q.numel() == 0 and r.shape == (3, 4)
    q, r = F.qr(ft(arr((4, 3))))
    assert q.shape == (4, 3)
    x = ft(arr((4, 3)), True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        F.linalg.qr(x, "complete")[0].sum().backward()


def test_eigh_vs_torch(torch):
    a = distinct_sym(4, (2,))
    fa, ta = ft(a, True), tt(torch, a, True)
    (w, v), (tw, tv) = F.linalg.eigh(fa), torch.linalg.eigh(ta)
    close(w, tw, 1e-10, 1e-10)
    close(np.abs(npv(v)), np.abs(npv(tv)), 1e-8, 1e-8)
    gw = arr(tuple(tw.shape))
    gm = arr((2, 4, 4))
    # a loss invariant to the eigenvectors' signs
    ((w * ft(gw)).sum() + ((v * v) * ft(gm)).sum()).backward()
    ((tw * tt(torch, gw)).sum() + ((tv * tv) * tt(torch, gm)).sum()).backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    close(F.linalg.eigvalsh(ft(a), UPLO="U"), torch.linalg.eigvalsh(ta, UPLO="U"), 1e-10, 1e-10)

    def fn(x):
        w, v = F.linalg.eigh(x + x.transpose(-2, -1))
        return w, v * v

    x = ft(distinct_sym(3) / 2, True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: F.linalg.eigvalsh(x + x.transpose(-2, -1)), (x,))


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 4, 3)])
def test_svd_vs_torch(torch, shape):
    a = arr(shape)
    fa, ta = ft(a, True), tt(torch, a, True)
    (u, s, vh), (tu, ts, tvh) = (
        F.linalg.svd(fa, full_matrices=False),
        torch.linalg.svd(ta, full_matrices=False),
    )
    close(s, ts, 1e-10, 1e-10)
    close((u * s.unsqueeze(-2)) @ vh, a, 1e-10, 1e-10)
    gs, gu, gv = arr(tuple(ts.shape)), arr(tuple(tu.shape)), arr(tuple(tvh.shape))
    # a loss invariant to the singular vectors' signs
    loss = (s * ft(gs)).sum() + (u * u * ft(gu)).sum() + (vh * vh * ft(gv)).sum()
    tloss = (ts * tt(torch, gs)).sum() + (tu * tu * tt(torch, gu)).sum() + (tvh * tvh * tt(torch, gv)).sum()
    loss.backward()
    tloss.backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    f = lambda x: (lambda r: (r[1], r[0] * r[0], r[2] * r[2]))(F.linalg.svd(x, full_matrices=False))  # noqa: E731
    assert gradcheck(f, (ft(arr(shape[-2:]), True),))


def test_svd_family(torch):
    a = arr((4, 3))
    u, s, vh = F.linalg.svd(ft(a))
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    close(F.linalg.svdvals(ft(a)), torch.linalg.svdvals(tt(torch, a)), 1e-10, 1e-10)
    x = ft(a, True)
    assert gradcheck(F.linalg.svdvals, (x,))
    assert gradgradcheck(F.linalg.svdvals, (x,))
    # full_matrices=True: gradient through the first k singular vectors
    fa, ta = ft(a, True), tt(torch, a, True)
    (F.linalg.svd(fa)[1].sum() + (F.linalg.svd(fa)[0][:, :3] ** 2).sum()).backward()
    (torch.linalg.svd(ta)[1].sum() + (torch.linalg.svd(ta)[0][:, :3] ** 2).sum()).backward()
    close(fa.grad, ta.grad, 1e-8, 1e-8)
    U, S, V = F.svd(ft(a))
    close((U * S.unsqueeze(-2)) @ V.mT, a, 1e-10, 1e-10)
    close(F.linalg.pinv(ft(a)), torch.linalg.pinv(tt(torch, a)), 1e-10, 1e-10)
    close(F.pinverse(ft(a)), torch.pinverse(tt(torch, a)), 1e-10, 1e-10)
    close(
        F.linalg.pinv(ft(spd(3)), hermitian=True),
        torch.linalg.pinv(tt(torch, spd(3)), hermitian=True),
        1e-10,
        1e-10,
    )
    assert gradcheck(F.linalg.pinv, (ft(a, True),))
    close(F.linalg.matrix_rank(ft(np.ones((3, 4)))), torch.linalg.matrix_rank(tt(torch, np.ones((3, 4)))))
    close(F.linalg.matrix_rank(ft(arr((2, 3, 4)))), torch.linalg.matrix_rank(tt(torch, arr((2, 3, 4)))))


def test_lstsq_matrix_exp_and_misc(torch):
    a, b = arr((5, 3)), arr((5, 2))
    for driver in (None, "gelsd"):
        r, tr = (
            F.linalg.lstsq(ft(a), ft(b), driver=driver),
            torch.linalg.lstsq(tt(torch, a), tt(torch, b), driver=driver),
        )
        for x, y in zip(r, tr):
            close(x, y, 1e-9, 1e-9)
    close(
        F.linalg.lstsq(ft(a), ft(b[:, 0])).solution,
        torch.linalg.lstsq(tt(torch, a), tt(torch, b[:, 0])).solution,
        1e-9,
        1e-9,
    )
    assert gradcheck(lambda x, y: F.linalg.lstsq(x, y).solution, (ft(a, True), ft(b, True)))
    m = arr((2, 3, 3))
    close(F.linalg.matrix_exp(ft(m)), torch.linalg.matrix_exp(tt(torch, m)), 1e-10, 1e-10)
    close(F.matrix_exp(ft(m * 5)), torch.matrix_exp(tt(torch, m * 5)), 1e-8, 1e-8)
    assert gradcheck(F.linalg.matrix_exp, (ft(m[0], True),))
    x, y = arr((2, 3)), arr((3,))
    close(F.linalg.vecdot(ft(x), ft(y)), torch.linalg.vecdot(tt(torch, x), tt(torch, y)))
    with pytest.raises(RuntimeError, match="linalg.vecdot: Expected x and y to have the same dtype"):
        F.linalg.vecdot(ft(x.astype(np.float32)), ft(y))
    ms = [arr((3,)), arr((3, 4)), arr((4, 2)), arr((2,))]
    close(
        F.linalg.multi_dot([ft(t) for t in ms]),
        torch.linalg.multi_dot([tt(torch, t) for t in ms]),
        1e-10,
        1e-10,
    )
    close(F.chain_matmul(ft(ms[1]), ft(ms[2])), ms[1] @ ms[2], 1e-12, 1e-12)
    close(F.linalg.matmul(ft(ms[1]), ft(ms[2])), ms[1] @ ms[2])
    close(F.linalg.diagonal(ft(m)), np.diagonal(m, axis1=-2, axis2=-1))
    p = spd(3)
    L = np.linalg.cholesky(p)
    close(F.cholesky_inverse(ft(L)), np.linalg.inv(p), 1e-10, 1e-10)
    close(F.cholesky_solve(ft(b[:3]), ft(L)), np.linalg.solve(p, b[:3]), 1e-10, 1e-10)
    inv, info = F.linalg.inv_ex(ft(np.stack([np.eye(2), np.zeros((2, 2))])))
    assert info.tolist() == [0, 1]


def test_float32_linalg_dtypes(torch):
    a = (arr((3, 3)) + 3 * np.eye(3)).astype(np.float32)
    for name in ("inv", "det", "svdvals", "eigvalsh", "cholesky"):
        x = a @ a.T if name in ("eigvalsh", "cholesky") else a
        r = getattr(F.linalg, name)(ft(x))
        assert r.dtype == F.float32
        close(r, getattr(torch.linalg, name)(tt(torch, x)), 1e-4, 1e-4)


def test_bfloat16_products():
    a = arr((3, 4), np.float32)
    b = arr((4, 2), np.float32)
    fa, fb = ft(a).to(F.bfloat16), ft(b).to(F.bfloat16)
    for r in (fa @ fb, F.mm(fa, fb), F.einsum("ij,jk->ik", fa, fb), F.matmul(fa.reshape(1, 3, 4), fb)):
        assert r.dtype == F.bfloat16
        close(r.reshape(3, 2).to(F.float32), a @ b, 0.05, 0.05)


@settings(max_examples=40, deadline=None)
@given(
    batch_a=st.lists(st.integers(1, 3), max_size=2),
    batch_b=st.lists(st.integers(1, 3), max_size=2),
    n=st.integers(0, 3),
    k=st.integers(1, 3),
    m=st.integers(0, 3),
    vec_a=st.booleans(),
    vec_b=st.booleans(),
)
def test_matmul_property_vs_numpy(batch_a, batch_b, n, k, m, vec_a, vec_b):
    """Any broadcastable pair of shapes gives NumPy's result and gradients of the right shapes."""
    sa = (k,) if vec_a else tuple(batch_a) + (n, k)
    sb = (k,) if vec_b else tuple(batch_b) + (k, m)
    a, b = arr(sa), arr(sb)
    try:
        expect = np.matmul(a, b)
    except ValueError:
        with pytest.raises(RuntimeError):
            ft(a) @ ft(b)
        return
    fa, fb = ft(a, True), ft(b, True)
    r = fa @ fb
    close(r, expect, 1e-12, 1e-12)
    r.backward(ft(np.ones(expect.shape)))
    assert fa.grad.shape == sa and fb.grad.shape == sb
    # sum(a @ b) is linear in each operand, so <grad, operand> gives the sum back (Euler)
    np.testing.assert_allclose((npv(fa.grad) * a).sum(), expect.sum(), atol=1e-10)
    np.testing.assert_allclose((npv(fb.grad) * b).sum(), expect.sum(), atol=1e-10)


def _c(*s):
    return RNG.standard_normal(s) + 1j * RNG.standard_normal(s)


_CA = _c(3, 3) + 3 * np.eye(3)
COMPLEX_CASES = [
    ("mm", lambda m: lambda a, b: a @ b, (_c(2, 3), _c(3, 4))),
    ("mm_t", lambda m: lambda a, b: a.t() @ b, (_c(3, 2), _c(3, 4))),
    ("dot", lambda m: lambda a, b: a @ b, (_c(3), _c(3))),
    ("batched", lambda m: lambda a, b: a @ b, (_c(2, 2, 3), _c(3, 4))),
    ("vdot", lambda m: m.vdot, (_c(3), _c(3))),
    ("einsum", lambda m: lambda a, b: m.einsum("ij,jk->ik", a, b), (_c(2, 3), _c(3, 4))),
    ("cross", lambda m: lambda a, b: m.linalg.cross(a, b), (_c(2, 3), _c(2, 3))),
    ("inv", lambda m: m.linalg.inv, (_CA,)),
    ("det", lambda m: m.linalg.det, (_CA,)),
    ("solve", lambda m: m.linalg.solve, (_CA, _c(3, 2))),
    ("vector_norm", lambda m: lambda x: m.linalg.vector_norm(x, 3), (_c(4),)),
    ("cholesky", lambda m: lambda x: m.linalg.cholesky(x).abs(), (_CA @ _CA.conj().T,)),
]


@pytest.mark.parametrize("name,fn,xs", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_gradients_vs_torch(torch, name, fn, xs):
    fs = [ft(x, True) for x in xs]
    ts = [tt(torch, x, True) for x in xs]
    r, tr = fn(F)(*fs), fn(torch)(*ts)
    close(r, tr, 1e-10, 1e-10)
    g = np.asarray(_c(*tr.shape) if tr.is_complex() else arr(tuple(tr.shape)))
    r.backward(ft(g))
    tr.backward(tt(torch, g))
    for f, t in zip(fs, ts):
        close(f.grad, t.grad, 1e-9, 1e-9)
