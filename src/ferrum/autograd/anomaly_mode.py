"""Anomaly detection: with it on, backward raises as soon as a node returns NaN gradients.

PyTorch also records the forward traceback of every node; ferrum does not (the error names the
node and the output instead).
"""

from __future__ import annotations

import functools

from .. import _state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _state.anomaly_check_nan


def _set(mode: bool, check_nan: bool) -> None:
    _state.anomaly = mode
    _state.anomaly_check_nan = check_nan


class _AnomalyContext:
    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return func(*args, **kwargs)
        return wrapper

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


class detect_anomaly(_AnomalyContext):
    """Context manager / decorator turning anomaly detection on."""

    def __init__(self, check_nan: bool = True):
        self._args = (check_nan,)
        self._check_nan = check_nan

    def __enter__(self):
        self._prev = (_state.anomaly, _state.anomaly_check_nan)
        _set(True, self._check_nan)


class set_detect_anomaly(_AnomalyContext):
    """Turns anomaly detection on or off: as a function call or a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._args = (mode, check_nan)
        self._prev = (_state.anomaly, _state.anomaly_check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        pass

    def __call__(self, func):
        _set(*self._prev)  # as a decorator, the call itself must not change the mode now
        return super().__call__(func)
