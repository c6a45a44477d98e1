"""``ferrum.autograd.profiler``: PyTorch's older spelling of the profiler (``profile``,
``record_function``), on the same recorder as ``ferrum.profiler`` (see its ``_record.py``).

``profile(enabled=True, ...)`` profiles its ``with`` block; the results are ``function_events``,
``key_averages()``, ``table()``, ``total_average()``, ``self_cpu_time_total`` and
``export_chrome_trace``, as in ``torch.autograd.profiler``.
"""
from __future__ import annotations

import warnings
from typing import Any

from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg
from ..profiler.profiler import _ProfileBase, record_function

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]


class profile(_ProfileBase):
    """Profiles the code in its ``with`` block when ``enabled`` (host time only: ``use_cuda`` /
    ``use_device="cuda"`` warn that CUDA is not available, as torch does without a GPU)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:
        self.enabled = bool(enabled)
        if use_cuda or (use_device is not None and use_device != "cpu"):
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
        self._init_recording(record_shapes, profile_memory, with_stack, with_flops, with_modules)
        self.entered = False

    def __enter__(self) -> "profile":
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start(recording=True)
        return self

    def __exit__(self, *exc) -> bool:
        if not self.enabled or not self.entered:
            return False
        try:
            self._collect()
        finally:
            self._stop()
        return False

    def _check_finished(self) -> None:
        if self._events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self) -> EventList | None:
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        self._check_finished()
        return super().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80,
              header: str | None = None, top_level_events_only: bool = False) -> str:
        self._check_finished()
        return self._events.table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                  max_shapes_column_width, header, top_level_events_only)

    def export_chrome_trace(self, path: str) -> None:
        self._check_finished()
        super().export_chrome_trace(path)

    def total_average(self) -> FunctionEventAvg:
        self._check_finished()
        return self._events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        self._check_finished()
        return self._events.self_cpu_time_total

    def __str__(self) -> str:
        self._check_finished()
        return str(self._events)
