"""ferrum.cuda: device queries, seeding and synchronization through CuPy (imported on first use)."""

from __future__ import annotations

from .._device import cupy_module

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all", "get_device_name", "empty_cache", "is_bf16_supported",
           "device", "memory_allocated", "max_memory_allocated"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one NVIDIA GPU."""
    cp = cupy_module()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _cp():
    cp = cupy_module()
    if cp is None:
        raise RuntimeError("CUDA is not available: ferrum needs CuPy and an NVIDIA GPU "
                           "(pip install ferrum-dl[cuda])")
    return cp


def device_count() -> int:
    """The number of visible GPUs (0 without CuPy)."""
    cp = cupy_module()
    if cp is None:
        return 0
    return cp.cuda.runtime.getDeviceCount()


def current_device() -> int:
    return _cp().cuda.runtime.getDevice()


def set_device(device) -> None:
    if isinstance(device, int):
        idx = device
    elif hasattr(device, "index"):
        idx = device.index or 0
    else:
        idx = int(str(device).split(":")[-1]) if ":" in str(device) else 0
    _cp().cuda.runtime.setDevice(idx)


def synchronize(device=None) -> None:
    """Waits for all queued GPU work to finish."""
    _cp().cuda.runtime.deviceSynchronize()


def get_device_name(device=None) -> str:
    cp = _cp()
    idx = 0 if device is None else (device if isinstance(device, int) else device.index or 0)
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()


def manual_seed(seed: int) -> None:
    """Seeds the current GPU's generator (a no-op without a GPU, as in PyTorch)."""
    cp = cupy_module()
    if cp is not None:
        cp.random.seed(seed % 2**32)


def manual_seed_all(seed: int) -> None:
    """Seeds every GPU's generator (a no-op without a GPU, as in PyTorch)."""
    manual_seed(seed)


def empty_cache() -> None:
    cp = cupy_module()
    if cp is not None:
        cp.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    cp = cupy_module()
    return 0 if cp is None else cp.get_default_memory_pool().used_bytes()


def max_memory_allocated(device=None) -> int:
    cp = cupy_module()
    return 0 if cp is None else cp.get_default_memory_pool().total_bytes()


def is_bf16_supported() -> bool:
    return is_available()


class device:
    """Context manager that selects a GPU."""

    def __init__(self, device):
        self.idx = device if isinstance(device, int) else getattr(device, "index", 0) or 0

    def __enter__(self):
        self.prev = current_device()
        set_device(self.idx)

    def __exit__(self, *exc):
        set_device(self.prev)
        return False


def __getattr__(name: str):
    # the deprecated torch.cuda.amp spellings load on first use (they import ferrum.amp)
    if name == "amp":
        import importlib
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
