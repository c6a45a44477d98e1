"""Thread count of the BLAS behind NumPy (``set_num_threads`` / ``get_num_threads``)."""

from __future__ import annotations

import os

_state = {"n": None, "ctl": None}


def _controller():
    if _state["ctl"] is None:
        try:
            from threadpoolctl import ThreadpoolController
            _state["ctl"] = ThreadpoolController()
        except ImportError:
            _state["ctl"] = False
    return _state["ctl"]


def set_num_threads(n: int) -> None:
    """Sets the number of threads BLAS uses for matmul and friends."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    ctl = _controller()
    if ctl:
        ctl.limit(limits=n, user_api="blas")
    _state["n"] = n


def get_num_threads() -> int:
    """The number of BLAS threads (the CPU count unless set)."""
    if _state["n"] is not None:
        return _state["n"]
    ctl = _controller()
    if ctl:
        infos = [i for i in ctl.info() if i.get("user_api") == "blas"]
        if infos:
            return int(infos[0]["num_threads"])
    return os.cpu_count() or 1


def get_num_interop_threads() -> int:
    return 1


def set_num_interop_threads(n: int) -> None:
    if n < 1:
        raise ValueError("set_num_interop_threads expects a positive integer")
