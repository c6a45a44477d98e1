"""Registry entries: F.ctc_loss (fed through log_softmax, as CTC always is, so gradcheck checks the
true derivative). Targets and lengths are Python lists turned into tensors inside the call, so
that gradcheck only perturbs the activations. ctc_loss is once differentiable (as torch)."""

from __future__ import annotations

import numpy as np

from .core import Sample, register, values


def _ctc(T, x, tg, il, tl, as_tensor=False, **kw):
    if as_tensor:
        il, tl = T.tensor(il), T.tensor(tl)
    return T.nn.functional.ctc_loss(x.log_softmax(-1), T.tensor(tg), il, tl, **kw)


def _targets(rng, n, smax, c, repeat=True):
    tg = rng.integers(1, c, (n, smax))
    if repeat and smax > 1:
        tg[0, 1] = tg[0, 0]  # a repeated label: the skip transition is forbidden there
    return tg


def _samples(rng, dtype):
    T, N, C = 6, 3, 5
    tg = _targets(rng, N, 3, C)
    for red in ("none", "mean", "sum"):
        for zi in (False, True):
            yield Sample((values(rng, (T, N, C), dtype), tg.tolist(), (6, 5, 6), (3, 2, 0)),
                         {"reduction": red, "zero_infinity": zi})
    # an impossible alignment (3 labels with a repeat need 4 frames), concatenated targets, tensors
    yield Sample((values(rng, (T, N, C), dtype), tg.tolist(), (3, 6, 6), (3, 3, 1)),
                 {"reduction": "none", "zero_infinity": True})
    flat = np.concatenate([tg[0, :3], tg[1, :1], tg[2, :2]]).tolist()
    yield Sample((values(rng, (T, N, C), dtype), flat, (6, 4, 5), (3, 1, 2)), {"as_tensor": True})
    yield Sample((values(rng, (T, N, C), dtype), tg.tolist(), (6, 6, 6), (3, 3, 3)), {"reduction": "sum"})
    yield Sample((values(rng, (T, N, C), dtype), (tg % 4).tolist(), (6, 6, 2), (3, 3, 1)), {"blank": 4})
    # unbatched (T, C) with (S,) targets and 0-d lengths; an empty time axis in one sample
    yield Sample((values(rng, (T, C), dtype), tg[0].tolist(), 5, 3), {"as_tensor": True, "reduction": "none"})
    yield Sample((values(rng, (T, C), dtype), tg[0].tolist(), 5, 2), {"as_tensor": True})   # size mismatch
    yield Sample((values(rng, (T, N, C), dtype), tg.tolist(), (0, 6, 6), (0, 3, 2)), {"reduction": "none"})
    yield Sample((values(rng, (T, N, C), dtype), tg.tolist(), (6, 6, 6), (3, 3, 2)), {}, strided=True)


def _errors(rng):
    T, N, C = 5, 3, 4
    tg = _targets(rng, N, 2, C).tolist()
    x = values(rng, (T, N, C), "float32")
    yield Sample((x, tg, (5, 5), (2, 1, 2)))               # input_lengths size
    yield Sample((x, tg, (5, 5, 5), (2, 1)))               # target_lengths size
    yield Sample((x, tg, (6, 5, 5), (2, 1, 2)))            # longer than T
    yield Sample((x, tg, (-1, 5, 5), (2, 1, 2)))
    yield Sample((x, tg, (5, 5, 5), (3, 1, 2)))            # targets too short
    yield Sample((x, tg, (5, 5, 5), (-1, 1, 2)))
    yield Sample((x, tg, (5, 5, 5), (2, 1, 2)), {"blank": 4})
    yield Sample((x, tg, (5, 5, 5), (2, 1, 2)), {"blank": -1})
    yield Sample((x, tg, (5, 5, 5), (2, 1, 2)), {"reduction": "bad"})
    yield Sample((x, tg[:2], (5, 5, 5), (2, 1, 2)))        # targets batch
    yield Sample((x, [tg], (5, 5, 5), (2, 1, 2)))          # 3-d targets
    yield Sample((x, sum(tg, [])[:4], (5, 5, 5), (2, 1, 2)))   # concatenated, wrong total
    yield Sample((x[0], tg, (5, 5, 5), (2, 1, 2)))         # unbatched with 3 lengths


register("F.ctc_loss", _ctc, _samples, dtypes=("float32", "float64"), gradgrad=False, errors=_errors)
