"""Optimizer updates of float16/bfloat16 parameters, rounded where torch's CPU kernels round.

torch steps a half-precision parameter on the CPU with its single-tensor loop (``foreach``
defaults to off there), one tensor op after another; each op computes in float32 ("opmath") and
rounds its result to the parameter's dtype once, so a fused op (``lerp_``, ``addcmul_``,
``addcdiv_``, ``add_`` with ``alpha``) rounds once where ferrum's float32 kernels spell it as two or
three ufuncs. Running those ufuncs on the half arrays themselves rounds after every ufunc (and
rounds the Python scalars to the half dtype first: ``a *= 1 - lr * wd`` with ``lr * wd = 1e-3``
multiplies a bfloat16 array by exactly 1.0, and ``eps = 1e-8`` is 0 in float16, so Adam divided by
zero), which drifts from torch and, through ml_dtypes' scalar loops, is slow.

So the optimizers' shared loop (``Optimizer._grads``) hands a half parameter's update float32
working copies of the parameter, gradient and state (exact: every half value is a float32 value),
together with ``r``, which rounds a float32 array in place to the parameter's precision; the kernels
below replay torch's op sequence for each optimizer in float32 and call ``r`` after every torch op.
The loop then stores the copies back (exact again). The result equals torch's bit for bit except
where torch's vector kernels fuse a multiply-add that is two roundings here (a float32 ulp, which
changes the half result only on an exact rounding tie). Two torch rules found by measurement: a
Python scalar added (``add_(c)``, ``add_(x, alpha=c)``) is first cast to the tensor's dtype, one
multiplied or divided by is not. torch's scalar loops (the last ``numel % 64`` elements of a
contiguous tensor on AVX-512, and every element of a non-contiguous one) round ``alpha * x``
before adding it; ferrum follows the vector loops everywhere (position-dependent rounding is an
artifact, and it depends on the CPU). torch's ``SGD(fused=True)`` leaves half parameters
unchanged on the CPU unless a GradScaler drives it (torch 2.13); ferrum steps them.

bfloat16 rounding is round-to-nearest-even on the float32 bits (add ``0x7FFF`` plus the lowest kept
bit, clear the low half), the rule of torch's ``c10::BFloat16`` and ml_dtypes; NaNs stay NaNs
because every NaN here is either a bfloat16 NaN (low 16 bits zero) or the default NaN the hardware
makes. float16 rounds through a float16 temporary (NumPy's cast handles subnormals and overflow).

Measured (``benchmarks/optim_lowp.py``, one 1,048,576-element parameter, one thread, busy shared
2-core machine, medians of 15 steps, us). Raw passes: ml_dtypes bfloat16 ufuncs cost 1266 (multiply)
to 1512 (sqrt) against 150-331 in float32, float16 ufuncs 3600-4200; one bfloat16 rounding here
~1100, one float16 rounding ~3300 (``_round_f16``). Whole steps, ferrum before (ufuncs on the half
arrays) -> now, torch beside:

    =========  ================  ====================  ================
    step       float32 f / t     bfloat16 f before/now  float16 f before/now, torch bf16 / f16
    =========  ================  ====================  ================
    SGD mom.   928 / 1050        5814 / 7164            16652 / 26084,  1413 / 868
    Adam       3828 / 2644       20698 / 16038          384666 / 79604, 2981 / 2075
    AdamW      4028 / 2719       21283 / 17273          400003 / 102343, 3204 / 2196
    RMSprop    2589 / 1825       13453 / 11402          336349 / 53295, 2045 / 1473
    Adagrad    2165 / 1569       10189 / 9563           139198 / 42557, 1607 / 1310
    =========  ================  ====================  ================

So bfloat16 steps cost 4-6x torch's (each torch op is one float32 pass plus a rounding pass here),
float16 ones 25-45x (NumPy has no fast float16 path; the bit tricks above avoid its 100x slowdown
on subnormals, which made float16 Adam 170x slower than torch before).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

_f32 = np.float32
_u32 = np.uint32
_u16 = np.uint16


def is_low(a) -> bool:
    """True for a NumPy float16/bfloat16 array (the arrays this module updates)."""
    return a.__class__ is np.ndarray and a.dtype.itemsize == 2 and (
        a.dtype == np.float16 or a.dtype.name == "bfloat16")


def _round_bf16(x):
    u = x.view(_u32)
    t = np.right_shift(u, 16)
    t &= 1
    t += 0x7FFF
    u += t
    u &= 0xFFFF0000
    return x


def _round_f16(x):
    # Adding then subtracting c = 1.5 * 2^(e + 13) (e: x's exponent, clamped to float16's
    # [-14, 15]) leaves x rounded to a multiple of 2^(e - 10), float16's spacing there, with the
    # hardware's round-to-nearest-even; subnormals get the fixed 2^-24 spacing from the clamp.
    # NumPy's own float32 -> float16 cast takes ~100 ms per million values that land in float16's
    # subnormal range (Adam's exp_avg_sq does), against ~3 ms for this.
    u = x.view(_u32)
    c = u & 0x7F800000
    np.maximum(c, 0x38800000, out=c)
    np.minimum(c, 0x47000000, out=c)
    c += (13 << 23) | 0x00400000
    cf = c.view(_f32)
    t = x + cf
    t -= cf
    np.copysign(t, x, out=x)  # keeps -0.0 (x + c - c would give +0.0)
    if x.size and not (x.max() <= _F16_MAX and x.min() >= -_F16_MAX):  # overflow, inf or nan
        big = ~(np.abs(x) <= _F16_MAX) & ~np.isnan(x)
        x[big] = np.copysign(np.inf, x[big])
    return x


_F16_MAX = 65504.0
_TINY = _f32(2.0 ** -14)  # float16's smallest normal


def _load_f16(a):
    # the float16 bits moved into float32's fields (exponent rebiased by 112); subnormals (and
    # zero) as 2^-14 * (1 + m / 1024) - 2^-14, exact. 3.1 ms per million values; NumPy's cast
    # takes 1.0 ms, but 20 ms when most values are subnormal
    h = a.view(_u16)
    o = np.bitwise_and(h, 0x7FFF, dtype=_u32)
    sub = o < 0x400
    o <<= 13
    o += 112 << 23
    if o.size and o.max() >= 0x47800000:  # inf/nan: exponent all ones
        o[o >= 0x47800000] += 112 << 23
    o += np.left_shift(sub, 23, dtype=_u32)
    f = o.view(_f32)
    f -= sub * _TINY
    o |= np.left_shift(np.right_shift(h, 15), 31, dtype=_u32)
    return f


def noop(x):
    """The rounding of a fused kernel's intermediates: none."""
    return x


