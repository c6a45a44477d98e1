"""``ferrum.save`` / ``ferrum.load``: checkpoints as safetensors files; torch's ``.pt`` files read too.

``ferrum.save(obj, f)`` writes a safetensors file (``_safetensors.py``): every tensor's storage is one
entry of the payload, named after the tensor's path in the object (``"fc.weight"``,
``"state.0.exp_avg"``), and the object around the tensors goes to ``__metadata__`` as JSON
(``_structure.py``): ``format = "ferrum"``, ``structure`` (the object), ``storages`` (entry names by
index) and ``checksum`` (of the payload, verified on load). No pickle is involved for tensors, state dicts,
optimizer/scheduler state dicts, NumPy arrays, containers and primitives, so loading them never runs
code. A plain state dict saved this way is also a plain safetensors state dict
(``safetensors.torch.load_file`` reads it).

Objects of other classes (a whole ``nn.Module``, a user class) are pickled, their tensors and arrays
kept out of the pickle (persistent ids into the structure, their bytes in the payload), and the
pickle stored as a U8 entry. ``ferrum.load`` unpickles it only with ``weights_only=False`` (a trusted
file: it may run code, as in PyTorch) or when each global it names was allowed with
``safe_globals([...])`` / ``add_safe_globals``; otherwise it raises ``pickle.UnpicklingError`` naming
the class and how to allow it.

``ferrum.load`` also reads files written by ``torch.save`` (zip, and the legacy pre-1.6 stream) with a
restricted unpickler (``_torch_format.py``); ``save_torch`` writes torch's zip format for a torch
user. Malformed or hostile files raise RuntimeError (a broken container) or
``pickle.UnpicklingError`` (a refused or broken pickle); no size read from a file allocates more
than the file holds (benchmarks/fuzz_loaders.py).

``mmap=True`` maps the payload copy-on-write (``np.memmap`` mode ``'c'``): nothing is read until a
tensor is touched, writes stay private to the process, and the checksum is not verified (that would read
the payload; the header is still checked).
"""

from __future__ import annotations

import collections
import io
import json
import os

import numpy as np

from .._tensor import Tensor, _wrap
from . import _safetensors as _st
from ._common import is_path
from ._structure import Decoder, Encoder
from ._torch_format import load_legacy, load_zip, save_torch
from ._unpickle import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals

__all__ = ["save", "load", "save_file", "load_file", "save_torch", "add_safe_globals", "get_safe_globals",
           "clear_safe_globals", "safe_globals"]

_FORMAT_VERSION = "1"


