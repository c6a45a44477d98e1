"""PyTorch's CPU random streams, reproduced on NumPy's MT19937, so that a program seeded with
``manual_seed(s)`` draws the numbers it draws under PyTorch: the same initial weights, dropout masks,
shuffles and splits, so ported programs can be compared with PyTorch number for number.

PyTorch's CPU generator is a 32-bit Mersenne Twister seeded with the low 32 bits of the seed (the
classic ``init_genrand``, which is what ``numpy.random.RandomState(seed)`` does). Every sampler below
turns its raw words into values the way PyTorch 2.13 does; each rule was measured against torch
(tests/test_rng_streams.py checks them all):

- ``random32``: one word; ``random64``: two words, the first one high.
- uniform float32 (and float16/bfloat16, rounded afterwards): ``(w & (2**24 - 1)) * 2**-24``;
  float64: ``(w64 & (2**53 - 1)) * 2**-53``; then ``u * (to - from) + from`` rounded once, and a
  value that rounds up to ``to`` becomes ``from``. The normal fill starts from float32 uniforms for
  float16/bfloat16 tensors too.
- normal, contiguous tensors of 16 or more float32/float64 elements: the whole tensor is first
  filled with uniforms, then each block of 16 becomes 8 Box-Muller pairs (``u1 = 1 - x[j]``,
  ``u2 = x[j + 8]``, ``r = sqrt(-2 log u1)``, ``x[j] = r cos(2 pi u2)``, ``x[j + 8] = r sin(2 pi u2)``);
  a tail that is not a multiple of 16 is redone as a block over the last 16 elements with 16 fresh
  uniforms. Both libraries compute float32 blocks in float32 with vectorised log/sin/cos of their
  own, so float32 values agree to a few units in the last place. float16 and bfloat16 tensors are
  filled as float32 ones and rounded: PyTorch's values for sizes that are a multiple of 16; other
  sizes place their last block differently there (not reproduced).
- normal otherwise (fewer than 16 elements, non-contiguous tensors): one float64 sample per element
  in memory order, from pairs ``u1, u2`` (53-bit), ``r = sqrt(-2 log(1 - u2))``, value
  ``r cos(2 pi u1)``, with ``r sin(2 pi u1)`` cached in the generator for the next such sample.
- integers in ``[from, to)``: ``w % range + from``, from ``random64`` when ``range >= 2**28``.
- ``randperm(n)``: Fisher-Yates from the front, ``swap(p[i], p[i + random32 % (n - i)])``.
- ``bernoulli_(p)`` with a number, dropout, exponential, geometric, Cauchy, multinomial: 53-bit
  uniforms (dropout decides ``u < p`` on the integer words); ``bernoulli`` with a tensor of
  probabilities: a uniform of the probabilities' dtype. log-normal: the serial normals. Poisson and
  the gamma family: PyTorch's samplers, element by element (``_rng_samplers.py``).

The generator state serialises in PyTorch's 5056-byte layout (``get_rng_state``), so a state saved
under one library restores under the other.
"""

from __future__ import annotations

import math
import struct

import numpy as np

_M24 = np.uint64(0xFFFFFF)
_M53 = np.uint64((1 << 53) - 1)
_TWO_PI = 2.0 * math.pi
STATE_BYTES = 5056
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _mt19937(key: np.ndarray, pos: int) -> np.random.MT19937:
    """NumPy's MT19937 bit generator in the state (``key``, ``pos``)."""
    bg = np.random.MT19937(0)
    bg.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
    return bg


