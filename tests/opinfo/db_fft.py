"""Registry entries of ferrum.fft (ops/fft_ops.py): every transform on real input and, where torch
takes complex input, on ``complex(x, y)`` of two real tensors; complex results are returned through
``view_as_real``, so the registry's real float64 leaves gradcheck each transform's complex backward.
Samples cover 1-D to 3-D shapes, negative and reordered dims, n/s smaller and larger than the input,
every norm and strided inputs. No sample has an empty batch dim: torch's MKL build raises there (see
ops/fft_ops.py)."""

from __future__ import annotations

from .core import FLOATS, Sample, register, values

F32_64 = ("float32", "float64")
REAL_DTYPES = FLOATS + ("int64", "bool")  # float16/bfloat16 raise in both; integers promote

ONE_D = [((6,), {}), ((5,), {"n": 8, "norm": "ortho"}), ((3, 7), {"n": 4, "dim": 0, "norm": "forward"}),
         ((2, 3, 4), {"dim": -2, "norm": "backward"}), ((1,), {"n": 3})]
N_D = [((3, 4), {}), ((2, 3, 4), {"s": (3, 6), "norm": "ortho"}),
       ((2, 3, 4), {"dim": (-1, 0), "norm": "forward"}),
       ((2, 3, 5), {"s": (4, -1, 3), "dim": (1, 2, 0)}), ((4, 3), {"dim": ()})]
TWO_D = [((3, 4), {}), ((2, 3, 4), {"s": (2, 7), "norm": "ortho"}),
         ((3, 4, 2), {"dim": (0, 2), "norm": "forward"})]


def _real(cases, need_axis=False, c2r=False):
    def gen(rng, dtype):
        for shape, kw in cases:
            if need_axis and kw.get("dim") == ():
                continue
            if c2r and min(shape) < 2 and "n" not in kw:
                continue
            yield Sample((values(rng, shape, dtype),), dict(kw))
        yield Sample((values(rng, (3, 4), dtype),), {"dim": 0} if cases is ONE_D else {}, strided=True)
    return gen


def _complex(cases, need_axis=False, c2r=False):
    def gen(rng, dtype):
        for shape, kw in cases:
            if need_axis and kw.get("dim") == ():
                continue
            if c2r and min(shape) < 2 and "n" not in kw:
                continue
            yield Sample((values(rng, shape, dtype), values(rng, shape, dtype)), dict(kw))
        yield Sample((values(rng, (3, 4), dtype), values(rng, (3, 4), dtype)), {}, strided=True)
    return gen


def _errors(rng):
    yield Sample((values(rng, (4,), "float32"),), {"norm": "bad"})
    yield Sample((values(rng, (3, 4), "float32"),), {"dim": 2})
    yield Sample((values(rng, (4,), "float16"),), dtypes=("float16",))


def _errors_1d(rng):
    yield from _errors(rng)
    yield Sample((values(rng, (4,), "float32"),), {"n": 0})


def _errors_nd(rng):
    yield Sample((values(rng, (4,), "float32"),), {"norm": "bad"})
    yield Sample((values(rng, (3, 4), "float32"),), {"s": (2, 3), "dim": (0,)})
    yield Sample((values(rng, (3, 4), "float32"),), {"dim": (1, -1)})
    yield Sample((values(rng, (3, 4), "bfloat16"),), dtypes=("bfloat16",))


def _cases(name):
    if name.endswith("2"):
        return TWO_D
    return N_D if name.endswith("n") else ONE_D


def _wrap_complex_out(T, y):
    # torch's ifft/ihfft return a lazily conjugated view, which view_as_real refuses
    return T.view_as_real(y.resolve_conj()) if y.is_complex() else y


