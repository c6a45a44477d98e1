"""Running an unmodified PyTorch program with ferrum as torch, and the ``ferrum compat`` command.

``run_script`` installs the import hook (``_hook``), sets ``sys.argv`` and ``sys.path[0]`` as
``python script.py args`` would, and runs the file as ``__main__`` with ``runpy.run_path``.

Missing APIs: a missing submodule is reported by the finder itself. A missing attribute is reported
when the program dies of it: the uncaught AttributeError/ImportError is rewritten to name the torch
spelling (``torch.nn.functional.bar is not available in ferrum``) and to point at the compatibility
page. Rewriting at the top rather than wrapping ferrum's modules in ``__getattr__`` proxies keeps
ferrum's own attribute access untouched, and an error the program catches itself (``hasattr(torch,
'compile')``) keeps its usual meaning. AttributeError carries ``.obj``/``.name`` (Python >= 3.10),
which is all the rewrite needs; names that torch 2.13 does not have either are left as they are, so
a typo in the program still reads as a typo.

``ferrum compat run`` starts a fresh interpreter (``python -m ferrum.compat``): a process that has
already imported the real torch cannot have it replaced.
"""

from __future__ import annotations

import argparse
import os
import re
import runpy
import subprocess
import sys
import traceback
import types
from pathlib import Path

from ferrum.compat._hook import COMPAT_PAGE, ferrum_name, install

_TORCH_ROOTS = ("torch", "torchvision")


def _torch_module_name(mod_name: str) -> str:
    """The torch spelling of a ferrum module name (the spelling the program used, when the hook
    mapped it)."""
    for name, mod in list(sys.modules.items()):
        if name.startswith(_TORCH_ROOTS) and name != "torch" and getattr(mod, "__name__", None) == mod_name:
            if ferrum_name(name) is not None:
                return name
    return "torch" + mod_name[6:] if mod_name.startswith("ferrum") else mod_name


def _public_class_name(cls: type) -> str:
    """``torch.nn.Linear`` for ferrum.nn.modules.linear.Linear: the shortest public path."""
    import ferrum

    for ns in ("", "nn", "optim", "optim.lr_scheduler", "utils.data", "autograd", "distributions"):
        mod = ferrum
        for part in filter(None, ns.split(".")):
            mod = sys.modules.get(f"{mod.__name__}.{part}")
            if mod is None:
                break
        if mod is not None and mod.__dict__.get(cls.__name__) is cls:
            return ".".join(filter(None, ("torch", ns, cls.__name__)))
    return _torch_module_name(cls.__module__) + "." + cls.__qualname__


def _torch_owner(obj) -> str | None:
    """The torch spelling of ``obj`` (a ferrum module, class, or instance of a ferrum class)."""
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
        return _torch_module_name(name) if name.startswith("ferrum") else None
    cls = obj if isinstance(obj, type) else type(obj)
    if not cls.__module__.startswith("ferrum"):
        return None
    return _public_class_name(cls)


def _known_to_torch(owner: str, name: str) -> bool | None:
    """Whether torch 2.13's public API has ``owner.name`` (None when the shipped lists do not say)."""
    from ferrum.compat._coverage import torch_names

    names = torch_names(owner)
    return None if names is None else name in names


def _missing(owner: str, name: str) -> str | None:
    if _known_to_torch(owner, name) is False:
        return None  # not torch's either: the program's own mistake, keep Python's message
    return f"{owner}.{name} is not available in ferrum: see the compatibility page, {COMPAT_PAGE}"


def rewrite_error(e: BaseException) -> str | None:
    """The message that names the torch API a ferrum-lacking error is about, or None."""
    if isinstance(e, AttributeError):
        name, obj = getattr(e, "name", None), getattr(e, "obj", None)
        if name is None or obj is None or name.startswith("_") or "not available in ferrum" in str(e):
            return None
        owner = _torch_owner(obj)
        return _missing(owner, name) if owner else None
    if isinstance(e, ModuleNotFoundError):
        if e.name and ferrum_name(e.name) is not None and "not available in ferrum" not in str(e):
            return f"{e.name} is not available in ferrum: see the compatibility page, {COMPAT_PAGE}"
        return None
    if isinstance(e, ImportError):
        m = re.match(r"cannot import name '(\w+)' from '([\w.]+)'", str(e))
        if m and m.group(2).startswith(("ferrum", "torchvision")):
            return _missing(_torch_module_name(m.group(2)), m.group(1))
    return None


