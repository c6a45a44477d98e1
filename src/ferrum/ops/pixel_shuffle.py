"""``pixel_shuffle`` and ``pixel_unshuffle``: rearranging (*, C r^2, H, W) <-> (*, C, H r, W r);
``channel_shuffle``: interleaving the channels of g groups (ShuffleNet's (N, g, C/g, *) transpose).

Each is a reshape, a transpose and a reshape into a fresh contiguous array (as PyTorch, the result
is never a view). They are each other's inverse and, being permutations, each other's adjoint, so
the backward of one is the other and every order of derivative works. channel_shuffle by g is
undone by channel_shuffle by C/g, which is therefore its backward.
"""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._common import xp_of

__all__ = ["channel_shuffle", "native_channel_shuffle", "pixel_shuffle", "pixel_unshuffle"]


def _check(input, factor, op: str, arg: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if isinstance(factor, builtins.bool) or not isinstance(factor, (builtins.int, np.integer)):
        raise TypeError(f"{op}(): argument '{arg}' (position 2) must be int, not {type(factor).__name__}")
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive {arg}, but got {factor}")


def _fresh(t, a):
    """``t`` (a view of ``a``) copied into a new C-contiguous array: never ``a``'s memory, even
    where the transpose moved only axes of size 1."""
    return xp_of(a).array(t, order="C", copy=True)


def _shuffle_raw(a, r: int):
    *lead, c, h, w = a.shape
    oc = c // (r * r)
    t = a.reshape(*lead, oc, r, r, h, w)
    n = len(lead)
    t = t.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return _fresh(t, a).reshape(*lead, oc, h * r, w * r)


def _unshuffle_raw(a, r: int):
    *lead, c, h, w = a.shape
    oh, ow = h // r, w // r
    t = a.reshape(*lead, c, oh, r, ow, r)
    n = len(lead)
    t = t.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return _fresh(t, a).reshape(*lead, c * r * r, oh, ow)


class _PixelShuffleBackward(Node, name="PixelShuffleBackward0"):
    def backward_t(self, g):
        return (pixel_unshuffle(g, self.r),)


class _PixelUnshuffleBackward(Node, name="PixelUnshuffleBackward0"):
    def backward_t(self, g):
        return (pixel_shuffle(g, self.r),)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = ``upscale_factor``: channel c r^2 + i r + j
    becomes the sub-pixel (i, j) of channel c."""
    _check(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    r = int(upscale_factor)
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    return record(_shuffle_raw(input._data, r), _PixelShuffleBackward, (input,), r=r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = ``downscale_factor``: the inverse of
    :func:`pixel_shuffle`.

    Differences from PyTorch: an input with no elements gets the shape above; PyTorch 2.13 returns
    it with its own shape (so its pixel_shuffle backward fails on such inputs)."""
    _check(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    r = int(downscale_factor)
    h, w = input.shape[-2:]
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    return record(_unshuffle_raw(input._data, r), _PixelUnshuffleBackward, (input,), r=r)


class _ChannelShuffleBackward(Node, name="ChannelShuffleBackward0"):
    def backward_t(self, g):
        return (channel_shuffle(g, self.inverse),)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) -> (N, C, *): channel ``i * (C/groups) + k`` moves to ``k * groups + i`` (the
    channels of ``groups`` groups interleaved, ShuffleNet's shuffle). A fresh tensor, never a view."""
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() < 3:
        raise RuntimeError("channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if isinstance(groups, builtins.bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. "
                           f"Value of groups:{groups}")
    a = input._data
    n, c = a.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} "
                           "groups.")
    g = int(groups)
    rest = a.shape[2:]
    xp = xp_of(a)
    out = xp.ascontiguousarray(a.reshape((n, g, c // g) + rest).swapaxes(1, 2)).reshape(a.shape)
    return record(out, _ChannelShuffleBackward, (input,), inverse=c // g if c else 1)


native_channel_shuffle = channel_shuffle