class Stream:
    """The state PyTorch's CPU generator keeps: the Mersenne Twister, its seed, and the cached second
    sample of the last Box-Muller pair of the serial normal path."""

    __slots__ = ("seed", "_bitgen", "normal_cache", "fresh", "_npgen")

    def __init__(self, seed: int) -> None:
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._bitgen = None  # seeded on the first draw: `import ferrum` does not load numpy.random
        self.normal_cache = None
        self.fresh = True
        self._npgen = None

    @property
    def bitgen(self) -> np.random.MT19937:
        """The Mersenne Twister (NumPy's, whose ``random_raw`` gives the 32-bit outputs at C speed)."""
        bg = self._bitgen
        if bg is None:
            key = np.random.RandomState(self.seed & 0xFFFF_FFFF).get_state()[1]
            bg = self._bitgen = _mt19937(key, 624)
        return bg

    @property
    def numpy(self) -> np.random.Generator:
        """A NumPy Generator drawing from the same Mersenne Twister (for samplers PyTorch has no
        counterpart of: their values are NumPy's, their seeding and state ferrum's)."""
        g = self._npgen
        if g is None:
            g = self._npgen = np.random.Generator(self.bitgen)
        self.fresh = False
        return g

    # ------------------------------------------------------------------ raw words
    def random32(self, n: int) -> np.ndarray:
        """``n`` words (uint64 holding 32-bit values)."""
        self.fresh = False
        return self.bitgen.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        w = self.random32(2 * n).reshape(n, 2)
        hi = np.left_shift(w[:, 0], np.uint64(32))
        np.bitwise_or(hi, w[:, 1], out=hi)
        return hi

    # ------------------------------------------------------------------ state, PyTorch's layout
    def get_state(self) -> bytes:
        st = self.bitgen.state["state"]
        pos = int(st["pos"])
        head = struct.pack("<QiiQ", self.seed, 625 - pos, 1, 0 if self.fresh else pos)
        words = np.asarray(st["key"], dtype="<u8").tobytes()
        valid = self.normal_cache is not None
        tail = struct.pack("<dddi4xf?3x", 0.0, self.normal_cache if valid else 0.0, 0.0, int(valid), 0.0,
                           False)
        return head + words + tail

    def set_state(self, raw: bytes) -> None:
        seed, left, _seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
        key = np.frombuffer(raw, dtype="<u8", count=624, offset=24)
        if np.any(key >> np.uint64(32)):
            raise RuntimeError("Invalid mt19937 state: a state word does not fit in 32 bits")
        if not 1 <= left <= 625 or nxt > 624:
            raise RuntimeError("Invalid mt19937 state")
        _x, y, _rho, valid = struct.unpack_from("<dddi", raw, 24 + 624 * 8)
        pos = 624 if left == 1 else 625 - left
        self.seed = seed
        self._bitgen = _mt19937(key.astype(np.uint32), pos)
        self.normal_cache = y if valid else None
        self.fresh = left == 1 and nxt == 0
        self._npgen = None


# ---------------------------------------------------------------------- uniform
def unit_uniform(s: Stream, n: int, dtype: np.dtype) -> np.ndarray:
    """``n`` uniforms in [0, 1): float32 values (24 bits) for every dtype but float64 (53 bits)."""
    if dtype == _F64:
        w = s.random64(n)
        w &= _M53
        r = w.astype(np.float64)
        r *= 2.0 ** -53
        return r
    w = s.random32(n)
    np.bitwise_and(w, _M24, out=w)
    r = w.astype(np.float32)
    np.multiply(r, np.float32(2.0 ** -24), out=r)
    return r


# elements per pass of the big fills: bounds the temporaries (raw words are 8 bytes each) and keeps
# them in cache (1 << 17: a VGG-16 built in 4.6 s against 6.4 s with 1 << 20 passes)
_CHUNK = 1 << 17


def uniform_into(s: Stream, out: np.ndarray, low: float = 0.0, high: float = 1.0) -> None:
    """Fills the 1-D contiguous ``out`` with samples uniform in [low, high): ``u * (to - from) +
    from`` rounded once (float32 ends and span for the 24-bit dtypes, the product and sum in
    float64), then rounded to float16/bfloat16. A value that rounds up to ``high`` becomes ``low``,
    as in PyTorch (so float16/bfloat16 never return ``high``)."""
    if out.dtype == _F64:
        lo, span = float(low), float(high) - float(low)
    else:
        lo = float(np.float32(low))
        span = float(np.float32(high) - np.float32(low))
    affine = span != 1 or lo != 0
    buf = np.empty(min(_CHUNK, out.size)) if affine else None
    for i in range(0, out.size, _CHUNK):
        u = unit_uniform(s, min(_CHUNK, out.size - i), out.dtype)
        if affine:
            b = buf[:u.size]
            np.multiply(u, span, out=b, dtype=np.float64)  # a float64 loop: one rounding, at the end
            np.add(b, lo, out=b)
            u = b
        part = out[i:i + u.size]
        part[...] = u
        top = part == high
        if top.any():
            part[top] = low


