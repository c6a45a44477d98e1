"""PyTorch's CPU samplers of the gamma family, element by element on ferrum's PyTorch-stream
generator, so that Gamma, Chi2, Beta, Dirichlet, StudentT, FisherSnedecor and InverseGamma draw
PyTorch's values for the same seed (tests/distributions/test_streams.py).

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

from ferrum import _rng_streams as _rs

__all__ = ["torch_standard_gamma"]

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
