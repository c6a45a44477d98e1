"""Devices: ``ferrum.device``, the default device of the factories (``set_default_device``, ``with
device(...)``), and the lookup of the array module (NumPy or CuPy) behind each."""

from __future__ import annotations

import numpy as np

__all__ = ["device", "get_default_device", "set_default_device"]


class device:
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string, int or device, got {type!r}")
        s = type.strip()
        if ":" in s:
            if index is not None:
                raise RuntimeError(f"device string {s!r} already has an index")
            s, _, idx = s.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if s not in ("cpu", "cuda", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = s
        self.index = index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __enter__(self):
        # as torch: inside the block, factories without device= create their tensors here
        _entered.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc):
        _default[0] = _entered.pop()
        return False


CPU = device("cpu")
_default = [CPU]   # where factories put a tensor when no device= is given
_entered = []      # the defaults that enclosing ``with device(...)`` blocks replaced


def get_default_device() -> device:
    """The device factories use when given no ``device`` (cpu unless set)."""
    return _default[0]


def set_default_device(device) -> None:  # noqa: A002 - torch's parameter name
    """Sets the device of tensors created without ``device=`` (``None`` restores cpu).

    As in torch, a device that is not available (cuda without CuPy and a GPU) is accepted here and
    the error comes from the first factory that would create a tensor on it; ``from_numpy`` and
    tensors built from other tensors keep their memory's device.
    """
    _default[0] = CPU if device is None else as_device(device)
_cupy = []  # [module or None], resolved on first use


def cupy_module():
    """CuPy if it is installed and sees a GPU, else None (imported only when asked)."""
    if not _cupy:
        try:
            import cupy

            cupy.cuda.runtime.getDeviceCount()
            _cupy.append(cupy)
        except Exception:
            _cupy.append(None)
    return _cupy[0]


def as_device(d) -> device:
    if d.__class__ is device:
        return d
    if d is None:
        return CPU
    return device(d)


def xp_for(d: device):
    """The array module of device ``d``; raises RuntimeError for cuda without CuPy and a GPU."""
    if d.type == "cpu":
        return np
    if d.type == "cuda":
        cp = cupy_module()
        if cp is None:
            raise RuntimeError("CUDA is not available: ferrum needs CuPy and an NVIDIA "
                               "GPU for cuda tensors (pip install ferrum-dl[cuda])")
        n = cp.cuda.runtime.getDeviceCount()
        if d.index is not None and d.index >= n:
            raise RuntimeError(f"CUDA error: invalid device ordinal {d.index} (device_count is {n})")
        return cp
    raise RuntimeError(f"unsupported device {d}")


def device_of_array(a) -> device:
    if isinstance(a, np.ndarray):
        return CPU
    return device("cuda", int(a.device.id))


def xp_of_array(a):
    if isinstance(a, np.ndarray):
        return np
    return cupy_module()


def move_array(a, d: device):
    """Copies array ``a`` to device ``d`` (returns ``a`` itself when it is already there)."""
    if d.type == "cpu":
        if isinstance(a, np.ndarray):
            return a
        return a.get()
    cp = xp_for(d)
    idx = d.index if d.index is not None else cp.cuda.runtime.getDevice()
    if isinstance(a, cp.ndarray) and a.device.id == idx:
        return a
    with cp.cuda.Device(idx):
        return cp.asarray(a)
