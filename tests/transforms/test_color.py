"""Colour and erasing transforms (transforms/color.py): torchvision's formulas, layouts, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import transforms as T
from ferrum.transforms import color
from ferrum.transforms import functional as F

RNG = np.random.default_rng(0)
X = RNG.random((3, 6, 7)).astype(np.float32)
W = np.array([0.2989, 0.587, 0.114], np.float32)[:, None, None]


def _grey(x):
    return (x * W).sum(0, keepdims=True)


def test_grayscale_weights_and_channels():
    g = F.rgb_to_grayscale(ferrum.tensor(X)).numpy()
    np.testing.assert_allclose(g, _grey(X), rtol=1e-6)
    g3 = T.Grayscale(3)(ferrum.tensor(X)).numpy()
    assert g3.shape == (3, 6, 7) and (g3 == g3[:1]).all()
    one = ferrum.tensor(X[:1])
    assert ferrum.equal(F.rgb_to_grayscale(one), one)
    with pytest.raises(ValueError):
        F.rgb_to_grayscale(ferrum.tensor(X), 2)
    with pytest.raises(TypeError):
        F.rgb_to_grayscale(ferrum.rand(2, 4, 4))


@pytest.mark.parametrize("f", [0.0, 0.4, 1.0, 1.8])
def test_blends(f):
    x = ferrum.tensor(X)
    np.testing.assert_allclose(F.adjust_brightness(x, f).numpy(), np.clip(f * X, 0, 1), rtol=1e-6, atol=1e-7)
    m = _grey(X).mean()
    np.testing.assert_allclose(F.adjust_contrast(x, f).numpy(), np.clip(f * X + (1 - f) * m, 0, 1),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F.adjust_saturation(x, f).numpy(), np.clip(f * X + (1 - f) * _grey(X), 0, 1),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        F.adjust_brightness(x, -0.1)


def test_uint8_blend_truncates_like_torchvision():
    u = (RNG.random((3, 4, 4)) * 255).astype(np.uint8)
    got = F.adjust_brightness(ferrum.tensor(u), 0.77).numpy()
    want = np.trunc(np.clip(0.77 * u.astype(np.float32), 0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(got, want)


def test_hue():
    x = ferrum.tensor(X)
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).numpy(), X, atol=1e-6)
    red = ferrum.zeros(3, 2, 2)
    red[0] = 1.0
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).numpy()[:, 0, 0], [0, 1, 0], atol=1e-5)  # -> green
    np.testing.assert_allclose(F.adjust_hue(red, -1 / 3).numpy()[:, 0, 0], [0, 0, 1], atol=1e-5)  # -> blue
    back = color._hsv2rgb(color._rgb2hsv(X))
    np.testing.assert_allclose(back, X, atol=1e-6)
    shifted = F.adjust_hue(F.adjust_hue(x, 0.25), -0.25).numpy()
    np.testing.assert_allclose(shifted, X, atol=1e-5)
    with pytest.raises(ValueError):
        F.adjust_hue(x, 0.6)


def test_dataset_layout_is_kept():
    u = ferrum.tensor((RNG.random((8, 9, 3)) * 255).astype(np.uint8))  # (H, W, C) as data sets give it
    for tf in (T.ColorJitter(0.3, 0.3, 0.3, 0.1), T.Grayscale(3), T.RandomGrayscale(1.0)):
        y = tf(u)
        assert tuple(y.shape) == (8, 9, 3) and y.dtype == ferrum.uint8
    assert tuple(T.Grayscale()(u).shape) == (8, 9, 1)
    chw = F.adjust_saturation(u.permute(2, 0, 1), 0.3).numpy()
    np.testing.assert_array_equal(F.adjust_saturation(u, 0.3).numpy(), chw.transpose(1, 2, 0))


def test_color_jitter_ranges_and_repr():
    cj = T.ColorJitter(brightness=0.5, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.contrast is None and cj.hue == (-0.1, 0.1)
    x = ferrum.tensor(X * 0.5)
    y = T.ColorJitter(brightness=0.5)(x).numpy()
    ratio = y / (X * 0.5)
    assert 0.5 <= ratio.min() and ratio.max() <= 1.5 and np.ptp(ratio) < 1e-5  # one factor for all
    assert repr(cj) == "ColorJitter(brightness=(0.5, 1.5), contrast=None, saturation=None, hue=(-0.1, 0.1))"
    with pytest.raises(ValueError):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError):
        T.ColorJitter(brightness=-1)
    ferrum.manual_seed(3)
    a = T.ColorJitter(0.4, 0.4, 0.4, 0.1)(x)
    ferrum.manual_seed(3)
    assert ferrum.equal(a, T.ColorJitter(0.4, 0.4, 0.4, 0.1)(x))  # reproducible under manual_seed


@pytest.mark.parametrize("value", [0, (0.1, 0.2, 0.3), "random"])
def test_random_erasing(value):
    x = ferrum.ones(3, 20, 24) * 5.0
    y = T.RandomErasing(p=1.0, scale=(0.05, 0.2), ratio=(0.5, 2.0), value=value)(x)
    changed = (y.numpy() != 5.0).any(0)
    rows, cols = np.nonzero(changed)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert changed.sum() == h * w  # one rectangle
    assert 0.04 * 480 <= h * w <= 0.21 * 480 and 0.3 <= h / w <= 3.0
    assert (x.numpy() == 5.0).all()  # not in place by default
    if value == (0.1, 0.2, 0.3):
        np.testing.assert_allclose(y.numpy()[:, rows[0], cols[0]], [0.1, 0.2, 0.3], rtol=1e-6)
    assert ferrum.equal(T.RandomErasing(p=0.0)(x), x)
    z = x.clone()
    assert T.RandomErasing(p=1.0, inplace=True)(z) is z


def test_random_erasing_bad_input():
    with pytest.raises(ValueError):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError):
        T.RandomErasing(p=1.5)
    with pytest.raises(ValueError):
        T.RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ValueError):
        T.RandomErasing(p=1.0, value=(1.0, 2.0))(ferrum.ones(3, 8, 8))


def test_convert_image_dtype():
    u = ferrum.tensor(np.array([[[0, 127, 255]]], np.uint8))
    np.testing.assert_allclose(F.convert_image_dtype(u).numpy(), [[[0, 127 / 255, 1.0]]], rtol=1e-6)
    f = ferrum.tensor(np.array([[[0.0, 0.5, 1.0]]], np.float32))
    assert F.convert_image_dtype(f, ferrum.uint8).tolist() == [[[0, 127, 255]]]
    assert T.ConvertImageDtype(ferrum.float64)(f).dtype == ferrum.float64
    with pytest.raises(RuntimeError):
        F.convert_image_dtype(f, ferrum.int64)


def test_to_pil_image_round_trip():
    x = ferrum.tensor(np.array([[[0.0, 0.5, 1.0, 1.2]], [[0.1, 0.2, 0.3, -0.5]], [[1.0, 1.0, 0.0, 0.0]]],
                               np.float32))
    img = T.ToPILImage()(x)
    assert img.dtype == ferrum.uint8 and tuple(img.shape) == (1, 4, 3)
    assert img.numpy()[0, :, 0].tolist() == [0, 127, 255, 255]  # truncated; 1.2 saturates
    assert img.numpy()[0, 3, 1] == 0  # -0.5 saturates at 0
    back = T.ToTensor()(img)
    assert tuple(back.shape) == (3, 1, 4)
    pipeline = T.Compose([T.ToPILImage(), T.RandomCrop(24, padding=4), T.ToTensor()])
    assert tuple(pipeline(ferrum.rand(3, 28, 28)).shape) == (3, 24, 24)
    grey = F.to_pil_image(ferrum.rand(5, 6))
    assert tuple(grey.shape) == (5, 6, 1)
    with pytest.raises(ValueError):
        F.to_pil_image(ferrum.rand(3, 4, 4), mode="L")
    with pytest.raises(TypeError):
        F.to_pil_image([1, 2])