def _open_write(f):
    if is_path(f):
        return open(f, "wb"), True
    if not hasattr(f, "write"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
    return f, False


def _entries(storages: list) -> tuple[list, list]:
    """Payload order: decreasing item size, so every entry is aligned (the header is padded to 64)."""
    order = sorted(range(len(storages)), key=lambda i: -storages[i][1].itemsize)
    entries = []
    for i in order:
        name, a, shape = storages[i]
        if not a.dtype.isnative or a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        a = _st.storable(np.ascontiguousarray(a))
        entries.append((name, a, shape if a.size == int(np.prod(shape)) else (a.size,)))
    return entries, [s[0] for s in storages]


def save(obj, f, pickle_module=None, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Saves ``obj`` (tensors and their views, state dicts, optimizer/scheduler state, NumPy arrays,
    containers, primitives; other objects pickled, see the module docstring) to ``f``: a path or a
    binary file object open for writing (it is written from its current position and left open).

    The file is safetensors with the structure in ``__metadata__`` and a checksum of the payload.
    ``pickle_module``/``pickle_protocol`` and the private flags are accepted for PyTorch's signature
    and ignored. Use ``save_torch`` for a file ``torch.load`` reads."""
    enc = Encoder()
    structure = json.dumps(enc.encode(obj), separators=(",", ":"))
    entries, names = _entries(enc.storages)
    meta = {"format": "ferrum", "version": _FORMAT_VERSION, "structure": structure,
            "storages": json.dumps(names, separators=(",", ":"))}
    fh, owned = _open_write(f)
    try:
        _st.write(fh, entries, meta)
    finally:
        if owned:
            fh.close()


def _size_of(fh) -> int:
    pos = fh.tell()
    end = fh.seek(0, os.SEEK_END)
    fh.seek(pos)
    return end - pos


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args):
    """Loads what ``ferrum.save`` or ``torch.save`` wrote to ``f`` (a path or a seekable binary file
    object). ``weights_only`` (default True) rebuilds only tensors, containers, primitives and the
    globals allowed with ``safe_globals``; ``mmap=True`` (a path is required) maps a ferrum or
    safetensors file's payload copy-on-write instead of reading it (torch's ``.pt`` files are read
    as usual); ``map_location`` is ``'cpu'``, a device, a dict or
    a callable ``(tensor, 'cpu') -> tensor`` as in torch. RuntimeError for a malformed file;
    ``pickle.UnpicklingError`` for a refused or malformed pickle."""
    if weights_only is None:
        weights_only = True
    if mmap and not is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    fh = open(f, "rb") if is_path(f) else f
    try:
        try:
            size = _size_of(fh)
        except (OSError, AttributeError, ValueError) as e:  # a pipe: read it whole
            data = fh.read()
            size, fh2 = len(data), io.BytesIO(data)
            if is_path(f):
                fh.close()
            fh = fh2
            del e
        start = fh.tell()
        magic = fh.read(8)
        fh.seek(start)
        if magic[:4] == b"PK\x03\x04":
            obj = load_zip(fh, size, weights_only)
        elif magic[:1] == b"\x80" and size and _looks_legacy(magic):
            obj = load_legacy(fh.read(size), weights_only)
        else:
            obj = _load_ferrum(fh, size, f if mmap else None, weights_only)
    finally:
        if is_path(f) and not fh.closed:
            fh.close()
    return _map(obj, map_location)


def _looks_legacy(magic: bytes) -> bool:
    # a legacy torch file starts with its pickled 10-byte magic number: PROTO n, LONG1 10. Read as
    # a safetensors header length those bytes are >= 0x0a8a0080, 176 MB, past the 100 MB limit
    return magic[2:4] == b"\x8a\x0a"


def _load_ferrum(fh, size: int, mmap_path, weights_only: bool):
    header = _st.read_header(fh, size)
    meta = header.metadata
    if mmap_path is not None:
        payload = _st.map_payload(mmap_path, header)
    else:
        payload = _st.read_payload(fh, header, verify=True)
    if meta.get("format") != "ferrum":
        # a plain safetensors file (e.g. written by safetensors.torch.save_file): its tensors by name
        return collections.OrderedDict((k, _wrap(_st.entry_array(payload, header, k).reshape(v[1])))
                                       for k, v in sorted(header.entries.items(), key=lambda kv: kv[1][2]))
    if meta.get("version") != _FORMAT_VERSION:
        raise RuntimeError(f"ferrum.load: unsupported ferrum format version {meta.get('version')!r}")
    try:
        names = json.loads(meta.get("storages", "[]"))
        structure = json.loads(meta["structure"])
    except (KeyError, ValueError, RecursionError):
        raise RuntimeError("ferrum.load: malformed ferrum metadata") from None
    if not isinstance(names, list) or not all(isinstance(n, str) and n in header.entries for n in names):
        raise RuntimeError("ferrum.load: the metadata names storages the file does not hold")
    cache: dict = {}

    def storage(i):
        if i < 0 or i >= len(names):
            return None
        a = cache.get(i)
        if a is None:
            a = cache[i] = _st.entry_array(payload, header, names[i])
        return a

    try:
        return Decoder(storage, weights_only).decode(structure)
    except RecursionError:
        raise RuntimeError("ferrum.load: the structure is nested too deeply") from None


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """``safetensors.torch.save_file``: a flat ``{name: tensor}`` dict as a plain safetensors file
    (each tensor contiguous under its own name; ``metadata`` str -> str)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file expects a dict of tensors, got {type(tensors).__name__}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str)
                                        for k, v in metadata.items()):
        raise TypeError("save_file: metadata must map str to str")
    entries = []
    for k, t in tensors.items():
        if not isinstance(k, str) or not isinstance(t, (Tensor, np.ndarray)):
            raise TypeError(f"save_file: {k!r} is not a str -> tensor item")
        a = np.ascontiguousarray(np.asarray(t.detach().cpu()._data) if isinstance(t, Tensor) else t)
        if a.dtype.newbyteorder("=").name not in _st.ST_OF:
            raise TypeError(f"save_file: dtype {a.dtype} of {k!r} has no safetensors equivalent")
        entries.append((k, a.astype(a.dtype.newbyteorder("<"), copy=False), a.shape))
    entries.sort(key=lambda e: -e[1].itemsize)
    with open(filename, "wb") as fh:
        _st.write(fh, entries, metadata, checksum=False)


def load_file(filename, device="cpu") -> dict:
    """``safetensors.torch.load_file``: ``{name: tensor}`` from any safetensors file."""
    with open(filename, "rb") as fh:
        header = _st.read_header(fh, _size_of(fh))
        payload = _st.read_payload(fh, header, verify=True)
    out = {k: _wrap(_st.entry_array(payload, header, k).reshape(v[1]))
           for k, v in sorted(header.entries.items(), key=lambda kv: kv[1][2])}
    return out if str(device).startswith("cpu") else {k: v.to(device) for k, v in out.items()}


def _map(obj, map_location):
    if map_location is None:
        return obj
    if callable(map_location) and not isinstance(map_location, (str, dict)):
        return _apply(obj, lambda t: _checked_map(map_location(t, "cpu"), t))
    dev = map_location.get("cpu", "cpu") if isinstance(map_location, dict) else map_location
    if str(dev).startswith("cpu"):
        return obj
    return _apply(obj, lambda t: t.to(dev))


def _checked_map(out, t):
    return t if out is None else out  # torch: a callable returning None keeps the default location


def _apply(obj, fn, depth: int = 0):
    if isinstance(obj, Tensor):
        return fn(obj)
    if depth > 200:
        return obj
    if isinstance(obj, collections.OrderedDict):
        out = collections.OrderedDict((k, _apply(v, fn, depth + 1)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, dict):
        return {k: _apply(v, fn, depth + 1) for k, v in obj.items()}
    if obj.__class__ in (list, tuple):
        return type(obj)(_apply(v, fn, depth + 1) for v in obj)
    return obj
