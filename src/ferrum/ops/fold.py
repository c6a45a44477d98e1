"""``F.unfold`` (sliding blocks of a batched image as columns) and ``F.fold`` (their sum back into an
image), each the other's backward, on the patch gather of ``_im2col.py`` (its (N, C*K, P) layout,
written straight into the fresh result, so no transpose follows)."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Node, record
from . import _im2col as ic

__all__ = ["unfold", "fold"]


def _pair(v, name: str, op: str) -> tuple:
    if isinstance(v, bool) or not isinstance(v, (int, tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' must be an int or a tuple of two ints, not "
                        f"{type(v).__name__}")
    t = (v, v) if isinstance(v, int) else tuple(v)
    if len(t) == 1:
        t = t * 2
    if len(t) != 2:
        raise RuntimeError(f"{op}(): {name} must be an int or a tuple of two ints, got {list(t)}")
    return t


def _params(op, kernel_size, dilation, padding, stride):
    k = _pair(kernel_size, "kernel_size", op)
    d = _pair(dilation, "dilation", op)
    p = _pair(padding, "padding", op)
    s = _pair(stride, "stride", op)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} "
                           f"kernel_width: {k[1]}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} "
                           f"dilation_width: {d[1]}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    return k, d, p, s


def _blocks(sp, k, d, p, s) -> tuple:
    return tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for n, kk, dd, pp, ss in zip(sp, k, d, p, s))


class Im2ColBackward0(Node, name="Im2ColBackward0"):
    def backward_t(self, g):
        return (_fold(g, self.sp, self.geo),)


class Col2ImBackward0(Node, name="Col2ImBackward0"):
    def backward_t(self, g):
        return (_unfold(g, self.geo),)


def _unfold(x: Tensor, geo) -> Tensor:
    k, d, p, s, blocks = geo
    col = ic.im2col(x._data, k, s, ((p[0], p[0]), (p[1], p[1])), d, blocks, layout="nf")
    return record(col, Im2ColBackward0, (x,), sp=tuple(x.shape[2:]), geo=geo)


def _fold(c: Tensor, sp, geo) -> Tensor:
    k, d, p, s, blocks = geo
    N, CK = c.shape[:2]
    shape = (N, CK // (k[0] * k[1])) + tuple(sp)
    img = ic.col2im(c._data, shape, k, s, ((p[0], p[0]), (p[1], p[1])), d, blocks, layout="nf")
    return record(img, Col2ImBackward0, (c,), geo=geo)


def _check_tensor(t, op: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}")
    if t.dtype.is_complex or not (t.dtype.is_floating_point or t.dtype.itemsize > 1):
        raise RuntimeError(f"{op}(): not implemented for '{t.dtype}'")


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks: input (N, C, H, W) or (C, H, W) -> (N, C*kh*kw, L) or (C*kh*kw, L), L the
    number of blocks; rows ordered (c, i, j), columns row-major over the block grid."""
    _check_tensor(input, "unfold")
    k, d, p, s = _params("unfold", kernel_size, dilation, padding, stride)
    if 0 < input.ndim < 3:  # torch reads dim 2 before checking the rank
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, "
                         f"{input.ndim - 1}], but got 2)")
    if input.ndim not in (3, 4) or any(v == 0 for v in input.shape[-3:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    blocks = _blocks(x.shape[2:], k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks "
                           f"as {blocks}, but its components must be at least one.")
    out = _unfold(x, (k, d, p, s, blocks))
    return out if batched else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sums sliding blocks back into an image (the adjoint of :func:`unfold`): input (N, C*kh*kw, L)
    or (C*kh*kw, L) -> (N, C, *output_size) or (C, *output_size)."""
    _check_tensor(input, "fold")
    osz = _pair(output_size, "output_size", "fold")
    k, d, p, s = _params("fold", kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or any(v == 0 for v in input.shape[-2:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    batched = input.ndim == 3
    c = input if batched else input.unsqueeze(0)
    if c.shape[1] % (k[0] * k[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={c.shape[1]} and kernel_size={k}.")
    blocks = _blocks(osz, k, d, p, s)
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"stride={s}, calculated shape of the array of sliding blocks as {blocks}, but "
                           "its components must be at least one.")
    if c.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"stride={s}, expected size of input's dimension 2 to match the calculated "
                           f"number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                           f"but got input.size(2)={c.shape[2]}.")
    out = _fold(c, osz, (k, d, p, s, blocks))
    return out if batched else out.squeeze(0)
