"""The image data sets' batched fetch (``__getitems__``, in ``VisionDataset._items``): for every data
set and transform it equals ``default_collate([ds[i] for i in indices])`` exactly, and a DataLoader
over it gives the same batches as one over the per-sample path."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum.datasets import CIFAR10, KMNIST, MNIST, FashionMNIST
from ferrum.datasets._idx import write_idx
from ferrum.transforms import Compose, Lambda, Normalize, PILToTensor, RandomHorizontalFlip, ToTensor
from ferrum.utils.data import DataLoader, StackDataset, Subset, default_collate
from ferrum.utils.data._collate import CollatedBatch

from .test_cifar import _c10_binary_files, _write

RNG = np.random.default_rng(7)
MNIST_STATS = ((0.1307,), (0.3081,))
CIFAR_STATS = ((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))


def _mnist_like(cls, root, n=20):
    raw = root / cls.__name__ / "raw"
    for split, m in (("train", n), ("t10k", 3)):
        write_idx(raw / f"{split}-images-idx3-ubyte", RNG.integers(0, 256, (m, 28, 28)).astype(np.uint8))
        write_idx(raw / f"{split}-labels-idx1-ubyte", RNG.integers(0, 10, m).astype(np.uint8))
    return lambda **kw: cls(root, **kw)


def _assert_same(a, b):
    """Exactly equal batches: same structure, types, dtypes, shapes and bits."""
    assert type(a) is type(b)
    if isinstance(a, ferrum.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.numpy().tobytes() == b.numpy().tobytes()
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


TRANSFORMS = {
    "none": lambda stats: None,
    "to_tensor": lambda stats: ToTensor(),
    "pil_to_tensor": lambda stats: PILToTensor(),
    "to_tensor_normalize": lambda stats: Compose([ToTensor(), Normalize(*stats)]),
    "normalize_inplace": lambda stats: Compose([ToTensor(), Normalize(*stats, inplace=True)]),
    "lambda (per sample)": lambda stats: Compose([ToTensor(), Lambda(lambda x: x * 2)]),
}
INDICES = [[0], [3, 1, 4, 1, 5], [-1, 0, -20, 7], list(range(20))]


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
@pytest.mark.parametrize("tf", list(TRANSFORMS))
def test_mnist_family_batched_fetch_is_exact(cls, tf, tmp_path):
    make = _mnist_like(cls, tmp_path)
    ds = make(transform=TRANSFORMS[tf](MNIST_STATS))
    for idx in INDICES:
        got = ds.__getitems__(idx)
        assert len(got) == len(idx)
        _assert_same(default_collate(got), default_collate([ds[i] for i in idx]))
    if tf in ("to_tensor_normalize", "none"):
        assert isinstance(ds.__getitems__([1, 2]), CollatedBatch)  # the vectorised path was taken


def test_cifar_batched_fetch_is_exact(tmp_path):
    _write(tmp_path / "cifar-10-batches-bin", _c10_binary_files()[0])
    for tf in TRANSFORMS:
        ds = CIFAR10(tmp_path, transform=TRANSFORMS[tf](CIFAR_STATS))
        for idx in ([2, 0, 9], [-1], list(range(10))):
            _assert_same(default_collate(ds.__getitems__(idx)), default_collate([ds[i] for i in idx]))
    ds = CIFAR10(tmp_path, transform=Compose([ToTensor(), Normalize(*CIFAR_STATS)]))
    batch = default_collate(ds.__getitems__([4, 5]))
    assert tuple(batch[0].shape) == (2, 3, 32, 32) and batch[1].dtype == ferrum.int64
    ds.targets = [float(t) for t in ds.targets]  # labels of another type: collated as per sample
    _assert_same(default_collate(ds.__getitems__([1, 3])), default_collate([ds[1], ds[3]]))
    assert default_collate(ds.__getitems__([1, 3]))[1].dtype == ferrum.float64


def test_target_transform_and_random_transforms_take_the_per_sample_path(tmp_path):
    make = _mnist_like(MNIST, tmp_path)
    ds = make(transform=ToTensor(), target_transform=lambda y: y + 100)
    got = ds.__getitems__([2, 3])
    assert isinstance(got, list)
    _assert_same(default_collate(got), default_collate([ds[2], ds[3]]))
    ferrum.manual_seed(3)
    flip = make(transform=Compose([RandomHorizontalFlip(), ToTensor()]))
    a = default_collate(flip.__getitems__(list(range(20))))
    ferrum.manual_seed(3)
    b = default_collate([flip[i] for i in range(20)])
    _assert_same(a, b)  # the same random draws, in the same order


def test_batched_fetch_errors_match_per_sample(tmp_path):
    ds = _mnist_like(MNIST, tmp_path)(transform=ToTensor())
    with pytest.raises(IndexError, match="MNIST index 20 is out of range"):
        ds.__getitems__([0, 20])
    with pytest.raises(IndexError, match="MNIST index -21"):
        ds.__getitems__([-21])
    with pytest.raises(TypeError, match="MNIST indices must be integers, not float"):
        ds.__getitems__([0, 1.5])
    with pytest.raises(TypeError, match="not bool"):
        ds.__getitems__([True, False])
    assert ds.__getitems__([]) == []


def test_collated_batch_is_still_the_samples(tmp_path):
    ds = _mnist_like(MNIST, tmp_path)(transform=Compose([ToTensor(), Normalize(*MNIST_STATS)]))
    got = ds.__getitems__([4, 2, 9])
    assert isinstance(got, CollatedBatch) and len(got) == 3
    for (img, y), i in zip(got, [4, 2, 9]):
        ref_img, ref_y = ds[i]
        _assert_same(img, ref_img)
        assert type(y) is int and y == ref_y
    # a custom collate_fn receives the samples, as with the per-sample path
    loader = DataLoader(ds, batch_size=4, collate_fn=lambda samples: [type(s[1]) for s in samples])
    assert next(iter(loader)) == [int] * 4


def test_dataloader_batches_equal_the_per_sample_path(tmp_path):
    ds = _mnist_like(MNIST, tmp_path)(transform=Compose([ToTensor(), Normalize(*MNIST_STATS)]))

    class PerSample(ferrum.utils.data.Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds[i]

    def batches(d):
        return list(DataLoader(d, batch_size=6, shuffle=True, generator=ferrum.Generator().manual_seed(1)))

    fast, slow = batches(ds), batches(PerSample())
    assert len(fast) == len(slow) == 4
    for a, b in zip(fast, slow):
        _assert_same(a, b)
    sub = Subset(ds, [5, 6, 7])
    _assert_same(next(iter(DataLoader(sub, batch_size=3))), default_collate([ds[5], ds[6], ds[7]]))
    stacked = StackDataset(ds, ds)
    pair = next(iter(DataLoader(stacked, batch_size=2)))
    _assert_same(pair, default_collate([(ds[0], ds[0]), (ds[1], ds[1])]))
