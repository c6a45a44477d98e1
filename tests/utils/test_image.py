"""make_grid / save_image (utils/image.py): torchvision's grid layout and normalisation, valid PNGs."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

import ferrum
from ferrum.utils import make_grid, save_image


def _read_png(data: bytes) -> np.ndarray:
    """A strict reader for what save_image writes: checks the signature, every CRC, filter 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + n
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    w, h, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    c = {0: 1, 2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * c)
    assert depth == 8 and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, c)


@pytest.mark.parametrize("b,nrow,padding", [(5, 2, 2), (8, 8, 0), (3, 4, 1), (7, 3, 3)])
def test_grid_layout(b, nrow, padding):
    x = ferrum.arange(b * 3 * 4 * 5, dtype=ferrum.float32).reshape(b, 3, 4, 5)
    g = make_grid(x, nrow=nrow, padding=padding, pad_value=-1.0).numpy()
    cols = min(nrow, b)
    rows = -(-b // cols)
    assert g.shape == (3, (4 + padding) * rows + padding, (5 + padding) * cols + padding)
    for k in range(b):
        r, c = divmod(k, cols)
        top, left = r * (4 + padding) + padding, c * (5 + padding) + padding
        np.testing.assert_array_equal(g[:, top:top + 4, left:left + 5], x[k].numpy())
    filled = np.zeros(g.shape[1:], bool)
    for k in range(b):
        r, c = divmod(k, cols)
        filled[r * (4 + padding) + padding:r * (4 + padding) + padding + 4,
               c * (5 + padding) + padding:c * (5 + padding) + padding + 5] = True
    assert (g[:, ~filled] == -1.0).all()


def test_single_image_gray_and_list_inputs():
    one = ferrum.rand(1, 1, 4, 4)
    g = make_grid(one)
    assert tuple(g.shape) == (3, 4, 4)  # one image: no grid; one channel: three
    assert tuple(make_grid(ferrum.rand(4, 4)).shape) == (3, 4, 4)
    lst = [ferrum.rand(3, 2, 2) for _ in range(3)]
    assert tuple(make_grid(lst, nrow=3, padding=1).shape) == (3, 4, 10)
    with pytest.raises(TypeError):
        make_grid("not a tensor")


def test_normalize_value_range_scale_each():
    x = ferrum.tensor(np.stack([np.full((3, 2, 2), v, np.float32) for v in (-2.0, 0.0, 6.0)]))
    x[0, 0, 0, 0] = -4.0
    g = make_grid(x, nrow=3, padding=0, normalize=True).numpy()
    assert g.min() == 0.0 and g.max() == 1.0 and abs(g[1, 0, 2] - 0.4) < 1e-6  # 0 in [-4, 6]
    g = make_grid(x, nrow=3, padding=0, normalize=True, value_range=(-1.0, 1.0)).numpy()
    assert g[1, 0, 0] == 0.0 and g[1, 0, 4] == 1.0  # clamped to the range first
    g = make_grid(x, nrow=3, padding=0, normalize=True, scale_each=True).numpy()
    assert g[1, 0, 2] == 0.0 and g[1, 0, 4] == 0.0  # constant images map to 0
    assert not x.requires_grad and x.min().item() == -4.0  # the input is untouched


def test_save_image_png_round_trip(tmp_path):
    x = ferrum.rand(4, 3, 5, 6)
    save_image(x, tmp_path / "grid.png", nrow=2, padding=1)
    img = _read_png((tmp_path / "grid.png").read_bytes())
    want = make_grid(x, nrow=2, padding=1).numpy()
    want8 = np.clip(want * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(img, want8)
    buf = io.BytesIO()
    save_image(ferrum.ones(1, 3, 2, 2) * 0.5, buf, format="PNG")
    assert (_read_png(buf.getvalue()) == 128).all()
    with pytest.raises(ValueError, match="PNG only"):
        save_image(x, tmp_path / "grid.jpg")