def rounder(dtype) -> Callable:
    """The in-place float32 -> ``dtype`` precision rounding for a half dtype."""
    return _round_f16 if dtype == np.float16 else _round_bf16


def load(a):
    """A new flat float32 array holding half array ``a``'s values in C order (exact). Flat, so
    that a 0-d parameter's update still runs on arrays (NumPy turns 0-d results into scalars,
    which in-place rounding cannot reach)."""
    a = a.reshape(-1)
    if a.dtype == np.float16:
        return _load_f16(a)
    return np.left_shift(a.view(_u16), 16, dtype=_u32).view(_f32)


def store(dst, x) -> None:
    """Writes flat float32 array ``x`` (already rounded to ``dst``'s precision) into half array
    ``dst``."""
    x = x.reshape(dst.shape)
    if dst.dtype == np.float16:
        # NumPy's cast is fast enough for values already on the float16 grid (1.9 ms per
        # million, 4.2 ms when most are subnormal)
        np.copyto(dst, x, casting="unsafe")
    else:
        np.right_shift(x.view(_u32), 16, out=dst.view(_u16), casting="unsafe")


# ---------------------------------------------------------------------- torch's ops, rounded
def round_scalar(c: float, r) -> float:
    """``c`` rounded to the precision ``r`` rounds to."""
    return float(r(np.array([c], _f32))[0])


def lerp_(m, x, w, r) -> None:
    """``m.lerp_(x, w)``: ``m + w * (x - m)`` for ``|w| < 0.5``, else ``x + (w - 1) * (x - m)``,
    torch's two forms. torch's vector kernel fuses the multiply-add; the small-weight form (all of
    torch's optimizers' defaults) matches it without (measured: 100% of 4000 bfloat16/float16
    values against torch), the other takes the product exactly in float64 (0.6% of values
    differ by an ulp otherwise)."""
    t = x - m
    if abs(w) < 0.5:
        t *= w
        m += t
    else:
        c = float(_f32(w) - _f32(1))
        np.copyto(m, (x.astype(np.float64) + t.astype(np.float64) * c).astype(_f32))
    r(m)


def addcmul_(s, x, y, c, r) -> None:
    """``s.addcmul_(x, y, value=c)``: ``s + c * x * y``, one rounding."""
    t = x * c
    t *= y
    s += t
    r(s)


def addcdiv_(s, x, d, c, r) -> None:
    """``s.addcdiv_(x, d, value=c)``: ``s + c * x / d``, one rounding."""
    t = x * c
    t /= d
    s += t
    r(s)


def add_(s, x, alpha, r) -> None:
    """``s.add_(x, alpha=alpha)``, one rounding. torch's CPU kernel casts ``alpha`` to the
    tensor's dtype first (measured: with it 100% of bfloat16/float16 results equal torch's for
    alpha -0.1, -0.37, 0.9; without, 89-99%)."""
    s += x * round_scalar(alpha, r)
    r(s)


def add_scalar_(s, c: float, r) -> None:
    """``s.add_(c)`` for a number ``c``: torch casts ``c`` to the tensor's dtype first (measured:
    100% of values equal torch's with the cast; 39-99% without, for c from 1e-6 to 0.37), so
    ``eps=1e-8`` adds nothing to a float16 tensor, as in torch."""
    s += round_scalar(c, r)
    r(s)


def mul_(s, c, r) -> None:
    s *= c
    r(s)


def sqrt(x, r):
    return r(np.sqrt(x))


