"""ferrum.fft against torch.fft: every transform over a grid of shapes (1-D to 3-D), dims (negative,
reordered), sizes (n/s smaller and larger than the input), norms and dtypes (float32, float64, complex64,
complex128, integer promotion), on contiguous and non-contiguous inputs: values, output dtypes and the
gradients of a complex-weighted loss; gradcheck and gradgradcheck in float64 (real and complex inputs);
torch's exception types; out=; fftfreq, rfftfreq, fftshift and ifftshift."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck

C2C_1D = ("fft", "ifft")
R2C_1D = ("rfft", "ihfft")
C2R_1D = ("irfft", "hfft")
C2C_ND = ("fft2", "ifft2", "fftn", "ifftn")
R2C_ND = ("rfft2", "ihfft2", "rfftn", "ihfftn")
C2R_ND = ("irfft2", "hfft2", "irfftn", "hfftn")
ALL_FNS = C2C_1D + R2C_1D + C2R_1D + C2C_ND + R2C_ND + C2R_ND
NORMS = (None, "backward", "ortho", "forward")
DTYPES = ("float32", "float64", "complex64", "complex128")
REAL = {"complex64": "float32", "complex128": "float64"}

# (input shape, kwargs) per family; the sizes cover smaller, equal and larger than the input
CASES_1D = [((6,), {}), ((7,), {"n": 4}), ((5,), {"n": 9}), ((3, 5), {"dim": 0}),
            ((3, 5), {"dim": 0, "n": 2}), ((2, 3, 8), {"dim": -2, "n": 5}), ((2, 3, 4), {"dim": 2, "n": 7}),
            ((1,), {"n": 3})]
CASES_ND = [((4, 6), {}), ((2, 3, 4), {}), ((2, 3, 4), {"s": (3, 5)}), ((2, 3, 4), {"dim": (0, -1)}),
            ((2, 3, 4), {"s": (5, 2), "dim": (-1, 0)}), ((3, 5), {"s": (-1, 3)}),
            ((2, 3, 5), {"s": (4, 2, 6), "dim": (2, 0, 1)})]


def _family(name):
    if name in C2C_1D + C2C_ND:
        return "c2c"
    return "r2c" if name in R2C_1D + R2C_ND else "c2r"


def _cases(name):
    cases = CASES_1D if name in C2C_1D + R2C_1D + C2R_1D else CASES_ND
    if name.endswith("2"):  # the 2-D forms keep their default dims unless given two
        cases = [(sh, kw) for sh, kw in cases
                 if len(sh) >= 2 and len(kw.get("s", (0, 0))) == 2 and len(kw.get("dim", (0, 0))) == 2]
    if _family(name) == "c2r":  # 2 * (m - 1) output points need m >= 2 by default
        cases = [(sh, kw) for sh, kw in cases if min(sh) >= 2 or "n" in kw or "s" in kw]
    return cases


def _array(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a


def _leaf(T, a, dtype, transpose=False):
    """A leaf of ``a``'s values in ``dtype``; with ``transpose`` a non-contiguous view of the same values."""
    if transpose:
        t = T.tensor(np.ascontiguousarray(np.swapaxes(a, 0, -1))).to(getattr(T, dtype))
        t = t.detach().requires_grad_(True)
        return t, t.transpose(0, -1)
    t = T.tensor(a).to(getattr(T, dtype)).requires_grad_(True)
    return t, t


def _np(t):
    return t.detach().resolve_conj().numpy()


def _run(T, name, a, dtype, kw, w_rng, transpose=False):
    leaf, x = _leaf(T, a, dtype, transpose)
    y = getattr(T.fft, name)(x, **kw)
    w = _array(w_rng, tuple(y.shape), "complex128" if y.is_complex() else "float64")
    loss = (y * T.tensor(w).to(y.dtype)).real.sum() if y.is_complex() else (y * T.tensor(w).to(y.dtype)).sum()
    loss.backward()
    g = leaf.grad
    if transpose:
        g = g.transpose(0, -1)
    return y, _np(y), _np(g)


def _close(a, b, dtype, what):
    single = dtype in ("float32", "complex64")
    scale = max(1.0, float(np.abs(b).max())) if b.size else 1.0
    np.testing.assert_allclose(a, b, rtol=2e-5 if single else 1e-10, atol=(2e-5 if single else 1e-11) * scale,
                               err_msg=what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ALL_FNS)
