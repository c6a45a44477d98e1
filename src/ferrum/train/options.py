"""Value rules shared by the recipes: one definition per kind of option, used both as the
``argparse`` type of a command-line flag and to check the same argument of a recipe's Python
function (so ``--lr -1`` and ``train(lr=-1)`` are refused by the same rule, with the same words).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Rule", "POSITIVE_INT", "POSITIVE", "NON_NEGATIVE", "FRACTION", "add_checkpoint_arguments",
           "AMP_CHOICES", "add_amp_argument", "report_error"]


@dataclass(frozen=True)
class Rule:
    """A value kind: ``convert`` (int or float) parses it, ``ok`` accepts it, ``what`` names it."""

    convert: Callable[[str], Any]
    ok: Callable[[Any], bool]
    what: str

    def __call__(self, text: str) -> Any:
        """The argparse type: parses and checks ``text``."""
        try:
            value = self.convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {self.what}, got {text!r}") from None
        if not self.ok(value):
            raise argparse.ArgumentTypeError(f"expected {self.what}, got {text}")
        return value

    def check(self, job: str, name: str, value: Any) -> None:
        """Raises ``ValueError("<job>: <name> must be <what>, got <value>")`` unless ``value`` is
        of this kind (a Python number of the right type that ``ok`` accepts)."""
        kinds = (int,) if self.convert is int else (int, float)
        if not (isinstance(value, kinds) and not isinstance(value, bool) and self.ok(value)):
            raise ValueError(f"{job}: {name} must be {self.what}, got {value!r}")


POSITIVE_INT = Rule(int, lambda v: v >= 1, "an integer >= 1")
POSITIVE = Rule(float, lambda v: v > 0 and math.isfinite(v), "a number > 0")
NON_NEGATIVE = Rule(float, lambda v: 0.0 <= v < math.inf, "a number >= 0")
FRACTION = Rule(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


def add_checkpoint_arguments(p: argparse.ArgumentParser, step_based: bool = False) -> None:
    """The checkpoint flags every recipe has: ``--checkpoint-dir DIR``, ``--resume``,
    ``--keep-checkpoints K`` (default 3) and ``--checkpoint-every STEPS`` (default: after every
    epoch; ``step_based`` recipes, which train one long epoch, should pass a default of their own).
    :func:`ferrum.train.checkpoint.checkpoint_callbacks` turns them into the Trainer's callback."""
    p.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                   help="save a training checkpoint (model, optimizer, schedule, data order, random "
                        "states) into DIR " + ("every --checkpoint-every steps" if step_based
                                               else "after every epoch"))
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest readable checkpoint in --checkpoint-dir (exactly where "
                        "it stopped; from the start when there is none)")
    p.add_argument("--keep-checkpoints", type=POSITIVE_INT, default=3, metavar="K",
                   help="keep the newest K checkpoints (default 3)")
    p.add_argument("--checkpoint-every", type=POSITIVE_INT, default=None, metavar="STEPS",
                   help="checkpoint every STEPS optimizer steps (and after the last one) instead of "
                        "after every epoch")


AMP_CHOICES = ("off", "bf16", "fp16")


def add_amp_argument(p: argparse.ArgumentParser) -> None:
    """``--amp {off,bf16,fp16}``: the forward pass and loss under ``ferrum.autocast("cpu")`` in that
    dtype (fp16 with a GradScaler); parameters and optimizer stay float32."""
    p.add_argument("--amp", choices=AMP_CHOICES, default="off",
                   help="mixed precision: autocast the forward pass to bfloat16 or float16 (fp16 adds "
                        "dynamic loss scaling); default off")


def report_error(job: str, args: argparse.Namespace, error: Exception) -> int:
    """A recipe's failure as one line on stderr (exit status 1; the command line reports it as 2),
    or the traceback with ``--debug``."""
    if getattr(args, "debug", False):
        raise error
    import sys

    print(f"ferrum train {job}: error: {error}", file=sys.stderr)
    return 1
