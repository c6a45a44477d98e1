"""Complex autograd follows PyTorch's convention: for every differentiable op that takes complex
input, the gradients equal torch's (complex64 and complex128, random inputs, loss = real part of a
weighted sum with a complex weight, so both parts of every gradient matter), and gradcheck /
gradgradcheck pass on complex128 (real and imaginary parts perturbed separately)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.autograd import gradcheck, gradgradcheck


def _c(rng, shape, shift=0.0):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * 0.6 + shift


def _m(rng):
    return _c(rng, (3, 4))


def _sq(rng):  # square matrices, well conditioned
    return _c(rng, (3, 3)) + 2 * np.eye(3)


# name -> (input generators, fn(T, *inputs)); every op here takes complex tensors
OPS = {
    "mul": ((_m, _m), lambda T, a, b: a * b),
    "mul_bcast": ((lambda r: _c(r, (3, 1)), lambda r: _c(r, (4,))), lambda T, a, b: T.mul(a, b)),
    "square_self": ((_m,), lambda T, a: a * a),
    "conj_mul": ((_m,), lambda T, a: a.conj() * a),
    "mul_scalar": ((_m,), lambda T, a: a * (2 - 3j)),
    "mul_imag": ((_m,), lambda T, a: a * 2j),
    "add_alpha": ((_m, _m), lambda T, a, b: T.add(a, b, alpha=1 - 2j)),
    "sub_alpha": ((_m, _m), lambda T, a, b: T.sub(a, b, alpha=0.5 + 1j)),
    "rsub": ((_m,), lambda T, a: (1 + 1j) - a),
    "div": ((_m, lambda r: _c(r, (3, 4), 2.0)), lambda T, a, b: a / b),
    "div_scalar": ((_m,), lambda T, a: a / (2 - 3j)),
    "rdiv": ((lambda r: _c(r, (3, 4), 2.0),), lambda T, a: (2 - 3j) / a),
    "pow_tensor": ((lambda r: _c(r, (3, 4), 2.0), _m), lambda T, a, b: a ** b),
    "pow_int": ((_m,), lambda T, a: a ** 3),
    "pow_complex": ((lambda r: _c(r, (3, 4), 2.0),), lambda T, a: a ** (1.5 - 0.5j)),
    "rpow_real": ((_m,), lambda T, a: 2.0 ** a),
    "rpow_complex": ((_m,), lambda T, a: (2 - 1j) ** a),
    "rpow_negative": ((_m,), lambda T, a: (-2.0) ** a),
    "square": ((_m,), lambda T, a: T.square(a)),
    "neg": ((_m,), lambda T, a: -a),
    "abs": ((_m,), lambda T, a: T.abs(a)),
    "sgn": ((_m,), lambda T, a: T.sgn(a)),
    "angle": ((_m,), lambda T, a: T.angle(a)),
    "real": ((_m,), lambda T, a: a.real * 3),
    "imag": ((_m,), lambda T, a: a.imag * 3),
    "conj": ((_m,), lambda T, a: a.conj() * (1 + 1j)),
    "sum": ((_m,), lambda T, a: a.sum(0)),
    "mean": ((_m,), lambda T, a: a.mean(1)),
    "prod": ((_m,), lambda T, a: a.prod(1)),
    "prod_all": ((_m,), lambda T, a: a.prod()),
    "cumsum": ((_m,), lambda T, a: a.cumsum(1)),
    "cumprod": ((_m,), lambda T, a: a.cumprod(1)),
    "logsumexp": ((_m,), lambda T, a: T.logsumexp(a, 1)),
    "var": ((_m,), lambda T, a: a.var(1)),
    "vector_norm": ((_m,), lambda T, a: T.linalg.vector_norm(a, dim=1)),
    "where": ((_m, _m), lambda T, a, b: T.where(a.real > 0, a, b)),
    "lerp": ((_m, _m), lambda T, a, b: T.lerp(a, b, 0.3)),
    "lerp_complex_weight": ((_m, _m), lambda T, a, b: T.lerp(a, b, 0.7 + 0.2j)),
    "lerp_tensor_weight": ((_m, _m, _m), lambda T, a, b, w: T.lerp(a, b, w * 0.4)),
    "logaddexp": ((_m, _m), lambda T, a, b: T.logaddexp(a, b)),
    "float_power": ((lambda r: _c(r, (3, 4), 2.0), _m), lambda T, a, b: T.float_power(a, b)),
    "matmul": ((_m, _m), lambda T, a, b: a @ b.mT),
    "matvec": ((_m, _m), lambda T, a, b: a @ b[0]),
    "dot": ((_m, _m), lambda T, a, b: T.dot(a[0], b[0])),
    "vdot": ((_m, _m), lambda T, a, b: T.vdot(a[0], b[0])),
    "outer": ((_m, _m), lambda T, a, b: T.outer(a[0], b[1])),
    "einsum": ((_m, _m), lambda T, a, b: T.einsum("ij,kj->ik", a, b)),
    "linear": ((_m, _m), lambda T, a, b: T.nn.functional.linear(a, b[:2])),
    "det": ((_sq,), lambda T, a: T.linalg.det(a)),
    "inv": ((_sq,), lambda T, a: T.linalg.inv(a)),
    "solve": ((_sq, _m), lambda T, a, b: T.linalg.solve(a, b[:, :2])),
    "cholesky": ((_sq,), lambda T, a: T.linalg.cholesky(a @ a.mH)),
    "eigh": ((_sq,), lambda T, a: (lambda w, v: (v * w.unsqueeze(-2)) @ v.mH + v.abs())(
        *T.linalg.eigh(a @ a.mH))),
    "svd": ((_m,), lambda T, a: (lambda u, s, vh: (u * s.unsqueeze(-2)) @ vh + u.abs().sum() * 0.1)(
        *T.linalg.svd(a.mT, full_matrices=False))),
    "svdvals": ((_m,), lambda T, a: T.linalg.svdvals(a)),
    "qr": ((_m,), lambda T, a: T.cat(T.linalg.qr(a.mT))),
    "pinv": ((_m,), lambda T, a: T.linalg.pinv(a)),
    "lstsq": ((_m, _m), lambda T, a, b: T.linalg.lstsq(a.mT, b.mT[:, :2]).solution),
    "slogdet": ((_sq,), lambda T, a: T.linalg.slogdet(a)[1]),
    "view_as_real": ((_m,), lambda T, a: T.view_as_real(a)),
    "view_as_complex": ((lambda r: r.standard_normal((3, 2)),), lambda T, a: T.view_as_complex(a) ** 2),
    "complex": ((lambda r: r.standard_normal((3, 1)), lambda r: r.standard_normal(4)),
                lambda T, a, b: T.complex(a, b)),
    "polar": ((lambda r: r.uniform(0.2, 2, (3, 4)), lambda r: r.uniform(-3, 3, 4)),
              lambda T, a, b: T.polar(a, b)),
    "real_times_complex": ((lambda r: r.standard_normal((3, 4)), _m), lambda T, a, b: a * b),
}
for _name, _shift in [("exp", 0), ("log", 2.0), ("log2", 2.0), ("log10", 2.0), ("log1p", 2.0), ("sqrt", 2.0),
                      ("rsqrt", 2.0), ("reciprocal", 2.0), ("sin", 0), ("cos", 0), ("tan", 0), ("asin", 0),
                      ("acos", 0), ("atan", 0), ("sinh", 0), ("cosh", 0), ("tanh", 0), ("asinh", 0),
                      ("acosh", 0), ("atanh", 0), ("sigmoid", 0), ("expm1", 0), ("exp2", 0)]:
    OPS[_name] = ((lambda r, _s=_shift: _c(r, (3, 4), _s),), lambda T, a, _n=_name: getattr(T, _n)(a))

CPLX = {"complex64": np.complex64, "complex128": np.complex128}


def _inputs(name, rng):
    gens, _ = OPS[name]
    return [g(rng) for g in gens]


def _leaf(T, a, dtype):
    real = "float32" if dtype == "complex64" else "float64"
    dt = getattr(T, dtype if np.iscomplexobj(a) else real)
    return T.tensor(a).to(dt).requires_grad_(True)


def _run(T, name, arrays, dtype, w_rng):
    ins = [_leaf(T, a, dtype) for a in arrays]
    out = OPS[name][1](T, *ins)
    w = _c(w_rng, tuple(out.shape)) if out.is_complex() else w_rng.standard_normal(tuple(out.shape))
    loss = (out * T.tensor(w).to(out.dtype)).real.sum() if out.is_complex() else (out * T.tensor(w).to(
        out.dtype)).sum()
    loss.backward()
    return out.detach().resolve_conj().numpy(), [t.grad.resolve_conj().numpy() for t in ins]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradients_match_torch(torch, name, dtype):
    arrays = _inputs(name, np.random.default_rng(sum(map(ord, name))))
    of, gf = _run(ferrum, name, arrays, dtype, np.random.default_rng(3))
    ot, gt = _run(torch, name, arrays, dtype, np.random.default_rng(3))
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == "complex64" else dict(rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(of, ot, **tol, err_msg=f"{name}: output")
    for i, (a, b) in enumerate(zip(gf, gt)):
        assert a.dtype == b.dtype, f"{name}: gradient {i} dtype {a.dtype}, torch {b.dtype}"
        np.testing.assert_allclose(a, b, **tol, err_msg=f"{name}: gradient of input {i}")


def test_issue_example_is_conj_of_weight(torch):
    x = ferrum.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    c = ferrum.tensor([2 - 1j, 1 + 1j])
    (x * c).real.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.conj(c.numpy()))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_complex128(name):
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    # (3, 4) operands shrink to (2, 4) (cheaper); others (square, right-hand sides) stay
    keep = name in ("solve", "lstsq")
    arrays = [a[:2] if a.shape == (3, 4) and not keep else a for a in _inputs(name, rng)]
    ins = [_leaf(ferrum, a, "complex128") for a in arrays]
    fn = (lambda *t: OPS[name][1](ferrum, *t))
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def test_gradcheck_catches_a_wrong_convention():
    class Square(ferrum.autograd.Function):  # the derivative without the conjugate
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x.detach()

    x = ferrum.tensor(np.array([1 + 2j, -0.5 + 1j]), requires_grad=True)
    assert not gradcheck(Square.apply, [x], raise_exception=False)
    x = ferrum.tensor(np.array([1.0, -0.5]), requires_grad=True)
    assert gradcheck(Square.apply, [x])


def test_real_input_gets_real_gradient_without_warning(torch):
    import warnings
    x = ferrum.tensor([1.0, 2.0], dtype=ferrum.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * (1 + 2j)).abs().sum().backward()
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (xt * (1 + 2j)).abs().sum().backward()
    assert x.grad.dtype == ferrum.float64
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_sign_refuses_complex_like_torch(torch):
    for T in (torch, ferrum):
        with pytest.raises(NotImplementedError, match="sgn"):
            T.sign(T.tensor([1 + 1j]))


REAL_TO_COMPLEX = {
    "mul": lambda T, t: t * (1 + 2j),
    "rmul_np": lambda T, t: np.complex128(1 + 2j) * t,
    "div": lambda T, t: t / (1 + 2j),
    "rdiv": lambda T, t: (1 + 2j) / t,
    "add": lambda T, t: t + (1 + 2j),
    "add_alpha": lambda T, t: T.add(t, 1j, alpha=2),
    "sub": lambda T, t: t - 2j,
    "rsub": lambda T, t: (1 + 2j) - t,
    "pow": lambda T, t: t ** (1 + 2j),
    "rpow": lambda T, t: (1 + 2j) ** t,
    "tensor": lambda T, t: t * T.tensor([1 + 1j, 2j, -1.0]),
}


@pytest.mark.parametrize("name", sorted(REAL_TO_COMPLEX))
def test_real_tensor_lifted_to_complex_gets_real_gradient(torch, name):
    """A real tensor made complex by a complex scalar: the real nodes behind it (tanh here, whose
    raw backward writes into a real buffer) receive the real part of the gradient, as in torch."""
    grads = []
    for T in (torch, ferrum):
        x = T.tensor([0.5, -1.0, 0.25], dtype=T.float64, requires_grad=True)
        y = REAL_TO_COMPLEX[name](T, T.tanh(x))
        (y * T.tensor([1 - 1j, 2 + 1j, 0.5j])).real.sum().backward()
        grads.append(x.grad.numpy())
    assert grads[1].dtype == np.float64
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
