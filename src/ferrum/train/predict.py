"""``ferrum predict RUN_DIR INPUT...``: runs the saved model of a recipe run on new inputs.

For the image recipes each INPUT is an image file: read as grayscale (Pillow when it is installed,
any format it reads; without it ferrum's own PNG reader below, since PNG is what
``ferrum.utils.save_image`` writes and ferrum has no image library of its own), resized to the
28x28 that MNIST and Fashion-MNIST have (bilinear, antialiased when shrinking), inverted when its
border is light (MNIST-style digits are light on a dark background; a scanned or drawn digit is
usually dark on white), normalised with the data set's statistics, and classified: one line per
file with the class and its probability. For the Shakespeare recipes each INPUT is a text prompt
the model continues (``--length`` characters, the recipe's temperature and top-k, ``--seed``).

The PNG reader handles what PNG encoders write for photos and drawings: 8-bit (and 16-bit)
grayscale, grayscale+alpha, RGB, RGBA and palette images, non-interlaced, with all five row
filters; anything else names Pillow as the fix.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import zlib
from typing import TextIO

import numpy as np

import ferrum
from ferrum.nn import functional as F

from .config import BadInput
from .evaluate import LM_JOBS, load_run

__all__ = ["read_png", "read_gray", "prepare_image", "predict_images", "continue_text", "add_arguments",
           "run"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> np.ndarray:
    """The PNG row filters undone: (height, stride) uint8 rows from ``raw`` (a filter byte per row)."""
    rows = np.frombuffer(raw, np.uint8)
    if rows.size != height * (stride + 1):
        raise ValueError(f"image data has {rows.size} bytes, expected {height * (stride + 1)}")
    rows = rows.reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum along the row, per byte of a pixel
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 0xFF
        elif kind == 2:  # Up
            cur = (line + prev) & 0xFF
        elif kind in (3, 4):  # Average, Paeth: each byte depends on the one just decoded
            cur = np.zeros(stride, np.int32)
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                if kind == 3:
                    cur[i] = (line[i] + ((a + b) >> 1)) & 0xFF
                else:
                    c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    cur[i] = (line[i] + pred) & 0xFF
        else:
            raise ValueError(f"unknown row filter {kind}")
        out[y] = cur
        prev = cur
    return out


def read_png(path: str) -> np.ndarray:
    """The pixels of a PNG file as float32 in [0, 1], (H, W) grayscale or (H, W, C) with C = 2, 3
    or 4 (palette images come as RGB(A)). ValueError naming what is not supported."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(_PNG_MAGIC):
        raise ValueError("not a PNG file")
    pos, idat, palette, alpha, head = 8, [], None, None, None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("truncated PNG file")
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            alpha = np.frombuffer(body, np.uint8)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if head is None or not idat:
        raise ValueError("PNG file without IHDR or image data")
    width, height, depth, color, _, _, interlace = head
    if interlace or depth not in (8, 16) or color not in _CHANNELS:
        raise ValueError(f"PNG variant not supported without Pillow (bit depth {depth}, colour type {color}, "
                         f"interlace {interlace}); install Pillow (pip install pillow)")
    ch, nbytes = _CHANNELS[color], depth // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise ValueError(f"corrupt PNG image data ({e})") from None
    rows = _unfilter(raw, height, width * ch * nbytes, ch * nbytes)
    if nbytes == 2:
        px = rows.view(">u2").astype(np.float32) / 65535.0
    else:
        px = rows.astype(np.float32) / 255.0
    px = px.reshape(height, width, ch)
    if color == 3:
        if palette is None:
            raise ValueError("palette PNG without a PLTE chunk")
        idx = rows.reshape(height, width)
        rgb = palette[np.minimum(idx, len(palette) - 1)].astype(np.float32) / 255.0
        if alpha is not None:
            a = np.ones(len(palette), np.float32)
            a[:len(alpha)] = alpha[:len(palette)] / 255.0
            rgb = np.concatenate([rgb, a[idx][..., None]], axis=2)
        px = rgb
    return px[..., 0] if px.shape[2] == 1 else px


