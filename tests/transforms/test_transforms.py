"""ferrum.transforms against NumPy references, torch.nn.functional.interpolate and explicit arrays.

torchvision is not a test dependency: where it is importable, a few checks also compare with it.
"""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import transforms as T
from ferrum.transforms import functional as F


def _u8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _np(x):
    return x.numpy() if isinstance(x, ferrum.Tensor) else x


# --- ToTensor / PILToTensor ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3)])
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_to_tensor_uint8(shape, kind):
    a = _u8(shape)
    x = T.ToTensor()(ferrum.from_numpy(a) if kind == "tensor" else a)
    ref = (a[None] if a.ndim == 2 else a.transpose(2, 0, 1)).astype(np.float32) / np.float32(255)
    assert isinstance(x, ferrum.Tensor) and x.dtype == ferrum.float32
    assert tuple(x.shape) == ref.shape
    np.testing.assert_array_equal(x.numpy(), ref)  # exactly k/255, as torch's div(255)
    assert x.numpy().flags.c_contiguous
    assert 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0


def test_to_tensor_matches_torch_division(torch):
    a = np.arange(256, dtype=np.uint8).reshape(16, 16)
    ref = torch.from_numpy(a)[None].to(torch.float32).div(255).numpy()
    np.testing.assert_array_equal(T.ToTensor()(a).numpy(), ref)


def test_to_tensor_other_dtypes_and_default_dtype():
    a = np.random.default_rng(0).random((4, 6, 2))
    x = T.ToTensor()(a)
    assert x.dtype == ferrum.float64
    np.testing.assert_array_equal(x.numpy(), a.transpose(2, 0, 1))
    x.numpy()[0, 0, 0] = 5.0  # a copy, not a view
    assert a[0, 0, 0] != 5.0
    prev = ferrum.get_default_dtype()
    ferrum.set_default_dtype(ferrum.float64)
    try:
        assert T.ToTensor()(_u8((3, 3))).dtype == ferrum.float64
    finally:
        ferrum.set_default_dtype(prev)


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_to_tensor_keeps_dtype():
    a = _u8((4, 5, 3))
    x = T.PILToTensor()(a)
    assert x.dtype == ferrum.uint8
    np.testing.assert_array_equal(x.numpy(), a.transpose(2, 0, 1))
    assert T.ToImageTensor is T.PILToTensor


# --- Normalize -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_formula(dtype):
    x = np.random.default_rng(1).random((3, 4, 5)).astype(dtype)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    t = ferrum.from_numpy(x.copy())
    out = T.Normalize(mean, std)(t)
    ref = (x - np.asarray(mean, dtype)[:, None, None]) / np.asarray(std, dtype)[:, None, None]
    assert out.dtype == t.dtype
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    np.testing.assert_array_equal(t.numpy(), x)  # not in place
    # the cached-statistics path (second call) gives the same
    np.testing.assert_array_equal(T.Normalize(mean, std)(t).numpy(), out.numpy())


def test_normalize_matches_torch(torch):
    x = np.random.default_rng(2).random((2, 3, 4, 4)).astype(np.float32)
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    m = torch.tensor(mean).view(-1, 1, 1)
    s = torch.tensor(std).view(-1, 1, 1)
    ref = ((torch.from_numpy(x) - m) / s).numpy()
    np.testing.assert_array_equal(T.Normalize(mean, std)(ferrum.from_numpy(x)).numpy(), ref)


def test_normalize_inplace_and_single_channel():
    x = np.full((1, 2, 2), 0.5, np.float32)
    t = ferrum.from_numpy(x)
    out = T.Normalize((0.25,), (0.5,), inplace=True)(t)
    assert out is t
    np.testing.assert_array_equal(x, np.full((1, 2, 2), 0.5, np.float32))


def test_normalize_is_differentiable():
    x = ferrum.rand(2, 3, 3, dtype=ferrum.float64, requires_grad=True)
    norm = T.Normalize((0.5, 0.25), (2.0, 4.0))
    assert ferrum.autograd.gradcheck(lambda v: norm(v), (x,))
    out = norm(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0], 0.5)
    np.testing.assert_allclose(x.grad.numpy()[1], 0.25)


