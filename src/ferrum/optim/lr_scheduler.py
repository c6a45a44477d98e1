r"""Learning-rate schedulers (``ferrum.optim.lr_scheduler``), with PyTorch 2.13's semantics.

Every scheduler adjusts ``group["lr"]`` (and, for :class:`CyclicLR` / :class:`OneCycleLR`, the
momentum or Adam ``beta1``) of each of an optimizer's ``param_groups``. The curves are computed
with the same recurrences as PyTorch ("chainable" form: most schedulers update the *current*
``group["lr"]`` multiplicatively), so they match PyTorch's to rounding, and schedulers compose:
:class:`ChainedScheduler` steps several at once, :class:`SequentialLR` hands over from one to the
next at milestones. Call ``optimizer.step()`` and then ``scheduler.step()`` once per step
(``scheduler.step(metric)`` for :class:`ReduceLROnPlateau`).

FERRUM's recipe: linear warm-up then linear decay
-------------------------------------------------
For training from scratch FERRUM recommends a short linear warm-up to the base learning rate
followed by a linear decay over the rest of training::

    opt = ferrum.optim.AdamW(model.parameters(), lr=3e-4)
    sched = linear_warmup_decay(opt, warmup_steps=500, total_steps=20_000, final_factor=0.0)
    for batch in loader:
        ...
        opt.step()
        sched.step()

:func:`linear_warmup_decay` is nothing more than ``SequentialLR([LinearLR(warm-up),
LinearLR(decay)], milestones=[warmup_steps])``; see its docstring for the exact curve.

Differences from PyTorch 2.13, on purpose: constructors also accept the ``verbose`` argument of
earlier PyTorch releases (deprecated; ``verbose=True`` prints each adjustment through
:meth:`LRScheduler.print_lr`), so older programs run unchanged; anything with ``param_groups`` is
accepted as an optimizer.
"""

from __future__ import annotations

import math
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from .._tensor import Tensor

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
    "linear_warmup_decay",
]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)

_VERBOSE_WARNING = (
    "The verbose parameter is deprecated. Please use get_last_lr() to access the learning rate."
)

inf = math.inf


# --------------------------------------------------------------------------- helpers
def _check_optimizer(optimizer: Any) -> None:
    # duck-typed so that any object with param_groups works; PyTorch's message otherwise
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _copy(v: Any) -> Any:
    # a tensor lr must never alias the optimizer's: callers could modify it in place
    return v.clone() if isinstance(v, Tensor) else v


def _format_param(name: str, optimizer: Any, param: Any) -> list:
    """One value per param group: a scalar is repeated, a list/tuple must have one per group."""
    n = len(optimizer.param_groups)
    if isinstance(param, (list, tuple)):
        if len(param) != n:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(param)} values, param_groups has {n}."
            )
        return [_copy(p) for p in param]
    return [_copy(param)] * n if not isinstance(param, Tensor) else [param.clone() for _ in range(n)]


def _group_values(optimizer: Any, key: str) -> list:
    return [_copy(g[key]) for g in optimizer.param_groups]


def _set_group_value(group: dict, key: str, val: Any) -> None:
    cur = group[key]  # KeyError when missing, as in PyTorch
    if isinstance(cur, Tensor):
        cur.fill_(val.item() if isinstance(val, Tensor) else val)
    else:
        group[key] = val


def _handle_verbose(obj: Any, verbose: Any) -> None:
    if verbose != "deprecated":
        warnings.warn(_VERBOSE_WARNING, UserWarning, stacklevel=3)
        if verbose:
            obj.verbose = True


