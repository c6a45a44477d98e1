"""The simple learning-rate schedules: each epoch's lr is a closed-form function of the epoch.

:class:`LambdaLR`, :class:`MultiplicativeLR` (user functions of the epoch), :class:`StepLR`,
:class:`MultiStepLR`, :class:`ConstantLR`, :class:`LinearLR`, :class:`ExponentialLR`,
:class:`PolynomialLR` and :class:`CosineAnnealingLR`. Each implements only ``get_lr`` (the
chainable, recursive form PyTorch uses, which composes with other schedulers) and, where PyTorch
has one, ``_get_closed_form_lr`` (for the deprecated ``step(epoch)``); the two lambda schedules
also share ``_LambdaStateMixin`` (their ``state_dict`` keeps callable objects' state, not
functions). Beyond that they need only the :class:`~ferrum.optim._lr_base.LRScheduler` protocol,
which is why they sit together, apart from the per-batch cyclic, metric-driven and composite ones.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ._lr_base import LRScheduler, _group_values


def _lambda_list(optimizer: Any, lr_lambda: Any) -> list:
    n = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * n
    if len(lr_lambda) != n:
        raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
    return list(lr_lambda)


class _LambdaStateMixin:
    """state_dict/load_state_dict that keep the state of callable objects, not of functions."""

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state; a lambda is saved (its ``__dict__``) only if it is a callable
        object, not a function or lambda (those come back as ``None``)."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state returned by :meth:`state_dict` (the given dict is left unchanged)."""
        saved = state_dict["lr_lambdas"]
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, fn_state in zip(self.lr_lambdas, saved):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class LambdaLR(_LambdaStateMixin, LRScheduler):
    """Sets each group's lr to ``initial_lr * lr_lambda(epoch)``.

    Args:
        optimizer: wrapped optimizer.
        lr_lambda: a function of the epoch (int) giving a factor, or a list of them, one per group.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambda_list(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """``base_lr * lr_lambda(last_epoch)`` per group."""
        self._warn_get_lr_outside_step()
        e = self.last_epoch
        return [base * fn(e) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaStateMixin, LRScheduler):
    """Multiplies each group's lr by ``lr_lambda(epoch)`` at every step (not at construction).

    Args:
        optimizer: wrapped optimizer.
        lr_lambda: a function of the epoch giving a factor, or a list of them, one per group.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _lambda_list(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """``group["lr"] * lr_lambda(last_epoch)`` per group (unchanged on the initial step)."""
        self._warn_get_lr_outside_step()
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        e = self.last_epoch
        return [g["lr"] * fn(e) for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` every ``step_size`` epochs.

    Args:
        optimizer: wrapped optimizer.
        step_size: period of the decay, in epochs.
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1,
                 verbose: Any = "deprecated") -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The current lrs, times ``gamma`` when ``last_epoch`` is a non-zero multiple of step_size."""
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_values(self.optimizer, "lr")
        return self._scaled_lrs(self.gamma)

    def _get_closed_form_lr(self) -> list:
        return self._scaled_base_lrs(self.gamma ** (self.last_epoch // self.step_size))


class MultiStepLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` at each milestone epoch (``gamma**n`` if repeated n times).

    Args:
        optimizer: wrapped optimizer.
        milestones: epoch indices (increasing).
        gamma: multiplicative factor. Default: 0.1.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The current lrs, decayed when ``last_epoch`` is a milestone."""
        self._warn_get_lr_outside_step()
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        f = self.gamma ** self.milestones[self.last_epoch]
        return self._scaled_lrs(f)

    def _get_closed_form_lr(self) -> list:
        ms = sorted(self.milestones.elements())
        n = bisect_right(ms, self.last_epoch)
        return self._scaled_base_lrs(self.gamma ** n)


class ConstantLR(LRScheduler):
    """Multiplies each group's lr by ``factor`` until epoch ``total_iters``, then restores it.

    Args:
        optimizer: wrapped optimizer.
        factor: the factor, in [0, 1]. Default: 1/3.
        total_iters: number of epochs the factor applies. Default: 5.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """Scales by ``factor`` at epoch 0 and by ``1/factor`` at ``total_iters``."""
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0:
            return self._scaled_lrs(self.factor)
        if self.last_epoch != self.total_iters:
            return _group_values(self.optimizer, "lr")
        return self._scaled_lrs(1.0 / self.factor)

    def _get_closed_form_lr(self) -> list:
        f = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return self._scaled_base_lrs(f)


class LinearLR(LRScheduler):
    """Scales each group's lr by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs, then keeps it.

    Args:
        optimizer: wrapped optimizer.
        start_factor: factor at epoch 0, in (0, 1]. Default: 1/3.
        end_factor: factor from epoch ``total_iters`` on, in [0, 1]. Default: 1.0.
        total_iters: number of epochs of the ramp. Default: 5.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The current lrs times the ratio of consecutive ramp factors."""
        self._warn_get_lr_outside_step()
        if self.last_epoch == 0:
            return self._scaled_lrs(self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        d = self.end_factor - self.start_factor
        # ratio factor(e) / factor(e - 1), written as PyTorch writes it so the rounding matches
        ratio = 1.0 + d / (self.total_iters * self.start_factor + (self.last_epoch - 1) * d)
        return self._scaled_lrs(ratio)

    def _get_closed_form_lr(self) -> list:
        f = (self.start_factor + (self.end_factor - self.start_factor)
             * min(self.total_iters, self.last_epoch) / self.total_iters)
        return self._scaled_base_lrs(f)


class ExponentialLR(LRScheduler):
    """Multiplies each group's lr by ``gamma`` every epoch.

    Args:
        optimizer: wrapped optimizer.
        gamma: multiplicative factor.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1,
                 verbose: Any = "deprecated") -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The current lrs times ``gamma`` (unchanged on the initial step)."""
        self._warn_get_lr_outside_step()
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return self._scaled_lrs(self.gamma)

    def _get_closed_form_lr(self) -> list:
        return self._scaled_base_lrs(self.gamma ** self.last_epoch)


class PolynomialLR(LRScheduler):
    """Decays each group's lr as ``base_lr * (1 - epoch / total_iters) ** power`` until ``total_iters``.

    Args:
        optimizer: wrapped optimizer.
        total_iters: number of epochs of the decay. Default: 5.
        power: power of the polynomial. Default: 1.0.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1,
                 verbose: Any = "deprecated") -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The current lrs times the ratio of consecutive decay factors."""
        self._warn_get_lr_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        e, T = self.last_epoch, self.total_iters
        f = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return self._scaled_lrs(f)

    def _get_closed_form_lr(self) -> list:
        f = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return self._scaled_base_lrs(f)


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing of each group's lr from ``initial_lr`` to ``eta_min`` over ``T_max`` epochs.

    The lr follows :math:`\eta_{min} + (\eta_{max} - \eta_{min})(1 + \cos(\pi t / T_{max})) / 2`,
    computed with PyTorch's recursive form (each step rescales the current lr), so it continues as a
    cosine wave past ``T_max`` and composes with other schedulers exactly as PyTorch's does.

    Args:
        optimizer: wrapped optimizer.
        T_max: half period, in epochs.
        eta_min: minimum lr. Default: 0.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1,
                 verbose: Any = "deprecated") -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The next lrs of the recursive cosine form."""
        self._warn_get_lr_outside_step()
        groups = self.optimizer.param_groups
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and e > 0:
            return [lo + (base - lo) * (1 + math.cos(e * math.pi / T)) / 2 for base in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            # at the trough the ratio below is 0/0: step up by the closed-form increment instead
            return [g["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base, g in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (g["lr"] - lo) + lo for g in groups]

    def _get_closed_form_lr(self) -> list:
        c = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * c / 2 for base in self.base_lrs]
