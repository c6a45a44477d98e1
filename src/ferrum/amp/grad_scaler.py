"""``GradScaler``: dynamic loss scaling, with ``torch.amp.GradScaler``'s semantics.

``scale(outputs)`` multiplies by the current scale; ``unscale_(optimizer)`` divides that
optimizer's gradients by it in place and records, per device, whether any gradient held an inf/nan
*before* unscaling; ``step(optimizer)`` unscales if needed and skips ``optimizer.step()`` when an
inf/nan was found; ``update()`` multiplies the scale by ``backoff_factor`` after a skipped step, or
by ``growth_factor`` after ``growth_interval`` clean steps (unless that would overflow float32).

The numbers follow torch's exactly, so that a training loop sees the same sequence of scales and
skipped steps: the scale is a 0-d float32 tensor (created on the first ``scale()`` call, on the
output's device) and every update rounds to float32 (``float32(scale * factor)``, factors applied
in double as torch's CPU kernel does); unscaling multiplies by ``float32(1 / double(scale))``, in
float32 for float16/bfloat16 gradients (one rounding to the gradient's dtype, as torch's opmath
kernel) and in the gradient's dtype otherwise. Float16 gradients are refused by ``unscale_`` with
torch's ValueError (torch keeps fp16 master weights out of loss scaling).

Optimizers that declare ``_step_supports_amp_scaling`` (ferrum's SGD, Adam, AdamW and Adagrad with
``fused=True``, as torch's) get torch's protocol: only the inf/nan check here (float16 allowed),
``optimizer.grad_scale`` and ``optimizer.found_inf`` set around their ``step``, which unscales and
skips by itself (``Optimizer._amp_skip``). That is how float16 parameters train with a scaler.

As torch, a scaler for "cuda" on a machine without a GPU warns and disables itself; a disabled
scaler passes everything through (``scale`` returns its input, ``step`` just steps, the rest are
no-ops).
"""

from __future__ import annotations

import enum
import inspect
import warnings
from collections import abc, defaultdict
from typing import Any

import numpy as np

from .._tensor import Tensor

