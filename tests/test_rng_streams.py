"""ferrum's generators draw PyTorch's CPU streams (src/ferrum/_rng_streams.py): the same values as
torch 2.13 for the same seed, for every sampler, fill and consumer built on them, and the state in
torch's layout. float32 normals are compared to an ulp or so (torch uses float32 vector math)."""

import numpy as np
import pytest

import ferrum
from ferrum import _rng_streams

SEEDS = [0, 1, 42, 2**40 + 7, 67280421310721]
CLOSE = dict(rtol=2e-6, atol=2e-6)


def _same(a, b, exact=True):
    a = a.detach().float().numpy() if a.dtype in (ferrum.bfloat16, ferrum.float16) else a.detach().numpy()
    b = b.detach().float().numpy() if b.dtype.itemsize == 2 and b.is_floating_point() else b.detach().numpy()
    assert a.shape == b.shape
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, **CLOSE)


def _both(torch, seed, fn, exact=True):
    """Runs ``fn(lib)`` on both libraries from ``seed`` and compares the results and the states."""
    ferrum.manual_seed(seed)
    torch.manual_seed(seed)
    a, b = fn(ferrum), fn(torch)
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        _same(x, y, exact)
    assert ferrum.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 2, 7, 16, 17, 33, 1000])
def test_rand_and_randn(torch, seed, n):
    _both(torch, seed, lambda L: L.rand(n))
    _both(torch, seed, lambda L: L.rand(n, dtype=L.float64))
    _both(torch, seed, lambda L: L.randn(n), exact=n < 16)
    _both(torch, seed, lambda L: L.randn(n, dtype=L.float64), exact=n < 16)  # NumPy's log/sin/cos: 1 ulp
    # the serial path caches the second sample of a pair across calls
    _both(torch, seed, lambda L: (L.randn(3), L.randn(1), L.randn(2, dtype=L.float64), L.rand(2)))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_half_precision_and_complex_draws(torch, seed):
    _both(torch, seed, lambda L: L.rand(5000, dtype=L.bfloat16))
    _both(torch, seed, lambda L: L.rand(5000, dtype=L.float16))
    _both(torch, seed, lambda L: L.randn(64, dtype=L.bfloat16), exact=False)
    _both(torch, seed, lambda L: L.randn(40, dtype=L.complex64), exact=False)
    _both(torch, seed, lambda L: L.rand(9, dtype=L.complex128))


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("low,high", [(0, 10), (-3, 3), (5, 1000), (0, 2**28 - 1), (0, 2**28),
                                      (-2**40, 2**40), (0, 2**31)])