def _mark_step_called(optimizer: Any) -> None:
    """Wraps ``optimizer.step`` (once) so that it records that it was called.

    This is how a ``scheduler.step()`` issued before any ``optimizer.step()`` is detected. The
    wrapper holds the optimizer weakly (no reference cycle through the instance attribute).
    """
    step = optimizer.step
    if getattr(step, "_wrapped_by_lr_sched", False):
        return
    func = getattr(step, "__func__", None)
    opt_ref = weakref.ref(optimizer)

    if func is None:  # a plain callable set on the instance
        def wrapper(*args, **kwargs):
            opt_ref()._opt_called = True
            return step(*args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            opt = opt_ref()
            opt._opt_called = True
            return func(opt, *args, **kwargs)

    wrapper.__name__ = getattr(func or step, "__name__", "step")
    wrapper.__doc__ = getattr(func or step, "__doc__", None)
    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper


# --------------------------------------------------------------------------- base class
class LRScheduler:
    r"""Base class of all learning-rate schedulers.

    Subclasses implement :meth:`get_lr` (the next lrs, one per param group) and optionally
    ``_get_closed_form_lr`` (the lrs at ``last_epoch`` from ``base_lrs``, used by the deprecated
    ``step(epoch)``).

    Args:
        optimizer: the optimizer whose ``param_groups`` are adjusted.
        last_epoch: index of the last epoch seen. ``-1`` (default) starts a schedule and sets
            ``group["initial_lr"]`` from ``group["lr"]``; any other value resumes one and needs
            ``initial_lr`` in every group.

    Attributes: ``base_lrs`` (the ``initial_lr`` of each group), ``last_epoch``.

    Constructing a scheduler performs its first step, which overwrites ``group["lr"]``.
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False
    verbose: bool = False

    def __init__(self, optimizer: Any, last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        "scheduler with last_epoch >= 0.\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't properly "
                        "loaded the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
                    )
        self.base_lrs: list = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _handle_verbose(self, verbose)
        _mark_step_called(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        """Resets the step count and performs the constructor's step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every entry of ``self.__dict__`` except the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state returned by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The learning rates of the last step, one per param group (copies, never aliases)."""
        return self._last_lr

    def get_lr(self) -> list:
        """The next learning rate of each param group (use :meth:`get_last_lr` to read the current)."""
        raise NotImplementedError

    def _scaled_lrs(self, f: float) -> list:
        """Each group's current lr times ``f`` (the recursive form of the multiplicative schedules)."""
        return [g["lr"] * f for g in self.optimizer.param_groups]

    def _scaled_base_lrs(self, f: float) -> list:
        """Each group's base lr times ``f`` (their closed forms)."""
        return [base * f for base in self.base_lrs]

    def print_lr(self, is_verbose: bool, group: int, lr: float, epoch: int | None = None) -> None:
        """Prints the new lr of one group when ``is_verbose`` (kept from PyTorch < 2.7)."""
        if is_verbose:
            if epoch is None:
                print(f"Adjusting learning rate of group {group} to {lr:.4e}.")
            else:
                epoch_str = ("%.2f" if isinstance(epoch, float) else "%.5d") % epoch
                print(f"Epoch {epoch_str}: adjusting learning rate of group {group} to {lr:.4e}.")

    def _warn_get_lr_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )

    def step(self, epoch: int | None = None) -> None:
        """Advances the schedule by one step (call after ``optimizer.step()``).

        Args:
            epoch: deprecated. Sets ``last_epoch`` to ``epoch`` and computes the lrs with the
                closed form where the scheduler has one.
        """
        if self._step_count == 1:
            if not getattr(self.optimizer.step, "_wrapped_by_lr_sched", False):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                    "initialization. Please, make sure to call `optimizer.step()` before "
                    "`lr_scheduler.step()`. See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                    "will result in PyTorch skipping the first value of the learning rate schedule. "
                    "See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed = getattr(self, "_get_closed_form_lr", None)
                values = closed() if closed is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ValueError(
                f"{type(self).__name__}: computed {len(values)} learning rates for "
                f"{len(groups)} param groups"
            )
        for i, (group, lr) in enumerate(zip(groups, values)):
            _set_group_value(group, "lr", lr)
            if self.verbose:
                self.print_lr(True, i, float(lr), epoch)
        self._last_lr = _group_values(self.optimizer, "lr")


