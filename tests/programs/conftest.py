"""Running PyTorch programs with ferrum in torch's place.

Each test file under tests/programs/ holds one program as source text, written as a PyTorch user
writes it (``import torch``, ``import torch.nn as nn``, ``from torch.optim.lr_scheduler import
StepLR``, ``from torchvision import models``, argparse flags, ``if __name__ == "__main__"``). The
``run_program`` fixture executes that text unchanged with every ``torch`` import resolved to
``ferrum`` (and ``torchvision.models/datasets/transforms`` to ``ferrum.models/datasets/transforms``),
or, for parity checks, with the real torch (torchvision cannot be installed next to torch 2.13 here,
so ``torchvision.models`` resolves to the reference definitions of tests/models/_reference.py).

The rewrite is an ``__import__`` hook in the program's own builtins rather than a text substitution:
it catches every import form (``import torch.nn.functional as F``, ``from torch import nn, optim``,
imports inside functions) and changes nothing outside the program.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import sys
import types

import pytest

from tests.models import _reference

_FERRUM_MAP = {
    "torch": "ferrum",
    "torchvision.models": "ferrum.models",
    "torchvision.datasets": "ferrum.datasets",
    "torchvision.transforms": "ferrum.transforms",
    "torchvision.utils": "ferrum.utils",  # make_grid, save_image
}


def _no_weights(builder):
    """torchvision's builders take ``weights=None``; the reference builders take no such keyword."""

    def build(*args, weights=None, **kwargs):
        assert weights is None, "no pretrained weights here"
        return builder(*args, **kwargs)

    return build


def _torchvision_stub(torch) -> types.ModuleType:
    """A ``torchvision`` stand-in for the torch run: ``models`` holds the reference builders."""
    tv = types.ModuleType("torchvision")
    ref = _reference.load(torch)
    tv.models = types.SimpleNamespace(**{k: _no_weights(v) for k, v in vars(ref).items()})
    # no torch-side transforms/datasets/utils exist here; a program's module-level imports and
    # Compose(...) still have to run, and parity tests use only its networks from the torch run
    tv.transforms = importlib.import_module("ferrum.transforms")
    tv.utils = importlib.import_module("ferrum.utils")
    tv.datasets = importlib.import_module("ferrum.datasets")
    return tv


def _make_import(backend: str, torch):
    real_import = builtins.__import__
    tv = _torchvision_stub(torch) if backend == "torch" else None

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == "torch" or name.startswith("torch.") or name == "torchvision"
                           or name.startswith("torchvision.")):
            if backend == "torch":
                if name.startswith("torchvision"):
                    if not fromlist:
                        return tv
                    obj = tv
                    for part in name.split(".")[1:]:
                        obj = getattr(obj, part)
                    return obj
                return real_import(name, globals, locals, fromlist, level)
            for src, dst in _FERRUM_MAP.items():
                if name == src or name.startswith(src + "."):
                    target = dst + name[len(src):]
                    break
            else:  # bare `import torchvision`
                return _ferrum_torchvision()
            mod = importlib.import_module(target)
            if fromlist:
                return mod
            # `import torch.nn as nn` binds the top package, then walks attributes.
            return importlib.import_module("ferrum") if src == "torch" else _ferrum_torchvision()
        return real_import(name, globals, locals, fromlist, level)

    return _import


def _ferrum_torchvision() -> types.ModuleType:
    mod = types.ModuleType("torchvision")
    for sub in ("models", "datasets", "transforms", "utils"):
        setattr(mod, sub, importlib.import_module("ferrum." + sub))
    return mod


_COUNT = 0


@contextlib.contextmanager
def _argv(argv):
    saved = sys.argv
    sys.argv = ["program.py", *argv]
    try:
        yield
    finally:
        sys.argv = saved


def load_program(source: str, backend: str, torch=None, argv=(), run_main: bool = False) -> dict:
    """Executes ``source`` with torch resolved to ``backend`` ("ferrum" or "torch"); returns its
    namespace. With ``run_main`` the program runs as ``__main__`` (its ``if __name__ ==
    "__main__"`` block runs, with ``sys.argv`` set to ``argv``)."""
    bi = dict(vars(builtins))
    bi["__import__"] = _make_import(backend, torch)
    # a real module, so that pickling the program's classes (torch.save(model)) finds them, as it
    # finds a script's classes in __main__
    global _COUNT
    _COUNT += 1
    mod = types.ModuleType(f"_program_{backend}_{_COUNT}")
    sys.modules[mod.__name__] = mod
    ns = mod.__dict__
    ns["__builtins__"] = bi
    if run_main:
        ns["__name__"] = "__main__"
    code = compile(source, f"<program:{backend}>", "exec")
    with _argv(argv):
        exec(code, ns)  # noqa: S102 - the program text is this test suite's own
    return ns


@pytest.fixture
def run_program(request):
    """``run_program(source, backend="ferrum", argv=(), run_main=False) -> namespace``; the torch
    backend skips the test cleanly where torch is not installed."""

    def _run(source: str, backend: str = "ferrum", argv=(), run_main: bool = False) -> dict:
        torch = request.getfixturevalue("torch") if backend == "torch" else None
        return load_program(source, backend, torch, argv, run_main)

    return _run
