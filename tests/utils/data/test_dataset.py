"""Datasets (TensorDataset, ConcatDataset, ChainDataset, Subset, StackDataset) and random_split,
checked against torch.utils.data on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum as F
from ferrum.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from tests.helpers import npv


def _raises_like(exc_type, msg, fn):
    with pytest.raises(exc_type) as info:
        fn()
    assert str(info.value) == msg


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


def _torch_twins(torch):
    class TSquares(torch.utils.data.Dataset):
        def __init__(self, n):
            self.n = n

        def __getitem__(self, i):
            return i * i

        def __len__(self):
            return self.n

    class TStream(torch.utils.data.IterableDataset):
        def __init__(self, items):
            self.items = items

        def __iter__(self):
            return iter(self.items)

    return TSquares, TStream


# --------------------------------------------------------------------------- base classes
def test_dataset_base_errors(torch):
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        torch.utils.data.Dataset()[0]
    with pytest.raises(TypeError):
        len(Dataset())
    with pytest.raises(TypeError):
        len(Stream([1, 2]))  # no __len__ on an IterableDataset, as in torch
    with pytest.raises(TypeError):
        len(_torch_twins(torch)[1]([1, 2]))


def test_add_builds_concat_and_chain():
    c = Squares(3) + Squares(2)
    assert isinstance(c, ConcatDataset) and len(c) == 5
    assert [c[i] for i in range(5)] == [0, 1, 4, 0, 1]
    ch = Stream([1, 2]) + Stream([3])
    assert isinstance(ch, ChainDataset) and list(ch) == [1, 2, 3]
    assert list(ch + Stream([4])) == [1, 2, 3, 4]


# --------------------------------------------------------------------------- TensorDataset
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_tensor_dataset_matches_torch(torch, dtype):
    x = np.arange(24, dtype=dtype).reshape(6, 2, 2)
    y = np.arange(6)
    fd = TensorDataset(F.from_numpy(x), F.from_numpy(y))
    td = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    assert len(fd) == len(td) == 6
    for i in [0, 3, 5, -1, -6]:
        fs, ts = fd[i], td[i]
        assert isinstance(fs, tuple) and len(fs) == 2
        for a, b in zip(fs, ts):
            np.testing.assert_array_equal(npv(a), b.numpy())
            assert npv(a).dtype == b.numpy().dtype
    # slices and index lists go straight to the tensors
    np.testing.assert_array_equal(npv(fd[1:4][0]), td[1:4][0].numpy())
    np.testing.assert_array_equal(npv(fd[[0, 2]][1]), td[[0, 2]][1].numpy())
    with pytest.raises(IndexError):
        fd[6]


def test_tensor_dataset_size_mismatch(torch):
    _raises_like(AssertionError, "Size mismatch between tensors",
                 lambda: TensorDataset(F.zeros(3, 2), F.zeros(4)))
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        torch.utils.data.TensorDataset(torch.zeros(3, 2), torch.zeros(4))


# --------------------------------------------------------------------------- ConcatDataset
def test_concat_dataset_matches_torch(torch):
    TSquares, _ = _torch_twins(torch)
    sizes = [3, 0, 5, 2]
    fc = ConcatDataset([Squares(n) for n in sizes])
    tc = torch.utils.data.ConcatDataset([TSquares(n) for n in sizes])
    assert fc.cumulative_sizes == tc.cumulative_sizes == [3, 3, 8, 10]
    assert len(fc) == len(tc) == 10
    for i in range(-10, 10):
        assert fc[i] == tc[i], i
    for bad in (-11, -100):
        _raises_like(ValueError, "absolute value of index should not exceed dataset length",
                     lambda b=bad: fc[b])
        with pytest.raises(ValueError):
            tc[bad]
    with pytest.raises(IndexError):
        fc[10]
    with pytest.raises(IndexError):
        tc[10]


def test_concat_dataset_errors():
    _raises_like(AssertionError, "datasets should not be an empty iterable", lambda: ConcatDataset([]))
    _raises_like(AssertionError, "ConcatDataset does not support IterableDataset",
                 lambda: ConcatDataset([Squares(2), Stream([1])]))
    # a generator of datasets is accepted (materialised once)
    assert len(ConcatDataset(Squares(n) for n in (1, 2))) == 3


def test_concat_of_tensor_datasets():
    a = TensorDataset(F.arange(4))
    b = TensorDataset(F.arange(10, 13))
    c = a + b
    assert [int(c[i][0]) for i in range(len(c))] == [0, 1, 2, 3, 10, 11, 12]


# --------------------------------------------------------------------------- ChainDataset
def test_chain_dataset_matches_torch(torch):
    _, TStream = _torch_twins(torch)
    parts = [[1, 2], [], [3, 4, 5]]
    fch = ChainDataset([Stream(p) for p in parts])
    tch = torch.utils.data.ChainDataset([TStream(p) for p in parts])
    assert list(fch) == list(tch) == [1, 2, 3, 4, 5]
    with pytest.raises(TypeError):  # the parts have no __len__
        len(fch)


def test_chain_dataset_len_and_errors():
    class Sized(Stream):
        def __len__(self):
            return len(self.items)

    assert len(ChainDataset([Sized([1, 2]), Sized([3])])) == 3
    bad = ChainDataset([Sized([1]), Squares(2)])
    _raises_like(AssertionError, "ChainDataset only supports IterableDataset", lambda: list(bad))
    _raises_like(AssertionError, "ChainDataset only supports IterableDataset", lambda: len(bad))


# --------------------------------------------------------------------------- Subset
def test_subset_matches_torch(torch):
    TSquares, _ = _torch_twins(torch)
    idx = [7, 2, 2, 9, 0]
    fs, ts = Subset(Squares(10), idx), torch.utils.data.Subset(TSquares(10), idx)
    assert len(fs) == len(ts) == 5
    assert [fs[i] for i in range(-5, 5)] == [ts[i] for i in range(-5, 5)]
    assert fs.__getitems__([4, 0, 1]) == ts.__getitems__([4, 0, 1]) == [0, 49, 4]
    with pytest.raises(IndexError):
        fs[5]


def test_subset_list_index_and_batched_parent():
    t = F.arange(10) * 10
    s = Subset(TensorDataset(t), [9, 1, 5])
    np.testing.assert_array_equal(npv(s[[0, 2]][0]), [90, 50])

    class Batched(Squares):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [-i for i in indices]

    b = Batched(10)
    assert Subset(b, [3, 4, 5]).__getitems__([2, 0]) == [-5, -3]
    assert Batched.calls == [[5, 3]]


def test_subset_subclass_must_override_getitems(torch):
    class Bad(Subset):
        def __getitem__(self, i):
            return 0

    class Good(Bad):
        def __getitems__(self, indices):
            return [0 for _ in indices]

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(Squares(3), [0])
    assert Good(Squares(3), [0, 1]).__getitems__([0, 1]) == [0, 0]

    class TBad(torch.utils.data.Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError):
        TBad(_torch_twins(torch)[0](3), [0])


# --------------------------------------------------------------------------- StackDataset
def test_stack_dataset_tuple_and_dict(torch):
    TSquares, _ = _torch_twins(torch)
    ft = StackDataset(Squares(4), list("abcd"))
    tt = torch.utils.data.StackDataset(TSquares(4), list("abcd"))
    assert len(ft) == len(tt) == 4
    assert [ft[i] for i in range(4)] == [tt[i] for i in range(4)]
    assert ft.__getitems__([3, 1]) == tt.__getitems__([3, 1]) == [(9, "d"), (1, "b")]
    fdict = StackDataset(x=Squares(3), y=[10, 11, 12])
    tdict = torch.utils.data.StackDataset(x=TSquares(3), y=[10, 11, 12])
    assert fdict[2] == tdict[2] == {"x": 4, "y": 12}
    assert fdict.__getitems__([0, 2]) == tdict.__getitems__([0, 2])


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Squares(2), y=Squares(2))
    _raises_like(ValueError, "At least one dataset should be passed", lambda: StackDataset())
    _raises_like(ValueError, "Size mismatch between datasets", lambda: StackDataset(Squares(2), Squares(3)))
    _raises_like(ValueError, "Size mismatch between datasets",
                 lambda: StackDataset(a=Squares(2), b=Squares(3)))

    class Short(Squares):
        def __getitems__(self, indices):
            return [0]

    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2, got 1"):
        StackDataset(Short(3), Squares(3)).__getitems__([0, 1])


# --------------------------------------------------------------------------- random_split
def _torch_split_lengths(torch, n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [len(s) for s in torch.utils.data.random_split(range(n), lengths)]


@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (10, [10, 0]), (30, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.25, 0.25, 0.5]),
    (100, [0.1] * 10), (5, [1.0]), (3, [0.2, 0.2, 0.2, 0.2, 0.2]), (1001, [0.8, 0.1, 0.1]),
])
def test_random_split_partition(torch, n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = random_split(range(n), lengths, generator=F.Generator().manual_seed(7))
    assert [len(s) for s in splits] == _torch_split_lengths(torch, n, lengths)
    got = [s.dataset[i] for s in splits for i in s.indices]
    assert sorted(got) == list(range(n))  # disjoint and complete
    assert all(isinstance(s, Subset) for s in splits)


def test_random_split_deterministic_with_generator():
    a = random_split(range(50), [0.5, 0.5], generator=F.Generator().manual_seed(3))
    b = random_split(range(50), [25, 25], generator=F.Generator().manual_seed(3))
    c = random_split(range(50), [25, 25], generator=F.Generator().manual_seed(4))
    assert [s.indices for s in a] == [s.indices for s in b]
    assert [s.indices for s in a] != [s.indices for s in c]
    F.manual_seed(11)
    d = random_split(range(50), [25, 25])
    F.manual_seed(11)
    e = random_split(range(50), [25, 25])
    assert [s.indices for s in d] == [s.indices for s in e]


def test_random_split_errors_and_warning(torch):
    _raises_like(ValueError, "Sum of input lengths does not equal the length of the input dataset!",
                 lambda: random_split(range(10), [3, 3]))
    # a negative fraction list whose sum is still 1 reaches the per-fraction check
    _raises_like(ValueError, "Fraction at index 0 is not between 0 and 1",
                 lambda: random_split(range(10), [-0.5, 1.5]))
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        torch.utils.data.random_split(range(10), [-0.5, 1.5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        random_split(range(2), [0.9, 0.05, 0.05])
    assert [str(w.message) for w in caught] == [
        f"Length of split at index {i} is 0. This might result in an empty dataset." for i in (1, 2)]
    assert all(w.filename == __file__ for w in caught)  # reported at the caller


# --------------------------------------------------------------------------------------------------
# TensorDataset.__getitems__: one gather per tensor, equal to collating the samples


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and tuple(x.shape) == tuple(y.shape)
        assert npv(x).tobytes() == npv(y).tobytes()


def test_tensor_dataset_getitems_equals_collated_samples():
    from ferrum.utils.data import default_collate
    from ferrum.utils.data._collate import CollatedBatch

    x = F.randn(10, 3, 2)
    y = F.arange(10)
    m = F.rand(10) > 0.5
    ds = TensorDataset(x, y, m)
    for idx in ([3], [9, 0, -1, 4], list(range(10))):
        got = ds.__getitems__(idx)
        assert isinstance(got, CollatedBatch) and len(got) == len(idx)
        _same(default_collate(got), default_collate([ds[i] for i in idx]))
        _same(got[0], ds[idx[0]])
    assert ds.__getitems__([]) == []
    with pytest.raises(IndexError, match="TensorDataset index 10"):
        ds.__getitems__([10])
    with pytest.raises(TypeError, match="integers"):
        ds.__getitems__(["a"])


def test_tensor_dataset_getitems_keeps_the_graph():
    from ferrum.utils.data import default_collate

    w = F.randn(6, 2, requires_grad=True)
    ds = TensorDataset(w, F.arange(6))
    batch = default_collate(ds.__getitems__([1, 4]))
    assert batch[0].requires_grad and batch[0].grad_fn is not None
    batch[0].sum().backward()
    np.testing.assert_array_equal(npv(w.grad)[:, 0], [0, 1, 0, 0, 1, 0])