def _print_error(e: BaseException, _seen: set | None = None) -> None:
    """Prints the traceback of the program's own frames (runpy's, the runner's and the hook's are
    machinery the user did not write), after the exceptions it was raised from, as Python does."""
    from ferrum.compat import _hook

    _seen = _seen if _seen is not None else set()
    _seen.add(id(e))
    msg = rewrite_error(e)
    if msg is not None:
        if isinstance(e, ImportError):
            e.msg = msg
        e.args = (msg,)
    if e.__cause__ is not None and id(e.__cause__) not in _seen:
        _print_error(e.__cause__, _seen)
        sys.stderr.write("\nThe above exception was the direct cause of the following exception:\n\n")
    elif (e.__context__ is not None and not e.__suppress_context__ and id(e.__context__) not in _seen):
        _print_error(e.__context__, _seen)
        sys.stderr.write("\nDuring handling of the above exception, another exception occurred:\n\n")

    hidden = {os.path.abspath(__file__), os.path.abspath(_hook.__file__), os.path.abspath(runpy.__file__)}
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if not f.filename.startswith("<frozen ") and os.path.abspath(f.filename) not in hidden]
    text = "".join(traceback.format_list(frames)) if frames else ""
    sys.stderr.write(("Traceback (most recent call last):\n" + text if text else "")
                     + "".join(traceback.format_exception_only(type(e), e)))


def _export_hook_to_children() -> None:
    """Makes the Python processes the program starts (multiprocessing's spawn children, subprocesses)
    install the hook too, through ``_boot/sitecustomize.py``."""
    boot = str(Path(__file__).resolve().parent / "_boot")
    src = str(Path(__file__).resolve().parents[2])  # the directory that holds this ferrum package
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in (boot, src)]
    os.environ["PYTHONPATH"] = os.pathsep.join([boot, src, *path])
    os.environ["FERRUM_COMPAT"] = "1"


def run_script(path: str, args: list[str] | None = None) -> int:
    """Runs the PyTorch program at ``path`` with ``args`` as its command line, ferrum standing in for
    torch; returns the exit status (SystemExit's code, 1 for an uncaught exception)."""
    script = Path(path)
    if not script.is_file():
        print(f"ferrum compat: error: no such file: {path}", file=sys.stderr)
        return 2
    install()
    _export_hook_to_children()
    sys.argv = [str(path), *(args or [])]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException as e:  # noqa: B036 - report like the interpreter, with the torch spelling
        _print_error(e)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m ferrum.compat script.py args...`` (in this process) and ``... coverage``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ferrum.compat SCRIPT [ARGS ...]\n"
              "       python -m ferrum.compat coverage [-o FILE]\n\n"
              "Runs a PyTorch program with ferrum in torch's place, or prints the compatibility page.")
        return 0 if argv else 2
    if argv[0] == "coverage":
        return _coverage_cmd(argv[1:])
    return run_script(argv[0], argv[1:])


def _coverage_cmd(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="ferrum compat coverage",
                                 description="Writes the compatibility page (Markdown).")
    ap.add_argument("-o", "--output", default=None, help="file to write (default: standard output)")
    args = ap.parse_args(argv)
    from ferrum.compat._coverage import coverage_markdown

    text = coverage_markdown()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_run(args) -> int:
    script_args = list(args.args)
    if script_args and script_args[0] == "--":
        script_args = script_args[1:]
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])  # the directory that holds this ferrum package
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (src, env.get("PYTHONPATH"))))
    # a fresh interpreter: this one may have imported the real torch already
    return subprocess.call([sys.executable, "-m", "ferrum.compat", args.script, *script_args], env=env)


def _cmd_coverage(args) -> int:
    return _coverage_cmd(["-o", args.output] if args.output else [])


def add_compat_parser(sub) -> argparse.ArgumentParser:
    """Registers ``ferrum compat run|coverage`` on the CLI's subparsers."""
    p = sub.add_parser("compat", help="run an unmodified PyTorch program on ferrum; the coverage page",
                       description="Run PyTorch programs with ferrum in torch's place.")
    csub = p.add_subparsers(dest="compat_command", metavar="ACTION", required=True)
    r = csub.add_parser("run", help="run `python script.py args` with `import torch` giving ferrum",
                        description="Runs the script in a fresh interpreter with torch, torch.* and "
                                    "torchvision.{datasets,transforms,models,utils} mapped to ferrum.")
    r.add_argument("script", help="the PyTorch program")
    r.add_argument("args", nargs=argparse.REMAINDER, help="the program's arguments")
    r.set_defaults(func=_cmd_run)
    c = csub.add_parser("coverage", help="print the compatibility page (torch's API and ferrum's coverage)")
    c.add_argument("-o", "--output", default=None, help="file to write (default: standard output)")
    c.set_defaults(func=_cmd_coverage)
    return p
