"""Adagrad."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._tensor import Tensor, _wrap
from ..ops._common import xp_of
from . import _lowp
from .optimizer import (Optimizer, _addcdiv_, _check_fused, _check_hparams, _mul, _new_step,
                        _scalar, _sqrt)

__all__ = ["Adagrad"]

_BUFS = ("sum",)


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    ``clr = lr / (1 + (t - 1) * lr_decay)``, ``sum += g * g``, ``p -= clr * g / (sqrt(sum) + eps)``.
    State (created for every parameter at construction, as PyTorch does): ``'step'``, ``'sum'``
    (filled with ``initial_accumulator_value``).
    """

    def __init__(self, params: Iterable, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_hparams(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                       initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(fused, differentiable, foreach)
        if fused:
            self._step_supports_amp_scaling = True
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p._data, _BUFS)

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("fused", None))
    _step_keys = ("step",)

    def _init_state(self, st: dict, a, names: tuple[str, ...]) -> None:
        # 'sum' starts at initial_accumulator_value (on both parts of a complex value)
        init = self.defaults["initial_accumulator_value"]
        st["step"] = _new_step()
        value = complex(init, init) if a.dtype.kind == "c" else init
        st["sum"] = _wrap(xp_of(a).full_like(a, value))

    def share_memory(self) -> None:
        """No-op kept for API compatibility (state lives in process memory)."""

    def step(self, closure: Callable | None = None):
        """Performs one step; returns the closure's loss (None without a closure)."""
        loss = self._eval_closure(closure) if closure is not None else None
        if self._step_supports_amp_scaling and self._amp_skip():
            return loss
        scratch = self._scratch
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            for a, g, step, (s,), r in self._grads(group, _BUFS):
                clr = lr / (1 + (step - 1) * lr_decay)
                if r is not None:
                    _lowp.adagrad(a, g, s, clr, eps, r, bool(group["fused"]))
                    continue
                t1 = scratch(a, 1)
                s += _mul(g, g, out=t1)
                _sqrt(s, out=t1)
                t1 += eps
                _addcdiv_(a, g, -clr, t1, scratch(a, 0))
        return loss
