"""DataLoader/RandomSampler ``state_dict``/``load_state_dict``: a loader restored mid-epoch (or
between epochs) yields exactly what the uninterrupted loader yields, with and without workers and
persistent workers, with the loader's generator, the sampler's own or the default one."""

from __future__ import annotations

import pytest

import ferrum
from ferrum.utils.data import DataLoader, RandomSampler, TensorDataset


def _ds(n=23):
    return TensorDataset(ferrum.arange(n), ferrum.arange(n) * 10)


def _make(kind, workers, persistent=False, seed=5):
    ds = _ds()
    kw = dict(batch_size=4, num_workers=workers, persistent_workers=persistent)
    if kind == "loader_gen":
        return DataLoader(ds, shuffle=True, generator=ferrum.Generator().manual_seed(seed), **kw)
    if kind == "sampler_gen":
        return DataLoader(ds, sampler=RandomSampler(ds, generator=ferrum.Generator().manual_seed(seed)), **kw)
    ferrum.manual_seed(seed)
    return DataLoader(ds, shuffle=True, **kw)


def _epochs(loader, n_epochs):
    return [[b[0].tolist() for b in loader] for _ in range(n_epochs)]


CASES = [(k, w, p) for k in ("loader_gen", "sampler_gen", "default")
         for w, p in ((0, False), (2, False), (2, True))]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind,workers,persistent", CASES)
@pytest.mark.parametrize("stop", [0, 3, 6])  # batches consumed in epoch 2 when saving (6 = all)
def test_resume_matches_uninterrupted(kind, workers, persistent, stop):
    straight = _epochs(_make(kind, workers, persistent), 3)
    assert straight[0] != straight[1]  # shuffled anew every epoch

    a = _make(kind, workers, persistent)
    got = _epochs(a, 1)
    it = iter(a)
    got.append([next(it)[0].tolist() for _ in range(stop)])
    sd = a.state_dict()
    rng = ferrum.get_rng_state()
    assert sd["in_epoch"] is True and sd["num_yielded"] == stop
    del it

    b = _make(kind, workers, persistent, seed=99)  # a fresh process's loader, differently seeded
    ferrum.set_rng_state(rng)
    b.load_state_dict(sd)
    assert b.state_dict() == sd or kind != "default"  # unchanged until iterated
    got[1] += [x[0].tolist() for x in b]
    got += _epochs(b, 1)
    assert got == straight


@pytest.mark.timeout(60)
@pytest.mark.parametrize("workers,persistent", [(0, False), (2, False), (2, True)])
def test_state_between_epochs(workers, persistent):
    straight = _epochs(_make("loader_gen", workers, persistent), 3)
    a = _make("loader_gen", workers, persistent)
    got = _epochs(a, 2)
    sd = a.state_dict()
    assert sd["in_epoch"] is False and sd["num_yielded"] == 0
    assert (sd["base_seed"] is not None) == persistent
    b = _make("loader_gen", workers, persistent, seed=1)
    b.load_state_dict(sd)
    got += _epochs(b, 1)
    assert got == straight


def test_sampler_state_alone():
    g = ferrum.Generator().manual_seed(3)
    s = RandomSampler(range(10), generator=g)
    first = list(s)
    st = s.state_dict()
    assert st["iteration"] is None  # between iterations
    it = iter(s)
    head = [next(it) for _ in range(4)]
    st = s.state_dict()
    rest = list(it)
    after = list(s)
    s2 = RandomSampler(range(10), generator=ferrum.Generator())
    s2.load_state_dict(st)
    assert list(s2) == head + rest
    assert list(s2) == after
    assert first != head + rest


def test_bad_states():
    loader = DataLoader(_ds(), batch_size=4, shuffle=True)
    with pytest.raises(ValueError, match="expected a dict"):
        loader.load_state_dict({"in_epoch": True})
    sd = loader.state_dict()
    with pytest.raises(ValueError, match="num_yielded"):
        loader.load_state_dict({**sd, "num_yielded": -1})
    s = RandomSampler(range(4))
    with pytest.raises(ValueError, match="with a generator"):
        s.load_state_dict({"generator": None, "iteration": {"state": ferrum.Generator().get_state()}})


@pytest.mark.parametrize("stop", [0, 5, 13])
def test_replacement_sampler_resumes(stop):
    """Draws with replacement (a step-based recipe's loader: one long epoch of random windows)."""
    def make(seed=11):
        ds = _ds()
        g = ferrum.Generator().manual_seed(seed)
        s = RandomSampler(ds, replacement=True, num_samples=52, generator=g)
        return DataLoader(ds, batch_size=4, sampler=s)

    straight = _epochs(make(), 2)
    a = make()
    it = iter(a)
    head = [next(it)[0].tolist() for _ in range(stop)]
    sd = a.state_dict()
    b = make(seed=0)
    b.load_state_dict(sd)
    assert [head + [x[0].tolist() for x in b]] + _epochs(b, 1) == straight
