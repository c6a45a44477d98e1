"""Tests of ferrum.ops.view (whole-tensor views) beyond the op table of test_shape.py: PyTorch's
results and exception types for 0-size shapes, 0-d tensors and bad arguments, and the memory
sharing and gradients of the cases fixed there."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum as F


def _outcome(L, call):
    """('ok', shape, values) or ('raise', exception type) of ``call(L)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = call(L)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return ("raise", type(e))
    return ("ok", tuple(r.shape), np.asarray(r.detach().tolist()))


def assert_parity(torch, call):
    want, got = _outcome(torch, call), _outcome(F, call)
    assert want[:2] == got[:2], (want, got)
    if want[0] == "ok":
        np.testing.assert_array_equal(got[2], want[2])


PARITY = [
    # defect 22: a 0-size leading dim in expand (was NumPy's ValueError from a reshape)
    ("expand_zero_lead", lambda L: L.ones(2).expand(1, 0, 2)),
    ("expand_zero_first", lambda L: L.ones(2).expand(0, 1, 2)),
    ("expand_zero_both", lambda L: L.ones(1, 2).expand(0, 0, 2)),
    ("expand_scalar_empty", lambda L: L.ones(()).expand(0)),
    # defect 23: bare NumPy/Python exceptions
    ("unflatten_0d", lambda L: L.ones(()).unflatten(0, (1,))),
    ("unflatten_0d_neg", lambda L: L.ones(()).unflatten(-1, (1, 1))),
    ("unflatten_0d_out_of_range", lambda L: L.ones(()).unflatten(3, (1,))),
    ("unflatten_int_sizes", lambda L: L.ones(6).unflatten(0, 6)),
    ("unflatten_overflow", lambda L: L.ones(6).unflatten(0, (2 ** 63, 1))),
    ("expand_numel_overflow", lambda L: L.ones(1).expand(2 ** 40, 2 ** 40)),
    ("expand_int64_overflow", lambda L: L.ones(6).expand(2 ** 63, 6)),
    ("reshape_int64_overflow", lambda L: L.ones(6).reshape(2 ** 63, 1)),
    ("view_int64_overflow", lambda L: L.ones(6).view(2 ** 63)),
    # defect 24: exception types
    ("permute_no_dims", lambda L: L.ones(2, 3).permute()),
    ("permute_no_dims_0d", lambda L: L.ones(()).permute()),
    ("permute_empty_0d", lambda L: L.ones(()).permute([])),
    ("expand_no_sizes", lambda L: L.ones(2, 3).expand()),
    ("expand_no_sizes_0d", lambda L: L.ones(()).expand()),
    ("expand_empty_0d", lambda L: L.ones(()).expand(())),
    ("movedim_int_and_tuple", lambda L: L.ones(2, 3).movedim(0, (1,))),
    ("movedim_tuple_and_int", lambda L: L.ones(2, 3).movedim((0,), 1)),
    # defect 26: repeated dims, dims of 0-d tensors
    ("squeeze_repeated", lambda L: L.ones(2, 3, 1).squeeze((2, 2))),
    ("squeeze_repeated_neg", lambda L: L.ones(2, 3, 1).squeeze((2, -1))),
    ("squeeze_repeated_0d", lambda L: L.ones(()).squeeze((0, -1))),
    ("squeeze_0d", lambda L: L.ones(()).squeeze((0,))),
    ("flatten_0d_dim1", lambda L: L.ones(()).flatten(1)),
    ("flatten_0d_end1", lambda L: L.ones(()).flatten(0, 1)),
    ("flatten_0d_neg2", lambda L: L.ones(()).flatten(-2)),
    ("flatten_0d_ok", lambda L: L.ones(()).flatten(0, -1)),
    # defect 36 (and H of a 1-D tensor, which torch refuses)
    ("mT_0d", lambda L: L.tensor(2.0).mT),
    ("mH_0d", lambda L: L.tensor(2.0).mH),
    ("H_0d", lambda L: L.tensor(2.0).H),
    ("mT_1d", lambda L: L.tensor([1.0, 2.0]).mT),
    ("H_1d", lambda L: L.tensor([1.0, 2.0]).H),
    ("H_3d", lambda L: L.ones(2, 2, 2).H),
    ("broadcast_shapes_big", lambda L: L.tensor(L.broadcast_shapes((2 ** 62,), (1,))[0] // 2 ** 61)),
]


@pytest.mark.parametrize("call", [c for _, c in PARITY], ids=[n for n, _ in PARITY])
def test_matches_torch(torch, call):
    assert_parity(torch, call)


def test_expand_zero_size_is_a_view_with_zero_gradient(torch):
    x = F.ones(2, dtype=F.float64, requires_grad=True)
    y = x.expand(1, 0, 2)
    assert y.shape == (1, 0, 2) and y._version is x._version and y._view[0] is x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_mT_mH_of_0d_warn_like_torch_and_stay_differentiable(torch):
    z = F.tensor(2.0 + 1.0j, dtype=F.complex128)
    with pytest.warns(UserWarning, match="mT is deprecated on 0-D tensors"):
        m = z.mT
    assert m.item() == 2.0 + 1.0j and m._version is z._version
    with pytest.warns(UserWarning, match="mH is deprecated on 0-D tensors"):
        assert z.mH.item() == 2.0 - 1.0j
    x = F.tensor(3.0, dtype=F.float64, requires_grad=True)
    with pytest.warns(UserWarning):
        x.mT.backward()
    assert x.grad.item() == 1.0


def test_squeeze_repeated_dim_message():
    with pytest.raises(RuntimeError, match=r"squeeze\(\): dim 2 appears multiple times"):
        F.ones(2, 3, 1).squeeze((2, -1))


def test_conj_node_name(torch):
    x = F.tensor([[1.0 + 1j]], dtype=F.complex128, requires_grad=True)
    tx = torch.tensor([[1.0 + 1j]], dtype=torch.complex128, requires_grad=True)
    assert x.mH.grad_fn.name() == tx.mH.grad_fn.name()


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_in_place_on_empty_expanded_tensor_matches_torch(torch, shape):
    # defect 27: an empty expanded tensor has no elements to alias; torch writes (nothing) through it
    b, tb = F.zeros(1), torch.zeros(1)
    b.expand(*shape).add_(1)
    tb.expand(*shape).add_(1)
    np.testing.assert_array_equal(b.numpy(), tb.numpy())


@pytest.mark.parametrize("expr", ["x.unsqueeze(0).squeeze()", "x.unsqueeze(0).squeeze(0)",
                                  "x.unsqueeze(0).squeeze((0,))", "x.T", "x.mT", "x.t()", "x.view(6)"])
def test_node_names_match_torch(torch, expr):
    names = []
    for L in (torch, F):
        x = L.ones(2, 3, dtype=L.float64, requires_grad=True)
        names.append(eval(expr, {"x": x}).grad_fn.name())
    assert names[0] == names[1]
