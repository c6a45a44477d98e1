"""GaussianBlur / gaussian_blur (transforms/blur.py): the separable kernel against torch's conv2d on
a reflect-padded image, layouts, integer rounding, parameters and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import transforms as T
from ferrum.transforms import functional as F


def _oracle(torch, x: np.ndarray, k: tuple, s: tuple) -> np.ndarray:
    def k1(n, sigma):
        t = torch.linspace(-(n - 1) / 2, (n - 1) / 2, n, dtype=torch.float64)
        p = torch.exp(-0.5 * (t / sigma) ** 2)
        return p / p.sum()

    ker = torch.outer(k1(k[1], s[1]), k1(k[0], s[0]))
    c = x.shape[0]
    pads = (k[0] // 2,) * 2 + (k[1] // 2,) * 2
    t = torch.nn.functional.pad(torch.tensor(x, dtype=torch.float64)[None], pads, mode="reflect")
    return torch.nn.functional.conv2d(t, ker.expand(c, 1, *ker.shape), groups=c)[0].numpy()


@pytest.mark.parametrize("k,s", [((3, 3), (1.0, 1.0)), ((5, 3), (1.5, 0.7)), ((1, 7), (2.0, 2.0))])
def test_matches_conv_oracle(torch, k, s):
    x = np.random.default_rng(0).random((3, 9, 11))
    got = F.gaussian_blur(ferrum.tensor(x), list(k), list(s)).numpy()
    np.testing.assert_allclose(got, _oracle(torch, x, k, s), rtol=1e-10, atol=1e-12)


def test_default_sigma_layout_and_uint8(torch):
    u = (np.random.default_rng(1).random((10, 12, 3)) * 255).astype(np.uint8)
    got = F.gaussian_blur(ferrum.tensor(u), 5).numpy()  # data-set layout, default sigma 0.15 k + 0.35
    want = np.rint(_oracle(torch, u.transpose(2, 0, 1).astype(np.float64), (5, 5), (1.1, 1.1)))
    assert got.dtype == np.uint8 and got.shape == (10, 12, 3)
    assert np.abs(got.astype(int) - want.transpose(1, 2, 0)).max() <= 1  # float32 work, rounding ties


def test_random_sigma_and_errors():
    tf = T.GaussianBlur(3, sigma=(0.5, 0.5))
    x = ferrum.rand(1, 6, 6)
    assert ferrum.allclose(tf(x), F.gaussian_blur(x, 3, 0.5))
    assert T.GaussianBlur(5).sigma == (0.1, 2.0)
    for bad in (lambda: T.GaussianBlur(4), lambda: T.GaussianBlur(3, sigma=(2.0, 1.0)),
                lambda: F.gaussian_blur(x, 3, -1.0), lambda: F.gaussian_blur(x, 0)):
        with pytest.raises(ValueError):
            bad()
