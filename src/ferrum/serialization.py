"""``ferrum.save`` / ``ferrum.load``: PyTorch's checkpoint format, both ways.

A PyTorch program saves with ``torch.save(model.state_dict(), path)`` and loads with
``model.load_state_dict(torch.load(path))``; its users also hold ``.pt`` files written by PyTorch.
So ferrum writes and reads PyTorch's own format (the zip archive of torch >= 1.6): a file saved
by ferrum loads in ``torch.load(weights_only=True)`` and a file saved by torch loads here.

The archive (uncompressed zip, every member under ``<name>/``): ``data.pkl`` is a protocol-2
pickle of the object in which each tensor is ``torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, OrderedDict())`` (a Parameter wraps that in ``_rebuild_parameter``)
and each storage is a persistent id ``('storage', torch.<Type>Storage, key, 'cpu', numel)`` whose
bytes are the member ``data/<key>`` (little endian, each aligned to 64 bytes as torch writes
them); ``version``, ``byteorder``, ``.format_version``, ``.storage_alignment`` and
``.data/serialization_id`` complete it. Tensors that view one NumPy buffer share one storage, as
views do in torch.

Loading is restricted by default (``weights_only=True``, PyTorch's default since 2.6): only the
names a checkpoint of tensors, containers and primitives needs resolve, so loading a file never
runs code from it. ``weights_only=False`` unpickles anything (whole modules saved with
``ferrum.save(model)``), for trusted files only, as in PyTorch. The pure-Python pickler is used for
writing because it lets the ``torch.*`` names be written without importing torch; the pickle
holds only structure (the tensor bytes go to their own members), so its speed does not matter.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import sys
import uuid
import zipfile

import numpy as np

from ._dtype import _BY_NAME, dtype as _dtype_cls, to_np
from ._tensor import Tensor, _wrap

__all__ = ["save", "load"]

# torch's typed-storage class names, by ferrum dtype name
_STORAGE = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
            "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
            "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
            "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_STORAGE_DTYPE = {v: k for k, v in _STORAGE.items()}
_ALIGN = 64


class _Global:
    """A ``module.name`` reference written into the pickle as is (the module is never imported)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # the pickler asks a reduce function to be callable; never called
        raise TypeError(f"{self.module}.{self.name} is a pickle reference, not a function")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_DTYPE_GLOBALS: dict = {}


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class _Pickler(pickle._Pickler):
    """Writes tensors as torch's rebuild calls and collects their storages."""

    def __init__(self, file, storages: dict):
        super().__init__(file, protocol=2)
        self.storages = storages  # key -> contiguous array
        self._keys: dict[int, tuple] = {}  # id(root buffer) -> (key, root), kept alive here

    def save(self, obj, save_persistent_id=True):
        if obj.__class__ is _dtype_cls:  # torch pickles a dtype as the global torch.<name>
            obj = _DTYPE_GLOBALS.setdefault(obj.name, _Global("torch", obj.name))
        if obj.__class__ is _Global:
            x = self.memo.get(id(obj))
            if x is not None:
                self.write(self.get(x[0]))
                return
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            self.memoize(obj)
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if obj.__class__ is _StorageRef:
            return ("storage", _Global("torch", _STORAGE[obj.dtype]), obj.key, "cpu", obj.numel)
        return None

    def _storage_of(self, t: Tensor) -> tuple:
        """(storage ref, offset, stride) in elements; views of one buffer share its storage."""
        a = np.asarray(t.detach().cpu()._data)
        root = _root(a)
        isz = a.itemsize
        start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0] if a.size else 0
        if (root.dtype == a.dtype and root.flags.c_contiguous and a.size and start % isz == 0
                and all(s >= 0 and s % isz == 0 for s in a.strides)):
            offset, stride = start // isz, tuple(s // isz for s in a.strides)
        else:  # reinterpreted or negatively strided: a private contiguous copy
            root = a = np.ascontiguousarray(a)
            offset, stride = 0, tuple(s // isz for s in a.strides) if a.size else _contig(a.shape)
        hit = self._keys.get(id(root))
        if hit is None:
            key = str(len(self.storages))
            self.storages[key] = root
            hit = self._keys[id(root)] = (key, root)
        return _StorageRef(hit[0], t.dtype.name, root.size), offset, stride

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter

            ref, offset, stride = self._storage_of(obj)
            rebuilt = (_REBUILD_TENSOR, (ref, offset, tuple(obj.shape), stride,
                                         obj.requires_grad and not isinstance(obj, Parameter),
                                         collections.OrderedDict()))
            if isinstance(obj, Parameter):
                return (_REBUILD_PARAMETER, (_Rebuilt(rebuilt), obj.requires_grad, collections.OrderedDict()))
            return rebuilt
        if obj.__class__ is _Rebuilt:
            return obj.reduce
        return NotImplemented


def _contig(shape) -> tuple:
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(out))


