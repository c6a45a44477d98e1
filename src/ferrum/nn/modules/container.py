"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

import operator
from collections import OrderedDict
from itertools import chain, islice
from typing import Any, Iterable, Iterator, Mapping

from ... import _state
from ..._tensor import Tensor
from ..parameter import Parameter
from ...ops.activation import _relu_owned
from ...ops.linear import _linear
from .activation import ReLU as _ReLU
from .linear import Linear as _Linear
from .module import Module, _addindent, _global_hooks_on

_Module_call = Module.__call__
_Linear_forward = _Linear.forward
_ReLU_forward = _ReLU.forward

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Container"]


def _index(idx: int, n: int, kind: str) -> int:
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx + n if idx < 0 else idx


class Container(Module):
    def __init__(self, **kwargs: Module) -> None:
        super().__init__()
        for k, v in kwargs.items():
            self.add_module(k, v)


class Sequential(Module):
    """Modules called in order, each on the previous one's output.

    ``Sequential(m1, m2, ...)`` names them "0", "1", ...; ``Sequential(OrderedDict(name=m))``
    keeps the given names.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def forward(self, input):
        mods = self._modules
        if len(mods) > 1 and not _global_hooks_on[0] and input.__class__ is Tensor:
            chain = list(mods.values())
            kinds = _linear_relu_kinds(chain)
            if kinds is not None and not _state.autocast:  # autocast casts at each public linear
                return _linear_relu_chain(input, chain, kinds)
        for module in mods.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        i = _index(idx, len(self._modules), "Sequential")
        return next(islice(self._modules.values(), i, None))

    def __setitem__(self, idx: int, module: Module) -> None:
        i = _index(idx, len(self._modules), "Sequential")
        key = list(self._modules.keys())[i]
        setattr(self, key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules.keys())
        if isinstance(idx, slice):
            for key in keys[idx]:
                delattr(self, key)
        else:
            delattr(self, keys[_index(idx, len(keys), "Sequential")])
        # renumber, as PyTorch does, so that indices stay 0..n-1
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        for m in other:
            self.append(m)
        return self

    def __mul__(self, other: int) -> "Sequential":
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> "Sequential":
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        mods = list(self)
        for _ in range(other - 1):
            for m in mods:
                self.append(m)
        return self

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> "Sequential":
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m
        return self

    def extend(self, sequential: Iterable[Module]) -> "Sequential":
        for m in sequential:
            self.append(m)
        return self

    def pop(self, key) -> Module:
        v = self[key]
        del self[key]
        return v


_LINEAR, _RELU = 1, 2


def _kind(m) -> int:
    """_LINEAR or _RELU for a module whose call is exactly Linear's or ReLU's: the class or a
    subclass that overrides neither ``forward`` nor ``__call__`` (so calling it runs Linear.forward
    or ReLU.forward, which read the same ``_parameters`` and ``inplace`` the fused path reads), with
    no hooks and no ``forward`` set on the instance; 0 otherwise (LazyLinear, for one, overrides
    ``forward`` to initialise itself, and so runs module by module until it has become a Linear)."""
    c = m.__class__
    if m._has_hooks or "forward" in m.__dict__:
        return 0
    if c is _Linear:
        return _LINEAR
    if c is _ReLU:
        return _RELU
    if c.__call__ is not _Module_call:
        return 0
    if c.forward is _Linear_forward and issubclass(c, _Linear):
        return _LINEAR
    if c.forward is _ReLU_forward and issubclass(c, _ReLU):
        return _RELU
    return 0


def _linear_relu_kinds(chain: list):
    """The kinds (``_kind``) of a chain made only of Linear and ReLU modules, else None."""
    kinds = []
    for m in chain:
        k = _kind(m)
        if not k:
            return None
        kinds.append(k)
    return kinds


def _linear_relu_chain(x: Tensor, chain: list, kinds: list) -> Tensor:
    """Linear/ReLU stacks (MLPs) without hooks: the same ops and graph as calling each module,
    with two shortcuts only possible because the intermediates are never seen outside: a Linear
    whose output goes to another Linear (through ReLUs) computes it column-major (faster GEMM; the
    layout protocol of ops/_layout.py), and a ReLU after a Linear writes into the Linear's fresh
    output instead of a new array."""
    last = max((i for i, k in enumerate(kinds) if k == _LINEAR), default=-1)
    fresh = False
    for i, m in enumerate(chain):
        if kinds[i] == _LINEAR:
            p = m._parameters
            w = p["weight"]
            if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
                x = m(x)  # raises the error naming the layer
                fresh = False
                continue
            x = _linear(x, w, p["bias"], i < last)
            fresh = True
        elif fresh and not m.inplace:
            x = _relu_owned(x)
        else:
            x = m(x)
            fresh = False
    return x


class ModuleList(Module):
    """A list of modules, registered so that ``parameters()`` and ``to()`` see them."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self += modules

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, str(_index(idx, len(self), "ModuleList")))
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList(chain(self, other))

    def insert(self, index: int, module: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key: int) -> Module:
        v = self[key]
        del self[key]
        return v

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        if not isinstance(modules, Iterable) or isinstance(modules, (str, bytes)):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        offset = len(self)
        for i, m in enumerate(modules):
            self.add_module(str(offset + i), m)
        return self

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def __repr__(self) -> str:
        # runs of consecutive modules with the same repr print once: "(0-2): 3 x Linear(...)"
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for first, last, r in runs:
            head = f"({first})" if first == last else f"({first}-{last}): {last - first + 1} x"
            lines.append(_addindent(f"{head}: {r}" if first == last else f"{head} {r}", 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered so that ``parameters()`` and ``to()`` see them."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        """Adds the modules of a mapping (in its order) or of an iterable of (key, module) pairs."""
        _update_pairs(self, modules, "ModuleDict")


def _update_pairs(target, items, kind: str, sort_plain_dicts: bool = False) -> None:
    if not isinstance(items, Iterable):
        raise TypeError(f"{kind}.update should be called with an iterable of key/value pairs, but "
                        f"got {type(items).__name__}")
    if isinstance(items, (Mapping, ModuleDict, ParameterDict)):
        pairs = items.items()
        if sort_plain_dicts and not isinstance(items, (OrderedDict, ParameterDict)):
            pairs = sorted(pairs)  # PyTorch sorts the keys of a plain dict here
        for k, v in pairs:
            target[k] = v
        return
    for j, pair in enumerate(items):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{kind} update sequence element #{j} should be Iterable; is "
                            f"{type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{kind} update sequence element #{j} has length {len(pair)}; 2 is "
                             "required")
        target[pair[0]] = pair[1]


def _param_line(key, p: Any, legacy_type: bool) -> str:
    """One line of ParameterList/ParameterDict's extra_repr (indented by two more spaces than
    child modules, as in PyTorch). The list names the dtype (ferrum.float32), the dict the legacy
    tensor type (ferrum.FloatTensor), again as PyTorch does."""
    if not isinstance(p, Tensor):
        return f"  ({key}): Object of type: {type(p).__name__}"
    size = "x".join(str(s) for s in p.shape)
    device = "" if p.device.type == "cpu" else f" ({p.device})"
    kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
    name = p.type() if legacy_type else str(p.dtype)
    return f"  ({key}): {kind} containing: [{name} of size {size}{device}]"


class _MissingKey(KeyError, AttributeError):
    """A ParameterDict key that is not there: PyTorch raises AttributeError (its lookup goes through
    getattr); this is both that and the KeyError a dict raises."""


class ParameterList(Module):
    """A list of Parameters (plain tensors given to it become Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _key(self, idx: int) -> str:
        return str(_index(idx, self._size, "ParameterList"))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(self._size)[idx]:
                out.append(self[i])
            return out
        return getattr(self, self._key(idx))

    def __setitem__(self, idx: int, param) -> None:
        key = self._key(idx)
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, key, param)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def __iadd__(self, params: Iterable[Any]) -> "ParameterList":
        return self.extend(params)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value: Any) -> "ParameterList":
        """Adds ``value`` at the end (a plain Tensor becomes a Parameter)."""
        new_idx = self._size
        self._size += 1
        self[new_idx] = value
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_param_line(i, p, False) for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


