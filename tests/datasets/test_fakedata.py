"""FakeData (datasets/fakedata.py): torchvision's interface, deterministic per index, loader-ready."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import transforms
from ferrum.datasets import FakeData


def test_samples_shapes_and_ranges():
    ds = FakeData(size=12, image_size=(3, 10, 8), num_classes=5, transform=transforms.ToTensor())
    assert len(ds) == 12
    img, target = ds[3]
    assert tuple(img.shape) == (3, 10, 8) and img.dtype == ferrum.float32
    assert 0.0 <= img.min().item() and img.max().item() <= 1.0 and img.std().item() > 0.2
    assert isinstance(target, int) and 0 <= target < 5
    targets = {ds[i][1] for i in range(12)}
    assert len(targets) > 1


def test_deterministic_per_index_and_offset():
    a, b = FakeData(4, (1, 4, 4)), FakeData(4, (1, 4, 4))
    assert ferrum.equal(a[2][0], b[2][0]) and a[2][1] == b[2][1]
    assert not ferrum.equal(a[1][0], a[2][0])
    c = FakeData(4, (1, 4, 4), random_offset=1)
    assert ferrum.equal(c[1][0], a[2][0])
    raw = a[0][0]
    assert raw.dtype == ferrum.uint8 and tuple(raw.shape) == (4, 4, 1)  # the 8-bit HWC image


def test_through_dataloader_and_transforms():
    tf = transforms.Compose([transforms.RandomResizedCrop(6), transforms.RandomHorizontalFlip(),
                             transforms.ToTensor(), transforms.Normalize((0.485, 0.456, 0.406),
                                                                         (0.229, 0.224, 0.225))])
    ds = FakeData(10, (3, 12, 12), 1000, tf)
    x, y = next(iter(ferrum.utils.data.DataLoader(ds, batch_size=4, shuffle=True)))
    assert tuple(x.shape) == (4, 3, 6, 6) and y.dtype == ferrum.int64 and tuple(y.shape) == (4,)
    assert np.isfinite(x.numpy()).all()


def test_bad_input_and_repr():
    ds = FakeData(3, (1, 2, 2), transform=transforms.ToTensor())
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(IndexError):
        ds[-1]
    with pytest.raises(TypeError):
        ds["0"]
    with pytest.raises(ValueError):
        FakeData(3, (2, 2))
    assert repr(ds).splitlines()[:2] == ["Dataset FakeData", "    Number of datapoints: 3"]
