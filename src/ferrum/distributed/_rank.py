"""What ``ferrum run`` starts in every rank: ``python -m ferrum.distributed._rank script.py args``
(or ``... _rank -m package.module args``).

It sets torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE; MASTER_ADDR and
MASTER_PORT come from the launcher) from what the MPI process manager gives the rank, initialises
MPI, and runs the script as ``__main__``. An uncaught exception, or ``sys.exit`` with a non-zero
status, prints as usual and then aborts the whole MPI job (MPI_Abort): without that, the other ranks
would wait in their next collective until the timeout (MPICH's process manager only tears a job down
when a rank dies from a signal or aborts). A clean exit leaves the ranks to finish on their own.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback


def _set_env() -> None:
    e = os.environ
    pairs = {"RANK": ("PMI_RANK", "PMIX_RANK", "SLURM_PROCID"),
             "WORLD_SIZE": ("PMI_SIZE", "SLURM_NTASKS"),
             "LOCAL_RANK": ("MPI_LOCALRANKID", "SLURM_LOCALID"),
             "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS",)}
    for var, sources in pairs.items():
        for s in sources:
            if e.get(s):
                e[var] = e[s]
                break
    e.setdefault("MASTER_ADDR", "127.0.0.1")
    e.setdefault("MASTER_PORT", "29500")


def _abort(code: int) -> None:
    from ._init import abort
    abort(code)


def main() -> None:
    if len(sys.argv) < 2:
        print("usage: python -m ferrum.distributed._rank [-m] script.py [args]", file=sys.stderr)
        sys.exit(2)
    _set_env()
    from ._engine import mpi
    mpi()  # MPI_Init now: an abort later must not be the first MPI call
    from ._init import install_abort_hook
    install_abort_hook()
    module = sys.argv[1] == "-m"
    if module:
        del sys.argv[1]
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.getcwd() if module else os.path.dirname(os.path.abspath(script)))
    try:
        if module:
            runpy.run_module(script, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None or code == 0:
            return
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        print(f"ferrum run: rank {os.environ.get('RANK', '?')} exited with status {code}; aborting the job",
              file=sys.stderr)
        _abort(code)
    except BaseException:
        traceback.print_exc()
        print(f"ferrum run: rank {os.environ.get('RANK', '?')} raised; aborting the job", file=sys.stderr)
        _abort(1)


if __name__ == "__main__":
    main()
