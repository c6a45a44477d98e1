"""The import hook that puts ferrum in torch's place: ``import torch`` gives ``ferrum``.

A meta-path finder, inserted first in ``sys.meta_path`` so that it wins over an installed torch,
answers every ``torch`` and ``torch.X.Y`` import with the module ``ferrum.X.Y`` itself (not a copy
or a proxy), so ``sys.modules['torch'] is ferrum``, ``torch.nn.Module is ferrum.nn.Module``, and
``isinstance``/subclassing behave as in a ferrum program. ``torchvision`` is a small module made
here whose ``datasets``, ``transforms``, ``models`` and ``utils`` are ferrum's (``ferrum.utils``
holds torchvision.utils' ``make_grid``/``save_image``).

Why a finder and not an ``__import__`` patch: the finder runs only when a name is first imported
(afterwards ``sys.modules`` answers), so it costs nothing on ferrum's attribute access or on imports
of other packages, and it catches every import form (``import torch.nn.functional as F``,
``from torch.optim.lr_scheduler import StepLR``, ``importlib.import_module``). Measured with
benchmarks/compat_overhead.py (2 shared cores, noisy): ``torch.nn.functional.relu`` under the hook
40.7 ns vs ``ferrum.nn.functional.relu`` 40.1 ns (the same objects: no proxy in the way), and a
program importing torch/nn/F/optim/DataLoader starts in 572 ms through ``python -m ferrum.compat``
vs 772 ms for the same program importing ferrum directly (start-up noise dominates: no cost seen).

The import system overwrites ``module.__spec__`` with the finder's spec when it "creates" the
module; the loader puts ferrum's own spec back in ``exec_module`` so ``importlib.reload`` and
``ferrum.X.__spec__.name`` stay right.

A real torch already imported in the process cannot be replaced safely (its objects would mix
with ferrum's), so ``install`` refuses then; ``ferrum compat run`` starts a fresh interpreter.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

#: where a missing API's error points the user
COMPAT_PAGE = ("the compatibility page (docs/compatibility.md, built as compatibility.html; "
               "`ferrum compat coverage` prints it)")

#: the PyTorch release whose API ferrum implements: ``torch.__version__`` under the hook reads
#: ``2.13.0+ferrum.<ferrum's version>``, so programs that branch on torch's version (``>= "1.10"``,
#: ``version.parse(torch.__version__)``) take the branch written for the API they get
TORCH_API_VERSION = "2.13.0"


class TorchVersion(str):
    """``torch.__version__``'s type: a str that compares with version strings and tuples as versions
    (``torch.__version__ >= (2, 1)``, ``>= "1.10"``), as torch's ``TorchVersion`` does: by release
    number, a local label (``+ferrum.0.1.0``) after the bare release, so ``== "2.13.0"`` is False there
    too."""

    @staticmethod
    def _key(v) -> tuple:
        if isinstance(v, (tuple, list)):
            release, local = tuple(int(x) for x in v), ""
        else:
            head, _, local = str(v).partition("+")
            nums = []
            for part in head.split("."):
                digits = part if part.isdigit() else "".join(c for c in part if c.isdigit())
                if digits:
                    nums.append(int(digits))
                if not part.isdigit():
                    break
            release = tuple(nums)
        while release and release[-1] == 0:
            release = release[:-1]
        return release, (1, local) if local else (0, "")

    def _cmp(self, other) -> int | None:
        if not isinstance(other, (str, tuple, list)):
            return None
        a, b = self._key(self), self._key(other)
        return (a > b) - (a < b)

    def __eq__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c == 0

    def __ne__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c != 0

    def __lt__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other):
        c = self._cmp(other)
        return NotImplemented if c is None else c >= 0

    __hash__ = str.__hash__


_saved_version: str | None = None


#: torchvision's submodules that ferrum provides, and the ferrum module each one is
TORCHVISION = {"datasets": "ferrum.datasets", "transforms": "ferrum.transforms",
               "models": "ferrum.models", "utils": "ferrum.utils"}


def ferrum_name(fullname: str) -> str | None:
    """The ferrum module that stands for the torch/torchvision module ``fullname``; None when
    ``fullname`` is not a torch name, '' for a torchvision module ferrum lacks."""
    if fullname == "torch" or fullname.startswith("torch."):
        return "ferrum" + fullname[5:]
    if fullname == "torchvision":
        return "torchvision"
    if fullname.startswith("torchvision."):
        head, _, rest = fullname[12:].partition(".")
        if head not in TORCHVISION:
            return ""
        return TORCHVISION[head] + ("." + rest if rest else "")
    return None


def missing_module(fullname: str) -> ModuleNotFoundError:
    return ModuleNotFoundError(f"{fullname} is not available in ferrum: see the compatibility page, "
                               f"{COMPAT_PAGE}", name=fullname)


def _make_torchvision() -> types.ModuleType:
    """The ``torchvision`` package: its submodules are ferrum's, loaded on first attribute use."""
    tv = types.ModuleType("torchvision", "torchvision's API, served by ferrum (ferrum.compat).")
    tv.__path__ = []  # a package, so `import torchvision.models` reaches the finder
    tv.__version__ = "0.28.0+ferrum"

    def __getattr__(name: str):
        if name in TORCHVISION:
            return importlib.import_module("torchvision." + name)
        raise AttributeError(f"torchvision.{name} is not available in ferrum: see the compatibility "
                             f"page, {COMPAT_PAGE}", name=name, obj=tv)

    tv.__getattr__ = __getattr__
    return tv


class TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch*``/``torchvision*`` imports and loads them as the ferrum modules themselves."""

    def __init__(self) -> None:
        self._found: dict[str, types.ModuleType] = {}
        self._specs: dict[str, object] = {}
        self.torchvision = _make_torchvision()

    def find_spec(self, fullname, path=None, target=None):
        target_name = ferrum_name(fullname)
        if target_name is None:
            return None
        if target_name == "":
            raise missing_module(fullname)
        module = self.torchvision if target_name == "torchvision" else self._resolve(fullname, target_name)
        self._found[fullname] = module
        return importlib.util.spec_from_loader(fullname, self, is_package=hasattr(module, "__path__"))

    @staticmethod
    def _resolve(fullname: str, target: str) -> types.ModuleType:
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as e:
            # a missing dependency of an existing ferrum module is that module's error, not ours
            if e.name is None or not (target == e.name or target.startswith(e.name + ".")):
                raise
        # `ferrum.X.Y` may be a module held as an attribute without its own file
        parent, _, leaf = target.rpartition(".")
        try:
            obj = getattr(importlib.import_module(parent), leaf, None)
        except ImportError:
            obj = None
        if isinstance(obj, types.ModuleType):
            return obj
        raise missing_module(fullname) from None

    def create_module(self, spec):
        module = self._found.pop(spec.name)
        self._specs[spec.name] = module.__dict__.get("__spec__")
        return module

    def exec_module(self, module):
        # the import system replaced the module's __spec__ with ours: give ferrum's back
        spec = self._specs.pop(module.__spec__.name, None)
        if spec is not None:
            module.__spec__ = spec


_finder: TorchFinder | None = None


def _is_real_torch(mod) -> bool:
    return mod is not None and not getattr(mod, "__name__", "").startswith(("ferrum", "torchvision"))


def install() -> TorchFinder:
    """Puts ferrum in torch's place for every later import in this process; returns the finder.

    Raises RuntimeError when the real torch (or torchvision) is already imported here: its tensors
    and modules would mix with ferrum's. Idempotent."""
    global _finder
    real = [n for n in ("torch", "torchvision") if _is_real_torch(sys.modules.get(n))]
    if real:
        raise RuntimeError(f"ferrum.compat: the real {real[0]} is already imported in this process; "
                           "run the program in a fresh one (`ferrum compat run script.py`)")
    if _finder is None:
        _finder = TorchFinder()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    import ferrum
    import ferrum.version

    global _saved_version
    if _saved_version is None:
        _saved_version = ferrum.__version__
        ferrum.__version__ = ferrum.version.__version__ = TorchVersion(
            f"{TORCH_API_VERSION}+ferrum.{_saved_version}")
    sys.modules["torch"] = ferrum
    sys.modules["torchvision"] = _finder.torchvision
    return _finder


def uninstall() -> None:
    """Undoes ``install``: removes the finder and every ``torch*``/``torchvision*`` entry it made."""
    global _finder, _saved_version
    if _finder is None:
        return
    if _saved_version is not None:
        import ferrum
        import ferrum.version
        ferrum.__version__ = ferrum.version.__version__ = _saved_version
        _saved_version = None
    while _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if ferrum_name(n) is not None]:
        mod = sys.modules[name]
        if mod is _finder.torchvision or getattr(mod, "__name__", "").startswith("ferrum"):
            del sys.modules[name]
    _finder = None


def is_installed() -> bool:
    return _finder is not None and _finder in sys.meta_path