def test_normalize_errors():
    t = ferrum.rand(3, 4, 4)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5, 0.5, 0.5), (1.0, 0.0, 1.0))(t)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (0.5,))(ferrum.zeros(1, 4, 4, dtype=ferrum.uint8))
    with pytest.raises(TypeError, match="Tensor Image"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(ferrum.rand(4, 4))
    with pytest.raises(RuntimeError, match="channels"):
        T.Normalize((0.5, 0.5), (0.5, 0.5))(t)


# --- padding and cropping ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 0)])
def test_pad_modes_vs_numpy(mode, padding):
    x = np.random.default_rng(3).random((2, 5, 6)).astype(np.float32)
    l, t, r, b = ((padding,) * 4 if isinstance(padding, int)
                  else (padding * 2 if len(padding) == 2 else padding))
    kw = {"constant_values": 0.5} if mode == "constant" else {}
    ref = np.pad(x, ((0, 0), (t, b), (l, r)), mode=mode, **kw)
    out = F.pad(ferrum.from_numpy(x), padding, fill=0.5, padding_mode=mode)
    np.testing.assert_array_equal(out.numpy(), ref)


def test_pad_matches_torch(torch):
    x = np.random.default_rng(4).random((1, 3, 5, 6)).astype(np.float32)
    for mode, tmode in (("edge", "replicate"), ("reflect", "reflect"), ("constant", "constant")):
        ref = torch.nn.functional.pad(torch.from_numpy(x), (2, 1, 1, 2), mode=tmode).numpy()
        out = F.pad(ferrum.from_numpy(x), [2, 1, 1, 2], padding_mode=mode)
        np.testing.assert_array_equal(out.numpy(), ref)


def test_pad_hwc_array_and_per_channel_fill():
    a = _u8((3, 4, 3))
    out = F.pad(a, 1, fill=(10, 20, 30))
    assert isinstance(out, np.ndarray) and out.shape == (5, 6, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[1:-1, 1:-1], a)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])


def test_pad_errors():
    x = ferrum.rand(1, 4, 4)
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode"):
        T.RandomCrop(3, padding=1, padding_mode="wrap")
    with pytest.raises(TypeError, match="padding"):
        F.pad(x, 1.5)


def _reference_random_crop(x, size, padding, mode, rng_values):
    """NumPy reference: pad the whole image, then slice at offsets drawn as the transform draws."""
    pad = np.pad(x, ((0, 0), (padding, padding), (padding, padding)), mode=mode)
    th, tw = size
    i = int(rng_values[0] * (pad.shape[1] - th + 1))
    j = int(rng_values[1] * (pad.shape[2] - tw + 1))
    return pad[:, i:i + th, j:j + tw]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_vs_reference(mode):
    x = np.random.default_rng(5).random((1, 28, 28)).astype(np.float32)
    crop = T.RandomCrop(28, padding=2, padding_mode=mode)
    for seed in range(20):
        ferrum.manual_seed(seed)
        out = crop(ferrum.from_numpy(x))
        ferrum.manual_seed(seed)
        vals = ferrum.random.default_generator._np.random(2)
        np.testing.assert_array_equal(out.numpy(), _reference_random_crop(x, (28, 28), 2, mode, vals))


