"""The object saved by ``ferrum.save`` as JSON (the ``structure`` string of ``__metadata__``).

Every value is a JSON scalar (None, bool, int, float, str; NaN and infinities as Python's json
spells them) or a tagged object ``{"t": tag, ...}``:

- ``list``/``tuple``/``set``/``frozenset``: ``{"t": "list", "v": [items]}``
- ``dict``/``odict``/``counter``: ``{"t": "dict", "k": [keys], "v": [values]}`` (keys are encoded
  values too: an optimizer's state is keyed by int; MultiStepLR's milestones are a Counter); an
  OrderedDict's ``_metadata`` (state dicts carry it) as ``"m"``
- ``tensor``: ``{"s": storage, "o": offset, "sh": shape, "st": stride, "d": dtype}`` plus ``"g": true``
  (requires_grad) and ``"p": true`` (a Parameter); ``ndarray`` likewise with a NumPy dtype
- ``bytes``/``bytearray``: the bytes are a U8 storage ``"s"``; ``complex``: ``"v": [re, im]``;
  ``npscalar``: a NumPy scalar, ``"d"`` dtype and ``"v"`` its bytes in hex; ``dtype``, ``device``, ``Size``
- ``ref``: ``{"i": n}``, the n-th memoised object again (a tensor or array saved twice comes back as
  one object, as pickle's memo does in torch)
- ``pickle``: anything else (a user class, an ``nn.Module``) as a pickle stream stored as a U8
  storage ``"s"``; the tensors and arrays inside it are not pickled but encoded as above in ``"r"``
  and referenced from the pickle by persistent id (their bytes stay in the payload). It is unpickled
  only with ``weights_only=False`` or through the allow-list (``ferrum.serialization.safe_globals``).

A storage is one safetensors entry: a tensor that views a buffer names the buffer, so two views of
one storage saved together share one storage again after loading, each with its offset and strides.
"""

from __future__ import annotations

import collections
import io
import pickle

import numpy as np

from .._dtype import _BY_NAME, FROM_NP, dtype as _dtype_cls, to_np
from .._tensor import Size, Tensor, _wrap
from ._common import contiguous_strides, is_int, strided_view
from ._safetensors import DTYPES, ST_OF
from ._unpickle import RestrictedUnpickler, run

