#!/usr/bin/env python
"""The fast float32 GELU (``ferrum._special.ndtr_f32_into``): refit its coefficients, check them on a
dense grid against scipy's erf and torch's float32 GELU, and time it against torch.

    python benchmarks/gelu_erf.py            # check the shipped coefficients and time
    python benchmarks/gelu_erf.py --fit      # also refit them (prints the tuple for _special.py)

The form: Phi(x) = 0.5 + 0.5 tanh(x R(x^2)), R of degree 6. R approximates atanh(erf(x / sqrt 2)) / x
on (0, 5.6], by least squares weighted for erf's relative error (an error du in tanh's argument moves
erf by (1 - erf^2) du), reweighted towards minimax (Lawson's iteration).

The grid: every 64th float32 bit pattern with |x| <= 16 (about 34 million values) and powers of two
down to 2^-126 and up to 2^127, both signs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy.special as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def fit(deg: int = 6, top: float = 5.6, iters: int = 60) -> np.ndarray:
    x = np.linspace(1e-7, top, 400001)
    erf = sp.erf(x / math.sqrt(2.0))
    f = np.arctanh(erf) / x
    w = (1.0 - erf * erf) / erf * x
    v = np.vander(x * x, deg + 1, increasing=True)
    ww = w.copy()
    best = (math.inf, None)
    for _ in range(iters):
        coef, *_ = np.linalg.lstsq(v * ww[:, None], f * ww, rcond=None)
        e = np.abs((v @ coef - f) * w)
        if e.max() < best[0]:
            best = (e.max(), coef)
        ww = ww * np.sqrt(e / e.max() + 0.05)
        ww /= ww.max()
    return best[1]


def grid() -> np.ndarray:
    bits = np.arange(0, np.float32(16.0).view(np.int32) + 1, 64, dtype=np.int32)
    pos = np.concatenate([bits.view(np.float32), np.float32(2.0) ** np.arange(-126, 128, dtype=np.float32)])
    return np.concatenate([pos, -pos])


def check(torch) -> None:
    from ferrum import _special

    x = grid()
    cdf = np.empty_like(x)
    x2 = np.empty_like(x)
    with np.errstate(over="ignore"):
        _special.ndtr_f32_into(x, cdf, x2)
    erf = sp.erf(x.astype(np.float64) / math.sqrt(2.0))
    c = _special._NDTR_R
    acc = x2 * c[6] + c[5]
    with np.errstate(over="ignore", invalid="ignore"):   # the erf inside Phi, before 0.5 + 0.5 t rounds it
        for k in (4, 3, 2, 1, 0):
            acc = acc * x2 + c[k]
        ours = np.tanh(x * acc).astype(np.float64)
    # ulps of erf's float32 value (of float32's smallest normal below it)
    ulp = np.spacing(np.maximum(np.abs(erf), 2.0 ** -126).astype(np.float32)).astype(np.float64)
    e = np.abs(ours - erf) / ulp
    print(f"grid: {x.size} float32 values")
    print(f"erf(x / sqrt 2) = tanh(x R(x^2)) in float32: max {e.max():.2f} ulp at x = {x[e.argmax()]:.6g}")
    ab = np.abs(cdf - 0.5 * (1.0 + erf))
    print(f"Phi: max abs error {ab.max():.3g} (half an ulp of 1 is 2.98e-08)")
    xt = torch.from_numpy(x).requires_grad_()
    yt = torch.nn.functional.gelu(xt)
    (gt,) = torch.autograd.grad(yt.sum(), xt)
    import ferrum
    import ferrum.nn.functional as F

    xf = ferrum.tensor(x, requires_grad=True)
    yf = F.gelu(xf)
    yf.sum().backward()
    yd = yf.detach().numpy()
    ytd = yt.detach().numpy()
    fin = np.isfinite(ytd)
    assert np.array_equal(np.isnan(yd), np.isnan(ytd)), "NaN positions differ from torch's"
    diff = np.abs(yd[fin] - ytd[fin])
    print(f"gelu vs torch: max abs {diff.max():.3g}, max rel (|y| > 1e-3) "
          f"{(diff / np.maximum(np.abs(ytd[fin]), 1e-3)).max():.3g}")
    gd = np.abs(xf.grad.numpy() - gt.numpy())
    print(f"gelu grad vs torch: max abs {np.nanmax(gd):.3g}")


def timing(torch) -> None:
    import ferrum
    import ferrum.nn.functional as F

    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 512)).astype(np.float32)
    g = rng.standard_normal((1024, 512)).astype(np.float32)

    def best(fn, reps=30):
        fn()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return f"{np.median(ts) * 1e3:.3f}"

    xf = ferrum.tensor(a, requires_grad=True)
    gf = ferrum.tensor(g)
    xt = torch.tensor(a, requires_grad=True)
    gtt = torch.tensor(g)
    for threads in (1, 2):
        ferrum.set_num_threads(threads)
        torch.set_num_threads(threads)
        print(f"{threads} thread(s), 1024 x 512 float32, median ms: "
              f"ferrum fwd {best(lambda: F.gelu(xf.detach()))}, "
              f"fwd+bwd {best(lambda: ferrum.autograd.grad(F.gelu(xf), xf, gf))}; "
              f"torch fwd {best(lambda: torch.nn.functional.gelu(xt.detach()))}, "
              f"fwd+bwd {best(lambda: torch.autograd.grad(torch.nn.functional.gelu(xt), xt, gtt))}")


def main() -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="store_true")
    args = ap.parse_args()
    if args.fit:
        print("R coefficients (s^0 .. s^6):", ", ".join(f"{c:.8e}" for c in fit()))
    check(torch)
    timing(torch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