def test_randint(torch, seed, low, high):
    _both(torch, seed, lambda L: L.randint(low, high, (3, 5)))
    _both(torch, seed, lambda L: L.randint(low, high, (4,), dtype=L.float64))


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("n", [0, 1, 2, 10, 100, 5000])
def test_randperm(torch, seed, n):
    _both(torch, seed, lambda L: L.randperm(n))


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float32", "float64", "bool"])
def test_random_(torch, seed, dtype):
    _both(torch, seed, lambda L: L.empty(7, dtype=getattr(L, dtype)).random_())
    if dtype != "bool":
        _both(torch, seed, lambda L: L.empty(7, dtype=getattr(L, dtype)).random_(3, 9))
        _both(torch, seed, lambda L: L.empty(7, dtype=getattr(L, dtype)).random_(5))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_in_place_fills(torch, seed):
    _both(torch, seed, lambda L: L.empty(6, 5).uniform_(-0.3, 0.7))
    _both(torch, seed, lambda L: L.empty(6, 5, dtype=L.float64).uniform_(2, 3))
    _both(torch, seed, lambda L: L.empty(6, 5).normal_(0.5, 2.0), exact=False)
    _both(torch, seed, lambda L: L.empty(3, 5).normal_(0.5, 2.0))  # serial path
    _both(torch, seed, lambda L: L.empty(20).exponential_(3.0), exact=False)
    _both(torch, seed, lambda L: L.empty(5, 4).bernoulli_(0.3))
    _both(torch, seed, lambda L: L.empty(5, 4, dtype=L.float64).bernoulli_(L.full((4,), 0.6,
                                                                                      dtype=L.float64)))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_other_fills_and_poisson(torch, seed):
    _both(torch, seed, lambda L: L.empty(30).cauchy_(1.0, 2.0), exact=False)
    _both(torch, seed, lambda L: L.empty(30, dtype=L.float64).log_normal_(1.0, 0.5), exact=False)
    _both(torch, seed, lambda L: L.empty(30).geometric_(0.3))
    _both(torch, seed, lambda L: L.poisson(L.tensor([0.5, 4.0, 20.0, 100.0])))
    _both(torch, seed, lambda L: L.poisson(L.tensor(3.0)))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_non_contiguous_fills_walk_memory_order(torch, seed):
    _both(torch, seed, lambda L: L.empty(8, 4).t().normal_())
    _both(torch, seed, lambda L: L.empty(8, 4).t().uniform_())
    _both(torch, seed, lambda L: L.empty(3, 40)[:, ::2].normal_())
    _both(torch, seed, lambda L: L.empty(2, 3, 4).permute(2, 0, 1).bernoulli_(0.5))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_distributions_of_tensors(torch, seed):
    _both(torch, seed, lambda L: L.normal(L.zeros(20), L.ones(20) * 3), exact=False)
    _both(torch, seed, lambda L: L.normal(L.arange(5.0), 2.0))
    _both(torch, seed, lambda L: L.normal(1.0, 2.0, (3, 4)))
    _both(torch, seed, lambda L: L.bernoulli(L.full((3, 7), 0.4)))
    _both(torch, seed, lambda L: L.bernoulli(L.full((3, 7), 0.4, dtype=L.float64)))
    _both(torch, seed, lambda L: L.bernoulli(L.zeros(9), 0.25))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_multinomial(torch, seed):
    p = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.1, 0.0, 0.5], [1.0, 2.0, 3.0, 0.5]]
    _both(torch, seed, lambda L: L.multinomial(L.tensor(p), 3))
    _both(torch, seed, lambda L: L.multinomial(L.tensor(p), 1))
    _both(torch, seed, lambda L: L.multinomial(L.tensor(p), 6, replacement=True))
    _both(torch, seed, lambda L: L.multinomial(L.tensor(p[0], dtype=L.float64), 2))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_dropout_masks(torch, seed):
    x = np.linspace(-1, 1, 60, dtype=np.float32).reshape(3, 20)
    _both(torch, seed, lambda L: L.nn.functional.dropout(L.tensor(x), 0.3), exact=False)
    _both(torch, seed, lambda L: L.nn.functional.dropout(L.tensor(x, requires_grad=True), 0.5), exact=False)
    _both(torch, seed, lambda L: L.nn.Dropout2d(0.5)(L.ones(2, 6, 3, 3)))
    _both(torch, seed, lambda L: L.nn.functional.alpha_dropout(L.tensor(x), 0.2, True), exact=False)


MODULES = [lambda nn: nn.Linear(20, 30), lambda nn: nn.Conv2d(3, 8, 3), lambda nn: nn.Embedding(10, 4),
           lambda nn: nn.LSTM(4, 6, 2, bidirectional=True), lambda nn: nn.GRU(4, 6),
           lambda nn: nn.MultiheadAttention(8, 2), lambda nn: nn.TransformerEncoderLayer(8, 2, 16),
           lambda nn: nn.ConvTranspose2d(3, 4, 3), lambda nn: nn.Bilinear(3, 4, 5),
           lambda nn: nn.Sequential(nn.Conv1d(2, 4, 3, groups=2), nn.BatchNorm1d(4), nn.Linear(5, 2))]