class _LRScheduler(LRScheduler):
    """Old name of :class:`LRScheduler`, kept for programs that subclass it."""


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


def _check_composable(name: str, optimizer: Any, schedulers: Sequence[Any]) -> None:
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(
                f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                "requires additional kwargs to be specified when calling `step`, "
                f"but got one at index {i} in the given schedulers sequence."
            )
        if optimizer != s.optimizer:
            raise ValueError(
                f"{name} expects all schedulers to belong to the same optimizer, but "
                f"got scheduler {type(s).__name__} at index {i} has {s.optimizer}, "
                f"which is different from {type(optimizer).__name__}."
            )


class _CompositeStateMixin:
    """state_dict/load_state_dict that nest the wrapped schedulers' states."""

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state, with each wrapped scheduler's ``state_dict()`` under ``_schedulers``."""
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state returned by :meth:`state_dict` (the given dict is left unchanged)."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, s_state in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(s_state)


class SequentialLR(_CompositeStateMixin, LRScheduler):
    """Runs ``schedulers`` one after another, switching at the ``milestones`` epochs.

    At a milestone the next scheduler starts from epoch 0 (its closed form, from ``initial_lr``).

    Args:
        optimizer: wrapped optimizer (all schedulers must wrap it).
        schedulers: the schedulers, in order.
        milestones: ``len(schedulers) - 1`` increasing epoch indices.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_composable(name, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}"
            )
        _handle_verbose(self, verbose)
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # the wrapped schedulers already stepped once each at construction: undo all of that,
        # then let only the scheduler in charge of epoch 0 do its initial step
        for group in optimizer.param_groups:
            _set_group_value(group, "lr", group["initial_lr"])
        self.recursive_undo()
        idx = bisect_right(milestones, 0)
        schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched: Any = None) -> None:
        """Decrements ``last_epoch`` of every (nested) wrapped scheduler."""
        s = self if sched is None else sched
        if hasattr(s, "_schedulers"):
            for sub in s._schedulers:
                self.recursive_undo(sub)
        elif hasattr(s, "last_epoch"):
            s.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Steps the scheduler in charge of the new epoch (restarting it at a milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        s = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            s._update_lr(0)
        else:
            s.step()
        self._last_lr = s.get_last_lr()


class ChainedScheduler(_CompositeStateMixin, LRScheduler):
    """Steps every scheduler of ``schedulers`` (in order) at each :meth:`step`; their effects compose.

    Args:
        schedulers: the chainable schedulers.
        optimizer: wrapped optimizer; default: the first scheduler's.
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Any = None) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_composable(name, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(schedulers[-1].optimizer, "lr")

    def step(self) -> None:  # type: ignore[override]
        """Steps every wrapped scheduler."""
        for s in self._schedulers:
            s.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


class ReduceLROnPlateau(LRScheduler):
    """Multiplies each group's lr by ``factor`` when a metric has stopped improving.

    Args:
        optimizer: wrapped optimizer.
        mode: ``'min'`` (the metric should decrease) or ``'max'``. Default: 'min'.
        factor: reduction factor, < 1. Default: 0.1.
        patience: number of bad epochs tolerated before reducing. Default: 10.
        threshold: minimum change that counts as an improvement. Default: 1e-4.
        threshold_mode: ``'rel'`` (``best * (1 -/+ threshold)``) or ``'abs'``
            (``best -/+ threshold``). Default: 'rel'.
        cooldown: epochs to wait after a reduction before counting bad epochs again. Default: 0.
        min_lr: lower bound of the lr, a scalar or one per group. Default: 0.
        eps: a reduction smaller than this is skipped. Default: 1e-8.

    Call ``step(metric)`` once per epoch with the metric's value (a number or 0-d tensor).
    """

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: list[float] | float = 0, eps: float = 1e-8, verbose: Any = "deprecated") -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        _handle_verbose(self, verbose)
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Records one epoch's metric and reduces the lrs if it has plateaued."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self, epoch: int) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due "
                    "to a new param group being added to the optimizer. Please modify the `min_lrs` "
                    "field to match the length of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                _set_group_value(group, "lr", new)
                if self.verbose:
                    print(f"Epoch {epoch}: reducing learning rate of group {i} to {new:.4e}.")

    @property
    def in_cooldown(self) -> bool:
        """Whether the scheduler is waiting out a cooldown."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in {"min", "max"}:
            raise ValueError("mode " + str(mode) + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + str(threshold_mode) + " is unknown!")
        self.mode_worse = inf if mode == "min" else -inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state returned by :meth:`state_dict`."""
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)


