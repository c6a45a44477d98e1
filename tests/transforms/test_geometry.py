"""rotate / affine / RandomRotation / RandomAffine (transforms/geometry.py): torchvision's geometry."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import transforms as T
from ferrum.transforms import InterpolationMode
from ferrum.transforms import functional as F

A = np.arange(2 * 5 * 5, dtype=np.float32).reshape(2, 5, 5)
BILINEAR = InterpolationMode.BILINEAR


@pytest.mark.parametrize("mode", [InterpolationMode.NEAREST, BILINEAR])
def test_quarter_turns_and_identity(mode):
    x = ferrum.tensor(A)
    for k in (1, 2, -1):
        np.testing.assert_allclose(F.rotate(x, 90 * k, mode).numpy(), np.rot90(A, k, axes=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(F.rotate(x, 0, mode).numpy(), A, atol=1e-5)
    np.testing.assert_allclose(F.affine(x, 0, [0, 0], 1.0, 0, mode).numpy(), A, atol=1e-5)


def test_translation_and_fill():
    x = ferrum.tensor(A)
    t = F.affine(x, 0, [2, -1], 1.0, 0).numpy()  # right by 2, up by 1
    want = np.zeros_like(A)
    want[:, :-1, 2:] = A[:, 1:, :-2]
    np.testing.assert_array_equal(t, want)
    t = F.affine(x, 0, [2, 0], 1.0, 0, fill=[7.0, 9.0]).numpy()
    assert (t[0, :, :2] == 7.0).all() and (t[1, :, :2] == 9.0).all()
    b = F.affine(x, 0, [2, 0], 1.0, 0, BILINEAR, fill=3.0).numpy()
    assert (b[:, :, :2] == 3.0).all() and np.allclose(b[:, :, 2:], A[:, :, :-2])


def test_scale_and_shear_move_the_corners():
    x = ferrum.zeros(1, 9, 9)
    x[0, 4, 6] = 1.0  # two pixels right of the centre
    s = F.affine(x, 0, [0, 0], 2.0, 0).numpy()[0]
    assert s[4, 8] == 1.0  # scale 2 about the centre: 2 -> 4 pixels from it
    r = F.affine(x, 90, [0, 0], 1.0, 0).numpy()[0]
    assert r[6, 4] == 1.0  # affine's angle turns clockwise on screen (torchvision's convention)
    rr = F.rotate(x, 90).numpy()[0]
    assert rr[2, 4] == 1.0  # rotate's is counter-clockwise
    # torchvision's forward matrix for a y-shear of 45 degrees maps (x, y) to (x, y - x)
    sh = F.affine(x, 0, [0, 0], 1.0, [0.0, 45.0]).numpy()[0]
    assert sh[2, 6] == 1.0 and sh.sum() == 1.0
    x2 = ferrum.zeros(1, 9, 9)
    x2[0, 6, 4] = 1.0  # two pixels below the centre: an x-shear maps (x, y) to (x - y, y)
    assert F.affine(x2, 0, [0, 0], 1.0, [45.0, 0.0]).numpy()[0, 6, 2] == 1.0


def test_expand_and_layouts():
    x = ferrum.tensor(np.ones((1, 6, 8), np.float32))
    assert tuple(F.rotate(x, 90, expand=True).shape) == (1, 8, 6)
    assert tuple(F.rotate(x, 45, expand=True).shape) == (1, 10, 10)
    u = ferrum.tensor((np.random.default_rng(0).random((7, 7, 3)) * 255).astype(np.uint8))
    r = F.rotate(u, 90)
    assert r.dtype == ferrum.uint8 and tuple(r.shape) == (7, 7, 3)
    np.testing.assert_array_equal(r.numpy(), np.rot90(u.numpy(), 1, axes=(0, 1)))


def test_random_transforms():
    x = ferrum.tensor(A)
    assert ferrum.equal(T.RandomRotation((90, 90))(x), F.rotate(x, 90))
    ferrum.manual_seed(0)
    y = T.RandomRotation(30, fill=0)(x)
    assert tuple(y.shape) == (2, 5, 5)
    for _ in range(20):
        angle, (tx, ty), s, (shx, shy) = T.RandomAffine.get_params((-10, 10), (0.2, 0.4), (0.8, 1.2),
                                                                   (-5, 5, -3, 3), [10, 20])
        assert -10 <= angle <= 10 and abs(tx) <= 2 and abs(ty) <= 8 and 0.8 <= s <= 1.2
        assert -5 <= shx <= 5 and -3 <= shy <= 3
    out = T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10)(x)
    assert tuple(out.shape) == (2, 5, 5)
    mnist = T.Compose([T.RandomRotation(10), T.RandomAffine(0, translate=(0.1, 0.1)), T.ToTensor()])
    img = mnist(ferrum.tensor(np.zeros((28, 28, 1), np.uint8)))
    assert tuple(img.shape) == (1, 28, 28) and img.dtype == ferrum.float32


def test_bad_input():
    x = ferrum.tensor(A)
    with pytest.raises(ValueError):
        T.RandomRotation(-5)
    with pytest.raises(ValueError):
        T.RandomAffine(0, translate=(1.5, 0))
    with pytest.raises(ValueError):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError):
        F.affine(x, 0, [1], 1.0, 0)
    with pytest.raises(TypeError):
        F.rotate(x, "90")
    with pytest.raises(NotImplementedError):  # as ferrum's other transforms: no bicubic here
        F.rotate(x, 10, InterpolationMode.BICUBIC)