def test_random_crop_covers_all_offsets_and_is_seeded():
    x = ferrum.from_numpy(np.arange(16, dtype=np.float32).reshape(1, 4, 4) + 1)
    crop = T.RandomCrop(4, padding=1)
    padded = np.pad(x.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = {(i, j): padded[:, i:i + 4, j:j + 4] for i in range(3) for j in range(3)}
    seen = set()
    for _ in range(300):
        out = crop(x).numpy()
        hits = [k for k, w in windows.items() if np.array_equal(out, w)]
        assert len(hits) == 1
        seen.add(hits[0])
    assert seen == set(windows)
    ferrum.manual_seed(7)
    a = [crop(x).numpy() for _ in range(5)]
    ferrum.manual_seed(7)
    b = [crop(x).numpy() for _ in range(5)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_random_crop_uint8_mnist_image_and_hwc():
    img = ferrum.from_numpy(_u8((28, 28)))  # what MNIST.__getitem__ returns
    out = T.RandomCrop(24)(img)
    assert isinstance(out, ferrum.Tensor) and tuple(out.shape) == (24, 24) and out.dtype == ferrum.uint8
    cifar = ferrum.from_numpy(_u8((32, 32, 3)))  # what CIFAR10.__getitem__ returns: HWC
    out = T.RandomCrop(32, padding=4)(cifar)
    assert tuple(out.shape) == (32, 32, 3)
    arr = _u8((10, 12, 3))
    out = T.RandomCrop((6, 8))(arr)
    assert isinstance(out, np.ndarray) and out.shape == (6, 8, 3)


def test_random_crop_pad_if_needed_and_errors():
    x = ferrum.rand(1, 3, 5)
    out = T.RandomCrop((6, 6), pad_if_needed=True)(x)
    assert tuple(out.shape) == (1, 6, 6)
    out = T.RandomCrop((6, 6), pad_if_needed=True, padding_mode="edge")(x)
    assert tuple(out.shape) == (1, 6, 6)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(6)(x)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop.get_params(x, (6, 6))
    assert T.RandomCrop.get_params(x, (3, 5)) == (0, 0, 3, 5)


def test_crop_and_center_crop():
    x = np.arange(5 * 6, dtype=np.float32).reshape(1, 5, 6)
    t = ferrum.from_numpy(x)
    np.testing.assert_array_equal(F.crop(t, 1, 2, 3, 2).numpy(), x[:, 1:4, 2:4])
    out = F.crop(t, -1, -1, 3, 3).numpy()  # outside the image: zeros
    np.testing.assert_array_equal(out[:, 1:, 1:], x[:, :2, :2])
    assert out[:, 0].sum() == 0 and out[:, :, 0].sum() == 0
    # offsets round((5-3)/2) = 1 and round((6-3)/2) = round(1.5) = 2 (Python's rounding)
    np.testing.assert_array_equal(T.CenterCrop(3)(t).numpy(), x[:, 1:4, 2:5])
    np.testing.assert_array_equal(T.CenterCrop((4, 2))(t).numpy(), x[:, 0:4, 2:4])
    big = T.CenterCrop((7, 8))(t).numpy()
    assert big.shape == (1, 7, 8)
    np.testing.assert_array_equal(big[:, 1:6, 1:7], x)
    assert T.CenterCrop((5, 6))(t) is t


def test_center_crop_matches_torchvision_if_installed():
    tv = pytest.importorskip("torchvision")
    import torch
    x = torch.rand(3, 7, 9)
    for size in [(3, 4), (4, 3), 5, (8, 10)]:
        ref = tv.transforms.CenterCrop(size)(x).numpy()
        np.testing.assert_array_equal(T.CenterCrop(size)(ferrum.from_numpy(x.numpy())).numpy(), ref)


# --- flips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["chw", "hw", "hwc_array"])
def test_flips_p0_p1(layout):
    base = _u8((3, 5, 4))
    img = {"chw": ferrum.from_numpy(base.astype(np.float32)), "hw": ferrum.from_numpy(base[0]),
           "hwc_array": base.transpose(1, 2, 0).copy()}[layout]
    a = _np(img)
    w_axis, h_axis = {"chw": (-1, -2), "hw": (-1, -2), "hwc_array": (1, 0)}[layout]
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    assert T.RandomVerticalFlip(p=0.0)(img) is img
    np.testing.assert_array_equal(_np(T.RandomHorizontalFlip(p=1.0)(img)), np.flip(a, w_axis))
    np.testing.assert_array_equal(_np(T.RandomVerticalFlip(p=1.0)(img)), np.flip(a, h_axis))
    out = T.RandomHorizontalFlip(p=1.0)(img)
    assert type(out) is type(img)


def test_flip_probability_and_errors():
    x = ferrum.from_numpy(np.arange(4, dtype=np.float32).reshape(1, 1, 4))
    flips = sum(T.RandomHorizontalFlip(0.3)(x).numpy()[0, 0, 0] == 3 for _ in range(2000))
    assert 450 < flips < 750
    with pytest.raises(ValueError):
        T.RandomHorizontalFlip(1.5)


# --- Resize / RandomResizedCrop ------------------------------------------------------------------


def _bilinear_reference(x, oh, ow):
    """Hand-written bilinear (align_corners=False) on (C, H, W) in float64."""
    C, H, W = x.shape
    out = np.zeros((C, oh, ow))
    for i in range(oh):
        sy = max((i + 0.5) * H / oh - 0.5, 0.0)
        y0 = min(int(sy), H - 1)
        y1 = min(y0 + 1, H - 1)
        ly = sy - y0
        for j in range(ow):
            sx = max((j + 0.5) * W / ow - 0.5, 0.0)
            x0 = min(int(sx), W - 1)
            x1 = min(x0 + 1, W - 1)
            lx = sx - x0
            out[:, i, j] = ((1 - ly) * ((1 - lx) * x[:, y0, x0] + lx * x[:, y0, x1])
                            + ly * ((1 - lx) * x[:, y1, x0] + lx * x[:, y1, x1]))
    return out


@pytest.mark.parametrize("size", [(10, 14), (3, 4), (6, 13), (1, 1)])
def test_resize_bilinear_vs_hand_reference(size):
    x = np.random.default_rng(6).random((2, 6, 7))
    out = F.resize(ferrum.from_numpy(x), size, antialias=False).numpy()
    np.testing.assert_allclose(out, _bilinear_reference(x, *size), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [(34, 40), (9, 11), (17, 50), (5, 5)])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_bilinear_vs_torch(torch, dtype, size, antialias):
    x = np.random.default_rng(7).random((3, 17, 23)).astype(dtype)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode="bilinear",
                                          align_corners=False, antialias=antialias)[0].numpy()
    out = T.Resize(size, antialias=antialias)(ferrum.from_numpy(x))
    assert out.dtype == ferrum.from_numpy(x).dtype
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_resize_nearest_vs_torch(torch, mode):
    x = np.random.default_rng(8).random((2, 9, 13)).astype(np.float32)
    for size in [(18, 26), (4, 5), (9, 30), (7, 13)]:
        ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode=mode)[0].numpy()
        np.testing.assert_array_equal(F.resize(ferrum.from_numpy(x), size, interpolation=mode).numpy(), ref)


