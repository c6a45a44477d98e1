"""Registry entries: activations, losses and other nn.functional ops."""

from __future__ import annotations

import math

import numpy as np

from .core import FLOATS, SPECIALS, Sample, register, unary, values

LOW = ("float32", "float64", "bfloat16")


def _act(name, fn, gdomain=None, dtypes=FLOATS, special_values=None, kind="unary", **kw):
    register(
        name,
        fn,
        unary(special_values=special_values),
        dtypes=dtypes,
        kind=kind,
        domain=gdomain,
        grad_samples=unary(gdomain, special=False) if gdomain else None,
        **kw,
    )


def _F(name, **k):
    return lambda T, x: getattr(T.nn.functional, name)(x, **k)


# torch's vectorised float32 GELU gives nan at +inf (x * Phi(x) is +inf): a quirk, not a value to copy
_act("F.gelu", _F("gelu"), special_values=[v for v in SPECIALS if v != math.inf], kind="other")
for _name in (
    "relu",
    "relu6",
    "elu",
    "selu",
    "celu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "tanhshrink",
    "logsigmoid",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "hardshrink",
    "softshrink",
    "sigmoid",
    "tanh",
):
    _act(f"F.{_name}", _F(_name))
_act("F.leaky_relu", _F("leaky_relu", negative_slope=0.1))
_act("F.leaky_relu_0", _F("leaky_relu", negative_slope=0.0))
_act("F.gelu_tanh", _F("gelu", approximate="tanh"))
_act("F.threshold", lambda T, x: T.nn.functional.threshold(x, 0.5, -2.0))
_act("F.elu_alpha", _F("elu", alpha=0.5))
_act("F.softplus_beta", _F("softplus", beta=2.0, threshold=5.0))


def _dim_samples(rng, dtype):
    for shape in [(3, 4), (2, 3, 4), (0, 3), (5,), ()]:
        yield Sample((values(rng, shape, dtype),), {"dim": -1 if shape else 0})
    yield Sample((np.array([np.nan]),), {"dim": 0})
    yield Sample((np.array(np.nan),), {"dim": 0})


for _name in ("softmax", "log_softmax", "softmin"):
    register(
        f"F.{_name}",
        lambda T, x, dim, _n=_name: getattr(T.nn.functional, _n)(x, dim),
        _dim_samples,
        dtypes=FLOATS,
    )
register("F.normalize", lambda T, x, dim: T.nn.functional.normalize(x, dim=dim), _dim_samples, dtypes=FLOATS)
register(
    "F.glu",
    lambda T, x: T.nn.functional.glu(x, -1),
    lambda rng, dtype: iter([Sample((values(rng, (3, 4), dtype),))]),
    dtypes=FLOATS,
)


def _prelu(rng, dtype):
    yield Sample((values(rng, (2, 3, 4), dtype), values(rng, (3,), dtype)))
    yield Sample((values(rng, (4,), dtype), values(rng, (1,), dtype)))
    yield Sample((np.array([0.6, 1.0, -2.0]), np.array([np.nan])))


register(
    "F.prelu",
    lambda T, x, w: T.nn.functional.prelu(x, w),
    _prelu,
    dtypes=FLOATS,
    grad_samples=lambda rng, dtype: iter([Sample((values(rng, (2, 3, 4), dtype), values(rng, (3,), dtype)))]),
)


# ---------------------------------------------------------------------------- losses
def _pair(domain_a=None, domain_b=None, reductions=("mean", "sum", "none")):
    def gen(rng, dtype):
        for red in reductions:
            for shape in [(3, 4), (5,), (), (0, 2)]:
                yield Sample(
                    (values(rng, shape, dtype, domain_a), values(rng, shape, dtype, domain_b)),
                    {"reduction": red},
                )
        yield Sample((values(rng, (3, 4), dtype, domain_a), values(rng, (4,), dtype, domain_b)), {})

    return gen


def _loss(name, domain_a=None, domain_b=None, dtypes=("float32", "float64"), **kw):
    register(
        f"F.{name}",
        lambda T, a, b, _n=name, **k: getattr(T.nn.functional, _n)(a, b, **k),
        _pair(domain_a, domain_b),
        dtypes=dtypes,
        **kw,
    )


_loss("mse_loss")
_loss("l1_loss")
_loss("smooth_l1_loss")
_loss("huber_loss")
_loss("soft_margin_loss", domain_b=(-1.0, 1.0))
_loss("binary_cross_entropy", domain_a=(0.05, 0.95), domain_b=(0.0, 1.0))
_loss("binary_cross_entropy_with_logits", domain_b=(0.0, 1.0))
_loss("kl_div", domain_a=(-3.0, -0.1), domain_b=(0.05, 1.0))
_loss("poisson_nll_loss", domain_b=(0.0, 3.0))
register(
    "F.poisson_nll_full",
    lambda T, a, b: T.nn.functional.poisson_nll_loss(a, b, log_input=True, full=True),
    lambda rng, dtype: iter([Sample((values(rng, (6,), dtype), values(rng, (6,), dtype, (0.5, 4.0))))]),
    dtypes=("float64",),
)
register(
    "F.soft_margin_mixed",
    lambda T, a, b: T.nn.functional.soft_margin_loss(a, b),
    lambda rng, dtype: iter(
        [Sample((values(rng, (2,), dtype), values(rng, (2,), dtype)), dtypes=("float32", "float64"))]
    ),
    dtypes=("float32",),
    grad=False,
)


def _ce(rng, dtype):
    for red in ("mean", "sum", "none"):
        yield Sample(
            (values(rng, (4, 5), dtype), rng.integers(0, 5, (4,))),
            {"reduction": red},
            dtypes=(dtype, "int64"),
        )
    yield Sample((values(rng, (2, 3, 4), dtype), rng.integers(0, 3, (2, 4))), {}, dtypes=(dtype, "int64"))
    yield Sample(
        (values(rng, (4, 5), dtype), rng.integers(0, 5, (4,))),
        {"label_smoothing": 0.1},
        dtypes=(dtype, "int64"),
    )
    yield Sample(
        (values(rng, (4, 5), dtype), np.array([0, -100, 2, 4])),
        {"ignore_index": -100},
        dtypes=(dtype, "int64"),
    )


register("F.cross_entropy", lambda T, x, t, **k: T.nn.functional.cross_entropy(x, t, **k), _ce, dtypes=LOW)
register(
    "F.nll_loss", lambda T, x, t, **k: T.nn.functional.nll_loss(x, t, **k), _ce, dtypes=("float32", "float64")
)


def _bad_loss(rng):
    yield Sample((np.array([0.5]), np.array([2.0])))


register(
    "F.bce_target_range",
    lambda T, a, b: T.nn.functional.binary_cross_entropy(a, b),
    lambda rng, dtype: iter(()),
    dtypes=(),
    grad=False,
    errors=_bad_loss,
)
register(
    "F.linear",
    lambda T, x, w, b: T.nn.functional.linear(x, w, b),
    lambda rng, dtype: iter(
        [
            Sample((values(rng, (4, 3), dtype), values(rng, (2, 3), dtype), values(rng, (2,), dtype))),
            Sample((values(rng, (2, 4, 0), dtype), values(rng, (2, 0), dtype), values(rng, (2,), dtype))),
        ]
    ),
    dtypes=("float32", "float64"),
)
register(
    "F.pdist",
    lambda T, x, p: T.nn.functional.pdist(x, p),
    lambda rng, dtype: iter([Sample((values(rng, (4, 3), dtype), p)) for p in (0, 1, 2, 3)]),
    dtypes=("float32", "float64"),
    gradgrad=False,
)