__all__ = ["GradScaler", "OptState"]


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _is_low(dtype) -> bool:
    """float16 or bfloat16 (ml_dtypes): arithmetic runs in float32 and rounds once."""
    return dtype == np.float16 or dtype.name == "bfloat16"


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``, as ``torch.amp.GradScaler``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled:
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                              stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        # torch leaves these unset on a disabled scaler; ferrum keeps them so the getters answer
        self._init_scale = init_scale
        self._scale: Tensor | None = None
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker: Tensor | None = None
        self._per_optimizer_states: defaultdict = defaultdict(_fresh_state)

    # ------------------------------------------------------------------ internals
    def _check_scale_growth_tracker(self, funcname: str) -> tuple[Tensor, Tensor]:
        fix = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier in "
               "the iteration.")
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev) -> None:
        from .. import _dtype
        from .._factory import full
        if self._growth_tracker is not None:
            raise AssertionError("_growth_tracker initialized before _scale")
        self._scale = full((), self._init_scale, dtype=_dtype.float32, device=dev)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=_dtype.int32, device=dev)

    def _scale_value(self) -> np.float32:
        return np.float32(float(self._scale._data))

    def _set_scale(self, value) -> None:
        self._scale._data[...] = np.float32(value)

    def _unscale_grads_(self, optimizer, inv_scale: np.float32, allow_fp16: bool) -> dict:
        """Unscales the gradients of ``optimizer`` in place (unless ``inv_scale`` is 1) and returns
        ``{device: found_inf}``, ``found_inf`` a 0-d float32 tensor, 1.0 when a gradient on that
        device held an inf or nan before unscaling. Checks every gradient's dtype before touching
        any, so a refused call leaves all gradients as they were."""
        grads = []
        for group in optimizer.param_groups:
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    raise AssertionError(f"expected param to be torch.Tensor, got {type(p).__name__}")
                g = p.grad
                if g is None:
                    continue
                if not allow_fp16 and g._data.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                grads.append(g)
        found: dict = {}
        scale_one = inv_scale == 1
        with np.errstate(over="ignore", invalid="ignore"):
            self._unscale_arrays(grads, inv_scale, scale_one, found)
        return found

    @staticmethod
    def _unscale_arrays(grads: list, inv_scale: np.float32, scale_one: bool, found: dict) -> None:
        from .. import _dtype
        from .._factory import full
        for g in grads:
            a = g._data
            dev = g.device
            if _is_low(a.dtype) and not scale_one:
                f = a.astype(np.float32)
                bad = not _all_finite(f)
                f *= inv_scale
                a[...] = f.astype(a.dtype)
            else:
                bad = not _all_finite(a)
                if not scale_one:
                    a *= a.dtype.type(inv_scale)
            if not scale_one:
                g._version[0] += 1
            flag = found.get(dev)
            if flag is None:
                flag = found[dev] = full((), 0.0, dtype=_dtype.float32, device=dev)
            if bad:
                flag._data[...] = 1.0

    def _check_inf_per_device(self, optimizer) -> dict:
        """Records inf/nan per device for ``optimizer`` without unscaling (fp16 allowed)."""
        self._check_scale_growth_tracker("_check_inf_per_device")
        st = self._per_optimizer_states[id(optimizer)]
        st["found_inf_per_device"] = self._unscale_grads_(optimizer, np.float32(1.0), True)
        return st["found_inf_per_device"]

    def _found_inf_per_device(self, optimizer) -> dict:
        """``{device: 0-d float32 tensor}``, nonzero where ``optimizer``'s gradients held an
        inf/nan this iteration (programs read it to tell a skipped step)."""
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    def _get_scale_async(self) -> Tensor | None:
        return self._scale

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return (self._init_growth_tracker if self._growth_tracker is None
                    else int(self._growth_tracker.item()))
        return 0

    # ------------------------------------------------------------------ public API
    def is_enabled(self) -> bool:
        """True when this scaler scales (False when built disabled or disabled for lack of CUDA)."""
        return self._enabled

    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of tensors) times the current
        scale; a disabled scaler returns ``outputs`` itself. Other iterables come back as a lazy
        ``map``, as in torch."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            # an overflow to inf is what the scaler detects later: no NumPy warning (torch has none)
            with np.errstate(over="ignore"):
                return outputs * self._scale.to(device=outputs.device)

        def apply(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                with np.errstate(over="ignore"):
                    return val * self._scale.to(device=val.device)
            if isinstance(val, abc.Iterable):
                it = map(apply, val)
                return type(val)(it) if isinstance(val, (list, tuple)) else it
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def unscale_(self, optimizer) -> None:
        """Divides ``optimizer``'s gradients by the scale in place, once per optimizer per
        iteration, and records inf/nan. Raises RuntimeError on a second call before ``update()``
        or after ``step()``, ValueError for float16 gradients."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        st = self._per_optimizer_states[id(optimizer)]
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last "
                               "update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(1.0 / float(self._scale_value()))
        st["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        st["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscales (unless done this iteration) and runs ``optimizer.step(*args, **kwargs)``
        unless a gradient held an inf/nan; returns the step's result, None when skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        st = self._per_optimizer_states[id(optimizer)]
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if getattr(optimizer, "_step_supports_amp_scaling", False):
            return self._step_amp_aware(optimizer, st, args, kwargs)
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(st["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(v.item() for v in st["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return retval

    def _step_amp_aware(self, optimizer, st: dict, args, kwargs):
        """torch's protocol for optimizers that unscale and skip themselves: either a
        ``grad_scaler`` keyword (deprecated, warned) or ``grad_scale``/``found_inf`` attributes
        set for the duration of the step (``grad_scale`` None when already unscaled)."""
        has_kwarg = "grad_scaler" in inspect.signature(optimizer.step).parameters
        if has_kwarg:
            warnings.warn(
                "GradScaler is going to stop passing itself as a keyword argument to the passed "
                "optimizer. In the near future GradScaler registers `grad_scale: Tensor` and "
                "`found_inf: Tensor` to the passed optimizer and let the optimizer use them directly.",
                FutureWarning, stacklevel=3)
            kwargs.update({"grad_scaler": self})
        else:
            if st["stage"] is OptState.READY:
                self._check_inf_per_device(optimizer)
            scale = self._scale
            found = sum(t.to(device=scale.device) for t in st["found_inf_per_device"].values())
            optimizer.grad_scale = (getattr(optimizer, "grad_scale", None)
                                    if st["stage"] == OptState.UNSCALED
                                    else scale * getattr(optimizer, "grad_scale", 1))
            optimizer.found_inf = found
        retval = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        if not has_kwarg:
            del optimizer.grad_scale
            del optimizer.found_inf
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Backs the scale off after a skipped step, grows it after ``growth_interval`` clean
        ones (``new_scale``, a float or a 1-element tensor, sets it instead), and starts a new
        iteration."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._set_scale(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1:
                    raise AssertionError(reason)
                if new_scale.requires_grad is True:
                    raise AssertionError(reason)
                if new_scale.dim() != 0:
                    shape = list(new_scale.shape)
                    raise RuntimeError(f"output with shape [] doesn't match the broadcast shape {shape}")
                self._set_scale(float(new_scale.item()))
        else:
            found = [f for s in self._per_optimizer_states.values()
                     for f in s["found_inf_per_device"].values()]
            if len(found) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            any_inf = sum(float(f.item()) for f in found) != 0
            tracker = self._growth_tracker._data
            if any_inf:
                self._set_scale(float(self._scale_value()) * self._backoff_factor)
                tracker[...] = 0
            else:
                successful = int(tracker) + 1
                if successful == self._growth_interval:
                    grown = np.float32(float(self._scale_value()) * self._growth_factor)
                    if np.isfinite(grown):
                        self._set_scale(grown)
                    tracker[...] = 0
                else:
                    tracker[...] = successful
        self._per_optimizer_states = defaultdict(_fresh_state)

    def get_scale(self) -> float:
        """The current scale as a Python float (``init_scale`` before the first ``scale()``;
        1.0 when disabled)."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def state_dict(self) -> dict[str, Any]:
        """``{'scale', 'growth_factor', 'backoff_factor', 'growth_interval', '_growth_tracker'}``
        as Python numbers; ``{}`` when disabled."""
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads ``state_dict()``'s output (a no-op when disabled; RuntimeError for the empty dict
        of a disabled scaler)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a "
                               "disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._set_scale(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = state_dict["_growth_tracker"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError("A GradScaler instance may only be pickled at the beginning of an "
                                     "iteration, or at the end after scaler.update().")
            # the tensors are rebuilt lazily on the first scale() after unpickling, as in torch
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        state["_per_optimizer_states"] = dict(state["_per_optimizer_states"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._per_optimizer_states = defaultdict(_fresh_state, self._per_optimizer_states)


def _all_finite(a) -> bool:
    """True when ``a`` holds no inf/nan: two reductions (max and min propagate nan; inf shows at
    an end), no boolean temporary of ``a``'s size."""
    if a.size == 0:
        return True
    return bool(np.isfinite(a.max())) and bool(np.isfinite(a.min()))