@pytest.mark.parametrize("make", MODULES)
def test_module_initialisation_is_torchs(torch, make):
    ferrum.manual_seed(2)
    torch.manual_seed(2)
    f, t = make(ferrum.nn), make(torch.nn)
    fs, ts = f.state_dict(), t.state_dict()
    assert list(fs) == list(ts)
    for k in ts:
        np.testing.assert_allclose(fs[k].numpy(), ts[k].numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    np.testing.assert_array_equal(ferrum.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("name,args", [
    ("uniform_", ()), ("normal_", ()), ("xavier_uniform_", ()), ("xavier_normal_", ()),
    ("kaiming_uniform_", ()), ("kaiming_normal_", ()), ("trunc_normal_", ()),
    ("trunc_normal_", (0.0, 1.0, 0.5, 0.6)), ("orthogonal_", ()), ("sparse_", (0.3,))])
@pytest.mark.parametrize("shape", [(30, 20), (5, 40)])
def test_init_functions_are_torchs(torch, name, args, shape):
    _both(torch, 1, lambda L: getattr(L.nn.init, name)(L.empty(*shape), *args), exact=False)


def test_data_order_is_torchs(torch):
    def run(L):
        data = L.utils.data
        ds = data.TensorDataset(L.arange(50))
        a, b = data.random_split(ds, [0.7, 0.3])
        order = [int(x) for (x,) in data.DataLoader(a, batch_size=4, shuffle=True) for x in x]
        order += list(data.SubsetRandomSampler(list(range(10))))
        order += list(data.WeightedRandomSampler([0.1, 0.5, 0.4], 12))
        order += list(data.RandomSampler(range(7), replacement=True, num_samples=40))
        seeded = L.Generator().manual_seed(9)
        order += list(data.DataLoader(b, batch_size=5, shuffle=True, generator=seeded))[0][0]
        return L.tensor(a.indices), L.tensor([int(v) for v in order])
    _both(torch, 3, run)


def test_distributed_sampler_order_is_torchs(torch):
    from torch.utils.data.distributed import DistributedSampler as TS

    from ferrum.utils.data.distributed import DistributedSampler as FS
    for epoch in (0, 3):
        f, t = FS(range(101), num_replicas=3, rank=1, seed=7), TS(range(101), num_replicas=3, rank=1, seed=7)
        f.set_epoch(epoch)
        t.set_epoch(epoch)
        assert list(f) == list(t)


def test_state_round_trips_between_libraries(torch):
    torch.manual_seed(11)
    torch.randn(5)  # leaves a cached normal in the state
    torch.rand(700)
    ferrum.set_rng_state(ferrum.tensor(torch.get_rng_state().numpy()))
    _same(ferrum.randn(3), torch.randn(3))
    g = ferrum.Generator().manual_seed(4)
    ferrum.rand(2, generator=g)
    tg = torch.Generator().set_state(torch.from_numpy(g.get_state().numpy()))
    a = ferrum.randn(50, generator=g, dtype=ferrum.float64)
    _same(a, torch.randn(50, generator=tg, dtype=torch.float64), exact=False)
    assert g.initial_seed() == 4 == tg.initial_seed()


def test_state_errors_are_torchs(torch):
    with pytest.raises(TypeError):
        ferrum.set_rng_state(ferrum.zeros(_rng_streams.STATE_BYTES))
    with pytest.raises(RuntimeError, match="size"):
        ferrum.set_rng_state(ferrum.zeros(10, dtype=ferrum.uint8))
    bad = ferrum.get_rng_state().clone()
    bad[8:12] = 0  # left == 0: no Mersenne Twister state has it
    with pytest.raises(RuntimeError, match="mt19937"):
        ferrum.set_rng_state(bad)


def test_big_fills_are_chunked_without_changing_values(torch, monkeypatch):
    monkeypatch.setattr(_rng_streams, "_CHUNK", 64)
    _both(torch, 5, lambda L: L.empty(1000).normal_(), exact=False)
    _both(torch, 5, lambda L: L.empty(1001, dtype=L.float64).normal_(), exact=False)
    _both(torch, 5, lambda L: L.empty(1001).uniform_(-1, 2))
