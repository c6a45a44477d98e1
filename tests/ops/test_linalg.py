"""Tests of the ``ferrum.ops.linalg`` and ``ferrum.linalg`` faces: that they re-export the
implementations, and complex gradients across the linear-algebra modules, against torch. Each
module's own tests are in test_matmul.py, test_einsum.py, test_solve.py, test_decomp.py and
test_linalg_norm.py."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum as F

from tests.helpers import array_maker, closeness, tt
from tests.helpers import ft_copy as ft


RNG = np.random.default_rng(2024)

# --------------------------------------------------------------------------- helpers
arr = array_maker(RNG, ilow=-4, high=5)
close = closeness(rtol=1e-6, atol=1e-6)


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


def test_faces_re_export_the_implementations():
    from ferrum.ops import decomp, einsum, linalg, linalg_norm, matmul, solve
    assert F.linalg.svd is decomp.svd and F.svd is decomp.torch_svd and F.qr is decomp.torch_qr
    assert F.linalg.inv is solve.inv and F.inverse is solve.inverse and F.cholesky is solve.torch_cholesky
    assert F.linalg.matrix_power is solve.linalg_matrix_power and F.matrix_power is solve.matrix_power
    assert F.linalg.cross is matmul.linalg_cross and F.cross is matmul.cross
    assert F.linalg.norm is linalg_norm.norm and F.einsum is einsum.einsum
    assert linalg._raw_matmul is matmul._raw_matmul and F.matmul is matmul.matmul
    assert set(F.linalg.__all__) <= set(dir(F.linalg)) and set(linalg.__all__) <= set(dir(F))
