"""``ferrum.nn.parallel.data_parallel``: ``DataParallel`` and ``data_parallel``, torch's module path.

Without a GPU (the only case PyTorch's example programs meet on a CPU-only machine) torch's
``DataParallel`` keeps ``module`` and an empty ``device_ids`` and its forward is ``module(*inputs,
**kwargs)``; ferrum's does exactly that, so the wrapped model computes the same values, trains the
same parameters, and its ``state_dict`` keys carry torch's ``module.`` prefix (a checkpoint saved from
a wrapped model loads into a wrapped one, and ``model.module.state_dict()`` into a bare one).
``data_parallel(...)`` without a GPU raises ``RuntimeError`` as torch's does.

With CUDA (CuPy sees a GPU), the module is moved to ``device_ids[0]``, the inputs are moved there, and
the module runs on it, as torch does for a single device.

Differences from PyTorch: with several ``device_ids`` torch splits the batch along ``dim`` and runs a
replica of the module per GPU; ferrum does not replicate yet, so it runs the whole batch on
``device_ids[0]`` (with a warning) and moves the output to ``output_device``: the same values, except
that BatchNorm in training sees the whole batch instead of one chunk per GPU, and a 0-d output stays
0-d instead of becoming one value per GPU.
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import cuda
from ..._device import device
from ..._tensor import Tensor
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _index(d: Any) -> int:
    """The CUDA device index ``d`` names: an int, ``"cuda:1"`` or ``device("cuda", 1)`` (None index:
    the current device), as torch's ``_get_device_index(d, optional=True)``."""
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    if isinstance(d, str):
        d = device(d)
    if isinstance(d, device):
        if d.type == "cpu":
            return -1
        return cuda.current_device() if d.index is None else d.index
    raise ValueError(f"Expected a ferrum.device with a specified index or an integer, but got:{d}")


def _move(obj: Any, dev: device) -> Any:
    """``obj`` with every tensor in it (through tuples, lists and dicts) moved to ``dev``."""
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(_move(o, dev) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_move(o, dev) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _move(v, dev)) for k, v in obj.items())
    return obj


def _check_on(module: Module, src: device) -> None:
    for t in (*module.parameters(), *module.buffers()):
        if t.device != src:
            raise RuntimeError(f"module must have its parameters and buffers on device {src} "
                               f"(device_ids[0]) but found one of them on device: {t.device}")


def _run(module: Module, inputs: tuple, kwargs: dict, device_ids: list[int], output_device: int) -> Any:
    src = device("cuda", device_ids[0])
    _check_on(module, src)
    out = module(*_move(inputs, src), **_move(kwargs, src))
    if len(device_ids) == 1:
        return out  # torch: a single device's output is not gathered
    return _move(out, device("cpu") if output_device == -1 else device("cuda", output_device))


def _devices(device_ids: Any, output_device: Any) -> tuple[list[int], int]:
    if device_ids is None:
        device_ids = list(range(cuda.device_count()))
    if len(device_ids) == 0:
        raise RuntimeError("no available devices were found")
    ids = [_index(d) for d in device_ids]
    out = ids[0] if output_device is None else _index(output_device)
    if len(ids) > 1:
        warnings.warn(f"DataParallel: ferrum does not replicate the module over {len(ids)} GPUs yet; the "
                      f"whole batch runs on cuda:{ids[0]}", UserWarning, stacklevel=3)
    return ids, out


class DataParallel(Module):
    """Runs ``module`` data-parallel over GPUs ``device_ids`` (default: all); without a GPU, runs it.

    Args:
        module: the module to wrap; it is registered as ``self.module`` (state-dict keys
            ``module.<name>``).
        device_ids: CUDA device indices (ints, ``"cuda:i"`` or devices); default all GPUs; ignored
            (and ``[]``) without CUDA.
        output_device: where the output is gathered (default ``device_ids[0]``; -1 is the CPU).
        dim: the dimension the batch would be split along.

    Shapes: the module's, unchanged.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        ids, out = _devices(device_ids, output_device)
        self.dim = dim
        self.module = module
        self.device_ids = ids
        self.output_device = out
        self.src_device_obj = device("cuda", ids[0])
        self.module.to(self.src_device_obj)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        return _run(self.module, inputs, kwargs, self.device_ids, self.output_device)


def data_parallel(module: Module, inputs: Any, device_ids: Any = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: Any = None) -> Any:
    """``module(*inputs, **module_kwargs)`` evaluated data-parallel on GPUs ``device_ids``, the
    functional form of :class:`DataParallel`; ``RuntimeError`` without a GPU (as in torch)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not cuda.is_available():
        raise RuntimeError("device type could not be determined")
    ids, out = _devices(device_ids, output_device)
    return _run(module, inputs, module_kwargs or {}, ids, out)
