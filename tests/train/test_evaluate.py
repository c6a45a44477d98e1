"""``ferrum evaluate RUN_DIR`` and ``ferrum predict RUN_DIR INPUT...`` on the folders of real (tiny)
recipe runs: the scores agree with what training printed, predictions with the model's own on the
data set, and bad input (no folder, no config, no or a damaged checkpoint, an unreadable image, an
unknown character) is one line on stderr with exit status 2."""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import zlib

import numpy as np
import pytest

import ferrum
from ferrum import datasets
from ferrum import transforms as T
from ferrum.cli import main as cli
from ferrum.train import main as train_main
from ferrum.train.predict import read_png
from ferrum.utils.image import save_image

from .test_config import _one_error_line


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory, mnist_root):
    """A 1-epoch mnist-mlp run on 2048 images saved in a folder; the accuracy it printed on 300."""
    run = tmp_path_factory.mktemp("runs") / "mlp"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert train_main(["mnist-mlp", "--epochs", "1", "--train-limit", "2048", "--test-limit", "300",
                           "--threads", "1", "--root", mnist_root, "--checkpoint-dir", str(run)]) == 0
    acc = re.search(r"final test accuracy: ([\d.]+)%", out.getvalue()).group(1)
    return str(run), acc


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    """A 4-step shakespeare-gpt run on a small text file; the validation loss it printed."""
    d = tmp_path_factory.mktemp("lm")
    rng = np.random.default_rng(0)
    words = "to be or not that is the question whether tis nobler in the mind".split()
    (d / "text.txt").write_text(" ".join(rng.choice(words, 3000)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert train_main(["shakespeare-gpt", "--text", str(d / "text.txt"), "--steps", "4", "--eval-every",
                           "2", "--eval-batches", "1", "--batch-size", "4", "--block-size", "16", "--n-layer",
                           "1", "--n-embd", "16", "--n-head", "2", "--sample-len", "0", "--threads", "1",
                           "--checkpoint-dir", str(d / "run")]) == 0
    val = re.search(r"validation loss: ([\d.]+)", out.getvalue()).group(1)
    return str(d / "run"), val


def test_evaluate_agrees_with_training(mlp_run, mnist_root, capsys):
    run, acc = mlp_run
    assert cli(["evaluate", run, "--test-limit", "300", "--root", mnist_root]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mnist-mlp, checkpoint-") and f"test accuracy {acc}%" in out
    assert "(300 images)" in out
    assert cli(["evaluate", run, "--root", mnist_root]) == 0  # the whole test split by default
    assert "(10000 images)" in capsys.readouterr().out


def test_evaluate_language_model(lm_run, capsys):
    run, val = lm_run
    assert cli(["evaluate", run]) == 0
    assert capsys.readouterr().out.strip().endswith(f"validation loss {val}")


def test_predict_images_match_the_model(mlp_run, mnist_root, tmp_path, capsys):
    run, _ = mlp_run
    test_set = datasets.MNIST(mnist_root, train=False, transform=T.ToTensor())
    files, expected = [], []
    from ferrum.train.evaluate import load_run
    model = load_run(run).model
    for i in range(3):
        x, _ = test_set[i]
        with ferrum.no_grad():
            expected.append(int(model(((x - 0.1307) / 0.3081)[None]).argmax().item()))
        save_image(x, str(tmp_path / f"d{i}.png"))
        save_image(1 - x, str(tmp_path / f"inv{i}.png"))  # dark on light: inverted back
        files += [str(tmp_path / f"d{i}.png"), str(tmp_path / f"inv{i}.png")]
    big = ferrum.nn.functional.interpolate(test_set[0][0][None], size=(84, 84), mode="bilinear")[0]
    save_image(big, str(tmp_path / "big.png"))  # resized back to 28x28
    assert cli(["predict", run, *files, str(tmp_path / "big.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    for k, line in enumerate(lines[:6]):
        m = re.fullmatch(r"(.+): (\d) \(([\d.]+)%\)", line)
        assert m and m.group(1) == files[k] and int(m.group(2)) == expected[k // 2]
    assert lines[6].split(": ")[1].startswith(str(expected[0]))


def test_predict_continues_text(lm_run, capsys):
    run, _ = lm_run
    assert cli(["predict", run, "to be", "the", "--length", "12"]) == 0
    a, b = capsys.readouterr().out.splitlines()[:2]
    assert a.startswith("to be") and len(a) == 5 + 12 and b.startswith("the")
    assert cli(["predict", run, "XYZ"]) == 2
    _one_error_line(capsys.readouterr().err, "prompt 'XYZ'", "not in the vocabulary")


def test_bad_run_folders(tmp_path, capsys):
    assert cli(["evaluate", str(tmp_path / "none")]) == 2
    _one_error_line(capsys.readouterr().err, "ferrum evaluate", "not found", "--checkpoint-dir")
    assert cli(["evaluate", str(tmp_path)]) == 2
    _one_error_line(capsys.readouterr().err, "no config.json", "--checkpoint-dir")
    (tmp_path / "config.json").write_text('{"job": "mnist-mlp"}')
    assert cli(["predict", str(tmp_path), "x.png"]) == 2
    _one_error_line(capsys.readouterr().err, "ferrum predict", "no checkpoint")
    (tmp_path / "config.json").write_text('{"job": "mnist-xyz"}')
    assert cli(["evaluate", str(tmp_path)]) == 2
    _one_error_line(capsys.readouterr().err, "unknown recipe 'mnist-xyz'", "--list")


def test_corrupt_checkpoint(mlp_run, tmp_path, mnist_root, capsys):
    import shutil
    run, acc = mlp_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    ckpts = sorted(p for p in os.listdir(copy) if p.endswith(".ckpt"))
    shutil.copy(copy / ckpts[-1], copy / "checkpoint-9999999999.ckpt")
    newest = copy / "checkpoint-9999999999.ckpt"
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0xFF
    newest.write_bytes(bytes(data))
    assert cli(["evaluate", str(copy), "--root", mnist_root]) == 2
    _one_error_line(capsys.readouterr().err, "checkpoint-9999999999.ckpt", "corrupt",
                    f"--checkpoint {copy / ckpts[-1]}")
    # the fix the line names works; a live writer's temporary file is left alone
    (copy / ".checkpoint-0000000012.ckpt.x1.tmp").write_bytes(b"being written")
    assert cli(["evaluate", str(copy), "--root", mnist_root, "--test-limit", "300",
                "--checkpoint", str(copy / ckpts[-1])]) == 0
    assert f"test accuracy {acc}%" in capsys.readouterr().out
    assert (copy / ".checkpoint-0000000012.ckpt.x1.tmp").exists()
    with pytest.raises(Exception, match="corrupt"):
        cli(["--debug", "evaluate", str(copy), "--root", mnist_root])


def test_unreadable_images(mlp_run, tmp_path, capsys):
    run, _ = mlp_run
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    assert cli(["predict", run, str(tmp_path / "a.jpg")]) == 2
    err = capsys.readouterr().err
    try:
        import PIL  # noqa: F401
        _one_error_line(err, "cannot read the image")
    except ImportError:
        _one_error_line(err, "only PNG files are read without Pillow", "pip install pillow")
    assert cli(["predict", run, str(tmp_path / "missing.png")]) == 2
    _one_error_line(capsys.readouterr().err, "missing.png", "not found", "check the path")


# --------------------------------------------------------------------------------- the PNG reader
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _encode(rows: np.ndarray, bpp: int, color: int, depth: int = 8, extra: bytes = b"") -> bytes:
    """A PNG whose row y uses filter y % 5 (the encoder side of the five filters, written from the
    PNG specification)."""
    h, stride = rows.shape
    raw, prev = b"", np.zeros(stride, np.int64)
    for y in range(h):
        cur, kind, out = rows[y].astype(np.int64), y % 5, []
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            c = prev[i - bpp] if i >= bpp else 0
            pred = (0, a, prev[i], (a + prev[i]) // 2, _paeth(a, prev[i], c))[kind]
            out.append((cur[i] - pred) & 0xFF)
        raw += bytes([kind]) + bytes(out)
        prev = cur
    width = stride // bpp
    ihdr = struct.pack(">IIBBBBB", width, h, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", zlib.compress(raw))
            + _chunk(b"IEND", b""))


@pytest.mark.parametrize("color, ch", [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_png_reader_all_filters(tmp_path, color, ch):
    rng = np.random.default_rng(color)
    px = rng.integers(0, 256, (11, 7 * ch), dtype=np.uint8)
    path = tmp_path / "x.png"
    path.write_bytes(_encode(px, ch, color))
    got = read_png(str(path))
    want = px.reshape(11, 7, ch).astype(np.float32) / 255
    np.testing.assert_array_equal(got, want[..., 0] if ch == 1 else want)


def test_png_reader_16_bit_and_palette(tmp_path):
    rng = np.random.default_rng(1)
    px16 = rng.integers(0, 65536, (5, 6), dtype=np.uint16)
    path = tmp_path / "g16.png"
    path.write_bytes(_encode(px16.astype(">u2").view(np.uint8).reshape(5, 12), 2, 0, depth=16))
    np.testing.assert_allclose(read_png(str(path)), px16 / 65535.0, rtol=1e-6)
    palette = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    idx = rng.integers(0, 4, (3, 5), dtype=np.uint8)
    path = tmp_path / "p.png"
    path.write_bytes(_encode(idx, 1, 3, extra=_chunk(b"PLTE", palette.tobytes())))
    np.testing.assert_array_equal(read_png(str(path)), palette[idx] / np.float32(255))
    path.write_bytes(_encode(idx, 1, 3, depth=8)[:40])
    with pytest.raises(ValueError):
        read_png(str(path))


@pytest.mark.parametrize("job, flags", [
    ("mnist-lenet", ["--train-limit", "256", "--test-limit", "100"]),
    ("fashion-lenet", []),
    ("fashion-resnet", ["--width", "4", "--layers", "1,0,1", "--workers", "0", "--no-augment"]),
])
def test_every_image_recipe_is_rebuilt(job, flags, idx_root, mnist_root, tmp_path, capsys):
    """The model of each recipe comes back from its folder (fashion-resnet's width and layers from
    config.json) and scores what training printed."""
    root = mnist_root if job.startswith("mnist") else idx_root
    run = str(tmp_path / "run")
    assert train_main([job, "--epochs", "1", "--batch-size", "32", "--threads", "1", "--root", root,
                       "--checkpoint-dir", run, "--quiet", *flags]) == 0
    acc = re.search(r"final test accuracy: ([\d.]+)%", capsys.readouterr().out).group(1)
    limit = ["--test-limit", "100"] if job.startswith("mnist") else []
    assert cli(["evaluate", run, *limit]) == 0  # the data folder comes from the run's config
    assert f"test accuracy {acc}%" in capsys.readouterr().out
    png = str(tmp_path / "x.png")
    save_image(ferrum.rand(1, 28, 28, generator=ferrum.Generator().manual_seed(0)), png)
    assert cli(["predict", run, png]) == 0
    line = capsys.readouterr().out.strip()
    names = [str(i) for i in range(10)] if job.startswith("mnist") else datasets.FashionMNIST.classes
    assert line.startswith(png + ": ") and line.split(": ", 1)[1].rsplit(" (", 1)[0] in names


def test_lstm_run(tmp_path, capsys):
    (tmp_path / "t.txt").write_text("the quick brown fox jumps over the lazy dog. " * 60)
    run = str(tmp_path / "run")
    assert train_main(["shakespeare-lstm", "--text", str(tmp_path / "t.txt"), "--steps", "2", "--eval-every",
                       "2", "--eval-batches", "1", "--batch-size", "4", "--block-size", "8", "--hidden-size",
                       "16", "--embedding-dim", "8", "--sample-len", "0", "--threads", "1", "--quiet",
                       "--checkpoint-dir", run]) == 0
    val = re.search(r"validation loss: ([\d.]+)", capsys.readouterr().out).group(1)
    assert cli(["evaluate", run]) == 0
    assert capsys.readouterr().out.strip().endswith(f"validation loss {val}")
    assert cli(["predict", run, "the ", "--length", "5", "--seed", "3"]) == 0
    assert len(capsys.readouterr().out.splitlines()[0]) == 9