_SCALARS = (str, int, float, bool, type(None))
_DICT_TAG = {dict: "dict", collections.OrderedDict: "odict", collections.Counter: "counter"}
_DICT_CLS = {v: k for k, v in _DICT_TAG.items()}


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class Encoder:
    """Walks an object; collects storages (1-D contiguous arrays) and returns its JSON description."""

    def __init__(self):
        self.storages: list[tuple[str, np.ndarray, tuple]] = []  # (entry name, flat array, entry shape)
        self._by_root: dict[int, tuple[int, np.ndarray]] = {}
        self._memo: dict[int, tuple[int, object]] = {}  # id(obj) -> (memo index, obj kept alive)
        self._names: set[str] = set()

    def _storage(self, a: np.ndarray, name: str | None, whole_shape: tuple | None) -> tuple:
        """(storage index, element offset, element strides) of array ``a``."""
        root = _root(a)
        isz = a.itemsize
        start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0] if a.size else 0
        if (root.dtype == a.dtype and root.flags.c_contiguous and a.size and start % isz == 0 and start >= 0
                and all(s >= 0 and s % isz == 0 for s in a.strides) and root.dtype.isnative):
            offset, stride = start // isz, tuple(s // isz for s in a.strides)
        else:  # reinterpreted, byte-swapped or negatively strided: a private contiguous copy
            root = a = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("="), copy=False)
            offset, stride = 0, contiguous_strides(a.shape)
        hit = self._by_root.get(id(root))
        if hit is None:
            flat = root.reshape(-1)
            covers = offset == 0 and root.size == a.size and stride == contiguous_strides(a.shape)
            if not name or name in self._names or name.startswith("__"):
                name = f"storage.{len(self.storages)}"
                while name in self._names:
                    name += "_"
            self._names.add(name)
            shape = whole_shape if covers and whole_shape is not None else (root.size,)
            hit = self._by_root[id(root)] = (len(self.storages), root)
            self.storages.append((name, flat, shape))
        return hit[0], offset, stride

    def _memoize(self, obj, node: dict) -> dict:
        self._memo[id(obj)] = (len(self._memo), obj)
        return node

    def encode(self, obj, name: str | None = None):
        cls = obj.__class__
        if cls in _SCALARS:
            return obj
        hit = self._memo.get(id(obj))
        if hit is not None and hit[1] is obj:
            return {"t": "ref", "i": hit[0]}
        if cls in (list, tuple, set, frozenset):
            return {"t": cls.__name__, "v": [self.encode(v, _child(name, i)) for i, v in enumerate(obj)]}
        if cls is dict or cls is collections.OrderedDict or cls is collections.Counter:
            ks, vs = [], []
            for k, v in obj.items():  # keys and values interleaved, as the decoder visits them
                ks.append(self.encode(k))
                vs.append(self.encode(v, _child(name, k)))
            node = {"t": _DICT_TAG[cls], "k": ks, "v": vs}
            md = getattr(obj, "_metadata", None)
            if md is not None and cls is collections.OrderedDict:
                node["m"] = self.encode(md)
            return node
        if isinstance(obj, Tensor):
            from ..nn.parameter import Parameter
            if cls is not Tensor and cls is not Parameter:
                return self._pickled(obj)
            a = np.asarray(obj.detach().cpu()._data)
            s, o, st = self._storage(a, name, a.shape)
            node = {"t": "tensor", "s": s, "o": o, "sh": list(a.shape), "st": list(st), "d": obj.dtype.name}
            if obj.requires_grad:
                node["g"] = True
            if cls is Parameter:
                node["p"] = True
            return self._memoize(obj, node)
        if cls is np.ndarray:
            if obj.dtype.newbyteorder("=").name not in ST_OF and obj.dtype != np.complex128:
                return self._pickled(obj)
            s, o, st = self._storage(obj, name, obj.shape)
            return self._memoize(obj, {"t": "ndarray", "s": s, "o": o, "sh": list(obj.shape), "st": list(st),
                                       "d": obj.dtype.newbyteorder("=").name})
        if isinstance(obj, np.generic) and obj.dtype.name in ST_OF:
            raw = obj.astype(obj.dtype.newbyteorder("<")).tobytes()
            return {"t": "npscalar", "d": obj.dtype.name, "v": raw.hex()}
        if cls is bytes or cls is bytearray:
            s, _, _ = self._storage(np.frombuffer(bytes(obj), dtype=np.uint8).copy(), None, None)
            return {"t": cls.__name__, "s": s}
        if cls is complex:
            return {"t": "complex", "v": [obj.real, obj.imag]}
        if cls is _dtype_cls:
            return {"t": "dtype", "v": obj.name}
        if cls is Size:
            return {"t": "Size", "v": list(obj)}
        if cls.__name__ == "device" and cls.__module__ == "ferrum._device":
            return {"t": "device", "v": str(obj)}
        return self._pickled(obj)

    def _pickled(self, obj):
        refs: list = []
        buf = io.BytesIO()
        _Pickler(buf, self, refs).dump(obj)
        s, _, _ = self._storage(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy(), None, None)
        return {"t": "pickle", "s": s, "r": refs}


class _Pickler(pickle.Pickler):
    """Pickles a user object; its tensors and arrays go to the encoder (persistent ids)."""

    def __init__(self, file, enc: Encoder, refs: list):
        super().__init__(file, protocol=4)
        self.enc, self.refs = enc, refs

    def persistent_id(self, obj):
        from ..nn.parameter import Parameter
        if obj.__class__ in (Tensor, Parameter) or (obj.__class__ is np.ndarray and obj.dtype.name in ST_OF):
            self.refs.append(self.enc.encode(obj))
            return len(self.refs) - 1
        return None


def _child(name, key):
    # entry names follow the path of a tensor in the object ("state.0.exp_avg"), as state dicts read
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        return None
    return f"{name}.{key}" if name else str(key)


