"""Schedulers made of other schedulers: :class:`SequentialLR` (one after another, switching at
milestones), :class:`ChainedScheduler` (all at once, their effects multiplying), and FERRUM's
recommended recipe :func:`linear_warmup_decay`, which is a ``SequentialLR`` of two ``LinearLR``.

They wrap epoch-driven schedulers only: ``_check_composable`` rejects
:class:`~ferrum.optim._lr_plateau.ReduceLROnPlateau`, whose ``step`` needs a metric.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ._lr_base import LRScheduler, _group_values, _handle_verbose, _set_group_value
from ._lr_plateau import ReduceLROnPlateau
from ._lr_schedules import LinearLR


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