def uniform(s: Stream, n: int, dtype: np.dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    out = np.empty(n, dtype)
    uniform_into(s, out, low, high)
    return out


# ---------------------------------------------------------------------- normal
def _box_muller_blocks(x: np.ndarray) -> None:
    """In place on ``x`` of shape (k, 16): each row's 16 uniforms become 8 normal pairs, in x's own
    precision (float32 as PyTorch's vector kernel: 7x faster than float64 here, 10 ms per 2M)."""
    t = x.dtype.type
    rad = np.log(t(1.0) - x[:, :8])
    rad *= t(-2.0)
    np.sqrt(rad, out=rad)
    theta = x[:, 8:] * t(_TWO_PI)
    np.sin(theta, out=x[:, 8:])
    x[:, 8:] *= rad
    np.cos(theta, out=theta)
    np.multiply(rad, theta, out=x[:, :8])


def _normal_fill_into(s: Stream, out: np.ndarray, mean: float, std: float) -> None:
    """PyTorch's vectorised normal fill of a contiguous tensor of 16 or more elements."""
    n = out.size
    whole = n - n % 16

    def put(i, x):
        _box_muller_blocks(x.reshape(-1, 16))
        if std != 1:
            x *= x.dtype.type(std)
        if mean != 0:
            x += x.dtype.type(mean)
        out[i:i + x.size] = x

    for i in range(0, whole, _CHUNK):
        put(i, unit_uniform(s, min(_CHUNK, whole - i), out.dtype))
    if whole != n:
        unit_uniform(s, n - whole, out.dtype)  # drawn by the first fill, then overwritten
        put(n - 16, unit_uniform(s, 16, out.dtype))


def serial_normal(s: Stream, n: int) -> np.ndarray:
    """``n`` float64 standard normals from the serial path (cached second samples included)."""
    out = np.empty(n)
    if n == 0:
        return out
    i = 0
    if s.normal_cache is not None:
        out[0] = s.normal_cache
        s.normal_cache = None
        i = 1
    m = n - i
    if m:
        pairs = (m + 1) // 2
        u = unit_uniform(s, 2 * pairs, _F64).reshape(pairs, 2)
        rad = np.sqrt(-2.0 * np.log(1.0 - u[:, 1]))
        theta = _TWO_PI * u[:, 0]
        both = np.empty((pairs, 2))
        both[:, 0] = rad * np.cos(theta)
        both[:, 1] = rad * np.sin(theta)
        flat = both.reshape(-1)
        out[i:] = flat[:m]
        if m % 2:
            s.normal_cache = float(flat[m])
    return out


def normal_into(s: Stream, out: np.ndarray, mean: float = 0.0, std: float = 1.0,
                contiguous: bool = True) -> None:
    """Fills the 1-D ``out`` (the tensor's elements in memory order) with normal samples;
    ``contiguous``: whether the tensor filled is contiguous (PyTorch's fill path needs it)."""
    if out.size >= 16 and contiguous:
        _normal_fill_into(s, out, mean, std)
        return
    x = serial_normal(s, out.size)
    if std != 1:
        x *= std
    if mean != 0:
        x += mean
    out[...] = x


def normal(s: Stream, n: int, dtype: np.dtype, mean: float = 0.0, std: float = 1.0,
           contiguous: bool = True) -> np.ndarray:
    out = np.empty(n, dtype)
    normal_into(s, out, mean, std, contiguous)
    return out


# ---------------------------------------------------------------------- integers
def integers(s: Stream, n: int, low: int, high: int) -> np.ndarray:
    """``n`` int64 values uniform in [low, high) (``random_(from, to)``, ``randint``)."""
    span = high - low
    w = s.random64(n) if span >= 1 << 28 else s.random32(n)
    w %= np.uint64(span)
    if low >= 0:
        r = w.astype(np.int64)
        if low:
            r += np.int64(low)
        return r
    # low < 0: wrap through uint64 (high - 1 fits int64, so the sum is in range)
    w += np.uint64(low & 0xFFFF_FFFF_FFFF_FFFF)
    return w.view(np.int64)


def random_default(s: Stream, n: int, dtype: np.dtype) -> np.ndarray:
    """``random_()`` without bounds: [0, 2**digits] for floating dtypes, [0, max] for integers."""
    if dtype.kind == "f" or dtype.name == "bfloat16":
        digits = {8: 53, 4: 24}.get(dtype.itemsize, 11 if dtype.name == "float16" else 8)
        w = s.random64(n) if digits > 32 else s.random32(n)
        w %= np.uint64((1 << digits) + 1)
        return w.astype(dtype)
    if dtype.kind == "b":
        return (s.random32(n) & np.uint64(1)).astype(bool)
    bits = dtype.itemsize * 8 - (1 if dtype.kind == "i" else 0)
    w = s.random64(n) if bits > 32 else s.random32(n)
    w &= np.uint64((1 << bits) - 1)
    return w.astype(dtype)


# PyTorch's CPU randperm draws one 32-bit word per position below this size (64-bit words above,
# a variant not reproduced here)
SMALL_RANDPERM = 0xFFFF_FFFF // 20


def randperm(s: Stream, n: int) -> np.ndarray:
    """A permutation of 0..n-1 drawn as PyTorch's CPU randperm draws it: position ``i`` swaps with
    ``i + w_i % (n - i)`` for ``i = 0 .. n-2`` (n - 1 words), evaluated without a Python loop."""
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    steps = np.arange(n - 1, dtype=np.int64)
    draws = s.random32(n - 1).astype(np.int64)
    return fisher_yates(n, draws % (n - steps) + steps)


def fisher_yates(n: int, partner: np.ndarray) -> np.ndarray:
    """The result of swapping position ``i`` with ``partner[i] >= i`` for ``i = 0 .. n-2`` in turn,
    starting from ``arange(n)``, computed without a sequential loop.

    Step ``i`` only writes positions ``i`` (final from then on) and ``partner[i] > i``. So the
    element that step ``i`` fixes at position ``i`` is whatever position ``partner[i]`` holds at
    that time: the element that the latest earlier step aimed at the same position moved there,
    or the position's original element if no earlier step aimed at it. And the element a step
    ``i`` moves away is what position ``i`` held just before it, which in turn is given by the
    latest earlier step aimed at ``i``: a chain of strictly decreasing steps, resolved for all
    positions at once by pointer jumping.
    """
    m = n - 1
    steps = np.arange(m, dtype=np.int64)
    # group steps by target position, in step order within a group: sort the unique keys
    # target * n + step (a plain sort of int64 is several times faster than a stable argsort)
    key = np.sort(partner * n + steps)
    target, order = np.divmod(key, n)
    same = target[1:] == target[:-1]
    # prev_same[i]: the latest step before i that targeted the same position as i, else -1
    prev_same = np.full(m, -1, dtype=np.int64)
    prev_same[order[1:][same]] = order[:-1][same]
    # into[p]: the latest step before p that targeted position p, else -1. The last step of
    # p's group is <= p; when it is p itself, the one before it in the group is wanted.
    group_end = np.append(~same, True)
    into = np.full(n, -1, dtype=np.int64)
    into[target[group_end]] = order[group_end]
    head = into[:m]
    self_aimed = head == steps
    head[self_aimed] = prev_same[self_aimed]
    # held[p]: the element position p holds when step p reaches it (the original p when no
    # earlier step moved anything into it), by pointer jumping along `into`
    held = np.where(into >= 0, into, np.arange(n, dtype=np.int64))
    while True:
        nxt = held[held]
        if np.array_equal(nxt, held):
            break
        held = nxt
    perm = np.empty(n, dtype=np.int64)
    untouched = np.where(partner == steps, held[:m], partner)
    perm[:m] = np.where(prev_same >= 0, held[np.maximum(prev_same, 0)], untouched)
    perm[m] = held[m]
    return perm


# ---------------------------------------------------------------------- bernoulli, exponential
def bernoulli_scalar(s: Stream, n: int, p: float) -> np.ndarray:
    """``n`` booleans, True with probability ``p`` (53-bit uniforms, as bernoulli_(p) and dropout).
    ``u < p`` is decided on the integers: ``w53 < ceil(p * 2**53)``, compared as 21 high and 32 low
    bits, without forming the floats (a dropout mask of 10M elements: 110 ms against 750)."""
    out = np.empty(n, dtype=bool)
    limit = math.ceil(p * 2.0 ** 53)  # exact: p * 2**53 is p with its exponent moved
    lim_hi, lim_lo = np.uint64(limit >> 32), np.uint64(limit & 0xFFFF_FFFF)
    for i in range(0, n, _CHUNK):
        m = min(_CHUNK, n - i)
        w = s.random32(2 * m).reshape(m, 2)
        hi = np.bitwise_and(w[:, 0], np.uint64(0x1F_FFFF))
        res = out[i:i + m]
        np.less(hi, lim_hi, out=res)
        res |= (hi == lim_hi) & (w[:, 1] < lim_lo)
    return out


def bernoulli_tensor(s: Stream, p: np.ndarray) -> np.ndarray:
    """Booleans of p's shape, True with probability ``p`` (uniforms of p's precision)."""
    u = unit_uniform(s, p.size, _F64 if p.dtype == _F64 else _F32)
    return u.reshape(p.shape) < p


def exponential(s: Stream, n: int, lambd: float) -> np.ndarray:
    """``n`` float64 exponential samples with rate ``lambd``: ``-log(1 - u) / lambd``."""
    u = unit_uniform(s, n, _F64)
    r = np.log1p(-u)
    r *= -1.0 / lambd
    return r


def memory_axes(view: np.ndarray) -> list:
    """``view``'s axes by decreasing stride: C order over them walks memory in the order PyTorch's
    element-wise kernels visit a non-contiguous tensor."""
    return sorted(range(view.ndim), key=lambda a: -abs(view.strides[a]))


def memory_order(view: np.ndarray) -> np.ndarray:
    """``view`` transposed to :func:`memory_axes` order."""
    return view if view.ndim < 2 else view.transpose(memory_axes(view))
