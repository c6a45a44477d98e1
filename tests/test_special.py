"""ferrum.special: torch.special's names, the aliases of existing ops (with out= where torch.special
takes it), results that never require grad where PyTorch does not differentiate, and the
polynomials' argument forms. Values over the full dtype/broadcast/special-value grid are
tests/opinfo/db_special.py's."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from tests.opinfo.core import same_exception

X = np.array([[-1.5, -0.2, 0.0, 0.3], [0.7, 1.0, 2.5, 4.0]])
P = np.array([[0.1, 0.25, 0.5, 0.6], [0.7, 0.8, 0.95, 0.99]])


def _names(torch):
    skip = {"Tensor", "common_args", "multi_dim_common", "torch"}
    return sorted(n for n in dir(torch.special) if not n.startswith("_") and n not in skip)


def test_every_torch_special_name_exists(torch):
    names = _names(torch)
    assert [n for n in names if not callable(getattr(ferrum.special, n, None))] == []
    assert sorted(ferrum.special.__all__) == names
    assert ferrum.special is ferrum.special  # loaded once, through ferrum.__getattr__


ALIASES = [
    ("erf", lambda S, x: S.erf(x), X),
    ("erfc", lambda S, x: S.erfc(x), X),
    ("erfinv", lambda S, x: S.erfinv(x), P),
    ("expit", lambda S, x: S.expit(x), X),
    ("exp2", lambda S, x: S.exp2(x), X),
    ("expm1", lambda S, x: S.expm1(x), X),
    ("log1p", lambda S, x: S.log1p(x), P),
    ("gammaln", lambda S, x: S.gammaln(x), X),
    ("psi", lambda S, x: S.psi(x), X + 2),
    ("digamma", lambda S, x: S.digamma(x), X + 2),
    ("polygamma", lambda S, x: S.polygamma(2, x), X + 2),
    ("multigammaln", lambda S, x: S.multigammaln(x, 3), X + 3),
    ("i0", lambda S, x: S.i0(x), X),
    ("logit", lambda S, x: S.logit(x), P),
    ("logit_eps", lambda S, x: S.logit(x, eps=0.2), P),
    ("round", lambda S, x: S.round(x), X),
    ("round_decimals", lambda S, x: S.round(x * 1.234, decimals=1), X),
    ("sinc", lambda S, x: S.sinc(x), X),
    ("xlogy", lambda S, x: S.xlogy(x, x.abs() + 0.5), X),
    ("logsumexp", lambda S, x: S.logsumexp(x, 1), X),
    ("logsumexp_keepdim", lambda S, x: S.logsumexp(x, (0, 1), keepdim=True), X),
    ("softmax", lambda S, x: S.softmax(x, 1), X),
    ("softmax_dtype", lambda S, x: S.softmax(x, dim=0, dtype=x.new_ones(1).double().dtype), X),
    ("log_softmax", lambda S, x: S.log_softmax(x, -1), X),
    ("ndtr", lambda S, x: S.ndtr(x), X),
    ("ndtri", lambda S, x: S.ndtri(x), P),
    ("log_ndtr", lambda S, x: S.log_ndtr(x), X),
    ("erfcx", lambda S, x: S.erfcx(x), X),
    ("entr", lambda S, x: S.entr(x), X),
    ("i0e", lambda S, x: S.i0e(x), X),
    ("i1", lambda S, x: S.i1(x), X),
    ("i1e", lambda S, x: S.i1e(x), X),
    ("xlog1py", lambda S, x: S.xlog1py(x, x.abs()), X),
    ("zeta", lambda S, x: S.zeta(x.abs() + 1.5, x.abs() + 0.2), X),
    ("gammainc", lambda S, x: S.gammainc(x.abs() + 0.2, x.abs()), X),
    ("gammaincc", lambda S, x: S.gammaincc(x.abs() + 0.2, x.abs()), X),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,data", ALIASES, ids=[a[0] for a in ALIASES])
def test_values_and_gradients_match_torch(torch, name, fn, data, dtype):
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-10)
    xf = ferrum.tensor(data).to(getattr(ferrum, dtype)).requires_grad_(True)
    xt = torch.tensor(data).to(getattr(torch, dtype)).requires_grad_(True)
    rf, rt = fn(ferrum.special, xf), fn(torch.special, xt)
    assert str(rf.dtype).split(".")[1] == str(rt.dtype).split(".")[1]
    np.testing.assert_allclose(rf.detach().numpy(), rt.detach().numpy(), **tol)
    assert rf.requires_grad == rt.requires_grad
    if not rt.requires_grad:
        return
    w = np.linspace(0.5, 1.5, rt.numel()).reshape(tuple(rt.shape))
    try:
        (gt,) = torch.autograd.grad((rt * torch.tensor(w, dtype=rt.dtype)).sum(), xt)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ferrum.autograd.grad((rf * ferrum.tensor(w, dtype=rf.dtype)).sum(), xf)
        return
    (gf,) = ferrum.autograd.grad((rf * ferrum.tensor(w, dtype=rf.dtype)).sum(), xf)
    np.testing.assert_allclose(gf.numpy(), gt.numpy(), equal_nan=True, **tol)


OUT = [
    ("erf", lambda S, x, o: S.erf(x, out=o)),
    ("expit", lambda S, x, o: S.expit(x, out=o)),
    ("gammaln", lambda S, x, o: S.gammaln(x, out=o)),
    ("multigammaln", lambda S, x, o: S.multigammaln(x + 3, 2, out=o)),
    ("polygamma", lambda S, x, o: S.polygamma(1, x + 2, out=o)),
    ("logit", lambda S, x, o: S.logit(x.sigmoid(), out=o)),
    ("round", lambda S, x, o: S.round(x, out=o)),
    ("sinc", lambda S, x, o: S.sinc(x, out=o)),
    ("xlogy", lambda S, x, o: S.xlogy(x, 2.0, out=o)),
    ("logsumexp", lambda S, x, o: S.logsumexp(x, 0, out=o)),
    ("ndtr", lambda S, x, o: S.ndtr(x, out=o)),
    ("ndtri", lambda S, x, o: S.ndtri(x.sigmoid(), out=o)),
    ("log_ndtr", lambda S, x, o: S.log_ndtr(x, out=o)),
    ("erfcx", lambda S, x, o: S.erfcx(x, out=o)),
    ("entr", lambda S, x, o: S.entr(x, out=o)),
    ("i1e", lambda S, x, o: S.i1e(x, out=o)),
    ("xlog1py", lambda S, x, o: S.xlog1py(x, 0.5, out=o)),
    ("zeta", lambda S, x, o: S.zeta(3.0, x.abs() + 1, out=o)),
    ("gammainc", lambda S, x, o: S.gammainc(x.abs() + 1, x.abs(), out=o)),
    ("bessel_j0", lambda S, x, o: S.bessel_j0(x, out=o)),
    ("airy_ai", lambda S, x, o: S.airy_ai(x, out=o)),
    ("hermite_polynomial_h", lambda S, x, o: S.hermite_polynomial_h(x, 3, out=o)),
]


@pytest.mark.parametrize("name,fn", OUT, ids=[o[0] for o in OUT])
def test_out(torch, name, fn):
    of, ot = ferrum.empty(0), torch.empty(0)
    rf = fn(ferrum.special, ferrum.tensor(X, dtype=ferrum.float32), of)
    rt = fn(torch.special, torch.tensor(X, dtype=torch.float32), ot)
    assert rf is of and rt is ot
    np.testing.assert_allclose(of.numpy(), ot.numpy(), rtol=2e-5, atol=1e-5)


NONDIFF = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0", "airy_ai"]
POLYS = [f"{s}chebyshev_polynomial_{k}" for s in ("", "shifted_") for k in "tuvw"] + [
    "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", NONDIFF + POLYS)
def test_not_differentiable_as_in_torch(torch, name):
    res = []
    for T in (ferrum, torch):
        x = T.tensor([0.3, 1.2], requires_grad=True)
        n = T.tensor([2.0, 3.0], requires_grad=True)
        r = getattr(T.special, name)(x, n) if name in POLYS else getattr(T.special, name)(x)
        res.append((r.requires_grad, r.grad_fn is None))
        with pytest.raises(RuntimeError):
            r.sum().backward()
    assert res[0] == res[1] == (False, True)


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_argument_forms(torch, name):
    xs = np.array([-0.7, 0.2, 0.9, 1.4])
    forms = [
        lambda T: getattr(T.special, name)(T.tensor(xs), 3),                      # number degree
        lambda T: getattr(T.special, name)(0.4, T.tensor([0.0, 1.0, 4.0, 11.0])),  # number x
        lambda T: getattr(T.special, name)(T.tensor(xs, dtype=T.float64), T.tensor([[2], [5]])),
        lambda T: getattr(T.special, name)(T.tensor([1, 2, 0]), T.tensor([3, 2, 4])),  # integers
    ]
    for f in forms:
        rf, rt = f(ferrum), f(torch)
        assert str(rf.dtype).split(".")[1] == str(rt.dtype).split(".")[1]
        assert tuple(rf.shape) == tuple(rt.shape)
        np.testing.assert_allclose(rf.numpy(), rt.numpy(), rtol=2e-5, atol=1e-5)


BAD = [
    ("polynomial shapes", lambda S: S.chebyshev_polynomial_t(_ones(S, 2), _ones(S, 3))),
    ("polynomial half", lambda S: S.legendre_polynomial_p(_ones(S, 2, "float16"), 2)),
    ("bessel half", lambda S: S.bessel_j0(_ones(S, 2, "bfloat16"))),
    ("bessel complex", lambda S: S.bessel_y0(_ones(S, 2, "complex64"))),
    ("ndtri half", lambda S: S.ndtri(_ones(S, 2, "float16"))),
    ("zeta half", lambda S: S.zeta(_ones(S, 2, "float16"), _ones(S, 2, "float16"))),
    ("gammaincc int", lambda S: S.gammaincc(_ones(S, 2, "int64"), _ones(S, 2, "int64"))),
    ("softmax no dim", lambda S: S.softmax(_ones(S, 2))),
]


def _ones(S, n, dtype="float32"):
    T = ferrum if S is ferrum.special else __import__("torch")
    return T.ones(n, dtype=getattr(T, dtype))


@pytest.mark.parametrize("name,fn", BAD, ids=[b[0] for b in BAD])
def test_errors_match_torch(torch, name, fn):
    with pytest.raises(Exception) as et:
        fn(torch.special)
    with pytest.raises(Exception) as ef:
        fn(ferrum.special)
    assert same_exception(ef.value, et.value), (ef.value, et.value)


def test_gammainc_takes_tensors_only(torch):
    for S, T in ((ferrum.special, ferrum), (torch.special, torch)):
        with pytest.raises(TypeError, match="special_gammainc"):
            S.gammainc(T.ones(2), 2.0)
        with pytest.raises(TypeError, match="special_gammaincc"):
            S.gammaincc(2.0, T.ones(2))


def test_polynomial_degree_that_would_loop_for_minutes_is_refused():
    # torch runs 10**9 recurrence steps per element here; ferrum refuses instead of hanging
    with pytest.raises(RuntimeError, match="too large"):
        ferrum.special.legendre_polynomial_p(ferrum.tensor([0.3]), 1e9)
    # but a degree the closed form handles is fine
    r = ferrum.special.chebyshev_polynomial_t(ferrum.tensor([0.3]), 1e9)
    assert np.isfinite(r.numpy()).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["hermite_polynomial_h", "hermite_polynomial_he"])
def test_hermite_degree_limits_and_nonfinite_degrees(torch, name, dtype):
    # nan beyond degree 128 (float32) / 512 (float64); a nan or infinite degree counts as -1 (0)
    x = np.array([0.3, -1.1, 0.9])
    n = np.array([[100.0], [128.0], [129.0], [512.0], [513.0], [np.nan], [np.inf], [-np.inf]])
    rf = getattr(ferrum.special, name)(ferrum.tensor(x).to(getattr(ferrum, dtype)),
                                       ferrum.tensor(n).to(getattr(ferrum, dtype)))
    rt = getattr(torch.special, name)(torch.tensor(x).to(getattr(torch, dtype)),
                                      torch.tensor(n).to(getattr(torch, dtype)))
    np.testing.assert_allclose(rf.numpy(), rt.numpy(), rtol=1e-4, equal_nan=True)


@pytest.mark.parametrize("name", POLYS)
def test_polynomial_large_degrees_match_torch(torch, name):
    # the closed forms (Chebyshev inside (-1, 1)) and the long recurrences, in float64
    x = np.array([-0.95, -0.3, 0.05, 0.6, 0.99])
    n = np.array([[20.0], [45.0], [100.0]])
    rf = getattr(ferrum.special, name)(ferrum.tensor(x), ferrum.tensor(n))
    rt = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    np.testing.assert_allclose(rf.numpy(), rt.numpy(), rtol=1e-7, atol=1e-7)