def _check_key(key) -> None:
    if not isinstance(key, str):
        raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not a string "
                        f"(type is '{type(key).__name__}').")


class ParameterDict(Module):
    """A dict of Parameters (plain tensors given to it become Parameters)."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        _check_key(key)
        if key not in self._keys:
            raise _MissingKey(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        _check_key(key)
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        _check_key(key)
        if key not in self._keys:
            raise _MissingKey(key)
        del self._keys[key]
        delattr(self, key)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def popitem(self) -> tuple:
        """Removes and returns the last inserted (key, parameter) pair."""
        k = next(reversed(self._keys))
        v = self[k]
        del self[k]
        return k, v

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> "ParameterDict":
        return ParameterDict((k, default) for k in keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def pop(self, key: str) -> Any:
        v = self[key]
        del self[key]
        return v

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> "ParameterDict":
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def update(self, parameters: Any) -> None:
        """Adds the entries of an OrderedDict/ParameterDict (in order), of a plain mapping (sorted
        by key, as PyTorch does) or of an iterable of (key, value) pairs."""
        _update_pairs(self, parameters, "ParameterDict", sort_plain_dicts=True)

    def __or__(self, other: "ParameterDict") -> "ParameterDict":
        c = self.copy()
        c.update(other)
        return c

    def __ror__(self, other: "ParameterDict") -> "ParameterDict":
        c = other.copy()
        c.update(self)
        return c

    def __ior__(self, other: "ParameterDict") -> "ParameterDict":
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, p, True) for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