def test_resize_int_size_aspect_and_hwc_uint8():
    x = ferrum.rand(3, 20, 30)
    assert tuple(T.Resize(10)(x).shape) == (3, 10, 15)
    assert tuple(T.Resize([10])(x).shape) == (3, 10, 15)
    assert tuple(T.Resize(10, max_size=12)(x).shape) == (3, 8, 12)
    assert T.Resize((20, 30))(x) is x
    a = _u8((8, 8, 3))
    out = T.Resize((16, 4))(a)
    assert isinstance(out, np.ndarray) and out.shape == (16, 4, 3) and out.dtype == np.uint8
    ref = np.clip(np.round(F.resize(a.astype(np.float32), (16, 4))), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, ref)


def test_resize_errors():
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(NotImplementedError, match="bicubic"):
        T.Resize(4, interpolation=T.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match="max_size"):
        F.resize(ferrum.rand(1, 4, 4), (2, 2), max_size=5)
    with pytest.raises(ValueError, match="strictly greater"):
        F.resize(ferrum.rand(1, 4, 4), 8, max_size=8)


def test_random_resized_crop():
    x = ferrum.rand(3, 40, 30)
    rrc = T.RandomResizedCrop(16, scale=(0.2, 0.9))
    for _ in range(20):
        i, j, h, w = rrc.get_params(x, rrc.scale, rrc.ratio)
        assert 0 <= i and 0 <= j and i + h <= 40 and j + w <= 30
        assert 0.2 * 1200 * 0.8 <= h * w <= 0.9 * 1200 * 1.25  # rounding slack
        assert 3 / 4 * 0.8 <= w / h <= 4 / 3 * 1.25
    out = rrc(x)
    assert tuple(out.shape) == (3, 16, 16)
    # the fallback (no crop fits): a central crop of the closest allowed ratio
    assert T.RandomResizedCrop.get_params(ferrum.rand(1, 10, 100), (0.9, 1.0), (1.0, 1.0)) == (0, 45, 10, 10)
    ferrum.manual_seed(3)
    a = rrc(x).numpy()
    ferrum.manual_seed(3)
    np.testing.assert_array_equal(rrc(x).numpy(), a)
    with pytest.warns(UserWarning, match="min, max"):
        T.RandomResizedCrop(8, scale=(1.0, 0.5))
    resized = T.RandomResizedCrop((8, 12), scale=(1.0, 1.0), ratio=(1.0, 1.0))(ferrum.rand(1, 10, 10))
    assert tuple(resized.shape) == (1, 8, 12)


# --- other transforms ----------------------------------------------------------------------------


