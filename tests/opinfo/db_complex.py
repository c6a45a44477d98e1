"""Registry entries of ops/complex_ops.py (view_as_real, view_as_complex, complex, polar, angle)
and of complex sgn. The registry feeds real tensors, so complex values are built with
``complex(x, y)`` and complex results are returned through ``view_as_real``: every entry is then
compared, gradchecked and gradient-checked against torch on real float64 leaves, which checks the
complex convention of each op in between."""

from __future__ import annotations

from .core import ALL, Sample, register, shapes, unary, values

F32_64 = ("float32", "float64")  # NumPy has no complex32: no float16 pairs
PAIR_SHAPES = [((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((), ()), ((0, 3), (1, 3)), ((5,), ())]


def _pairs(domain=None, rhs_domain=None):
    def gen(rng, dtype):
        for sa, sb in PAIR_SHAPES:
            yield Sample((values(rng, sa, dtype, domain), values(rng, sb, dtype, rhs_domain)))
        yield Sample((values(rng, (3, 4), dtype, domain), values(rng, (3, 4), dtype, rhs_domain)),
                     strided=True)
    return gen


def _pair_errors(rng):
    yield Sample((values(rng, (3,), "float32"), values(rng, (3,), "float64")), dtypes=("float32", "float64"))
    yield Sample((values(rng, (3,), "int64"), values(rng, (3,), "int64")), dtypes=("int64", "int64"))
    yield Sample((values(rng, (3,), "float32"), values(rng, (4,), "float32")))


def _vc_errors(rng):
    yield Sample((values(rng, (3, 3), "float32"),))  # last dim not 2
    yield Sample((values(rng, (3, 2), "int32"),), dtypes=("int32",))
    yield Sample((values(rng, (), "float32"),))
    yield Sample((values(rng, (3, 2), "float32"),), strided=True)  # last stride 2


def _vr_errors(rng):
    yield Sample((values(rng, (3,), "float32"),))


register("complex", lambda T, x, y: T.view_as_real(T.complex(x, y)), _pairs(), dtypes=F32_64,
         errors=_pair_errors)
register("polar", lambda T, r, t: T.view_as_real(T.polar(r, t)), _pairs((0.2, 2.0), (-3.0, 3.0)),
         dtypes=F32_64, errors=_pair_errors)
register("view_as_real", lambda T, x, y: T.view_as_real(T.complex(x, y) * (1.5 - 0.5j)), _pairs(),
         dtypes=F32_64, errors=_vr_errors)
register("view_as_complex", lambda T, x: T.view_as_real(T.view_as_complex(x) * T.view_as_complex(x)),
         shapes(((3, 2),), ((2, 4, 2),), ((2,),)), dtypes=F32_64, errors=_vc_errors)
register("view_as_complex_t", lambda T, x: T.view_as_real(T.view_as_complex(x.transpose(0, 1))),
         shapes(((3, 4, 2),)), dtypes=F32_64)
register("angle", lambda T, x: T.angle(x), unary(), dtypes=tuple(d for d in ALL if d != "bool"),
         grad_samples=unary((0.1, 2.0), special=False))
register("angle_complex", lambda T, x, y: T.angle(T.complex(x, y)), _pairs((0.1, 2.0), (-2.0, 2.0)),
         dtypes=F32_64)
register("Tensor.angle_complex", lambda T, x, y: T.complex(x, y).angle() * 2, _pairs((-2.0, -0.1)),
         dtypes=F32_64)
register("sgn_complex", lambda T, x, y: T.view_as_real(T.sgn(T.complex(x, y))), _pairs((0.1, 2.0)),
         dtypes=F32_64)
register("abs_complex", lambda T, x, y: T.complex(x, y).abs(), _pairs((0.1, 2.0)), dtypes=F32_64)
register("mul_complex", lambda T, a, b, c, d: T.view_as_real(T.complex(a, b) * T.complex(c, d)),
         shapes(((3, 4), (3, 4), (4,), (4,)), ((), (), (2, 1), (2, 1))), dtypes=F32_64)
register("div_complex", lambda T, a, b, c, d: T.view_as_real(T.complex(a, b) / T.complex(c, d)),
         shapes(((3, 4), (3, 4), (4,), (4,)), domain=(0.3, 2.0)), dtypes=F32_64)
register("exp_complex", lambda T, a, b: T.view_as_real(T.exp(T.complex(a, b))), _pairs(), dtypes=F32_64)