class Decoder:
    """Rebuilds the object from its JSON description; ``storage(i)`` gives storage i's flat array."""

    def __init__(self, storage, weights_only: bool):
        self.storage = storage
        self.weights_only = weights_only
        self.memo: list = []

    def _bad(self, msg):
        return RuntimeError(f"ferrum.load: malformed structure: {msg}")

    def _arr(self, node, dt: np.dtype, what: str) -> np.ndarray:
        s = node.get("s")
        a = self.storage(s) if is_int(s) else None
        if a is None:
            raise self._bad(f"{what} names a missing storage {str(s)[:40]}")
        if a.dtype != dt:
            if (a.size * a.itemsize) % dt.itemsize or dt.kind not in "fciub" and dt.name != "bfloat16":
                raise self._bad(f"{what} of dtype {dt} reads a storage of {a.dtype}")
            a = a.view(dt)
        return strided_view(a, node.get("o"), node.get("sh"), node.get("st"), what)

    def decode(self, node):
        if node is None or node.__class__ in (str, int, float, bool):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise self._bad(f"unexpected {type(node).__name__}")
        t = node["t"]
        if t in ("list", "tuple", "set", "frozenset"):
            v = node.get("v")
            if not isinstance(v, list):
                raise self._bad(f"{t} without items")
            items = [self.decode(x) for x in v]
            if t == "list":
                return items
            try:
                return {"tuple": tuple, "set": set, "frozenset": frozenset}[t](items)
            except TypeError as e:
                raise self._bad(f"{t}: {e}") from None
        if t in _DICT_CLS:
            k, v = node.get("k"), node.get("v")
            if not (isinstance(k, list) and isinstance(v, list) and len(k) == len(v)):
                raise self._bad("dict keys and values differ in length")
            out = _DICT_CLS[t]()
            try:
                for a, b in zip(k, v):
                    out[self.decode(a)] = self.decode(b)
            except TypeError as e:
                raise self._bad(f"dict key: {e}") from None
            if "m" in node and t == "odict":
                out._metadata = self.decode(node["m"])
            return out
        if t == "ref":
            i = node.get("i")
            if not is_int(i) or not 0 <= i < len(self.memo):
                raise self._bad(f"reference to unknown object {str(i)[:40]}")
            return self.memo[i]
        if t == "tensor":
            name = node.get("d")
            if name not in _BY_NAME:
                raise self._bad(f"unknown dtype {str(name)[:40]}")
            t_ = _wrap(self._arr(node, to_np(_BY_NAME[name]), "tensor"))
            if node.get("p"):
                from ..nn.parameter import Parameter
                t_ = Parameter(t_, bool(node.get("g")))
            elif node.get("g"):
                t_.requires_grad = True
            self.memo.append(t_)
            return t_
        if t == "ndarray":
            name = node.get("d")
            if name not in DTYPES.values() and name != "complex128":
                raise self._bad(f"unknown array dtype {str(name)[:40]}")
            dt = to_np(_BY_NAME["bfloat16"]) if name == "bfloat16" else np.dtype(name)
            a = self._arr(node, dt, "array")
            self.memo.append(a)
            return a
        if t in ("bytes", "bytearray"):
            return (bytes if t == "bytes" else bytearray)(self._arr(
                {"s": node.get("s"), "o": 0, "sh": [self._len(node)], "st": [1]}, np.dtype(np.uint8), t))
        if t == "npscalar":
            name, v = node.get("d"), node.get("v")
            if name not in DTYPES.values() or not isinstance(v, str):
                raise self._bad("bad NumPy scalar")
            dt = to_np(_BY_NAME["bfloat16"]) if name == "bfloat16" else np.dtype(name)
            try:
                raw = bytes.fromhex(v)
            except ValueError:
                raise self._bad("bad NumPy scalar bytes") from None
            if len(raw) != dt.itemsize:
                raise self._bad("bad NumPy scalar size")
            return np.frombuffer(raw, dtype=dt.newbyteorder("<"))[0].astype(dt)
        if t == "complex":
            v = node.get("v")
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)):
                raise self._bad("bad complex")
            return complex(v[0], v[1])
        if t == "dtype":
            if node.get("v") not in _BY_NAME:
                raise self._bad("unknown dtype")
            return _BY_NAME[node["v"]]
        if t == "Size":
            v = node.get("v")
            if not (isinstance(v, list) and all(is_int(x) for x in v)):
                raise self._bad("bad Size")
            return Size(v)
        if t == "device":
            import ferrum
            try:
                return ferrum.device(str(node.get("v")))
            except (RuntimeError, ValueError, TypeError) as e:
                raise self._bad(f"bad device: {e}") from None
        if t == "pickle":
            refs = node.get("r")
            if not isinstance(refs, list):
                raise self._bad("pickle without references")
            objs = [self.decode(r) for r in refs]
            raw = self._arr({"s": node.get("s"), "o": 0, "sh": [self._len(node)], "st": [1]},
                            np.dtype(np.uint8), "pickle")
            u = _Unpickler(raw.tobytes(), self.weights_only, objs)
            return run(u)
        raise self._bad(f"unknown tag {t[:40]!r}")

    def _len(self, node) -> int:
        s = node.get("s")
        a = self.storage(s) if is_int(s) else None
        if a is None:
            raise self._bad(f"missing storage {str(s)[:40]}")
        return a.size * a.itemsize if a.dtype == np.uint8 else -1


class _Unpickler(RestrictedUnpickler):
    def __init__(self, data: bytes, weights_only: bool, objs: list):
        super().__init__(data, weights_only, None)
        self.objs = objs

    def persistent_load(self, pid):
        if not is_int(pid) or not 0 <= pid < len(self.objs):
            raise pickle.UnpicklingError(f"ferrum.load: unknown persistent id {str(pid)[:40]}")
        return self.objs[pid]


__all__ = ["Encoder", "Decoder", "FROM_NP"]