def read_gray(path: str) -> np.ndarray:
    """The image file ``path`` as (H, W) float32 grayscale in [0, 1] (transparent pixels black).
    :class:`BadInput` when it cannot be read."""
    if not os.path.isfile(path):
        raise BadInput(f"image file {path!r} not found; check the path")
    try:
        from PIL import Image
    except ImportError:
        Image = None
    try:
        if Image is not None:
            with Image.open(path) as im:
                im = im.convert("LA")
                a = np.asarray(im, np.float32) / 255.0
            return a[..., 0] * a[..., 1]
        with open(path, "rb") as f:
            is_png = f.read(8) == _PNG_MAGIC
        if not is_png:
            raise BadInput(f"{path}: only PNG files are read without Pillow; install it (pip install pillow) "
                           "for JPEG and other formats")
        px = read_png(path)
    except BadInput:
        raise
    except Exception as e:  # a damaged file: Pillow's UnidentifiedImageError/OSError, our ValueError
        raise BadInput(f"cannot read the image {path!r}: {e}") from None
    if px.ndim == 2:
        return px
    color, a = (px[..., :1], px[..., 1]) if px.shape[2] == 2 else (px[..., :3], px[..., 3] if px.shape[2] == 4
                                                                   else None)
    # ITU-R 601 luma, as Pillow's convert("L")
    gray = color[..., 0] if color.shape[2] == 1 else color @ np.float32([0.299, 0.587, 0.114])
    return gray if a is None else gray * a


def prepare_image(gray: np.ndarray, mean: float, std: float, size: int = 28) -> ferrum.Tensor:
    """(H, W) grayscale in [0, 1] -> the (1, 1, size, size) normalised input of an MNIST-style
    model: inverted when the border is light, resized (bilinear; antialiased when shrinking)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:
        gray = 1.0 - gray
    x = ferrum.from_numpy(np.ascontiguousarray(gray, np.float32)).view(1, 1, *gray.shape)
    if gray.shape != (size, size):
        shrink = gray.shape[0] > size or gray.shape[1] > size
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)
    return (x.clamp(0.0, 1.0) - mean) / std


def predict_images(run, paths: list[str], out: TextIO) -> list[tuple[str, int, float]]:
    """Classifies each image file; prints ``PATH: CLASS (probability)``; returns the triples."""
    from ferrum import datasets

    from . import fashion, mnist_mlp
    mnist = run.job.startswith("mnist")
    mean, std = (mnist_mlp.MEAN, mnist_mlp.STD) if mnist else (fashion.MEAN, fashion.STD)
    names = [str(i) for i in range(10)] if mnist else list(datasets.FashionMNIST.classes)
    xs = [prepare_image(read_gray(p), mean, std) for p in paths]  # every file read before any output
    results = []
    with ferrum.no_grad():
        probs = F.softmax(run.model(ferrum.cat(xs)), dim=1)
    for p, row in zip(paths, probs):
        k = int(row.argmax().item())
        results.append((p, k, float(row[k].item())))
        print(f"{p}: {names[k]} ({row[k].item():.1%})", file=out)
    return results


def continue_text(run, prompts: list[str], length: int, seed: int, out: TextIO) -> list[str]:
    """Continues each prompt by ``length`` characters with the recipe's temperature and top-k;
    prints and returns the texts."""
    from . import shakespeare
    d = shakespeare.GPT_DEFAULTS if run.job == "shakespeare-gpt" else shakespeare.LSTM_DEFAULTS
    temperature = run.config.get("temperature", d.temperature)
    top_k = run.config.get("top_k", d.top_k) or None
    texts = []
    for prompt in prompts:
        try:
            start = run.train_set.encode(prompt).view(1, -1)
        except ValueError as e:
            raise BadInput(f"prompt {prompt!r}: {e}; the model knows only the characters of its training "
                           "text") from None
        if start.numel() == 0:
            raise BadInput("an empty prompt; give the text the model should continue")
        gen = run.model.generate(start, length, temperature=temperature, top_k=top_k,
                                 generator=ferrum.Generator().manual_seed(seed))
        text = run.train_set.decode(gen[0])
        texts.append(text)
        print(text, file=out)
    return texts


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``ferrum predict``."""
    p.add_argument("run_dir", metavar="RUN_DIR", help="the --checkpoint-dir of a `ferrum train` run")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image files (image recipes) or text prompts to continue (shakespeare-*)")
    p.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="the checkpoint to use (default: the newest in RUN_DIR)")
    p.add_argument("--root", default=None, help="data folder of the Shakespeare recipes' text (default: the "
                                                "run's)")
    p.add_argument("--length", type=int, default=200, help="characters generated per prompt (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seeds the sampling of the generated text")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``ferrum predict``: one line per image, or each prompt's continuation."""
    out = sys.stdout if out is None else out
    if args.length < 1:
        raise BadInput(f"--length must be an integer >= 1, got {args.length}")
    loaded = load_run(args.run_dir, args.checkpoint, args.root)
    if loaded.job in LM_JOBS:
        continue_text(loaded, args.inputs, args.length, args.seed, out)
    else:
        predict_images(loaded, args.inputs, out)
    return 0