def test_values_and_gradients_match_torch(torch, name, dtype):
    if _family(name) == "r2c" and dtype.startswith("complex"):
        pytest.skip("r2c transforms take real input (the error is tested below)")
    rng = np.random.default_rng(sum(map(ord, name + dtype)))
    for k, (shape, kw) in enumerate(_cases(name)):
        for norm in NORMS:
            kwn = dict(kw, norm=norm) if norm is not None else dict(kw)
            a = _array(rng, shape, dtype)
            transpose = k % 2 == 1 and len(shape) >= 2
            yf, of, gf = _run(ferrum, name, a, dtype, kwn, np.random.default_rng(k), transpose)
            yt, ot, gt = _run(torch, name, a, dtype, kwn, np.random.default_rng(k), transpose)
            what = f"{name}{shape} {kwn} {dtype}{' transposed' if transpose else ''}"
            assert str(yf.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1], what
            assert of.shape == ot.shape, what
            _close(of, ot, dtype, what + ": values")
            assert gf.dtype == gt.dtype, what
            _close(gf, gt, dtype, what + ": gradient")


GC_SIZES = {"c2c": ({}, {"n": 3}, {"n": 6, "norm": "ortho"}),
            "r2c": ({}, {"n": 3, "norm": "forward"}, {"n": 7}),
            "c2r": ({}, {"n": 5, "norm": "ortho"}, {"n": 8, "norm": "forward"}, {"n": 2})}


@pytest.mark.parametrize("name", ALL_FNS)
def test_gradcheck_and_gradgradcheck(name):
    fam = _family(name)
    rng = np.random.default_rng(sum(map(ord, name)))
    kinds = ("float64",) if fam == "r2c" else ("float64", "complex128")
    nd = name not in C2C_1D + R2C_1D + C2R_1D
    for kind in kinds:
        for kw in GC_SIZES[fam]:
            if nd and "n" in kw:
                kw = dict(kw, s=(2, kw.pop("n")) if name.endswith("2") else (kw.pop("n"), 2, 3))
            a = _array(rng, (2, 3, 4), kind)
            x = ferrum.tensor(a, requires_grad=True)

            def fn(t, _kw=kw):
                return getattr(ferrum.fft, name)(t, **_kw)
            assert gradcheck(fn, (x,)), (name, kind, kw)
            assert gradgradcheck(fn, (x,)), (name, kind, kw)