def test_compose_order_and_lambda():
    tf = T.Compose([T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 10)])
    assert tf(1) == 20
    tf = T.Compose([T.Lambda(lambda v: v * 10), T.Lambda(lambda v: v + 1)])
    assert tf(1) == 11
    with pytest.raises(TypeError):
        T.Lambda(3)


def test_mnist_pipeline_end_to_end():
    img = ferrum.from_numpy(_u8((28, 28)))
    tf = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=2), T.Normalize((0.1307,), (0.3081,))])
    out = tf(img)
    assert tuple(out.shape) == (1, 28, 28) and out.dtype == ferrum.float32
    ferrum.manual_seed(11)
    vals = ferrum.random.default_generator._np.random(2)
    ferrum.manual_seed(11)
    out = tf(img).numpy()
    ref = _reference_random_crop(img.numpy()[None].astype(np.float32) / np.float32(255), (28, 28), 2,
                                 "constant", vals)
    np.testing.assert_allclose(out, (ref - np.float32(0.1307)) / np.float32(0.3081), rtol=1e-6)


def test_scale_factor_and_resize_alias():
    x = ferrum.full((1, 2, 2), 0.5)
    np.testing.assert_array_equal(T.Scale(4.0)(x).numpy(), np.full((1, 2, 2), 2.0, np.float32))
    np.testing.assert_array_equal(T.Scale(2)(np.ones((2, 2))), np.full((2, 2), 2.0))
    r = T.Scale(size=8)
    assert isinstance(r, T.Resize) and r.size == 8
    r = T.Scale(8, T.InterpolationMode.NEAREST)
    assert isinstance(r, T.Resize) and r.interpolation is T.InterpolationMode.NEAREST
    with pytest.raises(TypeError):
        T.Scale("x")


def test_gaussian_noise():
    x = ferrum.full((3, 64, 64), 0.5)
    out = T.GaussianNoise(mean=0.0, sigma=0.1)(x).numpy()
    assert out.dtype == np.float32 and out.shape == (3, 64, 64)
    assert abs(out.mean() - 0.5) < 0.01 and abs(out.std() - 0.1) < 0.01
    out = T.GaussianNoise(mean=0.6, sigma=0.0)(x).numpy()
    np.testing.assert_array_equal(out, np.ones((3, 64, 64), np.float32))  # clipped to 1
    out = T.GaussianNoise(mean=0.6, sigma=0.0, clip=False)(x).numpy()
    np.testing.assert_allclose(out, 1.1, rtol=1e-6)
    ferrum.manual_seed(1)
    a = T.GaussianNoise()(x).numpy()
    ferrum.manual_seed(1)
    np.testing.assert_array_equal(T.GaussianNoise()(x).numpy(), a)
    with pytest.raises(ValueError, match="float dtype"):
        T.GaussianNoise()(ferrum.zeros(1, 2, 2, dtype=ferrum.uint8))
    with pytest.raises(ValueError, match="negative"):
        T.GaussianNoise(sigma=-1.0)


def test_to_one_hot(torch):
    oh = T.ToOneHot(5)
    out = oh(3)
    assert out.dtype == ferrum.float32
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0, 1, 0])
    idx = np.array([[0, 4], [2, 1]])
    ref = torch.nn.functional.one_hot(torch.from_numpy(idx), 5).numpy()
    out = T.ToOneHot(5, dtype=ferrum.int64)(ferrum.from_numpy(idx))
    assert out.dtype == ferrum.int64
    np.testing.assert_array_equal(out.numpy(), ref)
    with pytest.raises(RuntimeError):
        oh(5)
    with pytest.raises(RuntimeError):
        oh(-1)
    with pytest.raises(ValueError):
        T.ToOneHot(0)


def test_random_apply():
    x = ferrum.zeros(1, 2, 2)
    add = T.Lambda(lambda v: v + 1)
    assert T.RandomApply([add], p=0.0)(x) is x
    assert T.RandomApply([add, add], p=1.0)(x).numpy().max() == 2


