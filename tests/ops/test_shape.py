"""Tests of ferrum.ops.shape: forward against NumPy and torch (dtypes, non-contiguous inputs),
memory sharing and version counters of views, in-place ops through views, gradients against
torch and finite differences (gradcheck / gradgradcheck), error types, and property tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferrum as F
from ferrum.autograd import grad, gradcheck, gradgradcheck
from ferrum.ops import shape as S

from tests.helpers import array_maker, closeness, ft, npv, tt

RNG = np.random.default_rng(4321)


# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG)
close = closeness(rtol=1e-7, atol=1e-9)


def close_all(a, b, **kw):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), (len(a), len(b))
        for x, y in zip(a, b):
            close(x, y, **kw)
    else:
        assert not isinstance(b, (tuple, list))
        close(a, b, **kw)


def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def noncontig(shape, dtype=np.float64):
    """A strided, transposed (non-contiguous) view with the given shape."""
    big = arr(tuple(2 * n for n in reversed(shape)), dtype)
    a = big[tuple(slice(None, None, 2) for _ in shape) + (Ellipsis,)].T
    assert a.size <= 1 or not a.flags.c_contiguous
    return a


def shares(out, x) -> bool:
    return np.shares_memory(out._data, x._data)


# --------------------------------------------------------------------------- the op table
# (id, fn(L, *tensors) written once for both libraries (L is ferrum or torch), input shapes)
CASES = [
    ("view", lambda L, x: x.view(4, 3), [(3, 4)]),
    ("view_minus1", lambda L, x: x.view(2, -1, 2), [(3, 4)]),
    ("view_tuple", lambda L, x: x.view((12,)), [(3, 4)]),
    ("view_scalar", lambda L, x: x.view(()), [(1, 1)]),
    ("reshape", lambda L, x: x.reshape(2, 6), [(3, 4)]),
    ("reshape_fn", lambda L, x: L.reshape(x, (-1, 3)), [(3, 4)]),
    ("reshape_copy", lambda L, x: x.t().reshape(12), [(3, 4)]),
    ("view_as", lambda L, x: x.view_as(L.zeros(6, 2)), [(3, 4)]),
    ("reshape_as", lambda L, x: x.t().reshape_as(L.zeros(6, 2)), [(3, 4)]),
    ("flatten", lambda L, x: x.flatten(), [(2, 3, 4)]),
    ("flatten_12", lambda L, x: L.flatten(x, 1, 2), [(2, 3, 4)]),
    ("flatten_nc", lambda L, x: x.transpose(0, 2).flatten(0, 1), [(2, 3, 4)]),
    ("unflatten", lambda L, x: x.unflatten(1, (2, -1)), [(3, 4)]),
    ("ravel", lambda L, x: L.ravel(x.t()), [(3, 4)]),
    ("squeeze", lambda L, x: x.squeeze(), [(1, 3, 1, 4)]),
    ("squeeze_dim", lambda L, x: L.squeeze(x, 2), [(1, 3, 1, 4)]),
    ("squeeze_tuple", lambda L, x: x.squeeze((0, 1, 2)), [(1, 3, 1, 4)]),
    ("unsqueeze", lambda L, x: x.unsqueeze(1), [(3, 4)]),
    ("unsqueeze_neg", lambda L, x: L.unsqueeze(x, -1), [(3, 4)]),
    ("transpose", lambda L, x: x.transpose(0, 2), [(2, 3, 4)]),
    ("swapaxes", lambda L, x: L.swapaxes(x, -1, 0), [(2, 3, 4)]),
    ("swapdims", lambda L, x: x.swapdims(1, 2), [(2, 3, 4)]),
    ("permute", lambda L, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute_fn", lambda L, x: L.permute(x, (1, -1, 0)), [(2, 3, 4)]),
    ("t", lambda L, x: x.t(), [(3, 4)]),
    ("t_1d", lambda L, x: L.t(x), [(4,)]),
    ("T", lambda L, x: x.T, [(3, 4)]),
    ("mT", lambda L, x: x.mT, [(2, 3, 4)]),
    ("H", lambda L, x: x.H, [(3, 4)]),
    ("mH", lambda L, x: x.mH, [(2, 3, 4)]),
    ("adjoint", lambda L, x: L.adjoint(x), [(2, 3, 4)]),
    ("expand", lambda L, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_keep", lambda L, x: x.expand(-1, 5), [(3, 1)]),
    ("expand_same", lambda L, x: x.expand(3, 4), [(3, 4)]),
    ("expand_as", lambda L, x: x.expand_as(L.zeros(2, 3, 4)), [(1, 4)]),
    ("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    ("broadcast_tensors", lambda L, x, y: L.broadcast_tensors(x, y), [(3, 1), (2, 1, 4)]),
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [(3, 4)]),
    ("repeat_ones", lambda L, x: x.repeat(1, 1), [(3, 4)]),
    ("tile", lambda L, x: x.tile((2,)), [(3, 4)]),
    ("tile_fn", lambda L, x: L.tile(x, (2, 1, 2)), [(3, 4)]),
    ("flip", lambda L, x: x.flip(0, 2), [(2, 3, 4)]),
    ("flip_fn", lambda L, x: L.flip(x, [-1]), [(2, 3, 4)]),
    ("fliplr", lambda L, x: L.fliplr(x), [(3, 4)]),
    ("flipud", lambda L, x: x.flipud(), [(3, 4)]),
    ("roll", lambda L, x: x.roll(2), [(3, 4)]),
    ("roll_dims", lambda L, x: L.roll(x, (1, -2), (0, 1)), [(3, 4)]),
    ("roll_dim", lambda L, x: x.roll(-1, 1), [(3, 4)]),
    ("rot90", lambda L, x: x.rot90(), [(3, 4)]),
    ("rot90_k2", lambda L, x: L.rot90(x, 2, (1, 2)), [(2, 3, 4)]),
    ("rot90_kneg", lambda L, x: x.rot90(-1, [0, 1]), [(3, 4)]),
    ("narrow", lambda L, x: x.narrow(1, 1, 2), [(3, 4)]),
    ("narrow_neg", lambda L, x: L.narrow(x, -1, -3, 2), [(3, 4)]),
    ("narrow_copy", lambda L, x: x.narrow_copy(0, 1, 2), [(3, 4)]),
    ("select", lambda L, x: x.select(1, 2), [(3, 4)]),
    ("select_neg", lambda L, x: L.select(x, 0, -1), [(3, 4)]),
    ("select_1d", lambda L, x: x.select(0, 1), [(4,)]),
    ("split", lambda L, x: x.split(2, 1), [(3, 5)]),
    ("split_sizes", lambda L, x: L.split(x, [1, 3, 1], 1), [(3, 5)]),
    ("tensor_split", lambda L, x: x.tensor_split(3, 1), [(3, 5)]),
    ("tensor_split_idx", lambda L, x: L.tensor_split(x, [1, 4], 1), [(3, 5)]),
    ("tensor_split_overlap", lambda L, x: L.tensor_split(x, [3, 1], 1), [(3, 5)]),
    ("chunk", lambda L, x: x.chunk(2, 0), [(3, 5)]),
    ("chunk_fn", lambda L, x: L.chunk(x, 4, -1), [(3, 5)]),
    ("unbind", lambda L, x: x.unbind(1), [(3, 4)]),
    ("unbind_fn", lambda L, x: L.unbind(x), [(3, 4)]),
    ("hsplit", lambda L, x: L.hsplit(x, 2), [(3, 4)]),
    ("vsplit", lambda L, x: x.vsplit([1]), [(3, 4)]),
    ("dsplit", lambda L, x: L.dsplit(x, 2), [(2, 3, 4)]),
    ("cat", lambda L, x, y: L.cat([x, y], 1), [(3, 2), (3, 4)]),
    ("cat_neg", lambda L, x, y: L.cat((x, y, x), -2), [(2, 3), (1, 3)]),
    ("concat", lambda L, x, y: L.concat([x, y]), [(2, 3), (1, 3)]),
    ("concatenate", lambda L, x, y: L.concatenate([x, y], 1), [(2, 3), (2, 1)]),
    ("cat_empty1d", lambda L, x: L.cat([x, L.zeros(0, dtype=x.dtype), x], 1), [(2, 3)]),
    ("stack", lambda L, x, y: L.stack([x, y]), [(2, 3), (2, 3)]),
    ("stack_last", lambda L, x, y: L.stack((x, y, x), -1), [(2, 3), (2, 3)]),
    ("hstack", lambda L, x, y: L.hstack([x, y]), [(2, 3), (2, 1)]),
    ("hstack_1d", lambda L, x, y: L.hstack([x, y]), [(3,), (2,)]),
    ("vstack", lambda L, x, y: L.vstack([x, y]), [(3,), (2, 3)]),
    ("row_stack", lambda L, x, y: L.row_stack([x, y]), [(3,), (2, 3)]),
    ("dstack", lambda L, x, y: L.dstack([x, y]), [(3,), (3,)]),
    ("column_stack", lambda L, x, y: L.column_stack([x, y]), [(3,), (3, 2)]),
    ("movedim", lambda L, x: x.movedim(0, -1), [(2, 3, 4)]),
    ("movedim_seq", lambda L, x: L.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("moveaxis", lambda L, x: L.moveaxis(x, -1, 0), [(2, 3, 4)]),
    ("diagonal", lambda L, x: x.diagonal(), [(3, 4)]),
    ("diagonal_off", lambda L, x: L.diagonal(x, 1), [(3, 4)]),
    ("diagonal_neg", lambda L, x: x.diagonal(-1), [(3, 4)]),
    ("diagonal_dims", lambda L, x: x.diagonal(1, 2, 0), [(2, 3, 4)]),
    ("diagonal_empty", lambda L, x: x.diagonal(5), [(3, 4)]),
    ("diag_1d", lambda L, x: L.diag(x), [(3,)]),
    ("diag_1d_off", lambda L, x: L.diag(x, -2), [(3,)]),
    ("diag_2d", lambda L, x: x.diag(1), [(3, 4)]),
    ("diag_embed", lambda L, x: L.diag_embed(x), [(2, 3)]),
    ("diag_embed_dims", lambda L, x: x.diag_embed(1, 0, 2), [(2, 3)]),
    ("diagflat", lambda L, x: L.diagflat(x, -1), [(2, 2)]),
    ("tril", lambda L, x: x.tril(), [(3, 4)]),
    ("tril_k", lambda L, x: L.tril(x, -1), [(2, 3, 4)]),
    ("triu", lambda L, x: L.triu(x, 1), [(3, 4)]),
    ("triu_batched", lambda L, x: x.triu(-1), [(2, 4, 3)]),
    ("meshgrid", lambda L, x, y: L.meshgrid(x, y, indexing="ij"), [(3,), (4,)]),
    ("meshgrid_xy", lambda L, x, y, z: L.meshgrid([x, y, z], indexing="xy"), [(3,), (4,), (2,)]),
    ("contiguous", lambda L, x: x.t().contiguous(), [(3, 4)]),
    ("atleast_1d", lambda L, x: L.atleast_1d(x), [()]),
    ("atleast_2d", lambda L, x: L.atleast_2d(x), [(3,)]),
    ("atleast_3d", lambda L, x: L.atleast_3d(x), [(3, 4)]),
    ("atleast_3d_1d", lambda L, x: L.atleast_3d(x), [(3,)]),
    ("atleast_multi", lambda L, x, y: L.atleast_2d(x, y), [(), (2, 3)]),
    ("unfold", lambda L, x: x.unfold(1, 3, 1), [(2, 5)]),
    ("unfold_step", lambda L, x: x.unfold(0, 2, 2), [(5, 2)]),
    ("unfold_0d", lambda L, x: x.unfold(0, 1, 1), [()]),
]
IDS = [c[0] for c in CASES]

# ops whose outputs are views of (all) their inputs
VIEW_IDS = {
    "view", "view_minus1", "view_tuple", "view_scalar", "reshape", "reshape_fn", "view_as", "flatten",
    "flatten_12", "unflatten", "squeeze", "squeeze_dim", "squeeze_tuple", "unsqueeze",
    "unsqueeze_neg", "transpose", "swapaxes", "swapdims", "permute", "permute_fn", "t", "t_1d", "T",
    "mT", "H", "mH", "adjoint", "expand", "expand_keep", "expand_same", "expand_as", "broadcast_to",
    "broadcast_tensors", "narrow", "narrow_neg", "select", "select_neg", "select_1d", "split",
    "split_sizes", "tensor_split", "tensor_split_idx", "tensor_split_overlap", "chunk", "chunk_fn",
    "unbind", "unbind_fn", "hsplit", "vsplit", "dsplit", "movedim", "movedim_seq", "moveaxis",
    "diagonal", "diagonal_off", "diagonal_neg", "diagonal_dims", "diagonal_empty", "meshgrid",
    "meshgrid_xy", "atleast_1d", "atleast_2d", "atleast_3d", "atleast_3d_1d", "atleast_multi",
    "unfold", "unfold_step", "unfold_0d",
}


def _run(L, fn, tensors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(L, *tensors)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_vs_torch(torch, case, dtype):
    _, fn, shapes = case
    arrays = [arr(s, dtype) for s in shapes]
    got = _run(F, fn, [ft(a) for a in arrays])
    want = _run(torch, fn, [tt(torch, a) for a in arrays])
    close_all(got, want, rtol=0, atol=0)
    for g, w in zip(as_list(got), as_list(want)):
        assert tuple(g.shape) == tuple(w.shape)
        assert isinstance(g.shape, F.Size)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_noncontiguous_vs_torch(torch, case):
    _, fn, shapes = case
    arrays = [noncontig(s) for s in shapes]
    try:
        want = _run(torch, fn, [torch.from_numpy(a) for a in arrays])
    except RuntimeError:  # e.g. view() of a non-contiguous tensor
        with pytest.raises(RuntimeError):
            _run(F, fn, [ft(a) for a in arrays])
        return
    close_all(_run(F, fn, [ft(a) for a in arrays]), want, rtol=0, atol=0)


@pytest.mark.parametrize("contig", [True, False], ids=["contiguous", "strided"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_views_share_memory_and_version(torch, case, contig):
    """An output is a view exactly when torch's is; views share the version counter and record
    a view function that rebuilds them from their base."""
    name, fn, shapes = case
    arrays = [arr(s) if contig else noncontig(s) for s in shapes]
    try:
        touts = as_list(_run(torch, fn, [torch.from_numpy(a) for a in arrays]))
    except RuntimeError:
        return
    ins = [ft(a) for a in arrays]
    outs = as_list(_run(F, fn, ins))
    for o, ot in zip(outs, touts):
        if o.numel() == 0 or any(o is x for x in ins):
            continue
        t_view = any(np.shares_memory(ot.numpy(), a) for a in arrays)
        if contig:
            assert t_view == (name in VIEW_IDS), name
        if t_view:
            assert any(shares(o, x) for x in ins), name
            src = next(x for x in ins if o._version is x._version)
            assert o._base is src
            with F.no_grad():
                close(o._view[1](o._view[0]), o, rtol=0, atol=0)
        else:
            assert not any(shares(o, x) for x in ins), name
            assert all(o._version is not x._version for x in ins) and o._view is None


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad_vs_torch(torch, case):
    _, fn, shapes = case
    arrays = [arr(s) for s in shapes]
    xs = [ft(a.copy(), True) for a in arrays]
    outs = as_list(_run(F, fn, xs))
    ws = [np.random.default_rng(i).standard_normal(tuple(o.shape)) for i, o in enumerate(outs)]
    sum(((o * ft(w)).sum() for o, w in zip(outs, ws)), F.zeros((), dtype=F.float64)).backward()
    xts = [tt(torch, a.copy(), True) for a in arrays]
    outts = as_list(_run(torch, fn, xts))
    zero = torch.zeros((), dtype=torch.float64)
    sum(((o * torch.from_numpy(w)).sum() for o, w in zip(outts, ws)), zero).backward()
    for x, xt in zip(xs, xts):
        close(x.grad, xt.grad)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    _, fn, shapes = case
    xs = [ft(arr(s), True) for s in shapes]

    def f(*ts):
        return _run(F, fn, ts)
    assert gradcheck(f, xs)
    assert gradgradcheck(f, xs)


# --------------------------------------------------------------------------- view / reshape
def test_view_requires_compatible_strides(torch):
    x = ft(arr((3, 4)))
    with pytest.raises(RuntimeError, match="view size is not compatible.*Use .reshape"):
        x.t().view(12)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.zeros(3, 4).t().view(12)
    # merging dims that stay contiguous with respect to each other is fine
    y = ft(arr((2, 3, 4))).permute(2, 0, 1)  # (4, 2, 3) with dims 1, 2 still adjacent
    v = y.view(4, 6)
    assert shares(v, y)
    close(v, npv(y).reshape(4, 6))


def test_reshape_view_or_copy():
    x = ft(arr((3, 4)))
    r = x.reshape(4, 3)
    assert shares(r, x) and r._version is x._version and r._view[0] is x
    c = x.t().reshape(12)
    assert not shares(c, x) and c._version is not x._version and c._view is None
    close(c, npv(x).T.reshape(12))
    assert c.is_contiguous()
    # a non-contiguous input that can still be viewed stays a view
    z = x.t().reshape(4, 1, 3)
    assert shares(z, x)


def test_reshape_and_view_argument_forms():
    x = ft(arr((2, 3)))
    for args in [(3, 2), ((3, 2),), ([3, 2],), (F.Size([3, 2]),), (np.int64(3), 2), (F.tensor(3), 2)]:
        assert x.view(*args).shape == (3, 2)
        assert x.reshape(*args).shape == (3, 2)
    assert x.reshape(shape=(6,)).shape == (6,)
    assert F.reshape(x, (-1,)).shape == (6,)
    assert x.view(size=(3, 2)).shape == (3, 2)
    assert x.permute(dims=(1, 0)).shape == (3, 2)
    assert x.expand(size=(2, 2, 3)).shape == (2, 2, 3)
    assert x.flip(dims=(0,)).shape == (2, 3)
    assert x.repeat(repeats=(1, 2)).shape == (2, 6)
    assert ft(arr((1, 1))).reshape(()).shape == ()
    assert ft(arr((0, 3))).reshape(-1).shape == (0,)
    assert ft(arr((0, 3))).reshape(3, -1).shape == (3, 0)


@pytest.mark.parametrize("shape, msg", [
    ((2, 5), r"shape '\[2, 5\]' is invalid for input of size 6"),
    ((-1, -1), "only one dimension can be inferred"),
    ((-2, 3), r"invalid shape dimension -2"),
    ((4, -1), r"shape '\[4, -1\]' is invalid for input of size 6"),
    ((), r"shape '\[\]' is invalid for input of size 6"),
])
def test_reshape_bad_shapes(torch, shape, msg):
    for op in ("view", "reshape"):
        with pytest.raises(RuntimeError, match=msg):
            getattr(ft(arr((2, 3))), op)(shape)
        with pytest.raises(RuntimeError, match=msg):
            getattr(torch.zeros(2, 3), op)(shape)


def test_reshape_zero_elements_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        ft(arr((0, 3))).reshape(-1, 0)


def test_reshape_type_errors():
    x = ft(arr((2, 3)))
    with pytest.raises(TypeError):
        x.view(2.0, 3)
    with pytest.raises(TypeError):
        x.reshape(2, "3")
    with pytest.raises(TypeError):
        x.view()
    with pytest.raises(TypeError):
        F.reshape(np.zeros(6), (2, 3))
    with pytest.raises(TypeError):
        F.transpose([[1.0]], 0, 1)
    with pytest.raises(TypeError):
        x.reshape(2, 3, shape=(6,))
    with pytest.raises(TypeError):
        x.transpose(0.0, 1)


def test_view_dtype(torch):
    a = arr((3, 4), np.float32)
    x = ft(a, True)
    v = x.view(F.int32)
    assert v.dtype == F.int32 and not v.requires_grad and shares(v, x) and v._version is x._version
    np.testing.assert_array_equal(npv(v), a.view(np.int32))
    np.testing.assert_array_equal(npv(x.detach().view(F.int16)),
                                  tt(torch, a).view(torch.int16).numpy())
    assert x.detach().view(F.int16).shape == (3, 8)
    assert x.detach().view(dtype=F.float64).shape == (3, 2)
    assert ft(a).view(np.uint8).dtype == F.uint8
    with pytest.raises(RuntimeError, match="stride"):
        ft(a).t().view(F.int16)
    with pytest.raises(RuntimeError, match="divisible"):
        ft(arr((3, 3), np.float32)).view(F.float64)


def test_flatten_returns_input_when_nothing_changes(torch):
    x = ft(arr((4,)))
    assert x.flatten() is x
    y = ft(arr((2, 3)))
    assert y.flatten(1, 1) is y
    assert F.flatten(ft(arr(()))).shape == (1,)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        y.flatten(1, 0)


def test_contiguous_returns_self_when_contiguous():
    x = ft(arr((3, 4)))
    assert x.contiguous() is x
    c = x.t().contiguous()
    assert c.is_contiguous() and not shares(c, x)


def test_squeeze_unsqueeze_0d():
    x = ft(arr(()))
    assert x.squeeze().shape == ()
    assert x.squeeze(0).shape == ()
    assert x.unsqueeze(0).shape == (1,)
    assert x.unsqueeze(-1).shape == (1,)
    assert x.t().shape == ()
    assert x.T.shape == ()
    assert x.transpose(0, -1).shape == ()
    assert F.movedim(x, 0, 0).shape == ()
    assert F.squeeze(ft(arr((2, 1, 3))), (0, 1)).shape == (2, 3)


def test_T_warns_above_2d():
    with pytest.warns(UserWarning, match="deprecated"):
        assert ft(arr((2, 3, 4))).T.shape == (4, 3, 2)


def test_H_of_complex(torch):
    a = (arr((2, 3)) + 1j * arr((2, 3))).astype(np.complex128)
    close(ft(a).H, tt(torch, a).H)
    close(ft(a[None]).mH, tt(torch, a[None]).mH)


# --------------------------------------------------------------------------- expand / broadcast
def test_expand_is_read_only_view():
    x = ft(arr((3, 1)))
    e = x.expand(2, 3, 4)
    assert shares(e, x) and e._version is x._version
    with pytest.raises(RuntimeError):
        e.add_(1)
    # an expand that repeats nothing stays writable, as in PyTorch
    s = x.expand(1, 3, 1)
    s.add_(1)
    assert x._version[0] == 1


def test_expand_backward_sums():
    x = ft(arr((3, 1)), True)
    x.expand(2, 3, 4).sum().backward()
    close(x.grad, np.full((3, 1), 8.0))


def test_broadcast_shapes(torch):
    assert F.broadcast_shapes((2, 1), (3, 1, 4)) == torch.broadcast_shapes((2, 1), (3, 1, 4))
    assert F.broadcast_shapes(3, (2, 1)) == (2, 3)
    assert F.broadcast_shapes() == ()
    assert isinstance(F.broadcast_shapes((1,), (2,)), F.Size)
    with pytest.raises(RuntimeError, match="broadcast"):
        F.broadcast_shapes((2, 3), (3, 2))
    with pytest.raises(TypeError):
        F.broadcast_shapes("ab")


# --------------------------------------------------------------------------- cat / stack
def test_cat_type_promotion(torch):
    pairs = [(np.int32, np.float64), (np.bool_, np.int64), (np.float32, np.float64), (np.uint8, np.int8),
             (np.bool_, np.float32)]
    for da, db in pairs:
        a, b = arr((2, 3), da), arr((1, 3), db)
        close(F.cat([ft(a), ft(b)]), torch.cat([tt(torch, a), tt(torch, b)]))
        a2 = arr((1, 3), da)
        close(F.stack([ft(a2), ft(b)]), torch.stack([tt(torch, a2), tt(torch, b)]))


def test_cat_grad_is_cast_back(torch):
    a = ft(arr((2, 3), np.float32), True)
    b = ft(arr((1, 3), np.float64), True)
    r = F.cat([a, b])
    assert r.dtype == F.float64
    r.sum().backward()
    assert a.grad.dtype == F.float32 and b.grad.dtype == F.float64
    close(a.grad, np.ones((2, 3), np.float32))


def test_cat_skips_legacy_empty(torch):
    e = ft(np.zeros(0, np.float64), True)
    x = ft(arr((2, 3)), True)
    r = F.cat([e, x, e], 1)
    assert r.shape == (2, 3)
    r.sum().backward()
    assert e.grad.shape == (0,)
    assert F.cat([ft(np.zeros(0)), ft(np.zeros(0))]).shape == (0,)
    b = arr((2,))
    close(F.cat([ft(np.zeros(0, np.int32)), ft(b)]),
          torch.cat([torch.zeros(0, dtype=torch.int32), tt(torch, b)]))
    e2 = ft(np.zeros(0), True)
    r2 = F.cat([e2])
    assert r2.requires_grad
    r2.sum().backward()
    assert e2.grad.shape == (0,)


def test_cat_with_out(torch):
    out = ft(np.zeros((3, 3)))
    r = F.cat([ft(np.ones((1, 3))), ft(np.zeros((2, 3)))], out=out)
    assert r is out
    close(out, np.vstack([np.ones((1, 3)), np.zeros((2, 3))]))


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: F.cat([]), ValueError, "non-empty"),
    (lambda: F.stack([]), RuntimeError, "non-empty"),
    (lambda: F.cat([ft(np.zeros((2, 3))), ft(np.zeros((3, 4)))]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1"),
    (lambda: F.cat([ft(np.zeros((2, 3))), ft(np.zeros((2, 3, 1)))], 1), RuntimeError,
     "same number of dimensions: got 2 and 3"),
    (lambda: F.cat([ft(np.zeros(())), ft(np.zeros(()))]), RuntimeError, "zero-dimensional"),
    (lambda: F.cat([ft(np.zeros((2, 3))), [1.0]]), TypeError, "expected Tensor as element 1"),
    (lambda: F.cat(ft(np.zeros((2, 3)))), TypeError, "tuple of Tensors"),
    (lambda: F.cat([ft(np.zeros((2, 3)))], 2), IndexError, r"Dimension out of range"),
    (lambda: F.stack([ft(np.zeros((2, 3))), ft(np.zeros((2, 4)))]), RuntimeError,
     r"stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1"),
    (lambda: F.stack([ft(np.zeros((2, 3)))], 3), IndexError, "Dimension out of range"),
    (lambda: F.hstack([]), RuntimeError, "non-empty"),
])
def test_cat_stack_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


# --------------------------------------------------------------------------- split family
def test_split_pieces_are_views_with_shared_node():
    x = ft(arr((3, 5)), True)
    y = x * 1
    pieces = y.split(2, 1)
    assert [tuple(p.shape) for p in pieces] == [(3, 2), (3, 2), (3, 1)]
    assert all(shares(p, y) and p._version is y._version for p in pieces)
    assert pieces[0].grad_fn.name() == pieces[1].grad_fn.name() == "SplitBackward0"
    assert y.unbind(1)[0].grad_fn.name() == "UnbindBackward0"
    assert y.split([1, 4], 1)[0].grad_fn.name() == "SplitWithSizesBackward0"
    # only some pieces used: the others count as zero
    (pieces[0] * 2).sum().backward()
    want = np.zeros((3, 5))
    want[:, :2] = 2
    close(x.grad, want)


def test_unbind_iteration_and_grad():
    x = ft(arr((4, 3)), True)
    rows = list(x)
    assert len(rows) == 4 and rows[1].shape == (3,)
    sum((r * (i + 1)).sum() for i, r in enumerate(rows)).backward()
    close(x.grad, np.repeat(np.arange(1.0, 5.0)[:, None], 3, 1))


def test_chunk_and_split_sizes(torch):
    for n, c in [(6, 4), (5, 4), (7, 3), (0, 3), (1, 2), (4, 4)]:
        got = [tuple(p.shape) for p in ft(np.zeros(n)).chunk(c)]
        want = [tuple(p.shape) for p in torch.zeros(n).chunk(c)]
        assert got == want, (n, c)
    for n, s in [(5, 2), (4, 4), (0, 0), (3, 5)]:
        got = [tuple(p.shape) for p in ft(np.zeros(n)).split(s)]
        want = [tuple(p.shape) for p in torch.zeros(n).split(s)]
        assert got == want, (n, s)
    for n, s in [(6, 4), (2, 3), (5, [1, 4, 9]), (6, [4, 1]), (6, [-2]), (6, F.tensor([1, 2]))]:
        ts = s if not isinstance(s, F.Tensor) else torch.tensor(s.tolist())
        got = [tuple(p.shape) for p in ft(np.zeros(n)).tensor_split(s)]
        want = [tuple(p.shape) for p in torch.zeros(n).tensor_split(ts)]
        assert got == want, (n, s)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda x: x.split([2, 2]), RuntimeError, "split_with_sizes expects split_sizes to sum exactly to 6"),
    (lambda x: x.split(0), RuntimeError, "split_size can only be 0"),
    (lambda x: x.split(-1), RuntimeError, "non-negative"),
    (lambda x: x.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda x: x.tensor_split(0), RuntimeError, "larger than 0"),
    (lambda x: x.unbind(1), IndexError, "Dimension out of range"),
    (lambda x: x.split(2, 1), IndexError, "Dimension out of range"),
    (lambda x: F.vsplit(x, 2), RuntimeError, "at least 2"),
    (lambda x: F.hsplit(x, 4), RuntimeError, "divisible"),
])
def test_split_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(ft(np.zeros(6)))


# --------------------------------------------------------------------------- errors of the view ops
@pytest.mark.parametrize("call, exc, msg", [
    (lambda x: x.transpose(0, 2), IndexError,
     r"transpose\(\): Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda x: x.unsqueeze(3), IndexError, r"expected to be in range of \[-3, 2\]"),
    (lambda x: x.squeeze(2), IndexError, "squeeze"),
    (lambda x: x.permute(0), RuntimeError, "number of dimensions in the tensor input does not match"),
    (lambda x: x.permute(0, 0), RuntimeError, "duplicate dims"),
    (lambda x: x.permute(0, 2), IndexError, "Dimension out of range"),
    (lambda x: x.unsqueeze(0).t(), RuntimeError,
     r"t\(\) expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda x: x.select(0, 0).mT, RuntimeError, "only supported on matrices"),
    (lambda x: x.expand(2, 4), RuntimeError,
     r"must match the existing size \(3\) at non-singleton dimension 1"),
    (lambda x: x.expand(3), RuntimeError, "number of sizes provided \\(1\\) must be greater or equal"),
    (lambda x: x.expand(-1, 2, 3), RuntimeError, "isn't allowed in a leading, non-existing dimension 0"),
    (lambda x: x.narrow(0, 3, 1), IndexError,
     r"start out of range \(expected to be in range of \[-2, 2\], but got 3\)"),
    (lambda x: x.narrow(1, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    (lambda x: x.narrow(1, 0, -1), RuntimeError, "length must be non-negative"),
    (lambda x: x.select(1, 3), IndexError,
     r"select\(\): index 3 out of range for tensor of size \[2, 3\] at dimension 1"),
    (lambda x: x.select(2, 0), IndexError, "Dimension out of range"),
    (lambda x: x.diagonal(0, 1, 1), RuntimeError, "diagonal dimensions cannot be identical"),
    (lambda x: x.diagonal(0, 0, 2), IndexError, "Dimension out of range"),
    (lambda x: x.unsqueeze(0).diag(), RuntimeError, "diag\\(\\): Supports 1D or 2D tensors. Got 3D"),
    (lambda x: x.select(0, 0).tril(), RuntimeError, "tril: input tensor must have at least 2 dimensions"),
    (lambda x: x.select(0, 0).triu(), RuntimeError, "triu: input tensor must have at least 2 dimensions"),
    (lambda x: x.repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be smaller"),
    (lambda x: x.repeat(2, -1), RuntimeError, "negative dimension"),
    (lambda x: x.flip(0, 0), RuntimeError, "dim 0 appears multiple times"),
    (lambda x: x.roll(1, (0, 1)), RuntimeError, "shifts and dimensions must align"),
    (lambda x: x.rot90(1, (0, 0)), RuntimeError, "expected rotation dims to be different"),
    (lambda x: x.rot90(1, (0,)), RuntimeError, "expected total rotation dims == 2"),
    (lambda x: x.select(0, 0).rot90(), RuntimeError, "expected total dims >= 2"),
    (lambda x: x.select(0, 0).fliplr(), RuntimeError, "Input must be >= 2-d"),
    (lambda x: x.movedim((0, 1), (0,)), RuntimeError, "should contain the same number of dims"),
    (lambda x: x.movedim((0, 1), (0, 0)), RuntimeError, "repeated dim in `destination`"),
    (lambda x: x.movedim((1, 1), (0, 1)), RuntimeError, "repeated dim in `source`"),
    (lambda x: x.unflatten(1, (2, 2)), RuntimeError, "don't multiply up to the size of dim 1 \\(3\\)"),
    (lambda x: x.view_as(np.zeros(6)), TypeError, "Tensor"),
    (lambda x: F.meshgrid(x, x), RuntimeError, "Expected 0D or 1D tensor"),
    (lambda x: F.meshgrid(x.select(0, 0), x.select(0, 0), indexing="yx"), ValueError, "indexing"),
    (lambda x: F.tril_indices(3, 3, dtype=F.float32), NotImplementedError, "not implemented"),
    (lambda x: x.unfold(1, 4, 1), RuntimeError, "maximum size for tensor at dimension 1 is 3 but size is 4"),
    (lambda x: x.unfold(1, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    (lambda x: x.unfold(2, 2, 1), IndexError, "Dimension out of range"),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(ft(arr((2, 3))))


def test_errors_match_torch_types(torch):
    """The same bad calls raise the same exception types in torch."""
    bad = [
        lambda L, x: x.transpose(0, 2), lambda L, x: x.unsqueeze(3), lambda L, x: x.permute(0, 0),
        lambda L, x: x.expand(2, 4), lambda L, x: x.narrow(0, 3, 1), lambda L, x: x.narrow(1, 2, 2),
        lambda L, x: x.select(1, 3), lambda L, x: x.view(4), lambda L, x: x.repeat(2),
        lambda L, x: L.cat([x, x.t()]), lambda L, x: L.stack([x, x.t()]), lambda L, x: x.split([1, 2]),
        lambda L, x: x.chunk(0), lambda L, x: x.diagonal(0, 1, 1), lambda L, x: x.flip(0, 0),
        lambda L, x: L.cat([]), lambda L, x: x.unsqueeze(0).t(), lambda L, x: x.movedim(0, 2),
    ]
    for fn in bad:
        with pytest.raises(Exception) as et:
            fn(torch, torch.zeros(2, 3))
        with pytest.raises(et.type):
            fn(F, ft(np.zeros((2, 3))))


def test_device_mismatch_is_runtime_error(monkeypatch):
    class FakeCuda(np.ndarray):
        pass
    from ferrum._tensor import _wrap

    a = ft(np.zeros((2, 3)))
    b = _wrap(np.zeros((2, 3)).view(FakeCuda))  # from_numpy would make it a plain ndarray again
    with pytest.raises(RuntimeError, match="same device"):
        F.cat([a, b])
    with pytest.raises(RuntimeError, match="same device"):
        F.stack([a, b])


# --------------------------------------------------------------------------- in-place through views
INPLACE_VIEWS = [
    ("transpose", lambda v: v.transpose(0, 1)),
    ("t", lambda v: v.t()),
    ("T", lambda v: v.T),
    ("mT", lambda v: v.mT),
    ("permute", lambda v: v.permute(1, 0)),
    ("view", lambda v: v.view(4, 3)),
    ("reshape", lambda v: v.reshape(12)),
    ("flatten", lambda v: v.flatten()),
    ("unflatten", lambda v: v.unflatten(1, (2, 2))),
    ("unsqueeze", lambda v: v.unsqueeze(0)),
    ("squeeze", lambda v: v.unsqueeze(1).squeeze(1)),
    ("narrow", lambda v: v.narrow(1, 1, 2)),
    ("select", lambda v: v.select(0, 1)),
    ("diagonal", lambda v: v.diagonal(1)),
    ("movedim", lambda v: v.movedim(0, 1)),
    ("chain", lambda v: v.t().unsqueeze(0).narrow(1, 1, 2).select(2, 0)),
    ("expand_noop", lambda v: v.expand(1, 3, 4)),
]


@pytest.mark.parametrize("name, vf", INPLACE_VIEWS, ids=[c[0] for c in INPLACE_VIEWS])
def test_inplace_on_view_rebuilds_base_graph(torch, name, vf):
    a = arr((3, 4))
    w = arr((3, 4))
    x = ft(a.copy(), True)
    y = x * 1
    v = vf(y)
    v.mul_(ft(np.full(tuple(v.shape), 3.0))).add_(1)
    assert y.grad_fn.name() == "CopySlices"
    (y * y * ft(w)).sum().backward()
    xt = tt(torch, a.copy(), True)
    yt = xt * 1
    vt = vf(yt)
    vt.mul_(3).add_(1)
    (yt * yt * torch.from_numpy(w)).sum().backward()
    close(y, yt)
    close(x.grad, xt.grad)


def test_inplace_mul_on_transpose_and_unsqueeze():
    x = ft(arr((3, 4)), True)
    y = x * 1
    y.transpose(0, 1).mul_(2)
    y.sum().backward()
    close(x.grad, np.full((3, 4), 2.0))
    x.grad = None
    y = x * 1
    y.unsqueeze(0).add_(1)
    (y * y).sum().backward()
    close(x.grad, 2 * (npv(x) + 1))


def test_inplace_on_reshape_view_of_f_ordered_base(torch):
    a = arr((3, 4))
    x = ft(a.copy(), True)
    y = x.t() * 1  # an F-ordered result, as in torch (strides are preserved)
    y.t().view(12).narrow(0, 0, 5).mul_(3)
    (y * y).sum().backward()
    xt = tt(torch, a.copy(), True)
    yt = xt.t() * 1
    yt.t().view(12).narrow(0, 0, 5).mul_(3)
    (yt * yt).sum().backward()
    close(y, yt)
    close(x.grad, xt.grad)


def test_inplace_on_split_piece_and_unbind_row():
    # PyTorch refuses these; ferrum rebuilds the base's graph and gets them right
    x = ft(arr((3, 4)), True)
    y = x * 1
    a, b = y.split(2, 1)
    b.mul_(5)
    y.sum().backward()
    close(x.grad, np.array([[1, 1, 5, 5]] * 3, dtype=np.float64))
    x.grad = None
    y = x * 1
    y.unbind(0)[2].mul_(3)
    y.sum().backward()
    close(x.grad, np.array([[1.0] * 4, [1.0] * 4, [3.0] * 4]))


def test_inplace_on_view_writes_to_base():
    x = ft(np.zeros((3, 4)))
    x.t().select(0, 1).fill_(7.0)
    x.diagonal().add_(1)
    x.view(12).narrow(0, 10, 2).copy_(ft(np.array([5.0, 6.0])))
    want = np.zeros((3, 4))
    want[:, 1] = 7
    want[np.arange(3), np.arange(3)] += 1
    want.reshape(12)[10:] = [5, 6]
    close(x, want)
    assert x._version[0] == 3


@pytest.mark.parametrize("vf", [lambda y: y.t(), lambda y: y.view(12), lambda y: y.unsqueeze(0),
                                lambda y: y.narrow(0, 0, 1), lambda y: y.diagonal(), lambda y: y.unbind(0)[0],
                                lambda y: y.split(1)[1], lambda y: y.movedim(1, 0), lambda y: y.squeeze()])
def test_version_counter_is_shared(vf):
    x = ft(arr((3, 4)), True)
    y = x * 1
    z = y * y  # saves y
    v = vf(y)
    assert v._version is y._version
    with F.no_grad():
        v.add_(1)
    assert y._version[0] == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_on_view_of_leaf_raises(torch):
    x = ft(arr((3, 4)), True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.t().mul_(2)
    with F.no_grad():
        x.t().mul_(2)  # allowed without recording, as in PyTorch


def test_inplace_view_ops(torch):
    a = arr((3, 1, 4))
    w = arr((4, 3))
    x = ft(a.copy(), True)
    xt = tt(torch, a.copy(), True)
    y, yt = x * 1, xt * 1
    assert y.squeeze_() is y and y.shape == (3, 4)
    yt.squeeze_()
    y.t_()
    yt.t_()
    assert y.shape == (4, 3)
    y.unsqueeze_(0)
    yt.unsqueeze_(0)
    y.transpose_(0, 2)
    yt.transpose_(0, 2)
    y.squeeze_(2)
    yt.squeeze_(2)
    y.swapaxes_(0, 1)
    yt.swapaxes_(0, 1)
    assert tuple(y.shape) == tuple(yt.shape) == (4, 3)
    close(y, yt)
    (y * ft(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    close(x.grad, xt.grad)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.unsqueeze_(0)
    z = ft(arr((2, 3)))
    z.unsqueeze_(1)
    assert z.shape == (2, 1, 3) and z._version[0] == 1
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        z.t_()


def test_unfold_overlapping_is_read_only_and_backward_adds():
    x = ft(arr((6,)), True)
    w = x.unfold(0, 3, 1)
    assert shares(w, x) and w._version is x._version
    with pytest.raises(RuntimeError):
        w.detach().add_(1)
    w.sum().backward()
    close(x.grad, np.array([1.0, 2, 3, 3, 2, 1]))
    y = ft(np.zeros(6))
    y.unfold(0, 2, 3).add_(1)  # non-overlapping windows write through
    close(y, np.array([1.0, 1, 0, 1, 1, 0]))


def test_inplace_tril_triu(torch):
    a = arr((3, 4))
    x = ft(a.copy(), True)
    y = x * 1
    y.tril_(-1)
    y.sum().backward()
    close(x.grad, np.tril(np.ones((3, 4)), -1))
    z = ft(a.copy())
    z.triu_(1)
    close(z, np.triu(a, 1))


# --------------------------------------------------------------------------- other specifics
def test_tril_triu_indices(torch):
    for r, c, o in [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 3, 0), (3, 3, -5), (2, 5, 7)]:
        close(F.tril_indices(r, c, o), torch.tril_indices(r, c, o))
        close(F.triu_indices(r, c, o), torch.triu_indices(r, c, o))
    assert F.tril_indices(3, 3, dtype=F.int32).dtype == F.int32


def test_meshgrid_default_is_ij_without_warning(torch):
    x, y = ft(arr((3,))), ft(arr((4,)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = F.meshgrid(x, y)
    assert gx.shape == (3, 4)
    close(gx, np.meshgrid(npv(x), npv(y), indexing="ij")[0])
    hx, hy = F.meshgrid(x, y, indexing="xy")
    close(hx, np.meshgrid(npv(x), npv(y))[0])
    close(hy, np.meshgrid(npv(x), npv(y))[1])
    (s,) = F.meshgrid(ft(arr(())))
    assert s.shape == (1,)


def test_diag_embed_and_diagflat(torch):
    a = arr((2, 3))
    for args in [(), (1,), (-2,), (0, 0, 2), (1, 2, 0), (-1, -1, 0)]:
        close(F.diag_embed(ft(a), *args), torch.diag_embed(tt(torch, a), *args))
    for off in (-2, 0, 3):
        close(F.diagflat(ft(a), off), torch.diagflat(tt(torch, a), off))


def test_diag_2d_is_a_copy():
    x = ft(arr((3, 3)))
    d = F.diag(x)
    assert not shares(d, x)
    v = x.diagonal()
    assert shares(v, x)
    assert v._data.flags.writeable


def test_repeat_and_tile_zero(torch):
    a = arr((2, 3))
    close(ft(a).repeat(0, 2), tt(torch, a).repeat(0, 2))
    close(ft(a).tile((0,)), tt(torch, a).tile((0,)))
    s = arr(())
    close(ft(s).repeat(3, 2), tt(torch, s).repeat(3, 2))


def test_roll_flip_0d_and_empty_dims(torch):
    s = ft(np.array(3.0))
    assert F.flip(s, ()).item() == 3.0
    assert F.roll(ft(arr((0, 3))), 1, 0).shape == (0, 3)
    b = arr((3, 4))
    close(F.roll(ft(b), 5), np.roll(b, 5))
    close(F.roll(ft(b), (1, 2), (1, 0)), np.roll(b, (1, 2), (1, 0)))


def test_hot_nodes_have_expected_names():
    x = ft(arr((3, 4)), True)
    assert x.view(12).grad_fn.name() == "ViewBackward0"
    assert x.t().grad_fn.name() == "TBackward0"
    assert x.transpose(0, 1).grad_fn.name() == "TransposeBackward0"
    assert x.unsqueeze(0).permute(2, 0, 1).grad_fn.name() == "PermuteBackward0"
    assert x.unsqueeze(0).expand(2, 3, 4).grad_fn.name() == "ExpandBackward0"
    assert x.t().reshape(12).grad_fn.name() == "UnsafeViewBackward0"
    assert x.narrow(0, 0, 1).grad_fn.name() == "NarrowBackward0"
    with F.no_grad():
        y = x.t()
    assert y.grad_fn is None and not y.requires_grad and y._version is x._version


def test_raw_and_graph_backward_agree():
    """The hand-written nodes give the same result on raw arrays and under create_graph."""
    a = arr((2, 3, 4))
    for fn in [lambda t: t.view(4, 6), lambda t: t.transpose(0, 2), lambda t: t.permute(1, 2, 0),
               lambda t: t.mT, lambda t: t.unsqueeze(0).expand(3, 2, 3, 4),
               lambda t: t.flatten(1).t()]:
        x = ft(a.copy(), True)
        out = fn(x)
        g = ft(arr(tuple(out.shape)))
        (g1,) = grad(out, [x], grad_outputs=g)
        (g2,) = grad(fn(x), [x], grad_outputs=g, create_graph=True)
        close(g1, g2)


def test_backward_second_order_through_split_cat():
    x = ft(arr((4, 3)), True)

    def f(t):
        a, b = t.split([1, 3])
        return F.cat([b * b, a * a * a])
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


# --------------------------------------------------------------------------- property tests
def _view_step(draw, shape):
    """One random view op applicable to ``shape``: (name, ferrum fn, numpy fn, new shape)."""
    nd = len(shape)
    choices = ["unsqueeze", "reshape"]
    if nd >= 1:
        choices += ["narrow", "select", "transpose", "permute", "flipdim"]
    if nd >= 2:
        choices += ["diagonal", "mT"]
    if 1 in shape:
        choices += ["squeeze", "expand"]
    name = draw(st.sampled_from(choices))
    if name == "unsqueeze":
        k = draw(st.integers(0, nd))
        return name, (lambda t: t.unsqueeze(k)), (lambda a: np.expand_dims(a, k))
    if name == "reshape":
        n = int(np.prod(shape))
        dims = []
        rest = n
        for _ in range(draw(st.integers(0, 3))):
            divs = [d for d in range(1, rest + 1) if rest % d == 0] if rest else [0, 1]
            d = draw(st.sampled_from(divs))
            dims.append(d)
            rest = rest // d if d else rest
        if rest != 1 or not dims:
            dims.append(rest)
        if draw(st.booleans()) and n:
            dims[draw(st.integers(0, len(dims) - 1))] = -1
        dims = tuple(dims)
        return name, (lambda t: t.reshape(dims)), (lambda a: a.reshape(dims))
    if name == "narrow":
        k = draw(st.integers(0, nd - 1))
        s = draw(st.integers(0, shape[k]))
        ln = draw(st.integers(0, shape[k] - s))
        return name, (lambda t: t.narrow(k, s, ln)), (lambda a: np.take(a, range(s, s + ln), axis=k))
    if name == "select":
        k = draw(st.integers(0, nd - 1))
        if shape[k] == 0:
            return "unsqueeze", (lambda t: t.unsqueeze(0)), (lambda a: a[None])
        i = draw(st.integers(-shape[k], shape[k] - 1))
        return name, (lambda t: t.select(k, i)), (lambda a: np.take(a, i, axis=k))
    if name == "transpose":
        a_, b_ = draw(st.integers(0, nd - 1)), draw(st.integers(0, nd - 1))
        return name, (lambda t: t.transpose(a_, b_)), (lambda a: np.swapaxes(a, a_, b_))
    if name == "permute":
        perm = tuple(draw(st.permutations(range(nd))))
        return name, (lambda t: t.permute(perm)), (lambda a: np.transpose(a, perm))
    if name == "flipdim":  # movedim
        s_, d_ = draw(st.integers(0, nd - 1)), draw(st.integers(0, nd - 1))
        return name, (lambda t: t.movedim(s_, d_)), (lambda a: np.moveaxis(a, s_, d_))
    if name == "diagonal":
        d1, d2 = draw(st.sampled_from([(i, j) for i in range(nd) for j in range(nd) if i != j]))
        off = draw(st.integers(-3, 3))
        return name, (lambda t: t.diagonal(off, d1, d2)), (lambda a: np.diagonal(a, off, d1, d2))
    if name == "mT":
        return name, (lambda t: t.mT), (lambda a: np.swapaxes(a, -1, -2))
    if name == "squeeze":
        k = draw(st.sampled_from([i for i, n in enumerate(shape) if n == 1]))
        return name, (lambda t: t.squeeze(k)), (lambda a: np.squeeze(a, k))
    k = draw(st.sampled_from([i for i, n in enumerate(shape) if n == 1]))
    m = draw(st.integers(0, 3))
    new = tuple(m if i == k else -1 for i in range(nd))
    new_np = tuple(m if i == k else n for i, n in enumerate(shape))
    return "expand", (lambda t: t.expand(new)), (lambda a: np.broadcast_to(a, new_np))


@st.composite
def _view_chain(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    steps = []
    cur = np.zeros(shape)
    for _ in range(draw(st.integers(1, 6))):
        name, f_fn, n_fn = _view_step(draw, cur.shape)
        if cur.size == 0 and name == "reshape":
            continue
        steps.append((name, f_fn, n_fn))
        cur = n_fn(cur)
    return shape, steps


@settings(max_examples=150, deadline=None)
@given(_view_chain())
def test_random_view_chains_match_numpy(chain):
    shape, steps = chain
    a = np.arange(float(np.prod(shape))).reshape(shape)
    base = ft(a.copy())
    t, n = base, a.copy()
    expanded = False
    copied = False
    for name, f_fn, n_fn in steps:
        new_shape = n_fn(np.empty(t.shape)).shape
        if name == "reshape" and not (t._data.flags.c_contiguous
                                      or S._can_view(t.shape, t._data.strides, new_shape)):
            copied = True
        t, n = f_fn(t), n_fn(n)
        expanded |= name == "expand"
        np.testing.assert_array_equal(npv(t), n)
    if copied:
        return
    if t.numel():
        assert shares(t, base)
    assert t._version is base._version
    if not expanded and t.numel():
        # the base holds flat indices, so ``n`` says which base elements the view covers
        t.add_(100.0)
        m = a.copy()
        m.reshape(-1)[n.astype(np.int64).ravel()] += 100.0
        np.testing.assert_array_equal(npv(base), m)


@st.composite
def _strided_and_target(draw):
    """A strided input (a permuted, maybe narrowed, maybe expanded view of a contiguous array)
    and a target shape with the same number of elements."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    steps = [("permute", perm)]
    cur = [shape[p] for p in perm]
    if draw(st.booleans()):
        k = draw(st.integers(0, len(cur) - 1))
        s = draw(st.integers(0, cur[k] - 1))
        ln = draw(st.integers(1, cur[k] - s))
        steps.append(("narrow", (k, s, ln)))
        cur[k] = ln
    if 1 in cur and draw(st.booleans()):
        k = cur.index(1)
        m = draw(st.integers(2, 3))
        steps.append(("expand", (k, m)))
        cur[k] = m
    n = int(np.prod(cur))
    dims = []
    rest = n
    while rest > 1 and len(dims) < 4:
        d = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        dims.append(d)
        rest //= d
    dims.append(rest)
    for _ in range(draw(st.integers(0, 2))):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    return shape, steps, tuple(dims)


