"""stft and istft (ops/stft.py) against torch: values and the gradients of the signal and the window over
a grid of n_fft, hop, win_length, center/pad_mode, normalized, onesided, align_to_window, real and complex
input, 1-D and batched; istft's length (trimmed and zero-padded), onesided and return_complex; a round
trip; gradcheck/gradgradcheck; torch's warnings and exception types."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck

STFT_CASES = [
    ({"n_fft": 16}, (2, 50), False, "hann16"),
    ({"n_fft": 16, "hop_length": 5, "win_length": 10}, (2, 50), False, "hann10"),
    ({"n_fft": 16, "center": False, "normalized": True}, (50,), False, "hann16"),
    ({"n_fft": 16, "pad_mode": "constant", "onesided": False}, (2, 40), False, "hann16"),
    ({"n_fft": 16, "pad_mode": "circular"}, (50,), True, "hann16"),
    ({"n_fft": 15, "hop_length": 3, "pad_mode": "replicate"}, (2, 33), False, "hamming15"),
    ({"n_fft": 16, "hop_length": 4, "win_length": 8, "center": False, "align_to_window": True}, (40,), False,
     "ramp8"),
    ({"n_fft": 12, "hop_length": 4}, (30,), False, None),
    ({"n_fft": 8, "hop_length": 8, "center": False}, (2, 33), True, "hann8"),
]


def _window(T, spec, dtype):
    if spec is None:
        return None
    kind, n = spec.rstrip("0123456789"), int(spec[len(spec.rstrip("0123456789")):])
    if kind == "ramp":
        return T.arange(1.0, n + 1).to(dtype)
    return getattr(T, f"{kind}_window")(n, dtype=dtype)


def _data(rng, shape, cplx):
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if cplx else a


def _np(t):
    return t.detach().resolve_conj().numpy()


def _stft_run(T, a, kw, win, dtype_name):
    dt = getattr(T, dtype_name)
    x = T.tensor(a).to(dt if not np.iscomplexobj(a) else (T.complex64 if dtype_name == "float32"
                                                            else T.complex128)).requires_grad_(True)
    w = _window(T, win, dt)
    if w is not None:
        w = w.detach().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = T.stft(x, window=w, return_complex=True, **kw)
    g = np.random.default_rng(1)
    wt = g.standard_normal(tuple(s.shape)) + 1j * g.standard_normal(tuple(s.shape))
    (s * T.tensor(wt).to(s.dtype)).real.sum().backward()
    return _np(s), _np(x.grad), None if w is None else _np(w.grad)


def _close(a, b, dtype_name, what):
    single = dtype_name == "float32"
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=1e-4 if single else 1e-10, atol=(1e-5 if single else 1e-11) * scale,
                               err_msg=what)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("case", range(len(STFT_CASES)))
def test_stft_matches_torch(torch, case, dtype):
    kw, shape, cplx, win = STFT_CASES[case]
    a = _data(np.random.default_rng(case), shape, cplx)
    rf = _stft_run(ferrum, a, kw, win, dtype)
    rt = _stft_run(torch, a, kw, win, dtype)
    for what, x, y in zip(("values", "input gradient", "window gradient"), rf, rt):
        if y is None:
            continue
        assert x.shape == y.shape, (what, x.shape, y.shape)
        _close(x, y, dtype, f"{kw} {what}")


ISTFT_CASES = [
    ({"n_fft": 16}, {}, (2, 50)),
    ({"n_fft": 16}, {"length": 60}, (2, 50)),
    ({"n_fft": 16}, {"length": 30}, (50,)),
    ({"n_fft": 16, "hop_length": 3, "normalized": True}, {"hop_length": 3, "normalized": True}, (2, 40)),
    ({"n_fft": 16, "onesided": False}, {}, (2, 50)),
    ({"n_fft": 16, "onesided": False}, {"return_complex": True}, (2, 50)),
    ({"n_fft": 15, "hop_length": 5, "win_length": 11}, {"hop_length": 5, "win_length": 11}, (44,)),
    ({"n_fft": 16, "hop_length": 4, "center": False}, {"hop_length": 4, "center": False, "window": "ones"},
     (2, 48)),
]


def _istft_run(T, spec, n_fft, ikw, win_len):
    s = T.tensor(spec, requires_grad=True)
    ikw = dict(ikw)
    if ikw.pop("window", None) == "ones":
        w = T.ones(n_fft, dtype=T.float64)
    else:
        w = T.hann_window(win_len, dtype=T.float64).requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = T.istft(s, n_fft, window=w, **ikw)
    g = np.random.default_rng(2)
    wt = g.standard_normal(tuple(y.shape)) + (1j * g.standard_normal(tuple(y.shape)) if y.is_complex() else 0)
    loss = (y * T.tensor(wt).to(y.dtype))
    (loss.real if y.is_complex() else loss).sum().backward()
    return _np(y), _np(s.grad), None if w.grad is None else _np(w.grad)


@pytest.mark.parametrize("case", range(len(ISTFT_CASES)))
def test_istft_matches_torch(torch, case):
    skw, ikw, shape = ISTFT_CASES[case]
    rng = np.random.default_rng(case)
    win_len = skw.get("win_length", skw["n_fft"])
    skw = dict(skw, window=torch.hann_window(win_len, dtype=torch.float64) if "window" not in ikw
               else torch.ones(skw["n_fft"], dtype=torch.float64))
    s0 = torch.stft(torch.tensor(rng.standard_normal(shape)), return_complex=True, **skw).numpy()
    spec = s0 + 0.1 * (rng.standard_normal(s0.shape) + 1j * rng.standard_normal(s0.shape))
    rf = _istft_run(ferrum, spec, skw["n_fft"], ikw, win_len)
    rt = _istft_run(torch, spec, skw["n_fft"], ikw, win_len)
    for what, x, y in zip(("values", "spectrum gradient", "window gradient"), rf, rt):
        if y is None:
            continue
        assert x.shape == y.shape, (what, x.shape, y.shape)
        _close(x, y, "float64", f"{ikw} {what}")


def test_round_trip_and_methods():
    x = ferrum.randn(3, 100, dtype=ferrum.float64)
    w = ferrum.hann_window(32, dtype=ferrum.float64)
    s = x.stft(32, hop_length=8, window=w, return_complex=True)
    assert s.shape == (3, 17, 13) and s.dtype == ferrum.complex128
    y = s.istft(32, hop_length=8, window=w, length=100)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    x = ferrum.tensor(rng.standard_normal(20), requires_grad=True)
    w = ferrum.tensor(rng.uniform(0.5, 1.5, 8), requires_grad=True)

    def f(x, w):
        return ferrum.view_as_real(ferrum.stft(x, 8, hop_length=3, window=w, return_complex=True))
    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))
    s = ferrum.tensor(rng.standard_normal((5, 7)) + 1j * rng.standard_normal((5, 7)), requires_grad=True)

    def g(s, w):
        return ferrum.istft(s, 8, hop_length=2, window=w, length=15)
    assert gradcheck(g, (s, w))
    assert gradgradcheck(g, (s, w))


def test_return_complex_false_is_view_as_real_with_warning(torch):
    x = np.random.default_rng(0).standard_normal(40)
    out = []
    for T in (torch, ferrum):
        with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
            out.append(_np(T.stft(T.tensor(x), 16, window=T.hann_window(16, dtype=T.float64),
                                  return_complex=False)))
    assert out[0].shape == out[1].shape == (9, 11, 2)
    _close(out[1], out[0], "float64", "view_as_real")


def test_missing_window_warns():  # torch's text (its C++ warning is shown once per process)
    with pytest.warns(UserWarning, match="A window was not provided"):
        s = ferrum.stft(ferrum.ones(40), 16, return_complex=True)
    with pytest.warns(UserWarning, match="A window was not provided"):
        ferrum.istft(s, 16)


def _raises_like_torch(torch, fn):
    errs = []
    for T in (torch, ferrum):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fn(T)
                errs.append(None)
            except Exception as e:  # noqa: BLE001 - the type is compared
                errs.append(e)
    et, ef = errs
    assert et is not None, "torch does not raise"
    assert ef is not None, f"ferrum does not raise; torch raises {type(et).__name__}: {et}"
    assert isinstance(ef, type(et)), f"torch {et!r}, ferrum {ef!r}"


BAD = {
    "no_return_complex": lambda T: T.stft(T.ones(40), 16),
    "win_length_too_big": lambda T: T.stft(T.ones(40), 16, win_length=20, return_complex=True),
    "window_size": lambda T: T.stft(T.ones(40), 16, window=T.ones(12), return_complex=True),
    "n_fft_too_big": lambda T: T.stft(T.ones(40), 41, center=False, return_complex=True),
    "n_fft_zero": lambda T: T.stft(T.ones(40), 0, return_complex=True),
    "hop_zero": lambda T: T.stft(T.ones(40), 16, hop_length=0, return_complex=True),
    "reflect_too_short": lambda T: T.stft(T.ones(2, 20), 40, return_complex=True),
    "pad_mode": lambda T: T.stft(T.ones(40), 16, pad_mode="bad", return_complex=True),
    "three_dims": lambda T: T.stft(T.ones(1, 2, 40), 16, return_complex=True),
    "integer": lambda T: T.stft(T.ones(40, dtype=T.int64), 16, return_complex=True),
    "complex_onesided": lambda T: T.stft(T.ones(40, dtype=T.complex64), 16, onesided=True,
                                         return_complex=True),
    "align_with_center": lambda T: T.stft(T.ones(40), 16, align_to_window=True, return_complex=True),
    "istft_real": lambda T: T.istft(T.ones(9, 5, 2), 16),
    "istft_onesided_size": lambda T: T.istft(T.ones(9, 5, dtype=T.complex64), 16, onesided=False),
    "istft_bins": lambda T: T.istft(T.ones(7, 5, dtype=T.complex64), 16),
    "istft_complex_onesided": lambda T: T.istft(T.ones(9, 5, dtype=T.complex64), 16, return_complex=True),
    "istft_envelope": lambda T: T.istft(T.ones(9, 5, dtype=T.complex64), 16, window=T.hann_window(16),
                                        center=False),
    "istft_hop_longer_than_window": lambda T: T.istft(T.ones(3, 4, dtype=T.complex64), 5, hop_length=7),
    "istft_empty_output": lambda T: T.istft(T.ones(1, 35, dtype=T.complex64), 1, hop_length=1),
    "istft_window_size": lambda T: T.istft(T.ones(9, 5, dtype=T.complex64), 16, window=T.ones(10)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_match_torch(torch, case):
    _raises_like_torch(torch, BAD[case])