@pytest.mark.parametrize("name", ("fft", "rfft", "irfft", "hfft", "ihfft", "fftn", "rfftn", "irfftn"))
@pytest.mark.parametrize("dtype", ("int64", "int32", "uint8", "bool"))
@pytest.mark.parametrize("default", ("float32", "float64"))
def test_integer_input_promotes_to_the_default_dtype(torch, name, dtype, default):
    a = np.array([[1, 0, 3, 1], [2, 2, 0, 1]])
    outs = []
    for T in (torch, ferrum):
        prev = T.get_default_dtype()
        T.set_default_dtype(getattr(T, default))
        try:
            outs.append(getattr(T.fft, name)(T.tensor(a).to(getattr(T, dtype))))
        finally:
            T.set_default_dtype(prev)
    yf, yt = outs
    assert str(yf.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    _close(_np(yf), _np(yt), str(yt.dtype).split(".")[-1], name)


def _raises_like_torch(torch, fn):
    et = ef = None
    try:
        fn(torch)
    except Exception as e:  # noqa: BLE001 - the type is compared
        et = e
    try:
        fn(ferrum)
    except Exception as e:  # noqa: BLE001
        ef = e
    assert et is not None, "torch does not raise"
    assert ef is not None, f"ferrum does not raise; torch raises {type(et).__name__}: {et}"
    assert type(ef) is type(et) or isinstance(ef, type(et)), f"torch {et!r}, ferrum {ef!r}"


BAD = {
    "norm_value": lambda T: T.fft.fft(T.ones(4), norm="bad"),
    "norm_type": lambda T: T.fft.fft(T.ones(4), norm=3),
    "n_zero": lambda T: T.fft.fft(T.ones(4), n=0),
    "n_negative": lambda T: T.fft.rfft(T.ones(4), n=-1),
    "n_float": lambda T: T.fft.fft(T.ones(4), n=4.0),
    "irfft_default_n_zero": lambda T: T.fft.irfft(T.ones(1, dtype=T.complex64)),
    "hfft_empty": lambda T: T.fft.hfft(T.ones(0, dtype=T.complex64)),
    "fft_empty_dim": lambda T: T.fft.fft(T.ones(0)),
    "dim_out_of_range": lambda T: T.fft.fft(T.ones(4), dim=1),
    "dim_negative_out_of_range": lambda T: T.fft.ifft(T.ones(2, 3), dim=-3),
    "dim_tuple_1d": lambda T: T.fft.fft(T.ones(4), dim=(0,)),
    "zero_dim_1d": lambda T: T.fft.fft(T.tensor(1.0)),
    "zero_dim_rfft": lambda T: T.fft.rfft(T.tensor(1.0)),
    "not_tensor": lambda T: T.fft.fft([1.0, 2.0]),
    "rfft_complex": lambda T: T.fft.rfft(T.ones(4, dtype=T.complex64)),
    "ihfftn_complex": lambda T: T.fft.ihfftn(T.ones(2, 4, dtype=T.complex128)),
    # which check comes first: the dtype for rfft, the dims for ihfft2/ihfftn, the dim before n
    "rfft_complex_bad_dim": lambda T: T.fft.rfft(T.ones(4, dtype=T.complex64), dim=3),
    "ihfft2_complex_bad_dim": lambda T: T.fft.ihfft2(T.ones(4, dtype=T.complex64)),
    "hfft_bad_dim_and_n": lambda T: T.fft.hfft(T.ones(4, dtype=T.complex64), n=0, dim=3),
    "half": lambda T: T.fft.fft(T.ones(4, dtype=T.float16)),
    "bfloat16": lambda T: T.fft.rfft(T.ones(4, dtype=T.bfloat16)),
    "half_irfft": lambda T: T.fft.irfft(T.ones(4, dtype=T.float16)),
    "s_longer_than_ndim": lambda T: T.fft.fftn(T.ones(4), s=(4, 4)),
    "s_dim_lengths": lambda T: T.fft.fftn(T.ones(3, 4), s=(4, 5), dim=(0,)),
    "fft2_one_s": lambda T: T.fft.fft2(T.ones(3, 4), s=(2,)),
    "fft2_one_dim_tensor": lambda T: T.fft.fft2(T.ones(4)),
    "dims_repeated": lambda T: T.fft.fftn(T.ones(3, 4), dim=(0, 0)),
    "dims_repeated_negative": lambda T: T.fft.rfftn(T.ones(3, 4), dim=(1, -1)),
    "s_zero": lambda T: T.fft.fftn(T.ones(3, 4), s=(0, 6)),
    "s_minus_two": lambda T: T.fft.irfftn(T.ones(3, 4, dtype=T.complex64), s=(2, -2)),
    "rfftn_no_axis": lambda T: T.fft.rfftn(T.ones(3, 4), dim=()),
    "irfftn_no_axis": lambda T: T.fft.irfftn(T.ones(3, 4), dim=()),
    "hfftn_no_axis": lambda T: T.fft.hfftn(T.ones(3, 4), dim=()),
    "ihfftn_no_axis": lambda T: T.fft.ihfftn(T.ones(3, 4), dim=()),
    "fftn_dim_range": lambda T: T.fft.fftn(T.ones(3, 4), dim=(0, 5)),
    "fftn_zero_dim_with_dim": lambda T: T.fft.fftn(T.tensor(1.0), dim=0),
    "out_real_for_complex": lambda T: T.fft.fft(T.ones(4), out=T.empty(4)),
    "out_complex_for_real": lambda T: T.fft.irfft(T.ones(4, dtype=T.complex64),
                                                  out=T.empty(6, dtype=T.complex64)),
    "out_with_grad": lambda T: T.fft.fft(T.ones(4, requires_grad=True), out=T.empty(4, dtype=T.complex64)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_match_torch(torch, case):
    _raises_like_torch(torch, BAD[case])


def test_error_messages_name_the_problem():
    with pytest.raises(RuntimeError, match="Invalid normalization mode"):
        ferrum.fft.fft(ferrum.ones(4), norm="bad")
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        ferrum.fft.fft(ferrum.ones(4), n=0)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got ComplexFloat"):
        ferrum.fft.rfft(ferrum.ones(4, dtype=ferrum.complex64))
    with pytest.raises(RuntimeError, match="Unsupported dtype Half"):
        ferrum.fft.fft(ferrum.ones(4, dtype=ferrum.float16))


@pytest.mark.parametrize("name,out_dtype", [("fft", "complex64"), ("fft", "complex128"),
                                            ("rfft", "complex128"),
                                            ("irfft", "float64"), ("hfftn", "float32")])
def test_out_matches_torch(torch, name, out_dtype):
    a = _array(np.random.default_rng(0), (3, 4), "complex64" if name in ("irfft", "hfftn") else "float32")
    res = []
    for T in (torch, ferrum):
        x = T.tensor(a).to(T.complex64 if np.iscomplexobj(a) else T.float32)
        o = T.empty(0, dtype=getattr(T, out_dtype))
        r = getattr(T.fft, name)(x, out=o)
        assert r is o
        res.append(_np(o))
    assert res[0].dtype == res[1].dtype
    _close(res[0], res[1], "float32", name)


def test_zero_size_batches_give_empty_results():
    # torch's MKL build raises here (a configuration error of MKL), its pocketfft build returns these
    assert ferrum.fft.fft(ferrum.ones(0, 3)).shape == (0, 3)
    assert ferrum.fft.rfft(ferrum.ones(0, 4)).shape == (0, 3)
    assert ferrum.fft.irfft(ferrum.ones(2, 0, 3, dtype=ferrum.complex64), dim=-1).shape == (2, 0, 4)
    y = ferrum.fft.fft(ferrum.ones(0), n=4)
    assert y.shape == (4,) and y.dtype == ferrum.complex64 and not y.abs().sum().item()


def test_fftn_of_no_dims_is_a_complex_copy(torch):
    for T in (torch, ferrum):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = T.fft.fftn(x, dim=())
        assert y.dtype == T.complex64
        (y * (2 - 1j)).real.sum().backward()
        np.testing.assert_allclose(_np(y).real, [[1, 2], [3, 4]])
        np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 2.0))
    assert ferrum.fft.fftn(ferrum.tensor(2.0)).shape == ()


def test_irfft_ignores_the_imaginary_part_of_dc_and_nyquist(torch):
    a = np.array([1 + 5j, 2 - 1j, 3 + 7j])
    for T in (torch, ferrum):
        y = T.fft.irfft(T.tensor(a))
        np.testing.assert_allclose(_np(y), np.fft.irfft(a.real + 1j * np.array([0, -1, 0])))


def test_double_backward_matches_torch(torch):
    a = _array(np.random.default_rng(5), (3, 6), "complex128")
    res = []
    for T in (torch, ferrum):
        x = T.tensor(a, requires_grad=True)
        y = T.fft.irfft(T.fft.fft(x, n=5) * x[:, :5], n=7)
        (g,) = T.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * g.conj()).real.sum(), x)
        res.append((_np(g), _np(gg)))
    for a_, b_ in zip(res[0], res[1]):
        _close(a_, b_, "float64", "double backward")


