"""Downloading with checksums, mirror fail-over and atomic writes; gzip extraction."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ._idx import _unlink_quiet, temp_sibling

_CHUNK = 1 << 20
_USER_AGENT = "ferrum-datasets/0.1 (Python urllib)"
# seconds without progress before a mirror is given up on
DEFAULT_TIMEOUT = 30.0


class ChecksumError(RuntimeError):
    """A downloaded or cached file does not have the expected MD5 checksum."""


def calculate_md5(path: str | os.PathLike, chunk_size: int = _CHUNK) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    # usedforsecurity=False: MD5 only checks integrity here, and FIPS builds refuse it otherwise
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def check_integrity(path: str | os.PathLike, md5: str | None = None) -> bool:
    """True when ``path`` is a file and (if ``md5`` is given) its MD5 digest matches."""
    if not os.path.isfile(path):
        return False
    return md5 is None or calculate_md5(path) == md5


def download_url(url: str, root: str | os.PathLike, filename: str | None = None, md5: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download ``url`` into ``root/filename`` and return its path.

    The body is streamed into a temporary file in ``root`` while its MD5 is computed; on a checksum
    mismatch the temporary file is removed and ``ChecksumError`` is raised, otherwise it is renamed
    into place (so an interrupted download never leaves a file that looks complete). A file that is
    already there with the right checksum is not downloaded again.
    """
    root = Path(root).expanduser()
    filename = filename or os.path.basename(urllib.request.urlparse(url).path)
    if not filename:
        raise ValueError(f"download_url: cannot derive a file name from {url!r}; pass filename=")
    dest = root / filename
    if md5 is not None and check_integrity(dest, md5):
        return dest
    root.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(dest)
    try:
        h = hashlib.md5(usedforsecurity=False)
        req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with open(tmp, "xb") as out, urllib.request.urlopen(req, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(_CHUNK), b""):
                h.update(block)
                out.write(block)
        got = h.hexdigest()
        if md5 is not None and got != md5:
            raise ChecksumError(f"checksum mismatch for {url}: MD5 {got}, expected {md5}")
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quiet(tmp)
        raise
    return dest


def download_from_mirrors(mirrors: Sequence[str], filename: str, root: str | os.PathLike,
                          md5: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Download ``filename`` from the first mirror that serves it with the right checksum.

    Each mirror is a base URL (``filename`` is appended). Raises ``RuntimeError`` naming every URL
    tried and why it failed when none succeeds.
    """
    failures = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += filename
        try:
            return download_url(url, root, filename=filename, md5=md5, timeout=timeout)
        except ChecksumError as e:
            failures.append(f"{url}: {e}")
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
        except urllib.error.URLError as e:
            failures.append(f"{url}: {e.reason}")
        except (OSError, ValueError) as e:  # timeouts, connection resets, malformed URLs
            failures.append(f"{url}: {type(e).__name__}: {e}")
    if not failures:
        raise RuntimeError(f"Error downloading {filename}: no mirrors given")
    raise RuntimeError(f"Error downloading {filename}; tried:\n  " + "\n  ".join(failures))


def extract_gzip(from_path: str | os.PathLike, to_path: str | os.PathLike | None = None,
                 remove_finished: bool = False) -> Path:
    """Inflate a .gz file to ``to_path`` (default: the name without .gz), atomically."""
    from_path = Path(from_path)
    to_path = Path(to_path) if to_path is not None else from_path.with_suffix("")
    tmp = temp_sibling(to_path)
    try:
        with open(tmp, "xb") as out, gzip.open(from_path, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(tmp, to_path)
    except BaseException:
        _unlink_quiet(tmp)
        raise
    if remove_finished:
        from_path.unlink()
    return to_path
