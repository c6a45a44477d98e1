"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator, as in PyTorch. The state is process-wide
(PyTorch keeps it per thread); ferrum reads it on every op, so it stays a plain global.
"""

from __future__ import annotations

import functools

from .. import _state

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


def is_grad_enabled() -> bool:
    """True when operations are recorded for autograd."""
    return _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _GradModeContext:
    """Base: sets grad mode on enter, restores it on exit; usable as a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = _state.grad_enabled
        _state.grad_enabled = self._mode

    def __exit__(self, *exc):
        _state.grad_enabled = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, func):
        if isinstance(func, type):
            raise TypeError(f"{type(self).__name__} can't decorate a class")
        if getattr(getattr(func, "__code__", None), "co_flags", 0) & 0x20:  # CO_GENERATOR
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:  # the mode holds while the generator's own code runs, not between yields
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as e:
                            with self.clone():
                                response = gen.throw(e)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as e:
                    return e.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Context manager / decorator that turns off gradient recording."""

    _mode = False

    def __new__(cls, orig_func=None):
        # `@no_grad` without parentheses decorates directly, as in PyTorch
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class enable_grad(_GradModeContext):
    """Context manager / decorator that turns gradient recording on (inside no_grad)."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets gradient recording on or off: as a function call, context manager or decorator."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled expects a bool, got {type(mode).__name__}")
        self._prev = _state.grad_enabled
        self._mode = mode
        _state.grad_enabled = mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.grad_enabled = self._prev
        return False

    def clone(self):
        return _Setter(self._mode)

    def __call__(self, func):
        # used as a decorator, the call set_grad_enabled(mode) must not change the mode now
        _state.grad_enabled = self._prev
        return super().__call__(func)


class _Setter(_GradModeContext):
    def __init__(self, mode):
        self._mode = mode


class inference_mode(_GradModeContext):
    """Like no_grad (gradient recording off); ``inference_mode(False)`` leaves inference mode and
    turns recording on, as in PyTorch. Tensors made inside are not marked as inference tensors."""

    def __new__(cls, mode=True):
        # `@inference_mode` without parentheses decorates directly, as in PyTorch
        if callable(mode):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self._on = mode

    def __enter__(self):
        self._prev = _state.grad_enabled
        self._prev_inf = _state.inference
        _state.grad_enabled = not self._on
        _state.inference = self._on

    def __exit__(self, *exc):
        _state.grad_enabled = self._prev
        _state.inference = self._prev_inf
        return False

    def clone(self):
        return inference_mode(self._on)