# --------------------------------------------------------------------------- frequencies, shifts
@pytest.mark.parametrize("dtype", (None, "float32", "float64", "float16", "bfloat16"))
@pytest.mark.parametrize("fn", ("fftfreq", "rfftfreq"))
def test_freqs_match_torch_exactly(torch, fn, dtype):
    for n in range(-3 if fn == "rfftfreq" else 0, 12):  # rfftfreq(-1) has one element, as in C
        for d in (1.0, 0.5, 0.1, 3, 1e-3, 0.0):
            kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
            rt = getattr(torch.fft, fn)(n, d, **kw)
            kw = {} if dtype is None else {"dtype": getattr(ferrum, dtype)}
            rf = getattr(ferrum.fft, fn)(n, d, **kw)
            assert str(rf.dtype).split(".")[-1] == str(rt.dtype).split(".")[-1]
            np.testing.assert_array_equal(rf.float().numpy(), rt.float().numpy(), err_msg=f"{fn}({n}, {d})")


def test_freqs_arguments(torch):
    f = ferrum.fft.fftfreq(4, requires_grad=True)
    assert f.requires_grad and f.is_leaf
    assert ferrum.fft.fftfreq(5, d=0.5).device == ferrum.device("cpu")
    o = ferrum.empty(0, dtype=ferrum.float64)
    assert ferrum.fft.rfftfreq(6, out=o) is o and o.shape == (4,)
    np.testing.assert_array_equal(o.numpy(), torch.fft.rfftfreq(6, dtype=torch.float64).numpy())
    for bad in (lambda T: T.fft.fftfreq(4, dtype=T.int64), lambda T: T.fft.fftfreq(4.0),
                lambda T: T.fft.rfftfreq(-4), lambda T: T.fft.fftfreq(-1),
                lambda T: T.fft.fftfreq(4, dtype=T.complex64)):
        _raises_like_torch(torch, bad)


