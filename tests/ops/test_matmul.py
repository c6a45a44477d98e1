"""Tests of ferrum.ops.matmul (matmul and ``@``, mm, bmm, mv, dot, the add* family, outer, inner,
cross, trace, multi_dot): forward against NumPy and torch over shapes, dtypes and layouts,
gradients against torch and finite differences, error types; the add* scalars on integer and bool
tensors and the column-major gradients of _matmul_grads."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrum as F
from ferrum.autograd import grad, gradcheck, gradgradcheck
from ferrum.ops.matmul import _matmul_grads

from tests.helpers import array_maker, closeness, npv, tt
from tests.helpers import ft_copy as ft


RNG = np.random.default_rng(2024)

# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


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


def args(T, op):
    M = T.tensor([[1, 2], [3, 4]])
    v = T.tensor([1, 1])
    B = T.tensor([[[1, 2], [3, 4]]])
    return {"addmm": (M, M, M), "addmv": (T.tensor([1, 2]), M, v), "addr": (M, v, v),
            "baddbmm": (B, B, B), "addbmm": (M, B, B)}[op]


@pytest.mark.parametrize("op", ["addmm", "addmv", "addr", "baddbmm", "addbmm"])
@pytest.mark.parametrize("beta, alpha", [(0.5, 1), (1.5, 2), (1, 0.5), (2, 2.7), (0, 1), (-1.5, -0.2)])
def test_add_family_float_scalars_with_integer_tensors(torch, op, beta, alpha):
    try:
        tr = getattr(torch, op)(*args(torch, op), beta=beta, alpha=alpha)
    except RuntimeError as e:  # addr refuses a float scalar
        with pytest.raises(RuntimeError, match=str(e)):
            getattr(F, op)(*args(F, op), beta=beta, alpha=alpha)
        return
    fr = getattr(F, op)(*args(F, op), beta=beta, alpha=alpha)
    assert fr.dtype == F.int64 and str(tr.dtype) == "torch.int64"
    np.testing.assert_array_equal(npv(fr), npv(tr))


@pytest.mark.parametrize("beta, alpha", [(1, 1), (2, 1), (0, 1), (1, 0), (0, 0), (True, False)])
def test_addr_on_bool_is_logical(torch, beta, alpha):
    def run(T):
        return T.addr(T.tensor([[True, False], [False, False]]), T.tensor([True, False]),
                      T.tensor([False, True]), beta=beta, alpha=alpha)
    fr, tr = run(F), run(torch)
    assert fr.dtype == F.bool
    np.testing.assert_array_equal(npv(fr), npv(tr))


@pytest.mark.parametrize("a_colmajor, b_colmajor",
                         [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_grads_layout_flags(a_colmajor, b_colmajor):
    r = np.random.default_rng(1)
    a, b, g = r.standard_normal((4, 3)), r.standard_normal((3, 5)), r.standard_normal((4, 5))
    ga, gb = _matmul_grads(g, a, b, a.shape, b.shape, a_colmajor, b_colmajor)
    np.testing.assert_allclose(ga, g @ b.T)
    np.testing.assert_allclose(gb, a.T @ g)
    assert ga.flags.f_contiguous == a_colmajor and gb.flags.f_contiguous == b_colmajor


def test_transposed_weight_gets_a_c_contiguous_gradient():
    w = F.randn(5, 3, requires_grad=True)
    x = F.randn(4, 3)
    (x @ w.t()).sum().backward()
    assert w.grad._data.flags.c_contiguous
    np.testing.assert_allclose(npv(w.grad), np.ones((4, 5)).T @ npv(x), rtol=1e-5)