class _StorageRef:
    __slots__ = ("key", "dtype", "numel")

    def __init__(self, key: str, dtype: str, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel


class _Rebuilt:
    __slots__ = ("reduce",)

    def __init__(self, reduce: tuple):
        self.reduce = reduce


def _open_for_write(f):
    if isinstance(f, (str, os.PathLike)):
        return open(f, "wb"), True
    if not hasattr(f, "write"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
    return f, False


def _archive_name(f) -> str:
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return stem or "archive"
    return "archive"


def _write_member(zf: zipfile.ZipFile, name: str, data: bytes, align: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    if align:
        # pad the local header's extra field so the member's bytes start on a 64-byte boundary
        base = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4
        pad = (-base) % _ALIGN
        info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    zf.writestr(info, data)


def save(obj, f, pickle_module=None, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Saves ``obj`` (tensors, state dicts, containers; whole modules too) to the path or file
    object ``f`` in PyTorch's checkpoint format, loadable by ``ferrum.load`` and ``torch.load``.

    Differences from PyTorch: ``pickle_module``/``pickle_protocol`` are accepted and ignored (the
    format is fixed, protocol 2); ``_use_new_zipfile_serialization=False`` (the legacy format) is
    not supported."""
    if not _use_new_zipfile_serialization:
        raise RuntimeError("ferrum.save: the legacy (non-zip) format is not supported")
    buf = io.BytesIO()
    storages: dict = {}
    _Pickler(buf, storages).dump(obj)
    fh, owned = _open_for_write(f)
    name = _archive_name(f)
    try:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            _write_member(zf, f"{name}/data.pkl", buf.getvalue())
            _write_member(zf, f"{name}/.format_version", b"1")
            _write_member(zf, f"{name}/.storage_alignment", b"64")
            if not _disable_byteorder_record:
                _write_member(zf, f"{name}/byteorder", sys.byteorder.encode())
            for key, arr in storages.items():
                raw = np.ascontiguousarray(arr)
                if raw.dtype.byteorder == ">":
                    raw = raw.astype(raw.dtype.newbyteorder("<"))
                _write_member(zf, f"{name}/data/{key}", raw.tobytes(), align=True)
            _write_member(zf, f"{name}/version", b"3\n")
            _write_member(zf, f"{name}/.data/serialization_id", uuid.uuid4().hex.encode().ljust(40, b"0"))
    finally:
        if owned:
            fh.close()


# --------------------------------------------------------------------------------------- load
def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    arr, dt = storage
    isz = arr.itemsize
    if len(size) == 0:
        out = arr[storage_offset:storage_offset + 1].reshape(())
    else:
        out = np.lib.stride_tricks.as_strided(arr[storage_offset:], shape=tuple(size),
                                              strides=tuple(s * isz for s in stride))
    t = _wrap(out)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks=None, *_):
    from .nn.parameter import Parameter

    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    for k, v in (state or {}).items():
        setattr(p, k, v)
    return p


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = dtype


_TORCH_NAMES = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
    ("builtins", "complex"): complex, ("builtins", "bytearray"): bytearray,
    ("__builtin__", "set"): set,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, zf: zipfile.ZipFile, prefix: str, weights_only: bool):
        super().__init__(file, encoding="utf-8")
        self.zf, self.prefix, self.weights_only = zf, prefix, weights_only
        self.loaded: dict = {}

    def find_class(self, module, name):
        hit = _TORCH_NAMES.get((module, name))
        if hit is not None:
            return hit
        if module == "torch" and name in _STORAGE_DTYPE:
            return _StorageType(_STORAGE_DTYPE[name])
        if module in ("torch", "ferrum") and name in _BY_NAME:
            return _BY_NAME[name]
        if module in ("torch", "ferrum") and name in ("device", "Size"):
            import ferrum
            return getattr(ferrum, name)
        if module == "_codecs" and name == "encode":
            import _codecs
            return _codecs.encode
        if self.weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed: unsupported global {module}.{name}. "
                "ferrum.load(weights_only=True) "
                "loads tensors, containers and primitives only; pass weights_only=False for a trusted file "
                "(it can run arbitrary code).")
        if module.startswith("torch"):
            raise pickle.UnpicklingError(f"ferrum.load: the checkpoint needs {module}.{name}, a torch "
                                         "object ferrum cannot rebuild")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"ferrum.load: unknown persistent id {pid!r}")
        stype, key = pid[1], pid[2]
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"ferrum.load: unsupported storage type {stype!r}")
        hit = self.loaded.get(key)
        if hit is None:
            npd = to_np(_BY_NAME[stype.dtype]).newbyteorder("<")
            raw = self.zf.read(f"{self.prefix}data/{key}")
            arr = np.frombuffer(raw, dtype=npd).astype(npd.newbyteorder("="), copy=True)
            hit = self.loaded[key] = (arr, stype.dtype)
        return hit


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None, mmap=None,
         **pickle_load_args):
    """Loads an object saved by ``ferrum.save`` or ``torch.save`` (the zip format) from a path or
    file object. ``weights_only`` defaults to True (PyTorch's default): only tensors, containers and
    primitives are rebuilt. ``map_location`` may name a device ("cpu", a ``ferrum.device``, a dict
    or a callable as in torch); tensors land on the CPU unless it names cuda."""
    if weights_only is None:
        weights_only = True
    own = isinstance(f, (str, os.PathLike))
    fh = open(f, "rb") if own else f
    try:
        if not zipfile.is_zipfile(fh):
            raise RuntimeError("ferrum.load: not a zip checkpoint (ferrum reads the format of torch >= 1.6; "
                               "re-save legacy files with torch.save)")
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            pkl = [n for n in zf.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
            if not pkl:
                raise RuntimeError("ferrum.load: the archive has no data.pkl record")
            prefix = pkl[0][: -len("data.pkl")]
            obj = _Unpickler(io.BytesIO(zf.read(pkl[0])), zf, prefix, weights_only).load()
    finally:
        if own:
            fh.close()
    return _map(obj, map_location)


def _map(obj, map_location):
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, dict)):
        if callable(map_location):
            return _apply(obj, lambda t: map_location(t, "cpu"))
        return obj
    if isinstance(map_location, dict):
        dev = map_location.get("cpu", "cpu")
    else:
        dev = map_location
    if str(dev).startswith("cpu"):
        return obj
    return _apply(obj, lambda t: t.to(dev))


def _apply(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, collections.OrderedDict):
        out = collections.OrderedDict((k, _apply(v, fn)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, dict):
        return {k: _apply(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_apply(v, fn) for v in obj)
    return obj
