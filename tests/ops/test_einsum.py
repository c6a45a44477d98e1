"""Tests of ferrum.ops.einsum on integer and bool operands (PyTorch's int64 accumulation of the
labels one operand sums alone; bool products; refused bool contractions), against torch. The
float parity, gradient and error tests of einsum/tensordot are in test_linalg.py."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.helpers import npv


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
