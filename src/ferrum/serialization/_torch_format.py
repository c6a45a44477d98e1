"""PyTorch's checkpoint format (``torch.save``'s zip archive, and the legacy pre-1.6 stream), both ways.

``ferrum.save`` writes ferrum's own safetensors format (see ``__init__``); this module writes torch's
format on request (``ferrum.serialization.save_torch``) and reads every ``.pt``/``.pth`` file
``ferrum.load`` is given, without torch and without running code from the file.

PyTorch users hold ``.pt`` files written by ``torch.save`` (``torchvision`` checkpoints among them),
so ``ferrum.load`` reads the zip archive of torch >= 1.6 and the legacy stream; ``save_torch`` writes
the zip archive, which ``torch.load(weights_only=True)`` reads.

The archive (uncompressed zip, every member under ``<name>/``): ``data.pkl`` is a protocol-2
pickle of the object in which each tensor is ``torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, OrderedDict())`` (a Parameter wraps that in ``_rebuild_parameter``)
and each storage is a persistent id ``('storage', torch.<Type>Storage, key, 'cpu', numel)`` whose
bytes are the member ``data/<key>`` (little endian, each aligned to 64 bytes as torch writes
them); ``version``, ``byteorder``, ``.format_version``, ``.storage_alignment`` and
``.data/serialization_id`` complete it. Tensors that view one NumPy buffer share one storage, as
views do in torch.

The legacy stream: pickles of the magic number, the protocol version (1001) and sys_info, the
object's pickle (the same persistent ids), the pickled list of storage keys, then each storage as
its int64 element count and its bytes.

Loading is restricted by default (``weights_only=True``, PyTorch's default since 2.6; the
allow-list is ``_unpickle.py``'s plus torch's rebuild functions, storage types and dtypes below), so
loading a file never runs code from it; every number the file gives is checked before it sizes a
buffer or a view. ``weights_only=False`` unpickles anything, for trusted files only, as in PyTorch.
The pure-Python pickler is used for writing because it lets the ``torch.*`` names be written
without importing torch; the pickle holds only structure (the tensor bytes go to their own
members), so its speed does not matter.
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

from .._dtype import _BY_NAME, dtype as _dtype_cls, to_np
from .._tensor import Tensor, _wrap
from ._common import contiguous_strides, is_int, short, strided_view
from ._unpickle import RestrictedUnpickler, run

__all__ = ["save_torch", "load_zip", "load_legacy"]

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
            offset, stride = 0, tuple(s // isz for s in a.strides) if a.size else contiguous_strides(a.shape)
        hit = self._keys.get(id(root))
        if hit is None:
            key = str(len(self.storages))
            self.storages[key] = root
            hit = self._keys[id(root)] = (key, root)
        return _StorageRef(hit[0], t.dtype.name, root.size), offset, stride

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            from ..nn.parameter import Parameter

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


def save_torch(obj, f, pickle_module=None, pickle_protocol: int = 2,
               _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Saves ``obj`` (tensors, state dicts, containers; whole modules too) to the path or file
    object ``f`` in PyTorch's zip checkpoint format, loadable by ``torch.load`` (and ``ferrum.load``).

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
# Every number below comes from the file: each is checked before it sizes a buffer or a view
# (strided_view), and a storage may claim no more bytes than the file holds.
def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not (isinstance(storage, tuple) and len(storage) == 2 and isinstance(storage[0], np.ndarray)):
        raise pickle.UnpicklingError("ferrum.load: _rebuild_tensor_v2 expects a storage")
    t = _wrap(strided_view(storage[0], storage_offset, size, stride))
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):  # torch < 1.0's spelling
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks=None, *_):
    from ..nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("ferrum.load: _rebuild_parameter expects a tensor")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    if state is not None and not isinstance(state, dict):
        raise pickle.UnpicklingError("ferrum.load: _rebuild_parameter_with_state expects a dict state")
    for k, v in (state or {}).items():
        if not isinstance(k, str) or k.startswith("_"):
            raise pickle.UnpicklingError(f"ferrum.load: refusing to set attribute {short(k)} on a parameter")
        setattr(p, k, v)
    return p


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = dtype


def _device(*args):
    import ferrum
    try:
        return ferrum.device(*args)
    except (TypeError, ValueError, RuntimeError):
        raise pickle.UnpicklingError(f"ferrum.load: bad device {short(args)}") from None


def _size(*args):
    import ferrum
    if len(args) != 1 or not isinstance(args[0], (tuple, list)) or not all(is_int(s) for s in args[0]):
        raise pickle.UnpicklingError("ferrum.load: torch.Size expects a tuple of ints")
    return ferrum.Size(args[0])


_EXTRA: dict = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "device"): _device, ("torch", "Size"): _size,
    ("ferrum", "device"): _device, ("ferrum", "Size"): _size,
}
for _k, _v in _STORAGE_DTYPE.items():
    _EXTRA[("torch", _k)] = _StorageType(_v)
for _k, _v in _BY_NAME.items():
    _EXTRA[("torch", _k)] = _EXTRA[("ferrum", _k)] = _v


class _TorchUnpickler(RestrictedUnpickler):
    """Rebuilds torch's tensors; storages come from ``read(key, dtype, numel)``."""

    def __init__(self, data, weights_only: bool, read):
        super().__init__(data, weights_only, _EXTRA)
        self.read = read
        self.loaded: dict = {}

    def find_class(self, module, name):
        if not self.weights_only and module.startswith("torch") and (module, name) not in _EXTRA:
            raise pickle.UnpicklingError(f"ferrum.load: the checkpoint needs {module}.{name}, a torch "
                                         "object ferrum cannot rebuild")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"ferrum.load: unknown persistent id {short(pid)}")
        stype, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"ferrum.load: unsupported storage type {short(stype)}")
        if not isinstance(key, str) or not is_int(numel) or numel < 0:
            raise pickle.UnpicklingError("ferrum.load: bad storage record")
        hit = self.loaded.get(key)
        if hit is None:
            hit = self.loaded[key] = (self.read(key, stype.dtype, int(numel)), stype.dtype)
        elif hit[1] != stype.dtype:
            raise pickle.UnpicklingError(f"ferrum.load: storage {key} is read as two dtypes")
        return hit


