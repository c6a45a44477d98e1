"""``make_grid`` and ``save_image`` (torchvision.utils'): tile a batch of images into one image and
write it as a PNG, as the VAE and DCGAN examples do after every epoch.

``make_grid`` follows torchvision's layout exactly: a (B, C, H, W) batch (or a list of (C, H, W)
images; one-channel images become three-channel) is laid out ``nrow`` per row with ``padding``
pixels of ``pad_value`` around every image, giving (C, (H + p) * rows + p, (W + p) * cols + p);
``normalize`` maps ``value_range`` (default: the batch's min and max, or each image's with
``scale_each``) to [0, 1]; a single image is returned without the grid (as torchvision does).
``save_image`` scales [0, 1] to 8 bits as torchvision (``x * 255 + 0.5`` clamped, truncated) and
writes the PNG itself (zlib, filter type 0), since ferrum has no PIL: 8-bit grey, RGB or RGBA.

Differences from torchvision: the grid is built on arrays and does not track gradients (a saved
image never needs them); only PNG is written (another format or file extension raises ValueError
naming what is supported).
"""

from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from .._tensor import Tensor, _wrap

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid(): expected a non-empty list of tensors")
        arrs = [np.asarray(t.detach().cpu()._data) if isinstance(t, Tensor) else None for t in tensor]
        if any(a is None for a in arrs):
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
        a = np.stack(arrs)
    elif isinstance(tensor, Tensor):
        a = np.asarray(tensor.detach().cpu()._data)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        if a.shape[0] == 1:
            a = np.concatenate([a] * 3, 0)
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid(): expected images of 2, 3 or 4 dims, got {a.ndim}")
    if a.shape[1] == 1:
        a = np.concatenate([a] * 3, 1)
    return a


def _normalize(a: np.ndarray, value_range) -> np.ndarray:
    if value_range is not None:
        lo, hi = float(value_range[0]), float(value_range[1])
    else:
        lo, hi = float(a.min()), float(a.max())
    a = np.clip(a, lo, hi)
    return (a - lo) / max(hi - lo, 1e-5)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """(B, C, H, W) or a list of (C, H, W) -> (C, (H+p)*rows + p, (W+p)*min(nrow, B) + p)."""
    a = _as_batch(tensor)
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
    if normalize:
        a = a.astype(np.float32) if not np.issubdtype(a.dtype, np.floating) else a.copy()
        if scale_each:
            a = np.stack([_normalize(img, value_range) for img in a])
        else:
            a = _normalize(a, value_range)
    if a.shape[0] == 1:
        return _wrap(np.ascontiguousarray(a[0]))
    b, c, h, w = a.shape
    xmaps = min(nrow, b)
    ymaps = int(math.ceil(b / xmaps))
    hh, ww = h + padding, w + padding
    grid = np.full((c, hh * ymaps + padding, ww * xmaps + padding), pad_value, dtype=a.dtype)
    for k in range(b):
        y, x = divmod(k, xmaps)
        grid[:, y * hh + padding:y * hh + padding + h, x * ww + padding:x * ww + padding + w] = a[k]
    return _wrap(grid)


def _png(img: np.ndarray) -> bytes:
    """(H, W, C) uint8 with C in 1, 3, 4 -> PNG bytes."""
    h, w, c = img.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * c)], axis=1)  # filter 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Writes ``make_grid(tensor, **kwargs)`` (values in [0, 1]) to the path or binary file ``fp``
    as an 8-bit PNG."""
    fmt = (format or "").lower()
    if not fmt and isinstance(fp, (str, os.PathLike)):
        fmt = os.path.splitext(os.fspath(fp))[1].lstrip(".").lower()
    if fmt not in ("", "png"):
        raise ValueError(f"save_image(): ferrum writes PNG only (no PIL), got format {fmt!r}")
    grid = make_grid(tensor, **kwargs)._data
    if grid.ndim == 2:
        grid = grid[None]
    img = np.clip(np.asarray(grid, dtype=np.float64) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"save_image(): cannot write an image of {img.shape[2]} channels")
    data = _png(np.ascontiguousarray(img))
    if isinstance(fp, (str, os.PathLike)):
        with open(fp, "wb") as fh:
            fh.write(data)
    else:
        fp.write(data)
