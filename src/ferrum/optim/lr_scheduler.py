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

Layout. PyTorch keeps every scheduler in one ``lr_scheduler.py``; in ferrum that file would pass
the 800-line budget of a source file, so this module is only the public face, and the schedulers
live, by family, in:

- ``_lr_base``: :class:`LRScheduler` (the step protocol) and the per-group helpers all share;
- ``_lr_schedules``: the simple epoch-indexed schedules (:class:`LambdaLR`,
  :class:`MultiplicativeLR`, :class:`StepLR`, :class:`MultiStepLR`, :class:`ConstantLR`,
  :class:`LinearLR`, :class:`ExponentialLR`, :class:`PolynomialLR`, :class:`CosineAnnealingLR`);
- ``_lr_plateau``: :class:`ReduceLROnPlateau`, driven by a metric;
- ``_lr_cyclic``: the per-batch cycles (:class:`CyclicLR`, :class:`OneCycleLR`,
  :class:`CosineAnnealingWarmRestarts`) and their momentum cycling;
- ``_lr_composite``: :class:`SequentialLR`, :class:`ChainedScheduler` and
  :func:`linear_warmup_decay`.

Every name those files define is importable from here as before the split (private ones too), and
the classes and ``linear_warmup_decay`` report this module as their ``__module__``, so reprs and
pickles say ``ferrum.optim.lr_scheduler.StepLR`` (as PyTorch's say ``torch.optim.lr_scheduler``)
whichever file holds the code.
"""

from __future__ import annotations

from ._lr_base import (  # noqa: F401  (the face: every name the split files define stays importable here)
    EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler, _VERBOSE_WARNING, _check_optimizer, _copy,
    _format_param, _group_values, _handle_verbose, _mark_step_called, _set_group_value, inf)
from ._lr_schedules import (  # noqa: F401
    ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR,
    PolynomialLR, StepLR, _LambdaStateMixin, _lambda_list)
from ._lr_plateau import ReduceLROnPlateau
from ._lr_cyclic import (  # noqa: F401
    CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR, _momentum_setup, _set_momentum)
from ._lr_composite import (  # noqa: F401
    ChainedScheduler, SequentialLR, _CompositeStateMixin, _check_composable, linear_warmup_decay)

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

# reprs and pickles name the face, as before the split (see the module docstring)
for _obj in (LRScheduler, _LRScheduler, _LambdaStateMixin, LambdaLR, MultiplicativeLR, StepLR, MultiStepLR,
             ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR, ReduceLROnPlateau,
             CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR, _CompositeStateMixin, SequentialLR,
             ChainedScheduler, linear_warmup_decay):
    _obj.__module__ = __name__
del _obj
