"""The allow-list of globals a ``weights_only`` load may resolve, and the restricted unpickler.

Both readers use it: torch's ``.pt`` files (a pickle of the whole object) and the pickled user
objects inside ferrum's own safetensors files (only objects that are no tensor, container or
primitive are pickled there). A pickle names every class or function it calls as a global
(``module.name``); ``find_class`` resolves only the names below plus those the user allowed with
``add_safe_globals`` / ``safe_globals``, so loading an untrusted file never runs code from it. The
few callables allowed by default are wrapped so that no argument can make them allocate more than
the pickle itself holds (``bytearray(10**12)`` is refused) and so that their failures surface as
``pickle.UnpicklingError``, never as a stray ``TypeError``.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import io
import pickle
import pickletools
from typing import Any, Iterable

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_USER: dict[str, Any] = {}  # "module.name" -> object, registered by the user


def _key_of(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: Iterable) -> None:
    """Allows the classes/functions in ``safe_globals`` in ``ferrum.load(weights_only=True)``.

    Each item is the object itself or a pair ``(obj, "module.name")`` naming the global under which
    the pickle refers to it (for objects saved under another module path), as in PyTorch."""
    for item in safe_globals:
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], str):
                raise TypeError("add_safe_globals: a tuple item must be (obj, 'module.name')")
            _USER[item[1]] = item[0]
        else:
            _USER[_key_of(item)] = item


def get_safe_globals() -> list:
    """The user-allowed globals (PyTorch's spelling: objects, or (obj, name) where the name differs)."""
    out = []
    for k, v in _USER.items():
        out.append(v if getattr(v, "__qualname__", None) and _key_of(v) == k else (v, k))
    return out


def clear_safe_globals() -> None:
    """Forgets every global added with ``add_safe_globals``."""
    _USER.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable):
    """Context manager: allows ``safe_globals`` in ``weights_only`` loads inside the block only."""
    saved = dict(_USER)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _USER.clear()
        _USER.update(saved)


def _bytearray(*args):
    # bytearray(n) would allocate n bytes from a number in the file: only copies are allowed
    if args and not isinstance(args[0], (bytes, bytearray, str, list)):
        raise pickle.UnpicklingError("ferrum.load: bytearray() is allowed from bytes only")
    return bytearray(*args)


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    # protocol 2 pickles bytes as _codecs.encode(str, 'latin1'); the result is no bigger than obj
    import _codecs
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("ferrum.load: _codecs.encode is allowed on str, latin1/utf-8 only")
    return _codecs.encode(obj, encoding, errors)


def _checked(fn):
    def call(*args):
        try:
            return fn(*args)
        except (TypeError, ValueError, OverflowError) as e:
            raise pickle.UnpicklingError(f"ferrum.load: bad arguments to {fn.__name__}: {e}") from None
    call.__name__ = fn.__name__
    return call


# names every pickle of plain data needs (both spellings of builtins: Python 2 pickles use __builtin__)
DEFAULT: dict[tuple[str, str], Any] = {("collections", "OrderedDict"): _checked(collections.OrderedDict),
                                       ("collections", "Counter"): _checked(collections.Counter),
                                       ("_codecs", "encode"): _codecs_encode}
for _mod in ("builtins", "__builtin__"):
    for _n in ("set", "frozenset", "slice", "complex", "int", "float", "bool"):
        DEFAULT[(_mod, _n)] = _checked(getattr(builtins, _n))
    DEFAULT[(_mod, "bytearray")] = _bytearray
# what pickles of plain data call (protocol 2 spells a set as builtins.set([...])). Not range
# (list(range(10**12)) is 20 bytes of pickle), nor str/list/tuple/dict: no pickler emits them, and
# str() of a structure of shared references is exponentially long.