def _np_dtype(name: str) -> np.dtype:
    return to_np(_BY_NAME[name]).newbyteorder("<")


def load_zip(fh, size: int, weights_only: bool):
    """Loads torch's zip checkpoint from the seekable binary file ``fh`` of ``size`` bytes."""
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, IndexError, OverflowError,
            UnicodeDecodeError, NotImplementedError) as e:  # zipfile's own parser errors
        raise RuntimeError(f"ferrum.load: corrupt zip checkpoint ({type(e).__name__}: {e})") from None
    with zf:
        def member(name: str) -> bytes:
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise RuntimeError(f"ferrum.load: the archive has no record {name}") from None
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                raise RuntimeError(f"ferrum.load: record {name} is compressed or larger than the file")
            try:
                return zf.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, OverflowError, NotImplementedError,
                    UnicodeDecodeError) as e:
                raise RuntimeError(f"ferrum.load: corrupt record {name} ({type(e).__name__}: {e})") from None

        pkl = [n for n in zf.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            raise RuntimeError("ferrum.load: the archive has no data.pkl record")
        prefix = pkl[0][: -len("data.pkl")]

        def read(key, dtype, numel):
            raw = member(f"{prefix}data/{key}")
            npd = _np_dtype(dtype)
            if len(raw) % npd.itemsize or len(raw) // npd.itemsize < numel:
                raise RuntimeError(f"ferrum.load: storage {key} holds {len(raw)} bytes, not {numel} "
                                   f"{dtype} elements")
            return np.frombuffer(raw, dtype=npd).astype(npd.newbyteorder("="), copy=True)

        return run(_TorchUnpickler(member(pkl[0]), weights_only, read))


_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c


def load_legacy(data: bytes, weights_only: bool):
    """Loads torch's pre-1.6 stream: magic, protocol, sys_info, the object's pickle, the list of
    storage keys, then each storage as an int64 element count and its bytes."""
    buf = io.BytesIO(data)

    def _one(what):
        obj = run(RestrictedUnpickler(buf, True, None))
        if obj is None:
            raise RuntimeError(f"ferrum.load: legacy checkpoint without its {what}")
        return obj

    if _one("magic") != _LEGACY_MAGIC:
        raise RuntimeError("ferrum.load: not a torch checkpoint (bad magic number)")
    if _one("protocol") != 1001:
        raise RuntimeError("ferrum.load: unsupported legacy protocol version")
    _one("sys_info")
    pending: dict = {}

    def read(key, dtype, numel):
        npd = _np_dtype(dtype)
        if numel * npd.itemsize > len(data):
            raise RuntimeError(f"ferrum.load: storage {key} claims {numel} elements, more than the file "
                               "holds")
        arr = np.zeros(numel, dtype=npd.newbyteorder("="))
        pending[key] = arr
        return arr

    obj = run(_TorchUnpickler(buf, weights_only, read))
    keys = _one("storage keys")
    if not isinstance(keys, list):
        raise RuntimeError("ferrum.load: bad legacy storage key list")
    pos = buf.tell()
    for key in keys:
        arr = pending.get(key) if isinstance(key, str) else None
        if arr is None:
            raise RuntimeError(f"ferrum.load: legacy storage {str(key)[:40]} is not referenced")
        if pos + 8 > len(data):
            raise RuntimeError("ferrum.load: truncated legacy checkpoint")
        n = int.from_bytes(data[pos:pos + 8], "little")
        nbytes = n * arr.itemsize
        if n != arr.size or pos + 8 + nbytes > len(data):
            raise RuntimeError(f"ferrum.load: legacy storage {key} holds {n} elements, not {arr.size}")
        arr[...] = np.frombuffer(data, dtype=arr.dtype.newbyteorder("<"), count=n, offset=pos + 8)
        pos += 8 + nbytes
    return obj

