"""Registry entries: F.embedding and F.embedding_bag.

The indices travel as nested lists (``_idx`` makes them tensors in either framework), so that the
weight is the sample's only array and gradcheck, gradgradcheck and the gradient comparison with
torch run on it. Samples with a padding row that the indices reference, or with
``scale_grad_by_freq`` and repeated indices, have a backward that is deliberately not the forward's
derivative (torch's semantics); they are kept out of ``grad_samples`` and checked against torch in
tests/ops/test_embedding.py (as is embedding_bag's ``scale_grad_by_freq``, where torch 2.13's
CPU kernel divides by the wrong counts).
"""

from __future__ import annotations

from .core import Sample, register, values

F32_64 = ("float32", "float64")


def _idx(T, idx, dtype="int64"):
    return T.tensor(idx, dtype=getattr(T, dtype))


def _emb_samples(grad_only: bool):
    def gen(rng, dtype):
        w = values(rng, (7, 3), dtype)
        yield Sample((w, [[0, 2, 6], [1, 1, 4]]), {})
        yield Sample((w, [5, 3, 3, 0]), {"idx_dtype": "int32"})
        yield Sample((w, 4), {})
        yield Sample((w, []), {})
        yield Sample((values(rng, (7, 0), dtype), [1, 2]), {})
        yield Sample((w, [[0, 2], [5, 6]]), {}, strided=True)
        yield Sample((w, [1, 2, 6]), {"padding_idx": 3})
        if grad_only:
            return
        yield Sample((w, [[0, 2, 6], [2, 2, 4]]), {"padding_idx": 2})
        yield Sample((w, [[0, 2, 6], [2, 2, 4]]), {"padding_idx": -1, "scale_grad_by_freq": True})
        yield Sample((values(rng, (7, 3), dtype, domain=(-3, 3)), [1, 2, 1]), {"max_norm": 1.0})
        yield Sample((values(rng, (7, 3), dtype, domain=(-3, 3)), [1, 2, 1]),
                     {"max_norm": 2.0, "norm_type": 1.0})

    return gen


def _emb_errors(rng):
    w = values(rng, (5, 3), "float32")
    yield Sample((w, [1, 5]), {})
    yield Sample((w, [-1]), {})
    yield Sample((w, [1]), {"idx_dtype": "int16"})
    yield Sample((w, [1]), {"idx_dtype": "float32"})
    yield Sample((w, [1]), {"padding_idx": 5})
    yield Sample((values(rng, (5,), "float32"), [1]), {})
    yield Sample((w, [1, 7]), {"max_norm": 1.0})


register(
    "F.embedding",
    lambda T, w, idx, idx_dtype="int64", **k: T.nn.functional.embedding(_idx(T, idx, idx_dtype), w, **k),
    _emb_samples(False),
    grad_samples=_emb_samples(True),
    dtypes=("float32", "float64", "float16", "bfloat16"),
    errors=_emb_errors,
)


def _bag_samples(rng, dtype, grad_only: bool = False):
    idx, off = [1, 2, 4, 5, 4, 3, 2, 0, 6], [0, 2, 2, 5]
    for mode in ("sum", "mean", "max"):
        w = values(rng, (7, 3), dtype, distinct=mode == "max")  # no ties in a bag's max
        yield Sample((w, idx, off, None), {"mode": mode})
        yield Sample((w, idx, off + [9], None), {"mode": mode, "include_last_offset": True})
        yield Sample((w, [[1, 2, 4], [6, 6, 0]], None, None), {"mode": mode, "padding_idx": 6})
        yield Sample((w, idx, off, None), {"mode": mode, "padding_idx": -3}, strided=True)
        yield Sample((w, [], [0, 0], None), {"mode": mode})
    w = values(rng, (7, 3), dtype)
    yield Sample((w, idx, off, values(rng, (9,), dtype)), {"mode": "sum"})
    yield Sample((w, idx, off, values(rng, (9,), dtype)), {"mode": "sum", "padding_idx": 4})
    yield Sample((w, [[1, 2], [3, 3]], None, values(rng, (2, 2), dtype)), {"mode": "sum"})
    if not grad_only:  # the renormalisation happens outside autograd, as in torch
        yield Sample((w, idx, off, None), {"mode": "sum", "max_norm": 1.0})


def _bag_errors(rng):
    w = values(rng, (6, 3), "float32")
    idx = [1, 2, 4, 5]
    yield Sample((w, [1, 6], [0], None), {})
    yield Sample((w, idx, [1, 2], None), {})
    yield Sample((w, idx, [0, 9], None), {})
    yield Sample((w, idx, None, None), {})
    yield Sample((w, [[1, 2]], [0], None), {})
    yield Sample((w, idx, [0, 2], None), {"mode": "min"})
    yield Sample((w, idx, [0, 2], None), {"mode": "max", "scale_grad_by_freq": True})
    yield Sample((w, idx, [0, 2], values(rng, (4,), "float32")), {"mode": "mean"})
    yield Sample((w, idx, [0, 2], values(rng, (3,), "float32")), {"mode": "sum"})
    yield Sample((w, idx, [0, 2], None), {"padding_idx": 6})
    yield Sample((values(rng, (6,), "float32"), idx, [0, 2], None), {})


register(
    "F.embedding_bag",
    lambda T, w, idx, off, psw, **k: T.nn.functional.embedding_bag(
        _idx(T, idx), w, None if off is None else _idx(T, off), per_sample_weights=psw, **k),
    _bag_samples,
    grad_samples=lambda rng, dtype: _bag_samples(rng, dtype, grad_only=True),
    dtypes=("float32", "float64", "float16"),
    errors=_bag_errors,
)