def ema_sq_(v, g, beta, r) -> None:
    """``v.mul_(beta).addcmul_(g, g, value=1 - beta)``."""
    mul_(v, beta, r)
    addcmul_(v, g, g, 1 - beta, r)


# ---------------------------------------------------------------------- per-optimizer updates
def sgd(a, g, buf, first, lr, momentum, dampening, nesterov, r) -> None:
    """``_single_tensor_sgd`` after the working gradient (``g``, float32, already decayed)."""
    if buf is not None:
        if first:
            np.copyto(buf, g)
        else:
            mul_(buf, momentum, r)
            add_(buf, g, 1 - dampening, r)
        if nesterov:
            g = g.copy()
            add_(g, buf, momentum, r)
        else:
            g = buf
    add_(a, g, -lr, r)


def adam(a, g, m, v, vmax, lr, beta1, beta2, eps, step, r, fused: bool = False) -> None:
    """torch's single-tensor Adam; ``fused``: its fused CPU kernel instead, all in float32 with
    only the stored values rounded (so float16 with ``eps=1e-8`` gives no inf/nan there)."""
    if fused:
        adam(a, g, m, v, vmax, lr, beta1, beta2, eps, step, noop)
        for x in (m, v, vmax, a):
            if x is not None:
                r(x)
        return
    lerp_(m, g, 1 - beta1, r)
    ema_sq_(v, g, beta2, r)
    bc1 = 1 - beta1 ** step
    bc2s = (1 - beta2 ** step) ** 0.5
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    denom = sqrt(v, r)
    denom /= bc2s
    r(denom)
    add_scalar_(denom, eps, r)
    addcdiv_(a, m, denom, -(lr / bc1), r)


def adagrad(a, g, s, clr, eps, r, fused: bool = False) -> None:
    """torch's single-tensor Adagrad; ``fused``: its fused CPU kernel (float32, stored values
    rounded)."""
    if fused:
        # all in float32 but the learning rate, which the kernel takes in the parameter's dtype
        # (measured: 100% of bfloat16 values equal torch's so, 95% with clr in float32)
        s += g * g
        std = np.sqrt(s)
        r(s)
        std += eps
        addcdiv_(a, g, std, -round_scalar(clr, r), r)
        return
    addcmul_(s, g, g, 1, r)
    std = sqrt(s, r)
    add_scalar_(std, eps, r)
    addcdiv_(a, g, std, -clr, r)


def adadelta(a, g, sq, acc, lr, rho, eps, r) -> None:
    ema_sq_(sq, g, rho, r)
    eps = round_scalar(eps, r)
    std = sqrt(r(sq + eps), r)
    delta = sqrt(r(acc + eps), r)
    delta /= std
    r(delta)
    delta *= g
    r(delta)
    ema_sq_(acc, delta, rho, r)
    add_(a, delta, -lr, r)


def adamax(a, g, m, u, lr, beta1, beta2, eps, step, r) -> None:
    lerp_(m, g, 1 - beta1, r)
    mul_(u, beta2, r)
    t = np.abs(g)
    add_scalar_(t, eps, r)
    np.maximum(u, t, out=u)
    addcdiv_(a, m, u, -(lr / (1 - beta1 ** step)), r)


def nadam(a, g, m, v, c_grad, c_avg, beta1, beta2, eps, step, r) -> None:
    """``c_grad``, ``c_avg``: the ``addcdiv_`` values torch computes from ``mu`` and
    ``mu_product`` (the caller keeps ``mu_product``, a float32 state entry)."""
    lerp_(m, g, 1 - beta1, r)
    ema_sq_(v, g, beta2, r)
    denom = r(v / (1 - beta2 ** step))
    np.sqrt(denom, out=denom)
    r(denom)
    add_scalar_(denom, eps, r)
    addcdiv_(a, g, denom, c_grad, r)
    addcdiv_(a, m, denom, c_avg, r)


def radam(a, g, m, v, lr, beta1, beta2, eps, step, r) -> None:
    lerp_(m, g, 1 - beta1, r)
    ema_sq_(v, g, beta2, r)
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    upd = r(m / bc1)
    upd *= lr
    r(upd)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        ad = sqrt(v, r)
        add_scalar_(ad, eps, r)
        # torch's ``number / tensor`` is ``reciprocal(tensor) * number``: two roundings
        np.reciprocal(ad, out=ad)
        r(ad)
        ad *= bc2 ** 0.5
        r(ad)
        upd *= ad
        r(upd)
        upd *= rect
        r(upd)
    a -= upd
    r(a)


def rmsprop(a, g, sq, buf, ga, lr, alpha, eps, momentum, r) -> None:
    ema_sq_(sq, g, alpha, r)
    if ga is not None:
        lerp_(ga, g, 1 - alpha, r)
        avg = sq.copy()
        addcmul_(avg, ga, ga, -1, r)
        np.sqrt(avg, out=avg)
        r(avg)
    else:
        avg = sqrt(sq, r)
    add_scalar_(avg, eps, r)
    if buf is not None:
        mul_(buf, momentum, r)
        addcdiv_(buf, g, avg, 1, r)
        add_(a, buf, -lr, r)
    else:
        addcdiv_(a, g, avg, -lr, r)