def _momentum_setup(sched: Any, optimizer: Any, base_momentum: Any, max_momentum: Any,
                    last_epoch: int) -> tuple[list, list]:
    """Validates momentum cycling and (on a fresh start) sets every group to max_momentum."""
    defaults = getattr(optimizer, "defaults", {})
    if "momentum" not in defaults and "betas" not in defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    sched.use_beta1 = "betas" in defaults
    max_m = _format_param("max_momentum", optimizer, max_momentum)
    base_m = _format_param("base_momentum", optimizer, base_momentum)
    if last_epoch == -1:
        for mx, bs, group in zip(max_m, base_m, optimizer.param_groups):
            _set_momentum(group, sched.use_beta1, mx)
            group["max_momentum"] = mx
            group["base_momentum"] = bs
    return base_m, max_m


def _set_momentum(group: dict, use_beta1: bool, m: Any) -> None:
    if use_beta1:
        group["betas"] = (m, *group["betas"][1:])
    else:
        group["momentum"] = m


class CyclicLR(LRScheduler):
    """Cycles each group's lr between ``base_lr`` and ``max_lr`` (cyclical learning rates, CLR).

    Step it after every batch. Policies: ``'triangular'`` (constant amplitude), ``'triangular2'``
    (amplitude halved every cycle), ``'exp_range'`` (amplitude scaled by ``gamma**iteration``), or a
    custom ``scale_fn`` evaluated per ``'cycle'`` or per ``'iterations'`` (``scale_mode``). With
    ``cycle_momentum`` the momentum (SGD) or ``beta1`` (Adam-like) cycles inversely between
    ``max_momentum`` and ``base_momentum``.

    Args:
        optimizer: wrapped optimizer.
        base_lr: lower lr bound(s), a float or one per group; set as the groups' lr at start.
        max_lr: upper lr bound(s).
        step_size_up: iterations of the rising half. Default: 2000.
        step_size_down: iterations of the falling half. Default: ``step_size_up``.
        mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'``. Default: 'triangular'.
        gamma: base of ``'exp_range'``. Default: 1.0.
        scale_fn: custom scaling policy ``x -> factor`` in [0, 1] (overrides ``mode``).
        scale_mode: ``'cycle'`` or ``'iterations'``, the argument given to ``scale_fn``.
        cycle_momentum: cycle momentum too. Default: True.
        base_momentum: lower momentum bound(s). Default: 0.8.
        max_momentum: upper momentum bound(s). Default: 0.9.
        last_epoch: index of the last batch. Default: -1.
    """

    def __init__(self, optimizer: Any, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.8, max_momentum: float | list[float] = 0.9,
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                _set_group_value(group, "lr", lr)
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = _momentum_setup(
                self, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch, verbose)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The scaling policy's factor at ``x`` (a cycle number or an iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x: float) -> float:
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x: float) -> float:
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma: float, x: float) -> float:
        return gamma ** x

    def get_lr(self) -> list:
        """The lrs at batch ``last_epoch``; also sets the groups' momentum when cycling it."""
        self._warn_get_lr_outside_step()
        e = self.last_epoch
        cycle = math.floor(1 + e / self.total_size)
        x = 1.0 + e / self.total_size - cycle
        if x <= self.step_ratio:
            frac = x / self.step_ratio
        else:
            frac = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else e)
        lrs = [base + (mx - base) * frac * scale for base, mx in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, bm, mm in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self.use_beta1, mm - (mm - bm) * frac * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state; a custom ``scale_fn`` is saved (its ``__dict__``) only if it is a
        callable object, not a function or lambda."""
        sd = super().state_dict()
        sd.pop("_scale_fn_ref", None)  # a bound method / partial: rebuilt on load
        fn = sd.pop("_scale_fn_custom")
        sd["_scale_fn_custom"] = (
            fn.__dict__.copy() if fn is not None and not isinstance(fn, types.FunctionType) else None
        )
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state returned by :meth:`state_dict` (the given dict is left unchanged)."""
        fn_state = state_dict.get("_scale_fn_custom")
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "_scale_fn_custom"})
        if fn_state is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR).

    :math:`\eta_t = \eta_{min} + (\eta_{max} - \eta_{min})(1 + \cos(\pi T_{cur} / T_i)) / 2`, where
    :math:`T_{cur}` counts epochs since the last restart and :math:`T_i` (starting at ``T_0``) is
    multiplied by ``T_mult`` at each restart. ``step(epoch)`` accepts fractional epochs (call it
    per batch with ``epoch + i / iters``).

    Args:
        optimizer: wrapped optimizer.
        T_0: epochs until the first restart (positive int).
        T_mult: growth factor of the period after each restart (int >= 1). Default: 1.
        eta_min: minimum lr. Default: 0.
        last_epoch: index of the last epoch. Default: -1.
    """

    def __init__(self, optimizer: Any, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self) -> list:
        """The lrs at position ``T_cur`` of the current period ``T_i``."""
        self._warn_get_lr_outside_step()
        c = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * c / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advances one epoch, or jumps to ``epoch`` (which may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # number of completed periods: T_0 (T_mult^n - 1) / (T_mult - 1) <= epoch
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for i, (group, lr) in enumerate(zip(self.optimizer.param_groups, values)):
            _set_group_value(group, "lr", lr)
            if self.verbose:
                self.print_lr(True, i, float(lr), epoch)
        self._last_lr = _group_values(self.optimizer, "lr")


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr rises from ``max_lr / div_factor`` to ``max_lr``, then anneals to
    ``initial_lr / final_div_factor``; momentum (or ``beta1``) moves inversely.

    Step it after every batch, ``total_steps`` times in all (one more raises ValueError).

    Args:
        optimizer: wrapped optimizer.
        max_lr: peak lr(s), a float or one per group.
        total_steps: steps in the cycle; else ``epochs * steps_per_epoch``.
        epochs, steps_per_epoch: used when ``total_steps`` is None.
        pct_start: fraction of the cycle spent increasing the lr. Default: 0.3.
        anneal_strategy: ``'cos'`` or ``'linear'``. Default: 'cos'.
        cycle_momentum: cycle momentum inversely to the lr. Default: True.
        base_momentum: momentum at the lr peak. Default: 0.85.
        max_momentum: momentum at the start and end. Default: 0.95.
        div_factor: ``initial_lr = max_lr / div_factor``. Default: 25.
        final_div_factor: ``min_lr = initial_lr / final_div_factor``. Default: 1e4.
        three_phase: rise, symmetric fall back to ``initial_lr``, then anneal to ``min_lr``
            (the original paper) instead of two phases (fastai). Default: False.
        last_epoch: index of the last batch. Default: -1.
    """

    def __init__(self, optimizer: Any, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1, verbose: Any = "deprecated") -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        T = self.total_steps
        if three_phase:
            self._schedule_phases = [
                self._phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum",
                            "base_momentum"),
                self._phase(float(2 * pct_start * T) - 2, "max_lr", "initial_lr", "base_momentum",
                            "max_momentum"),
                self._phase(T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                self._phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum",
                            "base_momentum"),
                self._phase(T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_func_type = anneal_strategy
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for mx, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = mx / div_factor
                group["max_lr"] = mx
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _momentum_setup(self, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch, verbose)

    @staticmethod
    def _phase(end_step: float, start_lr: str, end_lr: str, start_m: str, end_m: str) -> dict[str, Any]:
        return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
                "start_momentum": start_m, "end_momentum": end_m}

    def _anneal_func(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        if self._anneal_func_type == "linear":
            return self._annealing_linear(start, end, pct)
        raise ValueError(f"Unknown _anneal_func_type: {self._anneal_func_type}")

    @staticmethod
    def _annealing_cos(start: float, end: float, pct: float) -> float:
        """Cosine anneal from ``start`` to ``end`` as ``pct`` goes from 0 to 1."""
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

    @staticmethod
    def _annealing_linear(start: float, end: float, pct: float) -> float:
        """Linear anneal from ``start`` to ``end`` as ``pct`` goes from 0 to 1."""
        return (end - start) * pct + start

    def get_lr(self) -> list:
        """The lrs at step ``last_epoch``; also sets the groups' momentum when cycling it."""
        self._warn_get_lr_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is {self.total_steps}"
            )
        phases = self._schedule_phases
        last = len(phases) - 1
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, ph in enumerate(phases):
                end_step = ph["end_step"]
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[ph["start_lr"]], group[ph["end_lr"]], pct))
                    if self.cycle_momentum:
                        m = self._anneal_func(group[ph["start_momentum"]], group[ph["end_momentum"]], pct)
                        _set_momentum(group, self.use_beta1, m)
                    break
                start_step = end_step
        return lrs


