"""Installs ferrum's torch import hook at interpreter start-up, in every Python process of a program
run by ``ferrum compat``.

The runner puts this folder first on PYTHONPATH and sets FERRUM_COMPAT=1, so the processes the
program starts inherit both: multiprocessing's spawn/forkserver children (``torch.multiprocessing.
spawn``, DataLoader workers with a spawn context), which re-import the program's ``__main__`` and
would otherwise get the real torch, and ``python`` subprocesses. A fork child needs none of this (it
inherits the hook). Then it gets out of the way: the folder leaves ``sys.path`` and a
``sitecustomize`` further along the path still runs.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _boot() -> None:
    if os.environ.get("FERRUM_COMPAT") == "1":
        try:
            from ferrum.compat._hook import install

            install()
        except Exception as e:  # never stop the interpreter from starting: say why torch is not ferrum
            print(f"ferrum compat: the torch import hook was not installed: {type(e).__name__}: {e}",
                  file=sys.stderr)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    me = sys.modules.pop("sitecustomize")
    try:
        import sitecustomize  # noqa: F401 - the one this module shadowed, if any
    except ImportError:
        sys.modules["sitecustomize"] = me  # the import system pops its entry when this module ends


if __name__ == "sitecustomize":  # only as Python's start-up hook, not when imported as a ferrum module
    _boot()