def test_reprs():
    assert repr(T.ToTensor()) == "ToTensor()"
    assert repr(T.Normalize((0.1307,), (0.3081,))) == "Normalize(mean=(0.1307,), std=(0.3081,))"
    assert repr(T.RandomCrop(28, padding=2)) == "RandomCrop(size=(28, 28), padding=2)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.2)) == "RandomVerticalFlip(p=0.2)"
    assert repr(T.CenterCrop(10)) == "CenterCrop(size=(10, 10))"
    assert repr(T.Resize(32)) == "Resize(size=32, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.RandomResizedCrop(24)) == ("RandomResizedCrop(size=(24, 24), scale=(0.08, 1.0), "
                                             "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")
    assert repr(T.Lambda(abs)) == "Lambda()"
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)")
    assert repr(T.GaussianNoise()) == "GaussianNoise(mean=0.0, sigma=0.1, clip=True)"
    assert repr(T.Scale(2.0)) == "Scale(factor=2.0)"
    assert repr(T.ToOneHot(10)) == "ToOneHot(num_classes=10)"


def test_bad_image_types():
    for tf in (T.RandomCrop(2), T.CenterCrop(2), T.Resize(2), T.RandomHorizontalFlip(1.0)):
        with pytest.raises(TypeError):
            tf([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="tensor image"):
        T.RandomCrop(2)(ferrum.rand(5))


# --------------------------------------------------------------------------------------------------
# batches: apply_batch equals the stack of per-image results, bit for bit


def _stack_of(t, images):
    return np.stack([t(img).numpy() for img in images])


@pytest.mark.parametrize("shape", [(5, 28, 28), (4, 9, 7, 3), (3, 6, 6, 1)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.bool_])
@pytest.mark.parametrize("make", [T.ToTensor, T.PILToTensor])
def test_to_tensor_apply_batch_is_exact(shape, dtype, make):
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, shape).astype(dtype)
    t = make()
    for batch in (a, ferrum.from_numpy(a.copy())):  # arrays and tensors
        images = list(batch) if isinstance(batch, np.ndarray) else [batch[i] for i in range(len(a))]
        got = t.apply_batch(batch).numpy()
        ref = _stack_of(t, images)
        assert got.dtype == ref.dtype and got.shape == ref.shape and got.tobytes() == ref.tobytes()
        assert got.flags.c_contiguous
    assert not np.shares_memory(t.apply_batch(a).numpy(), a)


@pytest.mark.parametrize("stats", [((0.1307,), (0.3081,)), ((0.5, 0.25, 0.1), (0.2, 0.3, 0.4)), (0.5, 2.0)])
@pytest.mark.parametrize("inplace", [False, True])
def test_normalize_and_compose_apply_batch_are_exact(stats, inplace):
    rng = np.random.default_rng(6)
    c = len(stats[0]) if isinstance(stats[0], tuple) else 2
    a = rng.integers(0, 256, (6, 5, 4, c)).astype(np.uint8)
    t = T.Compose([T.ToTensor(), T.Normalize(*stats, inplace=inplace)])
    got = t.apply_batch(ferrum.from_numpy(a)).numpy()
    ref = _stack_of(t, [ferrum.from_numpy(x.copy()) for x in a])
    assert got.dtype == np.float32 and got.shape == (6, c, 5, 4) and got.tobytes() == ref.tobytes()


def test_normalize_apply_batch_refuses_2d_images():
    # a batch of (H, W) images: per image Normalize raises, so the batch must not read B as C
    with pytest.raises(ValueError, match="tensor image of size"):
        T.Normalize((0.5,), (0.5,)).apply_batch(ferrum.zeros(4, 8, 8))


def test_supports_batch():
    assert T.supports_batch(None)
    assert T.supports_batch(T.ToTensor()) and T.supports_batch(T.Normalize((0.5,), (0.5,)))
    assert T.supports_batch(T.Compose([T.ToTensor(), T.Compose([T.Normalize((0.5,), (0.5,))])]))
    assert not T.supports_batch(T.Lambda(lambda x: x))
    assert not T.supports_batch(T.RandomHorizontalFlip())
    assert not T.supports_batch(T.Compose([T.ToTensor(), T.RandomHorizontalFlip()]))
    assert not T.supports_batch(lambda x: x)

    class Scaled(T.ToTensor):  # overrides __call__ only: the batch would skip its logic
        def __call__(self, pic):
            return super().__call__(pic) * 2

    assert not T.supports_batch(Scaled())

    class Both(Scaled):
        def apply_batch(self, pics):
            return super().apply_batch(pics) * 2

    assert T.supports_batch(Both())
