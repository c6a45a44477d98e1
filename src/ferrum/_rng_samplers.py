"""PyTorch's CPU samplers of the gamma family and of the Poisson distribution, element by element on
ferrum's PyTorch-stream generator, so that Gamma, Chi2, Beta, Dirichlet, StudentT, FisherSnedecor,
InverseGamma, Poisson and NegativeBinomial draw PyTorch's values for the same seed
(tests/distributions/test_streams.py).

Poisson: for rates >= 10 Hoermann's (1993) transformed rejection with squeeze (PTRS), below that the
product of uniforms against ``exp(-rate)``; Binomial: Hoermann's BTRS when ``n min(p, 1-p) >= 10``
(with Stirling-series tails), geometric-waiting-time inversion below, on ``min(p, 1 - p)``; both with
53-bit uniforms and float64 arithmetic (so Binomial, Poisson and NegativeBinomial draw PyTorch's
values too).

PyTorch samples each element in turn (a serial kernel), each consuming a data-dependent number of
draws: Marsaglia and Tsang's (2000) rejection method, with alpha < 1 boosted as
``Gamma(alpha + 1) * U^(1/alpha)``; its uniforms are 53-bit doubles and its normals the generator's
serial Box-Muller path (a pair per two normals, the second cached in the generator, across elements).
The arithmetic follows PyTorch's types: for float32 tensors ``1/alpha``, ``alpha + 1`` and
``alpha - 1/3`` are float32 operations (with float32 constants), the rest float64. Because every
rejection depends on the previous draws, the loop is Python, reading the Mersenne Twister's words one
at a time: 40 000 draws take 60 ms (alpha >= 1) to 90 ms (alpha < 1, the boost's extra uniform),
against 1.3-2.2 ms in torch's C++ kernel and 0.8-1.8 ms with NumPy's vectorised sampler, which
cannot reproduce the stream (benchmarks/distributions_gamma.py, one core).
"""

from __future__ import annotations

import math

import numpy as np

from . import _rng_streams as _rs

__all__ = ["torch_standard_gamma", "torch_poisson", "torch_binomial"]

_M53 = (1 << 53) - 1
_2M53 = 2.0 ** -53
_THIRD_F32 = float(np.float32(1.0) / np.float32(3.0))  # C++ 1.0f / 3.0f
_C0331_F32 = float(np.float32(0.0331))                 # C++ 0.0331f


class _Draws:
    """PyTorch's ``uniform_real_distribution<double>`` and ``normal_distribution<double>`` over a
    stream, one value at a time."""

    __slots__ = ("s", "raw")

    def __init__(self, s: _rs.Stream):
        self.s = s
        s.fresh = False
        self.raw = s.bitgen.random_raw

    def uniform(self) -> float:
        raw = self.raw
        hi = raw()
        return (((hi << 32) | raw()) & _M53) * _2M53

    def normal(self) -> float:
        s = self.s
        cached = s.normal_cache
        if cached is not None:
            s.normal_cache = None
            return cached
        theta = _rs._TWO_PI * self.uniform()
        r = math.sqrt(-2.0 * math.log(1.0 - self.uniform()))
        s.normal_cache = r * math.sin(theta)
        return r * math.cos(theta)


def _gamma_one(draws: _Draws, alpha: float, f32: bool) -> float:
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        u = draws.uniform()
        e = float(np.float32(1.0) / np.float32(alpha)) if f32 else 1.0 / alpha
        scale *= (1.0 - u) ** e
        alpha = float(np.float32(alpha) + np.float32(1.0)) if f32 else alpha + 1.0
    d = float(np.float32(alpha) - np.float32(_THIRD_F32)) if f32 else alpha - _THIRD_F32
    c = 1.0 / math.sqrt(9.0 * d) if d > 0 else math.nan   # C++'s sqrt of a negative is nan
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if not y <= 0:   # C++ do-while: a nan y leaves the loop
                break
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F32 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + (math.log(v) if v > 0 else math.nan)):
            return scale * d * v


def torch_standard_gamma(s: _rs.Stream, alpha: np.ndarray, float32_math: bool) -> np.ndarray:
    """Gamma(alpha, 1) draws (float64) for ``alpha``'s elements in C order, as PyTorch draws them;
    ``float32_math``: the float32 kernel's arithmetic. NaN results are the caller's to clamp."""
    draws = _Draws(s)
    flat = np.ascontiguousarray(alpha, dtype=np.float32 if float32_math else np.float64).reshape(-1)
    out = np.fromiter((_gamma_one(draws, a, float32_math) for a in flat.tolist()), dtype=np.float64,
                      count=flat.size)
    return out.reshape(np.shape(alpha))


def _poisson_one(draws: _Draws, lam: float) -> float:
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = draws.uniform() - 0.5
            V = draws.uniform()
            us = 0.5 - abs(U)
            k = math.floor((2 * a / us + b) * U + lam + 0.43)
            if us >= 0.07 and V <= vr:
                return float(k)
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1.0)):
                return float(k)
    if lam == 0:
        return 0.0
    if not lam > 0:   # NaN or negative: PyTorch refuses such rates before sampling
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    enlam = math.exp(-lam)
    x, prod = 0, 1.0
    while True:
        prod *= draws.uniform()
        if prod > enlam:
            x += 1
        else:
            return float(x)


def torch_poisson(s: _rs.Stream, rate: np.ndarray) -> np.ndarray:
    """Poisson draws (float64) for ``rate``'s elements in C order, as PyTorch draws them."""
    draws = _Draws(s)
    flat = np.ascontiguousarray(rate).reshape(-1)
    out = np.fromiter((_poisson_one(draws, lam) for lam in flat.tolist()), dtype=np.float64, count=flat.size)
    return out.reshape(np.shape(rate))


# log(k!) - Stirling's approximation of it, for k = 0..9 (the series below is used from 10 on)
_STIRLING_TAIL = [0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287]


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(draws: _Draws, count: float, prob: float) -> float:
    geom_sum, num, logprob = 0.0, 0.0, math.log1p(-prob)
    while True:
        geom_sum += math.ceil(math.log(draws.uniform()) / logprob)
        if geom_sum > count:
            return num
        num += 1


def _btrs(draws: _Draws, count: float, prob: float) -> float:
    stddev = math.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor((count + 1) * prob)
    while True:
        U = draws.uniform() - 0.5
        V = draws.uniform()
        us = 0.5 - abs(U)
        k = math.floor((2 * a / us + b) * U + c)
        if k < 0 or k > count:
            continue
        if us >= 0.07 and V <= v_r:
            return float(k)
        V = math.log(V * alpha / (a / (us * us) + b))
        bound = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                 + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if V <= bound:
            return float(k)


def _binomial_one(draws: _Draws, count: float, prob: float) -> float:
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        return _btrs(draws, count, prob) if count * prob >= 10.0 else _binomial_inversion(draws, count, prob)
    if prob > 0.5:
        q = 1.0 - prob
        return count - (_btrs(draws, count, q) if count * q >= 10.0 else _binomial_inversion(draws, count, q))
    return math.nan


def torch_binomial(s: _rs.Stream, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Binomial draws (float64) for the broadcast ``count``/``prob`` elements in C order, as PyTorch
    draws them."""
    draws = _Draws(s)
    n, p = np.broadcast_arrays(np.asarray(count), np.asarray(prob))
    pairs = zip(n.reshape(-1).tolist(), p.reshape(-1).tolist())
    out = np.fromiter((_binomial_one(draws, a, b) for a, b in pairs), dtype=np.float64, count=n.size)
    return out.reshape(n.shape)