# --------------------------------------------------------------------------- FERRUM's recipe
def linear_warmup_decay(optimizer: Any, warmup_steps: int, total_steps: int,
                        final_factor: float = 0.0) -> SequentialLR:
    """FERRUM's "linear warm-up then decay" schedule.

    With ``base`` the lr each group had when this is called, and ``t`` the step index
    (the number of ``scheduler.step()`` calls so far):

    - warm-up, ``0 <= t <= warmup_steps``: ``base * (s + (1 - s) * t / warmup_steps)`` with
      ``s = 1 / warmup_steps``, i.e. from ``base / warmup_steps`` up to ``base``;
    - decay, ``warmup_steps <= t <= total_steps``: linear from ``base`` down to
      ``base * final_factor``, reached at ``t = total_steps`` and kept afterwards.

    It is exactly (and returns) the composition of those two :class:`LinearLR`::

        SequentialLR(optimizer, [
            LinearLR(optimizer, start_factor=1 / warmup_steps, end_factor=1.0, total_iters=warmup_steps),
            LinearLR(optimizer, start_factor=1.0, end_factor=final_factor,
                     total_iters=total_steps - warmup_steps),
        ], milestones=[warmup_steps])

    so it has their ``state_dict`` / ``load_state_dict`` and matches the same PyTorch composition.

    Args:
        optimizer: wrapped optimizer.
        warmup_steps: length of the warm-up (int >= 1).
        total_steps: step at which the decay ends (int > warmup_steps).
        final_factor: final lr as a fraction of the base lr, in [0, 1]. Default: 0.0.
    """
    if not isinstance(warmup_steps, int) or warmup_steps < 1:
        raise ValueError(
            f"linear_warmup_decay: expected an integer warmup_steps >= 1, but got {warmup_steps}"
        )
    if not isinstance(total_steps, int) or total_steps <= warmup_steps:
        raise ValueError(
            f"linear_warmup_decay: expected an integer total_steps > warmup_steps ({warmup_steps}), "
            f"but got {total_steps}"
        )
    if not 0.0 <= final_factor <= 1.0:
        raise ValueError(f"linear_warmup_decay: expected final_factor in [0, 1], but got {final_factor}")
    warm = LinearLR(optimizer, start_factor=1.0 / warmup_steps, end_factor=1.0, total_iters=warmup_steps)
    decay = LinearLR(optimizer, start_factor=1.0, end_factor=final_factor,
                     total_iters=total_steps - warmup_steps)
    return SequentialLR(optimizer, [warm, decay], milestones=[warmup_steps])
