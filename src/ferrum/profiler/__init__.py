"""``ferrum.profiler``: where the time of a program goes, as ``torch.profiler``.

``profile`` (context manager with ``step()``), ``record_function``, ``schedule``,
``tensorboard_trace_handler``, ``ProfilerActivity``; results through ``key_averages().table()``,
``events()`` and ``export_chrome_trace``. ``profiler.py`` holds the profiler, ``_record.py`` how
calls are timed (patched in only while a profiler runs: no cost otherwise), ``_events.py`` the
events, the table and the trace format.
"""
from ._events import EventList, FunctionEvent, FunctionEventAvg
from .profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                       supported_activities, tensorboard_trace_handler)

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity",
           "ProfilerAction", "supported_activities", "EventList", "FunctionEvent", "FunctionEventAvg"]