SHIFT_CASES = [((5,), None), ((2, 5), None), ((4, 5), 1), ((4, 5), (-1,)), ((3, 4, 5), (0, 2)),
               ((3, 4), (1, 1)), ((6, 7), [0])]


@pytest.mark.parametrize("fn", ("fftshift", "ifftshift"))
def test_shifts_match_torch(torch, fn):
    rng = np.random.default_rng(1)
    for shape, dim in SHIFT_CASES:
        a = rng.standard_normal(shape)
        res = []
        for T in (torch, ferrum):
            x = T.tensor(a, requires_grad=True)
            y = getattr(T.fft, fn)(x, dim=dim)
            (y * T.tensor(np.arange(y.numel()).reshape(shape))).sum().backward()
            res.append((y.detach().numpy(), x.grad.numpy()))
        np.testing.assert_array_equal(res[0][0], res[1][0], err_msg=f"{fn} {shape} {dim}")
        np.testing.assert_array_equal(res[0][1], res[1][1], err_msg=f"{fn} {shape} {dim} gradient")
    x = ferrum.arange(7)
    np.testing.assert_array_equal(ferrum.fft.ifftshift(ferrum.fft.fftshift(x)).numpy(), np.arange(7))


def test_shift_errors_match_torch(torch):
    for bad in (lambda T: T.fft.fftshift(T.arange(5), dim=5), lambda T: T.fft.fftshift(T.tensor(3.0)),
                lambda T: T.fft.ifftshift(T.tensor(3.0), dim=0),
                lambda T: T.fft.fftshift(T.ones(2, 3), dim=())):
        _raises_like_torch(torch, bad)


@pytest.mark.parametrize("name", ("fft", "rfft", "irfft", "ihfft", "fftn", "irfftn", "hfft2", "ihfftn"))
def test_autocast_runs_the_listed_transforms_in_float32(torch, name):
    a = np.random.default_rng(0).standard_normal((2, 4))
    res = []
    for T in (torch, ferrum):
        x = T.tensor(a).to(T.bfloat16)
        with T.autocast("cpu", dtype=T.bfloat16):
            try:
                y = getattr(T.fft, name)(x)
                res.append((str(y.dtype).split(".")[-1], _np(y)))
            except RuntimeError as e:  # hfft2/ihfftn are not in torch's list: bfloat16 is refused
                res.append((type(e).__name__, None))
    assert res[0][0] == res[1][0]
    if res[0][1] is not None:
        _close(res[1][1], res[0][1], "float32", name)


def _spectral_conv(T):
    """The spectral convolution of a Fourier neural operator as its programs write it: rfft2, complex
    weights on the low modes through einsum into a zero spectrum, irfft2 back to the input's size."""

    class SpectralConv2d(T.nn.Module):
        def __init__(self, cin, cout, m1, m2):
            super().__init__()
            self.m1, self.m2, self.cout = m1, m2, cout
            self.w1 = T.nn.Parameter(T.rand(cin, cout, m1, m2, dtype=T.cfloat) / (cin * cout))
            self.w2 = T.nn.Parameter(T.rand(cin, cout, m1, m2, dtype=T.cfloat) / (cin * cout))

        def forward(self, x):
            x_ft = T.fft.rfft2(x)
            m1, m2 = self.m1, self.m2
            out = T.zeros(x.shape[0], self.cout, x.size(-2), x.size(-1) // 2 + 1, dtype=T.cfloat)
            out[:, :, :m1, :m2] = T.einsum("bixy,ioxy->boxy", x_ft[:, :, :m1, :m2], self.w1)
            out[:, :, -m1:, :m2] = T.einsum("bixy,ioxy->boxy", x_ft[:, :, -m1:, :m2], self.w2)
            return T.fft.irfft2(out, s=(x.size(-2), x.size(-1)))
    return SpectralConv2d(3, 4, 4, 3)


def test_fourier_neural_operator_layer_matches_torch(torch):
    mt, mf = _spectral_conv(torch), _spectral_conv(ferrum)
    mf.load_state_dict({k: ferrum.tensor(_np(v)) for k, v in mt.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 16, 12)).astype(np.float32)
    res = []
    for T, m in ((torch, mt), (ferrum, mf)):
        xx = T.tensor(x, requires_grad=True)
        y = m(xx)
        (y ** 2).sum().backward()
        res.append([_np(y), _np(xx.grad), _np(m.w1.grad), _np(m.w2.grad)])
    for what, a, b in zip(("output", "input grad", "w1 grad", "w2 grad"), res[1], res[0]):
        assert a.dtype == b.dtype, what
        _close(a, b, "float32", what)