for _name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "ihfft", "rfft2", "ihfft2", "rfftn",
              "ihfftn", "irfft", "hfft", "irfft2", "hfft2", "irfftn", "hfftn"):
    _c2r = _name.startswith(("irfft", "hfft"))
    _axis = _name[:2] in ("rf", "ih", "ir", "hf")  # every transform but c2c needs one axis or more
    _err = _errors_1d if _cases(_name) is ONE_D else _errors_nd
    register(f"fft.{_name}", lambda T, x, _n=_name, **kw: _wrap_complex_out(T, getattr(T.fft, _n)(x, **kw)),
             _real(_cases(_name), _axis, _c2r), dtypes=REAL_DTYPES, errors=_err)
    if not _name.startswith(("rfft", "ihfft")):
        register(f"fft.{_name}_complex",
                 lambda T, x, y, _n=_name, **kw: _wrap_complex_out(
                     T, getattr(T.fft, _n)(T.complex(x, y), **kw)),
                 _complex(_cases(_name), _axis, _c2r), dtypes=F32_64)


def _shift_samples(rng, dtype):
    for shape, kw in (((5,), {}), ((4, 5), {"dim": 1}), ((3, 4, 5), {"dim": (0, -1)}),
                      ((2, 3), {"dim": [1, 1]}), ((), {})):
        yield Sample((values(rng, shape, dtype),), kw)
    yield Sample((values(rng, (3, 4), dtype),), {"dim": -1}, strided=True)


register("fft.fftshift", lambda T, x, **kw: T.fft.fftshift(x, **kw), _shift_samples)
register("fft.ifftshift", lambda T, x, **kw: T.fft.ifftshift(x, **kw), _shift_samples)


def _freq_samples(rng, dtype):
    for n in (0, 1, 4, 7):
        for d in (1.0, 0.3):
            yield Sample((n, d), {"dtype": dtype})


def _freq_errors(rng):
    yield Sample((4,), {"dtype": "int64"})
    yield Sample((4.0,))


def _freq(fn):
    def call(T, n, d=1.0, dtype="float32"):
        return getattr(T.fft, fn)(n, d, dtype=getattr(T, dtype))
    return call


register("fft.fftfreq", _freq("fftfreq"), _freq_samples, grad=False, gradgrad=False, errors=_freq_errors)
register("fft.rfftfreq", _freq("rfftfreq"), _freq_samples, grad=False, gradgrad=False, errors=_freq_errors)


# --------------------------------------------------------------------------- stft, istft, windows
def _stft_samples(rng, dtype):
    for shape, kw in (((40,), {"n_fft": 16}), ((2, 33), {"n_fft": 12, "hop_length": 5, "win_length": 9}),
                      ((30,), {"n_fft": 8, "center": False, "normalized": True}),
                      ((2, 24), {"n_fft": 8, "pad_mode": "constant", "onesided": False})):
        yield Sample((values(rng, shape, dtype),), kw)
    yield Sample((values(rng, (2, 40), dtype),), {"n_fft": 16, "hop_length": 4}, strided=True)


def _stft(T, x, n_fft, win_length=None, **kw):
    w = T.hann_window(win_length or n_fft, dtype=x.dtype)
    return T.view_as_real(T.stft(x, n_fft, win_length=win_length, window=w, return_complex=True, **kw))


def _istft_samples(rng, dtype):
    for shape, kw in (((9, 11), {"n_fft": 16}), ((2, 9, 6), {"n_fft": 16, "hop_length": 6, "length": 40}),
                      ((8, 7), {"n_fft": 8, "onesided": False, "hop_length": 2}),
                      ((5, 9), {"n_fft": 8, "hop_length": 3, "normalized": True, "length": 20})):
        yield Sample((values(rng, shape, dtype), values(rng, shape, dtype)), kw)


def _istft(T, x, y, n_fft, **kw):
    return T.istft(T.complex(x, y), n_fft, window=T.hann_window(n_fft, dtype=x.dtype), **kw)


register("stft", _stft, _stft_samples, dtypes=F32_64)
register("istft", _istft, _istft_samples, dtypes=F32_64)


def _window_samples(rng, dtype):
    for n in (0, 1, 2, 7, 16):
        for periodic in (True, False):
            yield Sample((n, periodic), {"dtype": dtype})


for _w in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"):
    register(_w, lambda T, n, periodic, _w=_w, dtype="float32": getattr(T, _w)(
        n, periodic, dtype=getattr(T, dtype)), _window_samples, grad=False, gradgrad=False, rtol=1e-5,
             atol=1e-6)