def refusal(module: str, name: str) -> pickle.UnpicklingError:
    """PyTorch's message shape for a global that is not allowed."""
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, do those "
        "steps only if you trust the source of the checkpoint.\n\t(1) Re-running `ferrum.load` with "
        "`weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. "
        "\n\t(2) Alternatively, to load with `weights_only=True` please allow the global below.\n\t"
        f"WeightsUnpickler error: Unsupported global: GLOBAL {module}.{name} was not an allowed global by "
        f"default. Please use `ferrum.serialization.add_safe_globals([{name}])` or the "
        f"`ferrum.serialization.safe_globals([{name}])` context manager to allowlist this global if you "
        "trust this class/function.")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves ``extra`` names, the defaults and the user's safe globals only
    (``weights_only=True``), or anything (``weights_only=False``, trusted files)."""

    def __init__(self, data, weights_only: bool, extra: dict | None = None):
        # data: bytes, or a binary file positioned at the pickle (consecutive pickles of one stream)
        self._source = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
        super().__init__(self._source, encoding="utf-8")
        self.weights_only = weights_only
        self.extra = extra or {}

    def find_class(self, module, name):
        hit = self.extra.get((module, name))
        if hit is None:
            hit = DEFAULT.get((module, name))
        if hit is None:
            hit = _USER.get(f"{module}.{name}")
        if hit is not None:
            return hit
        if self.weights_only:
            raise refusal(module, name)
        return super().find_class(module, name)

    def load(self):
        _prescan(self._source)
        return super().load()


_MARK = pickletools.markobject
# opcode -> (pops to a MARK, items popped below it or from the top, items pushed)
_EFFECT = {op.code: (_MARK in op.stack_before,
                     op.stack_before.index(_MARK) if _MARK in op.stack_before else len(op.stack_before),
                     len(op.stack_after)) for op in pickletools.opcodes}


def _prescan(f) -> None:
    """Refuses, before the C unpickler runs, the two ways a small pickle becomes huge.

    1. Memo indices a pickler never writes. The C unpickler's memo is an array sized by the largest
       index PUT into it: a 6-byte ``LONG_BINPUT 4000000000`` allocates 32 GB (the first find of
       benchmarks/fuzz_loaders.py). ``pickle`` numbers its memo entries 0, 1, 2, ..., so an index
       past the number of opcodes read so far is refused.
    2. Shared-reference bombs: ``t1 = (t0, t0); t2 = (t1, t1); ...`` via memo GETs is 40 levels in
       a few hundred bytes, and hashing t40 as a dict key (no global needed) walks 2**40 nodes.
       The scan runs the opcodes' stack effects on sizes (each object's size = 1 + the sizes it
       was built from, a GET pushes the stored object's size) and refuses a pickle whose objects
       would expand to more than 100 nodes per byte of pickle (at least 10**6).

    The scan (pickletools, pure Python) costs ~2 us an opcode; the pickles here hold structure
    only (the tensor bytes are elsewhere), a few thousand opcodes for a large state dict."""
    start = f.tell()
    try:
        limit = max(10 ** 6, 100 * (f.seek(0, io.SEEK_END) - start))
        f.seek(start)
        stack: list[int] = []
        marks: list[int] = []
        memo: dict = {}
        for i, (op, arg, _) in enumerate(pickletools.genops(f)):
            code = op.code
            to_mark, below, pushed = _EFFECT[code]
            total = 1
            if to_mark:
                if not marks:
                    raise pickle.UnpicklingError("ferrum.load: malformed pickle (no MARK)")
                m = marks.pop()
                total += sum(stack[m:])
                del stack[m:]
            if below:
                if len(stack) < below:
                    raise pickle.UnpicklingError("ferrum.load: malformed pickle (stack underflow)")
                total += sum(stack[-below:])
                del stack[-below:]
            if code == "(":
                marks.append(len(stack))
                continue
            if code in "pqr":
                if not isinstance(arg, int) or arg > i:
                    raise pickle.UnpicklingError(f"ferrum.load: memo index {arg} out of range")
                memo[arg] = stack[-1] if stack else 1
            elif code == "\x94":  # MEMOIZE
                memo[len(memo)] = stack[-1] if stack else 1
            elif code in "gjh":  # GET, LONG_BINGET, BINGET
                total = memo.get(arg, 1)
            if total > limit:
                raise pickle.UnpicklingError("ferrum.load: the pickle's shared references expand past "
                                             f"{limit} objects (a reference bomb)")
            if pushed == 1:
                stack.append(total)
            elif pushed:
                stack.extend([total] * pushed)
    except ValueError as e:  # genops: an unknown opcode, truncated data, a bad argument
        raise pickle.UnpicklingError(f"ferrum.load: malformed pickle ({e})") from None
    finally:
        f.seek(start)


def run(unpickler: pickle.Unpickler):
    """``unpickler.load()`` with every failure of a malformed stream turned into UnpicklingError."""
    try:
        return unpickler.load()
    except (pickle.UnpicklingError, RuntimeError, MemoryError):
        raise
    except RecursionError:
        raise pickle.UnpicklingError("ferrum.load: the pickle is nested too deeply") from None
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            UnicodeDecodeError, AssertionError) as e:
        raise pickle.UnpicklingError(f"ferrum.load: malformed pickle ({type(e).__name__}: {e})") from None
