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
