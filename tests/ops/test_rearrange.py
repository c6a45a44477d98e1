"""Tests of ferrum.ops.rearrange (flip, roll, repeat, tril, diag, ...) beyond the op table of
test_shape.py: PyTorch's results and exception types for 0-d tensors, missing or empty arguments
and sizes that do not fit in memory or int64."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F


def _outcome(L, call):
    try:
        r = call(L)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return ("raise", type(e))
    return ("ok", tuple(r.shape), np.asarray(r.tolist()))


PARITY = [
    # defect 26: the dims of a 0-d tensor, empty shifts/dims
    ("roll_0d_dim0", lambda L: L.ones(()).roll(1, 0)),
    ("roll_0d_dim_neg1", lambda L: L.ones(()).roll(1, -1)),
    ("roll_0d_dim1", lambda L: L.ones(()).roll(1, 1)),
    ("roll_0d_two_dims", lambda L: L.ones(()).roll((1, 2), (0, 0))),
    ("roll_0d_misaligned", lambda L: L.ones(()).roll(1, (0, 1))),
    ("roll_0d_flat", lambda L: L.ones(()).roll(1)),
    ("roll_no_shifts", lambda L: L.ones(3).roll([], [])),
    ("roll_no_shifts_dim", lambda L: L.ones(2, 3).roll((), 0)),
    ("roll_empty_dims_is_flat", lambda L: L.arange(6.0).reshape(2, 3).roll(1, [])),
    ("roll_empty_dims_two_shifts", lambda L: L.ones(2, 3).roll((1, 2), [])),
    ("roll_empty_tensor", lambda L: L.ones(0, 2).roll(1, 0)),
    # defect 24: repeat without sizes is a TypeError
    ("repeat_no_sizes", lambda L: L.ones(2).repeat()),
    ("repeat_no_sizes_0d", lambda L: L.ones(()).repeat()),
    ("repeat_empty_0d", lambda L: L.ones(()).repeat(())),
    # defect 23: NumPy's ValueError for sizes too big
    ("repeat_too_big", lambda L: L.ones(1).repeat(2 ** 40, 2 ** 40)),
    ("repeat_too_big_1d", lambda L: L.ones(2).repeat(2 ** 62)),
    ("diag_too_big", lambda L: L.ones(2).diag(2 ** 62)),
    ("diag_embed_too_big", lambda L: L.ones(2).diag_embed(2 ** 62)),
    # ints outside int64
    ("tril_overflow", lambda L: L.ones(6, 6).tril(2 ** 63)),
    ("roll_overflow", lambda L: L.ones(6).roll(2 ** 63)),
    ("rot90_overflow", lambda L: L.ones(6, 6).rot90(2 ** 63)),
    ("tril_indices_overflow", lambda L: L.tril_indices(3, 3, 2 ** 63)),
]


@pytest.mark.parametrize("call", [c for _, c in PARITY], ids=[n for n, _ in PARITY])
def test_matches_torch(torch, call):
    want, got = _outcome(torch, call), _outcome(F, call)
    assert want[:2] == got[:2], (want, got)
    if want[0] == "ok":
        np.testing.assert_array_equal(got[2], want[2])


def test_roll_with_empty_dims_backward_matches_torch(torch):
    a = np.arange(6.0).reshape(2, 3)
    x = F.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    w = np.arange(6.0).reshape(2, 3) ** 2
    (x.roll(2, []) * F.tensor(w)).sum().backward()
    (tx.roll(2, []) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_tril_indices_has_no_function_local_import():
    import ferrum.ops.rearrange as R
    assert R._finish.__module__ == "ferrum._factory"


@pytest.mark.parametrize("expr", ["x.diag_embed()", "x[0].diag()", "x.diagflat()", "x.flip(0)",
                                  "x.roll(1, 0)", "x.repeat(2, 1)", "x.tril()", "x.rot90()"])
def test_node_names_match_torch(torch, expr):
    names = []
    for L in (torch, F):
        x = L.ones(2, 3, dtype=L.float64, requires_grad=True)
        names.append(eval(expr, {"x": x}).grad_fn.name())
    assert names[0] == names[1]


def test_diag_embed_is_differentiable_twice():
    from ferrum.autograd import gradcheck, gradgradcheck
    x = F.tensor(np.arange(6.0).reshape(2, 3) + 1, requires_grad=True)
    assert gradcheck(lambda t: t.diag_embed(1), (x,))
    assert gradgradcheck(lambda t: t.diag_embed(1), (x,))


# --------------------------------------------------------------------------- repeat_interleave
RI_CASES = [
    ("int_flat", lambda L, x: x.repeat_interleave(2)),
    ("int_dim0", lambda L, x: L.repeat_interleave(x, 3, dim=0)),
    ("int_dim_neg", lambda L, x: x.repeat_interleave(2, dim=-1)),
    ("int_zero", lambda L, x: x.repeat_interleave(0, dim=1)),
    ("int_one", lambda L, x: x.repeat_interleave(1, dim=1)),
    ("tensor_dim0", lambda L, x: x.repeat_interleave(L.tensor([2, 0]), dim=0)),
    ("tensor_dim1", lambda L, x: x.repeat_interleave(L.tensor([1, 3, 0], dtype=L.int32), dim=1)),
    ("tensor_0d", lambda L, x: x.repeat_interleave(L.tensor(2), dim=1)),
    ("tensor_len1", lambda L, x: x.repeat_interleave(L.tensor([3]), dim=0)),
    ("tensor_flat", lambda L, x: x.repeat_interleave(L.tensor([1, 0, 2, 1, 1, 2]))),
    ("output_size", lambda L, x: x.repeat_interleave(L.tensor([1, 2]), dim=0, output_size=3)),
    ("transposed", lambda L, x: x.t().repeat_interleave(2, dim=0)),
    ("kv_heads", lambda L, x: x.reshape(1, 2, 3, 1).repeat_interleave(2, dim=1)),
]


def _ri_input(L, dtype):
    return L.tensor(np.arange(6.0).reshape(2, 3) - 2.5, dtype=getattr(L, dtype), requires_grad=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,call", RI_CASES, ids=[n for n, _ in RI_CASES])
def test_repeat_interleave_matches_torch(torch, name, call, dtype):
    """Values, shape, dtype and strides (new C-contiguous memory) and the input's gradient."""
    res = []
    for L in (torch, F):
        x = _ri_input(L, dtype)
        y = call(L, x)
        w = L.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=y.dtype)
        (y * w).sum().backward()
        res.append((y.detach().numpy(), tuple(y.stride()), x.grad.numpy()))
        assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    (ty, ts, tg), (fy, fs, fg) = res
    assert fy.dtype == ty.dtype and fy.shape == ty.shape and fs == ts
    np.testing.assert_array_equal(fy, ty)
    np.testing.assert_allclose(fg, tg, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_repeat_interleave_other_dtypes_and_index_form(torch, dtype):
    a = np.array([[1, 0, 3], [2, 2, 0]])
    for form in (lambda L, x: x.repeat_interleave(L.tensor([1, 2]), dim=0),
                 lambda L, x: x.repeat_interleave(2, dim=1)):
        t = form(torch, torch.tensor(a).to(getattr(torch, dtype)))
        f = form(F, F.tensor(a).to(getattr(F, dtype)))
        assert f.dtype.name == dtype and f.tolist() == t.tolist()
    if dtype in ("int64", "int32"):
        c = a[0]
        t, f = torch.repeat_interleave(torch.tensor(c).to(getattr(torch, dtype))), F.repeat_interleave(
            F.tensor(c).to(getattr(F, dtype)))
        assert f.dtype.name == dtype and f.tolist() == t.tolist() == [0, 2, 2, 2]


RI_BAD = [
    ("neg_int", lambda L, x: x.repeat_interleave(-1)),
    ("neg_tensor", lambda L, x: x.repeat_interleave(L.tensor([1, -1]), dim=0)),
    ("size_mismatch", lambda L, x: x.repeat_interleave(L.tensor([1, 2, 3]), dim=0)),
    ("float_counts", lambda L, x: x.repeat_interleave(L.tensor([1.0, 2.0]), dim=0)),
    ("2d_counts", lambda L, x: x.repeat_interleave(L.tensor([[1, 2]]), dim=0)),
    ("bad_dim", lambda L, x: x.repeat_interleave(2, dim=2)),
    ("wrong_output_size", lambda L, x: x.repeat_interleave(L.tensor([1, 2]), dim=0, output_size=4)),
    ("bool_count", lambda L, x: x.repeat_interleave(True)),
    ("float_count", lambda L, x: x.repeat_interleave(2.0)),
    ("list_counts", lambda L, x: x.repeat_interleave([1, 2], dim=0)),
    ("0d_dim0", lambda L, x: x.sum().repeat_interleave(3, dim=0)),
    ("0d_dim_neg", lambda L, x: x.sum().repeat_interleave(3, dim=-1)),
    ("index_form_2d", lambda L, x: L.repeat_interleave(L.tensor([[1]]))),
    ("index_form_float", lambda L, x: L.repeat_interleave(L.tensor([1.0]))),
    ("index_form_negative", lambda L, x: L.repeat_interleave(L.tensor([1, -2]))),
]


@pytest.mark.parametrize("name,call", RI_BAD, ids=[n for n, _ in RI_BAD])
def test_repeat_interleave_bad_input_matches_torch(torch, name, call):
    errs = []
    for L in (torch, F):
        with pytest.raises(Exception) as e:
            call(L, _ri_input(L, "float32"))
        errs.append(type(e.value))
    assert errs[1] is errs[0], errs


def test_repeat_interleave_flat_0d_and_empty(torch):
    for L in (torch, F):
        assert L.tensor(5.0).repeat_interleave(3).tolist() == [5.0, 5.0, 5.0]
        assert tuple(L.zeros(0, 3).repeat_interleave(2, dim=0).shape) == (0, 3)
        assert tuple(L.zeros(2, 3).repeat_interleave(L.tensor([0, 0]), dim=0).shape) == (0, 3)


@pytest.mark.parametrize("counts", [2, [1, 0, 2]])
def test_repeat_interleave_is_differentiable_twice(counts):
    from ferrum.autograd import gradcheck, gradgradcheck

    x = F.tensor(np.arange(6.0).reshape(2, 3) + 1, requires_grad=True)
    r = counts if isinstance(counts, int) else F.tensor(counts)
    assert gradcheck(lambda t: t.repeat_interleave(r, dim=1), (x,))
    assert gradgradcheck(lambda t: t.repeat_interleave(r, dim=1) ** 2, (x,))
