"""ops/complex_ops.py beyond the registry: view_as_real / view_as_complex share memory and the
version counter with their input (writes show through, in-place ops on them are seen by autograd),
torch's strides and messages for bad layouts, angle of real input, the ops' Tensor methods."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


def test_view_as_real_shares_memory_and_strides(torch):
    z = ferrum.tensor(np.array([[1 + 2j, 3 - 1j, 0.5j], [2, -1j, 1 + 1j]]), dtype=ferrum.complex64)
    zt = torch.tensor(z.numpy())
    for a, b in ((z, zt), (z.t(), zt.t()), (z[:, ::2], zt[:, ::2])):
        r, rt = ferrum.view_as_real(a), torch.view_as_real(b)
        assert tuple(r.shape) == tuple(rt.shape) and r.stride() == rt.stride()
        assert r.storage_offset() == rt.storage_offset()
        np.testing.assert_array_equal(r.numpy(), rt.numpy())
    r = ferrum.view_as_real(z)
    r[0, 1, 1] = 7.0  # the imaginary part of z[0, 1]
    assert z[0, 1].item() == 3 + 7j
    assert z._version[0] == r._version[0] == 1
    z[1, 0] = 5 - 5j
    np.testing.assert_array_equal(r[1, 0].numpy(), [5, -5])


def test_view_as_complex_shares_memory_and_strides(torch):
    x = ferrum.arange(24, dtype=ferrum.float64).reshape(3, 4, 2)
    xt = torch.arange(24, dtype=torch.float64).reshape(3, 4, 2)
    for a, b in ((x, xt), (x.transpose(0, 1), xt.transpose(0, 1)), (x[1:], xt[1:]), (x[:, ::2], xt[:, ::2])):
        c, ct = ferrum.view_as_complex(a), torch.view_as_complex(b)
        assert tuple(c.shape) == tuple(ct.shape) and c.stride() == ct.stride()
        assert c.storage_offset() == ct.storage_offset()
        np.testing.assert_array_equal(c.numpy(), ct.numpy())
    c = ferrum.view_as_complex(x)
    c[0, 0] = 10 + 20j
    np.testing.assert_array_equal(x[0, 0].numpy(), [10, 20])
    assert ferrum.view_as_real(c).data_ptr() == x.data_ptr()


@pytest.mark.parametrize("make", [
    lambda T: T.zeros(3, 3),  # last dim not 2
    lambda T: T.zeros(3, 2, dtype=T.int32),
    lambda T: T.zeros(()),
    lambda T: T.zeros(2, 3).t(),  # last stride 3
    lambda T: T.zeros(3, 4)[:, 1:3],  # odd storage offset
    lambda T: T.zeros(3, 3)[:, :2],  # odd row stride
    lambda T: T.zeros(2, 6)[:, ::3],  # last stride 3
])
def test_view_as_complex_errors_match_torch(torch, make):
    with pytest.raises(Exception) as et:
        torch.view_as_complex(make(torch))
    with pytest.raises(type(et.value), match=str(et.value).split(":")[0][:40]):
        ferrum.view_as_complex(make(ferrum))


def test_view_as_real_of_real_raises(torch):
    for T in (torch, ferrum):
        with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
            T.view_as_real(T.zeros(3))


@pytest.mark.parametrize("op", ["complex", "polar"])
@pytest.mark.parametrize("dts", [("float32", "float64"), ("int64", "int64"), ("float64", "float32")])
def test_complex_polar_dtype_errors_match_torch(torch, op, dts):
    msgs = []
    for T in (torch, ferrum):
        with pytest.raises(RuntimeError) as e:
            getattr(T, op)(T.ones(3, dtype=getattr(T, dts[0])), T.ones(3, dtype=getattr(T, dts[1])))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_complex_and_polar_values_dtypes(torch):
    re, im = np.array([[1.0], [-2.0]]), np.array([0.5, -0.25, 3.0])
    for dt, cdt in (("float32", "complex64"), ("float64", "complex128")):
        fr, fi = (ferrum.tensor(v).to(getattr(ferrum, dt)) for v in (re, im))
        tr, ti = (torch.tensor(v).to(getattr(torch, dt)) for v in (re, im))
        f, t = ferrum.complex(fr, fi), torch.complex(tr, ti)
        assert str(f.dtype).split(".")[-1] == cdt == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(f.numpy(), t.numpy())
        f, t = ferrum.polar(fr.abs(), fi), torch.polar(tr.abs(), ti)
        np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="broadcast"):
        ferrum.complex(ferrum.zeros(2), ferrum.zeros(3))


def test_angle_of_real_and_int_input(torch):
    vals = [-1.5, -0.0, 0.0, 2.0, float("nan"), float("-inf"), float("inf")]
    for dt in ("float32", "float64", "int64", "float16"):
        src = vals if not dt.startswith("int") else [-3, 0, 4]
        f = ferrum.angle(ferrum.tensor(src).to(getattr(ferrum, dt)))
        t = torch.angle(torch.tensor(src).to(getattr(torch, dt)))
        assert str(f.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(f.float().numpy(), t.float().numpy())
    x = ferrum.tensor([-1.0, 2.0, float("nan")], requires_grad=True)
    x.angle().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    z = ferrum.tensor([0j, 1 + 1j], requires_grad=True)
    z.angle().sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [0, -0.5 + 0.5j])


def test_sgn_of_complex_and_of_zero(torch):
    z = np.array([3 + 4j, 0j, -2j])
    f = ferrum.sgn(ferrum.tensor(z))
    t = torch.sgn(torch.tensor(z))
    np.testing.assert_allclose(f.numpy(), t.numpy())
    assert ferrum.tensor(z).sgn().dtype == ferrum.complex128
    np.testing.assert_array_equal(ferrum.sgn(ferrum.tensor([-2.0, 0.0, 3.0])).numpy(), [-1.0, 0.0, 1.0])


def _inplace_cases(T):
    a = np.array([1 + 2j, 3 - 1j, 0.5 + 0.5j, 2j])
    wc = T.tensor([1 + 1j, 2, 1j, 1])
    wr = T.tensor(np.arange(8.0).reshape(4, 2))
    out = []

    def complex_base(edit):
        z = T.tensor(a, requires_grad=True)
        y = z * 1
        edit(y)
        (y * wc).real.sum().backward()
        out.extend([y.detach().numpy(), z.grad.numpy()])

    def real_base(edit):
        x = T.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
        y = x * 1
        edit(y)
        (y * wr).sum().backward()
        out.extend([y.detach().numpy(), x.grad.numpy()])

    complex_base(lambda y: T.view_as_real(y)[:, 1].mul_(3))  # one part of each element
    complex_base(lambda y: T.view_as_real(y[1:3]).mul_(2))
    complex_base(lambda y: y[::2].mul_(1j))  # a plain slice of a complex base
    real_base(lambda y: T.view_as_complex(y).mul_(1j))
    real_base(lambda y: T.view_as_complex(y[::2])[0].mul_(1 + 1j))
    return out


def test_inplace_through_complex_views_matches_torch(torch):
    for i, (f, t) in enumerate(zip(_inplace_cases(ferrum), _inplace_cases(torch))):
        np.testing.assert_allclose(f, t, err_msg=f"case {i // 2}, {'gradient' if i % 2 else 'value'}")


def test_conj_and_neg_bits_resolve(torch):
    z = ferrum.tensor([1 + 2j, -1j])
    for t in (z, z.conj()):
        assert not ferrum.is_neg(t) and not t.is_neg() and not ferrum.is_conj(t)
        assert ferrum.resolve_neg(t) is t and t.resolve_neg() is t
        np.testing.assert_array_equal(t.resolve_conj().resolve_neg().numpy(), t.numpy())
    zt = torch.tensor([1 + 2j, -1j])
    np.testing.assert_array_equal(zt.conj().resolve_conj().resolve_neg().numpy(), z.conj().numpy())
