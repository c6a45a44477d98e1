"""The learning-rate scheduler base class and the helpers every scheduler shares.

:class:`LRScheduler` holds the step protocol common to all of ``ferrum.optim.lr_scheduler``:
setting ``initial_lr``, the constructor's first step, the order check against
``optimizer.step()`` (through :func:`_mark_step_called`), the deprecated ``step(epoch)`` closed
form, writing the new lrs into the param groups (plain floats or tensor lrs, filled in place)
and ``state_dict``. The helpers below it (``_format_param``, ``_set_group_value``, ...) are the
per-group value handling that the concrete schedules in ``_lr_schedules``, ``_lr_plateau``,
``_lr_cyclic`` and ``_lr_composite`` build on; they live here, one floor below all of them.
"""

from __future__ import annotations

import math
import warnings
import weakref
from typing import Any

from .._tensor import Tensor

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
