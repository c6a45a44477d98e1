"""Random numbers: seeding and reproducibility, Generator, RNG state round trips, the random
factories' shapes, dtypes, distributions and errors, and the in-place fills."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

N = 20000


def draws():
    """One of every random factory, for reproducibility checks."""
    return [ferrum.rand(5), ferrum.randn(2, 3), ferrum.randint(0, 100, (6,)), ferrum.randperm(7),
            ferrum.normal(1.0, 2.0, (4,)), ferrum.bernoulli(ferrum.full((8,), 0.5)),
            ferrum.multinomial(ferrum.tensor([0.2, 0.3, 0.5]), 4, replacement=True),
            ferrum.zeros(3).uniform_(-1, 1), ferrum.zeros(3).normal_(2, 3)]


def same_draws(a, b):
    return all(x.tolist() == y.tolist() for x, y in zip(a, b))


# --------------------------------------------------------------------------- seeding and state
def test_manual_seed_reproduces_every_factory():
    ferrum.manual_seed(123)
    a = draws()
    ferrum.manual_seed(123)
    b = draws()
    assert same_draws(a, b)
    ferrum.manual_seed(124)
    assert not same_draws(a, draws())


def test_manual_seed_returns_default_generator_and_initial_seed():
    g = ferrum.manual_seed(42)
    assert g is ferrum.default_generator
    assert ferrum.initial_seed() == 42 and g.initial_seed() == 42
    assert ferrum.manual_seed(-1).initial_seed() == 2**64 - 1  # wraps like PyTorch
    with pytest.raises(RuntimeError):
        ferrum.manual_seed(2**64)


def test_seed_picks_a_new_seed():
    s = ferrum.seed()
    assert isinstance(s, int) and ferrum.initial_seed() == s


def test_rng_state_round_trip():
    st = ferrum.get_rng_state()
    assert st.dtype is ferrum.uint8 and st.ndim == 1
    a = draws()
    ferrum.set_rng_state(st)
    assert same_draws(a, draws())
    st[0] = 0  # the state is a copy
    ferrum.set_rng_state(ferrum.get_rng_state())


def test_rng_state_errors(torch):
    with pytest.raises(TypeError):
        ferrum.set_rng_state(ferrum.zeros(3))
    with pytest.raises(TypeError):
        torch.set_rng_state(torch.zeros(3))
    with pytest.raises(RuntimeError, match="wrong size"):
        ferrum.set_rng_state(ferrum.zeros(3, dtype=ferrum.uint8))


def test_fork_rng_restores_state():
    ferrum.manual_seed(7)
    with ferrum.fork_rng():
        ferrum.rand(10)
    a = ferrum.rand(3)
    ferrum.manual_seed(7)
    assert a.tolist() == ferrum.rand(3).tolist()


def test_generator_is_independent_of_default():
    g1 = ferrum.Generator().manual_seed(5)
    g2 = ferrum.Generator().manual_seed(5)
    ferrum.manual_seed(0)
    a = ferrum.rand(4, generator=g1)
    ferrum.rand(100)  # advancing the default generator does not touch g2
    assert a.tolist() == ferrum.rand(4, generator=g2).tolist()
    assert g1.initial_seed() == 5 and g1.device == ferrum.device("cpu")
    st = g1.get_state()
    x = ferrum.randn(3, generator=g1)
    g1.set_state(st)
    assert x.tolist() == ferrum.randn(3, generator=g1).tolist()


def test_generator_argument_everywhere():
    def all_with(g):
        return [ferrum.rand(3, generator=g), ferrum.randn(3, generator=g),
                ferrum.randint(0, 9, (3,), generator=g), ferrum.randperm(5, generator=g),
                ferrum.normal(0.0, 1.0, (3,), generator=g),
                ferrum.bernoulli(ferrum.full((4,), 0.5), generator=g),
                ferrum.multinomial(ferrum.ones(4), 2, generator=g),
                ferrum.zeros(3).uniform_(generator=g), ferrum.zeros(3).normal_(generator=g)]
    a = all_with(ferrum.Generator().manual_seed(9))
    b = all_with(ferrum.Generator().manual_seed(9))
    assert same_draws(a, b)
    with pytest.raises(TypeError, match="Generator"):
        ferrum.rand(2, generator=5)


def test_global_seed_fixture_gives_same_stream_per_test():
    # conftest seeds ferrum with 0 before every test
    a = ferrum.rand(3)
    ferrum.manual_seed(0)
    assert a.tolist() == ferrum.rand(3).tolist()


# --------------------------------------------------------------------------- shapes and dtypes
@pytest.mark.parametrize("fn", ["rand", "randn"])
def test_rand_randn_shapes_and_dtypes(torch, fn):
    F, T = getattr(ferrum, fn), getattr(torch, fn)
    for args in [(2, 3), ((2, 3),), ([4],), ((),), (0,), (ferrum.Size([2, 2]),)]:
        targs = tuple(torch.Size(a) if isinstance(a, ferrum.Size) else a for a in args)
        f, t = F(*args), T(*targs)
        assert f.shape == tuple(t.shape) and f.dtype is ferrum.float32
    for name in ("float16", "bfloat16", "float32", "float64"):
        assert F(3, dtype=getattr(ferrum, name)).dtype is getattr(ferrum, name)
    r = F(2, requires_grad=True)
    assert r.requires_grad and r.is_leaf
    out = ferrum.empty(5)
    assert F(5, out=out) is out


@pytest.mark.parametrize("fn", ["rand", "randn"])
@pytest.mark.parametrize("name", ["int64", "int32", "bool", "uint8"])
def test_rand_randn_integer_dtype_is_not_implemented(torch, fn, name):
    with pytest.raises(NotImplementedError):
        getattr(torch, fn)(2, dtype=getattr(torch, name))
    with pytest.raises(NotImplementedError, match="not implemented for"):
        getattr(ferrum, fn)(2, dtype=getattr(ferrum, name))
    with pytest.raises(RuntimeError):  # NotImplementedError is a RuntimeError, as in PyTorch
        getattr(ferrum, fn)(2, dtype=getattr(ferrum, name))


def test_random_size_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        ferrum.rand(-1)
    with pytest.raises(TypeError):
        ferrum.randn(2.5)


def test_randint_forms_and_dtypes(torch):
    for mk in [lambda L: L.randint(10, (3,)), lambda L: L.randint(3, 10, (2, 2)),
               lambda L: L.randint(10, size=(2,)), lambda L: L.randint(low=0, high=10, size=(2,)),
               lambda L: L.randint(10, (3,), dtype=L.float32), lambda L: L.randint(5, (0,)),
               lambda L: L.randint(-5, -4, (2,)), lambda L: L.randint(2, (2,), dtype=L.uint8)]:
        f, t = mk(ferrum), mk(torch)
        assert f.shape == tuple(t.shape) and f.dtype.name == str(t.dtype).split(".")[1]
    assert ferrum.randint(-5, -4, (3,)).tolist() == [-5, -5, -5]


def test_randint_errors(torch):
    with pytest.raises(RuntimeError, match="from.*to"):
        ferrum.randint(5, 5, (3,))
    with pytest.raises(RuntimeError):
        torch.randint(5, 5, (3,))
    with pytest.raises(TypeError):
        ferrum.randint(10, 3)
    with pytest.raises(TypeError):
        torch.randint(10, 3)


def test_randperm(torch):
    p = ferrum.randperm(50)
    assert p.dtype is ferrum.int64 and sorted(p.tolist()) == list(range(50))
    assert ferrum.randperm(0).shape == (0,)
    assert ferrum.randperm(4, dtype=ferrum.float32).dtype is ferrum.float32
    with pytest.raises(RuntimeError):
        ferrum.randperm(-1)
    with pytest.raises(RuntimeError):
        torch.randperm(-1)


def test_like_variants():
    assert ferrum.rand_like(ferrum.ones(2, 3, dtype=ferrum.float64)).dtype is ferrum.float64
    assert ferrum.randn_like(ferrum.ones(2, 3)).shape == (2, 3)
    r = ferrum.randint_like(ferrum.ones(4), 10)
    assert r.dtype is ferrum.float32 and r.shape == (4,) and all(0 <= v < 10 for v in r.tolist())
    r = ferrum.randint_like(ferrum.ones(4, dtype=ferrum.int64), 3, 10)
    assert r.dtype is ferrum.int64 and all(3 <= v < 10 for v in r.tolist())
    with pytest.raises(NotImplementedError):
        ferrum.rand_like(ferrum.ones(2, dtype=ferrum.int64))


# --------------------------------------------------------------------------- distributions
def test_rand_is_uniform_on_unit_interval():
    for name in ("float32", "float64", "float16", "bfloat16"):
        x = ferrum.rand(N, dtype=getattr(ferrum, name)).to(ferrum.float64).numpy()
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert abs(x.mean() - 0.5) < 0.01 and abs(x.var() - 1 / 12) < 0.005
    x = ferrum.rand(N, dtype=ferrum.float64).numpy()
    assert x.max() < 1.0
    hist = np.histogram(x, bins=10, range=(0, 1))[0]
    assert hist.min() > N / 10 * 0.9


def test_randn_is_standard_normal():
    x = ferrum.randn(N, dtype=ferrum.float64).numpy()
    assert abs(x.mean()) < 0.03 and abs(x.std() - 1) < 0.03
    assert abs(np.mean(np.abs(x) < 1) - 0.6827) < 0.015


def test_randint_is_uniform_over_range():
    x = ferrum.randint(3, 8, (N,)).numpy()
    assert x.min() == 3 and x.max() == 7
    counts = np.bincount(x - 3)
    assert counts.min() > N / 5 * 0.9


def test_randperm_positions_are_uniform():
    first = [ferrum.randperm(4)[0].item() for _ in range(800)]
    counts = np.bincount(first, minlength=4)
    assert counts.min() > 140


def test_normal_forms_and_statistics(torch):
    x = ferrum.normal(2.0, 3.0, (N,)).numpy()
    assert abs(x.mean() - 2) < 0.1 and abs(x.std() - 3) < 0.1
    mean = ferrum.zeros(N // 2, 2) + ferrum.tensor([0.0, 10.0])
    s = ferrum.normal(mean, 0.5).numpy()
    assert s.shape == (N // 2, 2) and abs(s[:, 1].mean() - 10) < 0.05 and abs(s[:, 0].std() - 0.5) < 0.03
    s = ferrum.normal(1.0, ferrum.tensor([0.1, 2.0]) + ferrum.zeros(N // 2, 1)).numpy()
    assert abs(s[:, 0].std() - 0.1) < 0.01 and abs(s[:, 1].std() - 2.0) < 0.1
    for mk in [lambda L: L.normal(L.zeros(3), 1.0), lambda L: L.normal(0.0, L.ones(3)),
               lambda L: L.normal(L.zeros(3), L.ones(2, 3)), lambda L: L.normal(2.0, 3.0, size=(2,)),
               lambda L: L.normal(L.zeros(2, dtype=L.float64), 1.0)]:
        f, t = mk(ferrum), mk(torch)
        assert f.shape == tuple(t.shape) and f.dtype.name == str(t.dtype).split(".")[1]


def test_normal_errors(torch):
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        ferrum.normal(0.0, -1.0, (2,))
    with pytest.raises(RuntimeError):
        torch.normal(0.0, -1.0, (2,))
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        ferrum.normal(ferrum.zeros(2), -1.0)
    with pytest.raises(TypeError):
        ferrum.normal(0.0, 1.0)


def test_bernoulli():
    p = ferrum.tensor([0.0, 1.0, 0.3]) + ferrum.zeros(N, 1)
    b = ferrum.bernoulli(p)
    assert b.dtype is ferrum.float32 and b.shape == (N, 3)
    x = b.numpy()
    assert x[:, 0].max() == 0 and x[:, 1].min() == 1 and abs(x[:, 2].mean() - 0.3) < 0.015
    assert set(np.unique(x).tolist()) <= {0.0, 1.0}
    assert ferrum.bernoulli(ferrum.ones(3, dtype=ferrum.float64)).dtype is ferrum.float64
    assert ferrum.bernoulli(ferrum.zeros(4), p=1.0).tolist() == [1.0] * 4
    assert ferrum.ones(3).bernoulli().tolist() == [1.0] * 3
    with pytest.raises(RuntimeError):
        ferrum.bernoulli(ferrum.full((3,), 2.0))


def test_multinomial_frequencies_and_shapes():
    w = ferrum.tensor([1.0, 2.0, 7.0])
    s = ferrum.multinomial(w, N, replacement=True)
    assert s.dtype is ferrum.int64 and s.shape == (N,)
    freq = np.bincount(s.numpy(), minlength=3) / N
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.015)
    rows = ferrum.multinomial(ferrum.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), 3, replacement=True)
    assert rows.shape == (2, 3) and rows.tolist() == [[1, 1, 1], [0, 0, 0]]
    for _ in range(20):
        s = ferrum.multinomial(ferrum.tensor([1.0, 1.0, 1.0, 5.0]), 4)
        assert sorted(s.tolist()) == [0, 1, 2, 3]
    firsts = [ferrum.multinomial(ferrum.tensor([1.0, 9.0]), 1).item() for _ in range(400)]
    assert 0.85 < np.mean(firsts) < 0.95
    assert ferrum.multinomial(ferrum.tensor([0.0, 1.0, 0.0]), 1).tolist() == [1]


def test_multinomial_errors(torch):
    cases = [(lambda L: L.multinomial(L.tensor([-1.0, 1.0]), 1), "element < 0"),
             (lambda L: L.multinomial(L.tensor([1.0, float("nan")]), 1), "nan"),
             (lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1), "sum of probabilities"),
             (lambda L: L.multinomial(L.tensor([1.0, 1.0]), 3), "without replacement"),
             (lambda L: L.multinomial(L.tensor([1.0, 1.0]), 0), "n_sample <= 0"),
             (lambda L: L.multinomial(L.ones(2, 2, 2), 1), "1 or 2 dim"),
             (lambda L: L.multinomial(L.tensor([1, 2]), 1), "floating-point")]
    for mk, msg in cases:
        with pytest.raises(RuntimeError):
            mk(torch)
        with pytest.raises(RuntimeError, match=msg):
            mk(ferrum)


# --------------------------------------------------------------------------- in-place fills
def test_uniform_and_normal_fill_in_place():
    for name in ("float32", "float64", "float16", "bfloat16"):
        t = ferrum.zeros(N, dtype=getattr(ferrum, name))
        v = t._version_value
        assert t.uniform_(2, 3) is t and t._version_value == v + 1
        x = t.to(ferrum.float64).numpy()
        assert x.min() >= 2 and x.max() <= 3 and abs(x.mean() - 2.5) < 0.02
        assert t.dtype is getattr(ferrum, name)
        t.normal_(5, 2)
        x = t.to(ferrum.float64).numpy()
        assert abs(x.mean() - 5) < 0.1 and abs(x.std() - 2) < 0.1
    base = ferrum.zeros(4, 4)
    view = ferrum.from_numpy(base.numpy()[:, 1])
    view.uniform_(1, 2)
    assert (base.numpy()[:, 1] >= 1).all() and (base.numpy()[:, 0] == 0).all()


def test_fill_errors(torch):
    for name in ("int64", "bool"):
        with pytest.raises(NotImplementedError):
            torch.zeros(3, dtype=getattr(torch, name)).uniform_()
        with pytest.raises(NotImplementedError, match="uniform_"):
            ferrum.zeros(3, dtype=getattr(ferrum, name)).uniform_()
        with pytest.raises(NotImplementedError, match="normal_"):
            ferrum.zeros(3, dtype=getattr(ferrum, name)).normal_()
    with pytest.raises(RuntimeError, match=r"from=3 > to=2"):
        ferrum.zeros(3).uniform_(3, 2)
    with pytest.raises(RuntimeError):
        torch.zeros(3).uniform_(3, 2)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        ferrum.zeros(3).normal_(std=-1)
    for fill in ("uniform_", "normal_"):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(ferrum.zeros(2, requires_grad=True), fill)()
        with pytest.raises(RuntimeError):
            getattr(torch.zeros(2, requires_grad=True), fill)()
    w = ferrum.zeros(2, requires_grad=True)
    with ferrum.no_grad():
        w.uniform_()
    assert w.requires_grad and w.is_leaf


def test_other_fills():
    x = ferrum.zeros(N).exponential_(2.0).numpy()
    assert x.min() > 0 and abs(x.mean() - 0.5) < 0.02
    b = ferrum.zeros(N).bernoulli_(0.25).numpy()
    assert abs(b.mean() - 0.25) < 0.015
    assert ferrum.zeros(4).bernoulli_(0.0).tolist() == [0.0] * 4
    r = ferrum.zeros(N, dtype=ferrum.uint8).random_(0, 10)
    assert r.dtype is ferrum.uint8 and r.numpy().max() == 9
    g = ferrum.zeros(N).geometric_(0.5).numpy()
    assert g.min() >= 1 and abs(g.mean() - 2) < 0.1
    c = ferrum.zeros(N).cauchy_().numpy()
    assert abs(np.median(c)) < 0.05
    ln = ferrum.zeros(N, dtype=ferrum.float64).log_normal_(0.0, 0.5).numpy()
    assert abs(np.median(np.log(ln))) < 0.02
    p = ferrum.poisson(ferrum.full((N,), 3.0)).numpy()
    assert abs(p.mean() - 3) < 0.1 and (p == np.round(p)).all()


@pytest.mark.parametrize("dtype", [ferrum.float32, ferrum.float64])
def test_inplace_fills_draw_the_same_stream_as_fresh_draws(dtype):
    """normal_/uniform_ fill contiguous buffers directly: same values as scaling a fresh draw, a
    version bump, and the strided (non-contiguous) path still fills only its view."""
    ferrum.manual_seed(5)
    a = ferrum.empty(6, 4, dtype=dtype)
    v = a._version[0]
    a.normal_(0.5, 2.0)
    ferrum.manual_seed(5)
    b = ferrum.randn(6, 4, dtype=dtype) * 2.0 + 0.5
    assert ferrum.allclose(a, b, rtol=1e-6, atol=1e-6) and a._version[0] == v + 1
    ferrum.manual_seed(5)
    a.uniform_(-1.0, 3.0)
    ferrum.manual_seed(5)
    assert ferrum.allclose(a, ferrum.rand(6, 4, dtype=dtype) * 4.0 - 1.0, rtol=1e-6, atol=1e-6)
    z = ferrum.zeros(4, 6, dtype=dtype)
    z.t().normal_()  # a transposed view: not C-contiguous
    z[:, ::2].uniform_(5.0, 6.0)
    assert (z[:, ::2] >= 5.0).all() and (z[:, 1::2] < 5.0).all()
    with pytest.raises(RuntimeError):
        ferrum.ones(2, requires_grad=True).normal_()  # a leaf that requires grad: torch's error
