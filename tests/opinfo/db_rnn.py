"""Registry entries: the recurrent cells (ops/rnn.py; torch's top-level ``rnn_tanh_cell``,
``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``)."""

from __future__ import annotations

from .core import Sample, register, values


def _ns(T):
    """Where the cells live: torch's top level, ferrum.ops.rnn."""
    if T.__name__ == "torch":
        return T
    from ferrum.ops import rnn
    return rnn


def _cell_samples(chunks):
    def gen(rng, dtype):
        for B, I, H, bias in ((3, 4, 2, True), (1, 2, 3, False), (0, 2, 3, True)):
            args = (values(rng, (B, I), dtype), values(rng, (B, H), dtype),
                    values(rng, (chunks * H, I), dtype), values(rng, (chunks * H, H), dtype))
            if bias:
                args += (values(rng, (chunks * H,), dtype), values(rng, (chunks * H,), dtype))
            else:
                args += (None, None)
            yield Sample(args)
        # strided inputs; a bias_ih without bias_hh
        yield Sample((values(rng, (3, 4), dtype), values(rng, (3, 2), dtype),
                      values(rng, (2 * chunks, 4), dtype), values(rng, (2 * chunks, 2), dtype),
                      values(rng, (2 * chunks,), dtype), None), strided=True)
    return gen


def _lstm_samples(rng, dtype):
    for s in _cell_samples(4)(rng, dtype):
        x, h, *rest = s.args
        yield Sample((x, h, values(rng, h.shape, dtype), *rest), strided=s.strided)


_F = ("float32", "float64")
register("rnn_tanh_cell", lambda T, *a: _ns(T).rnn_tanh_cell(*a), _cell_samples(1), dtypes=_F)
register("rnn_relu_cell", lambda T, *a: _ns(T).rnn_relu_cell(*a), _cell_samples(1), dtypes=_F)
register("gru_cell", lambda T, *a: _ns(T).gru_cell(*a), _cell_samples(3), dtypes=_F)
register("lstm_cell", lambda T, x, h, c, *w: _ns(T).lstm_cell(x, (h, c), *w), _lstm_samples, dtypes=_F)
