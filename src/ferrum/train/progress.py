"""A one-line progress bar for terminals (carriage return redraws, no dependencies)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``desc [#####.....] i/n  loss 0.1234  5123 samples/s`` redrawn in place on ``stream``.

    Draws nothing when ``enabled`` is False, or (``enabled=None``) when ``stream`` is not a terminal,
    so logs and pipes get no carriage-return noise. Redraws at most every ``min_interval`` seconds
    to keep the cost per step negligible.
    """

    def __init__(self, total: int, desc: str = "", stream: TextIO | None = None, enabled: bool | None = None,
                 width: int = 24, min_interval: float = 0.1) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.width = width
        self.min_interval = min_interval
        self.count = 0
        self.samples = 0
        self.loss_sum = 0.0
        self.loss_n = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_len = 0

    @property
    def running_loss(self) -> float:
        """Mean of the losses passed to :meth:`update` so far (nan before the first)."""
        return self.loss_sum / self.loss_n if self.loss_n else float("nan")

    @property
    def rate(self) -> float:
        """Samples per second since the bar was made."""
        dt = time.perf_counter() - self.start
        return self.samples / dt if dt > 0 else 0.0

    def update(self, steps: int = 1, samples: int = 0, loss: float | None = None) -> None:
        """Advance by ``steps`` steps that processed ``samples`` samples with mean ``loss``."""
        self.count += steps
        self.samples += samples
        if loss is not None:
            self.loss_sum += loss
            self.loss_n += 1
        if self.enabled:
            now = time.perf_counter()
            if now - self._last_draw >= self.min_interval or self.count >= self.total:
                self._last_draw = now
                self._draw()

    def _draw(self) -> None:
        done = min(self.count, self.total)
        filled = self.width * done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.desc} [{bar}] {done}/{self.total}"
        if self.loss_n:
            line += f"  loss {self.running_loss:.4f}"
        line += f"  {self.rate:,.0f} samples/s"
        # pad with spaces so a shorter line fully covers the previous one
        self.stream.write("\r" + line + " " * max(self._last_len - len(line), 0))
        self.stream.flush()
        self._last_len = len(line)

    def close(self) -> None:
        """Erase the bar, leaving the cursor at the start of a clean line."""
        if self.enabled and self._last_len:
            self.stream.write("\r" + " " * self._last_len + "\r")
            self.stream.flush()
            self._last_len = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
