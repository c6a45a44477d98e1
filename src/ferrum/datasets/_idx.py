"""Reader and writer for the IDX format of the MNIST files (optionally gzip-compressed).

Layout (big-endian): two zero bytes, a type code, the number of dimensions ``d``, then ``d``
unsigned 32-bit sizes, then the values in C order.
"""

from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path
from typing import BinaryIO

import numpy as np

# IDX type code -> big-endian NumPy dtype
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_TO_CODE = {dt.newbyteorder("="): code for code, dt in _CODE_TO_DTYPE.items()}
_GZIP_MAGIC = b"\x1f\x8b"

PathLike = str | os.PathLike


def _read_bytes(source: PathLike | BinaryIO) -> bytes:
    if hasattr(source, "read"):
        raw = source.read()
    else:
        with open(source, "rb") as f:
            raw = f.read()
    # decide on content, not on the file name: some mirrors serve already-inflated files as .gz
    if raw[:2] == _GZIP_MAGIC:
        raw = gzip.decompress(raw)
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a native-endian, writable array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _CODE_TO_DTYPE:
        raise ValueError(f"read_idx: {name} is not an IDX file: bad magic number {raw[:4].hex() or 'empty'} "
                         f"(expected 0000 followed by a type code in "
                         f"{sorted(f'{c:02x}' for c in _CODE_TO_DTYPE)} and the number of dimensions)")
    dtype = _CODE_TO_DTYPE[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {name} is truncated: header needs {header} bytes, file has {len(raw)}")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"read_idx: {name} has {len(raw)} bytes but its header (shape {shape}, "
                         f"{dtype.newbyteorder('=').name}) needs {expected}")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    # astype copies into a native-endian, writable, contiguous array (frombuffer's is read-only)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(source: PathLike | BinaryIO) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected from its content) into a NumPy array.

    Raises ``ValueError`` for a bad magic number or a size that does not match the header.
    """
    name = getattr(source, "name", None) or str(source)
    return parse_idx(_read_bytes(source), name=str(name))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX encoding (uncompressed) of ``array``."""
    a = np.asarray(array)
    code = _DTYPE_TO_CODE.get(a.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: IDX has no type code for dtype {a.dtype}; expected one of "
                        f"uint8, int8, int16, int32, float32, float64")
    if a.ndim > 255:
        raise ValueError(f"write_idx: IDX stores at most 255 dimensions, got {a.ndim}")
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(a, dtype=_CODE_TO_DTYPE[code]).tobytes()


def write_idx(path: PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` (default: path ends in .gz).

    The file is written to a temporary name in the same folder and renamed, so readers never see
    a partial file.
    """
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    payload = encode_idx(array)
    if compress:
        payload = gzip.compress(payload, mtime=0)
    atomic_write_bytes(path, payload)


def atomic_write_bytes(path: PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        with open(tmp, "xb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quiet(tmp)
        raise


def temp_sibling(path: PathLike) -> Path:
    """A fresh hidden name next to ``path`` for writing before the final rename.

    (Not ``tempfile.mkstemp``: its files are mode 0600 whatever the umask.)
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")


def _unlink_quiet(path: PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