def _apply_steps(x, steps):
    for name, args in steps:
        if name == "permute":
            x = x.permute(args)
        elif name == "narrow":
            x = x.narrow(*args)
        else:
            k, m = args
            x = x.expand(tuple(m if i == k else -1 for i in range(x.dim())))
    return x


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_strided_and_target())
def test_view_succeeds_exactly_when_torch_does(torch, case):
    shape, steps, target = case
    a = np.arange(float(np.prod(shape))).reshape(shape)
    x = _apply_steps(ft(a), steps)
    xt = _apply_steps(torch.from_numpy(a), steps)
    try:
        want = xt.view(target)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            x.view(target)
        r = x.reshape(target)
        assert not shares(r, x) and r._view is None
        close(r, xt.reshape(target))
        return
    got = x.view(target)
    assert shares(got, x) and got._version is x._version
    close(got, want)
    sizes = [n for n in target if n != 1]
    got_st = [s for n, s in zip(target, got.stride()) if n != 1]
    want_st = [s for n, s in zip(target, want.stride()) if n != 1]
    assert got_st == want_st or not sizes
    close(x.reshape(target), want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 3), min_size=1, max_size=4), st.integers(1, 4), st.data())
def test_cat_matches_numpy(torch, dims, count, data):
    nd = len(dims)
    k = data.draw(st.integers(-nd, nd - 1))
    arrays = []
    for _ in range(count):
        s = list(dims)
        s[k] = data.draw(st.integers(0, 3))
        arrays.append(arr(tuple(s)))
    close(F.cat([ft(a) for a in arrays], k), np.concatenate(arrays, axis=k))
    xs = [ft(a.copy(), True) for a in arrays]
    out = F.cat(xs, k)
    w = arr(tuple(out.shape))
    (out * ft(w)).sum().backward()
    off = 0
    kk = k % nd
    for x, a in zip(xs, arrays):
        sl = [slice(None)] * nd
        sl[kk] = slice(off, off + a.shape[kk])
        close(x.grad, w[tuple(sl)])
        off += a.shape[kk]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_split_then_cat_roundtrip(shape, data):
    nd = len(shape)
    k = data.draw(st.integers(0, nd - 1))
    a = arr(tuple(shape))
    x = ft(a, True)
    size = data.draw(st.integers(1, shape[k] + 1))
    pieces = x.split(size, k)
    y = F.cat(pieces, k)
    close(y, a)
    (y * 2).sum().backward()
    close(x.grad, np.full(a.shape, 2.0))
