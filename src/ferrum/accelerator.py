"""``ferrum.accelerator``: the device-agnostic accelerator API of ``torch.accelerator``.

PyTorch's example programs pick their device with it before they build any layer::

    device = ferrum.accelerator.current_accelerator() if ferrum.accelerator.is_available() else "cpu"

ferrum's only accelerator is CUDA through CuPy (``ferrum.cuda``): when CuPy is installed and sees a
GPU, the accelerator is ``device("cuda")`` and every function here answers for CUDA, delegating to
``ferrum.cuda``. Otherwise there is no accelerator, and the functions answer exactly as torch 2.13's
do on a CPU-only machine: ``is_available()`` is False, ``current_accelerator()`` is None,
``device_count()`` is 0, ``device_index(None)`` does nothing, and whatever needs a device
(``current_device_index``, ``set_device_index``, ``synchronize``, the memory queries) raises
``RuntimeError`` (torch: "Cannot access accelerator device when none is available.").

Differences from PyTorch: torch's "accelerator" is the one its build was compiled for, so a CUDA build
on a machine without a GPU reports ``current_accelerator() == device("cuda")`` with
``is_available()`` False; ferrum has no build-time backend, so without a visible GPU it reports no
accelerator at all (the check every program writes, ``is_available()``, gives the same answer).
Streams, graphs and ``get_device_capability`` are not provided.
"""

from __future__ import annotations

import warnings

from . import cuda as _cuda
from ._device import device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "device_index", "empty_cache", "is_available", "max_memory_allocated", "memory_allocated",
           "set_device_idx", "set_device_index", "synchronize"]

_NO_DEVICE = "Cannot access accelerator device when none is available."


def _accelerator() -> device | None:
    return device("cuda") if _cuda.is_available() else None


def _require() -> None:
    if not _cuda.is_available():
        raise RuntimeError(_NO_DEVICE)


def _device_index(dev, optional: bool) -> int:
    """The device index that ``dev`` (an int, ``"cuda:1"``, a ``device``, or None) names; None means
    the current device when ``optional``. Raises as torch's ``_get_device_index`` does."""
    if isinstance(dev, int) and not isinstance(dev, bool):
        return dev
    if isinstance(dev, str):
        dev = device(dev)
    index = None
    if isinstance(dev, device):
        acc = _accelerator()
        if acc is None:
            raise RuntimeError("Accelerator expected")
        if acc.type != dev.type:
            raise ValueError(f"{dev.type} doesn't match the current accelerator {acc}.")
        index = dev.index
    if index is None:
        if not optional:
            raise ValueError(f"Expected a ferrum.device with a specified index or an integer, but got:{dev}")
        return current_device_index()
    return index


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU seen by CuPy) can be used now."""
    return _cuda.is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``device("cuda")`` (without an index) when a GPU is available, else None.

    ``check_available`` is accepted for torch's signature; ferrum's answer already is the runtime one.
    """
    return _accelerator()


def device_count() -> int:
    """The number of accelerator devices; 0 without one."""
    return _cuda.device_count() if _cuda.is_available() else 0


def current_device_index() -> int:
    """The index of the selected accelerator device; RuntimeError without an accelerator."""
    _require()
    return _cuda.current_device()


def set_device_index(device: device | str | int | None, /) -> None:  # noqa: A002
    """Selects the accelerator device ``device`` (an index, ``"cuda:1"`` or a ``device`` with an
    index); a negative index is a no-op, as in torch."""
    idx = _device_index(device, optional=False)
    if idx < 0:
        return
    _require()
    _cuda.set_device(idx)


def synchronize(device: device | str | int | None = None, /) -> None:  # noqa: A002
    """Waits for all work queued on the accelerator device (default: the current one)."""
    idx = _device_index(device, optional=True)
    _require()
    with _cuda.device(idx):
        _cuda.synchronize()


class device_index:
    """Context manager that selects accelerator device ``device`` (an int) for its body and restores
    the previous one on exit; ``device_index(None)`` changes nothing (and works without a GPU)."""

    def __init__(self, device: int | None, /) -> None:  # noqa: A002
        self.idx = device
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None:
            _require()
            self.prev_idx = _cuda.current_device()
            if self.idx >= 0:
                _cuda.set_device(self.idx)

    def __exit__(self, *exc_info: object) -> None:
        if self.idx is not None and self.prev_idx >= 0:
            _cuda.set_device(self.prev_idx)


def current_device_idx() -> int:
    """Deprecated alias of :func:`current_device_index` (FutureWarning, as in torch)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device: device | str | int | None, /) -> None:  # noqa: A002
    """Deprecated alias of :func:`set_device_index` (FutureWarning, as in torch)."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def empty_cache() -> None:
    """Frees the memory the accelerator's allocator holds unused; RuntimeError without one."""
    _require()
    _cuda.empty_cache()


def memory_allocated(device_index: device | str | int | None = None, /) -> int:
    """Bytes currently allocated on the accelerator; RuntimeError without one."""
    _device_index(device_index, optional=True)
    _require()
    return _cuda.memory_allocated()


def max_memory_allocated(device_index: device | str | int | None = None, /) -> int:
    """Peak bytes allocated on the accelerator; RuntimeError without one."""
    _device_index(device_index, optional=True)
    _require()
    return _cuda.max_memory_allocated()
