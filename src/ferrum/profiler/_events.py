"""The profiler's results: events, their averages, PyTorch's table and the Chrome trace.

``FunctionEvent`` is one timed call (an op, a ``record_function`` range, a module forward, an
autograd node's backward, an optimizer step), with PyTorch's field names (``cpu_time_total``,
``self_cpu_time_total``, ``cpu_memory_usage``, ``input_shapes``, ``cpu_children``, ...; times in
microseconds, memory in bytes). ``EventList`` is a list of them with PyTorch's ``table``,
``key_averages``, ``total_average`` and ``export_chrome_trace``; ``key_averages`` groups the events
by name (and input shapes, or stack) into ``FunctionEventAvg``.

The table follows the layout of ``torch.autograd.profiler_util``'s (columns right-aligned, two
spaces apart, the name column as wide as the longest name plus 4 up to 55, times as ``1.234ms``,
memory as ``1.50 Kb``, the "Self CPU time total" line below); a ``sort_by`` that names no field of
an event raises AttributeError as PyTorch's does.

The Chrome trace is the JSON object format of the Trace Event spec that chrome://tracing and
Perfetto open: complete events (``"ph": "X"``) with ``ts``/``dur`` in microseconds, ``pid`` the
process, ``tid`` the native thread id, ``cat`` PyTorch's categories (``cpu_op``,
``user_annotation``, ``python_function``) and the input shapes in ``args["Input Dims"]``.
"""
from __future__ import annotations

import json
import os
import socket
from typing import Any, Iterable

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList", "Interval"]


class Interval:
    """A time range in microseconds (``FunctionEvent.time_range``)."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start}, end={self.end})"


class _HostTimes:
    """What an event and an average of events share: host times only (ferrum's profiler has no
    accelerator timing, as torch's without a GPU) and torch's formatted-time properties."""

    device_time_total = self_device_time_total = device_time = 0.0
    cuda_time_total = self_cuda_time_total = cuda_time = 0.0
    device_memory_usage = self_device_memory_usage = 0
    cuda_memory_usage = self_cuda_memory_usage = 0

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)


class FunctionEvent(_HostTimes):
    """One recorded call. Times in microseconds since the profiler started, memory in bytes."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes: list | None = None, stack: list | None = None, cat: str = "cpu_op",
                 cpu_memory_usage: int = 0, self_own_memory: int = 0, scope: int = 0,
                 sequence_nr: int = -1) -> None:
        self.id = id
        self.name = name
        self.key = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.cat = cat
        self.cpu_memory_usage = cpu_memory_usage
        self._own_memory = self_own_memory
        self.scope = scope
        self.sequence_nr = sequence_nr
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        self.node_id = -1
        self.device_type = "cpu"
        self.device_index = 0
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.is_user_annotation = cat == "user_annotation"
        self.flops = 0
        self.trace_name = name
        self.overload_name = ""

    # ------------------------------------------------------------------ PyTorch's derived fields
    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self._own_memory

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} device_type=DeviceType.CPU "
                f"cpu_time={self.cpu_time_str} start_us={self.time_range.start:.3f} "
                f"end_us={self.time_range.end:.3f} cpu_children={[c.id for c in self.cpu_children]} "
                f"thread={self.thread} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_HostTimes):
    """The events of one key (name, with shapes or stack when grouped by them) summed up."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.is_user_annotation = False
        self.use_device = None
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes: list | None = None
        self.stack: list | None = None
        self.scope: int | None = None
        self.cpu_parent = None
        self.cpu_children = None
        self.device_type = "cpu"
        self.flops = 0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def add(self, other) -> "FunctionEventAvg":
        if self.key is None:
            self.key = other.key
            self.node_id = other.node_id
            self.is_user_annotation = other.is_user_annotation
            self.scope = other.scope
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.input_shapes = other.input_shapes
            self.stack = other.stack
        if other.key != self.key:
            raise AssertionError(f"averaging events of different keys: {self.key} and {other.key}")
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        self.flops += other.flops
        return self

    def __iadd__(self, other) -> "FunctionEventAvg":
        return self.add(other)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_total_str} input_shapes={self.input_shapes or ''} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of ``FunctionEvent`` (or ``FunctionEventAvg``) with PyTorch's reporting methods."""

    def __init__(self, *args, profile_memory: bool = False, with_flops: bool = False,
                 trace_meta: dict | None = None) -> None:
        super().__init__(*args)
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._trace_meta = trace_meta or {}

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> "EventList":
        """Events of the same name (and input shapes / top ``group_by_stack_n`` stack entries when
        asked) summed into one ``FunctionEventAvg`` each, in order of first appearance."""
        groups: dict = {}
        for e in self:
            key: tuple = (e.key,)
            if group_by_input_shape:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(e.stack[:group_by_stack_n])
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg()
            avg.add(e)
        out = EventList(groups.values(), profile_memory=self._profile_memory, with_flops=self._with_flops)
        for avg in out:
            # as torch: shapes and stacks are shown only when the grouping used them
            if not group_by_input_shape:
                avg.input_shapes = None
            avg.stack = avg.stack[:group_by_stack_n] if group_by_stack_n > 0 and avg.stack else None
        return out

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg()
        for e in self:
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
            total.cpu_memory_usage += e.cpu_memory_usage
            total.self_cpu_memory_usage += e.self_cpu_memory_usage
            total.count += e.count
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80,
              header: str | None = None, top_level_events_only: bool = False) -> str:
        """The events as PyTorch's text table, sorted (descending) by the field ``sort_by``."""
        return _build_table(self, sort_by, row_limit, max_src_column_width, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only,
                            self._profile_memory, self._with_flops)

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Writes the events as a Chrome trace (JSON object format) to ``path``."""
        write_chrome_trace(path, [e for e in self if isinstance(e, FunctionEvent)], self._trace_meta)


# --------------------------------------------------------------------------------------- formatting
def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole > 0 else "0.00%"


def _build_table(events: Iterable, sort_by, row_limit, max_src_column_width, max_name_column_width,
                 max_shapes_column_width, header, top_level_events_only, profile_memory,
                 with_flops) -> str:
    events = list(events)
    if not events:
        return ""
    if sort_by is not None:
        if not isinstance(sort_by, str):
            raise TypeError(f"table(): sort_by must be a str naming an event field, got "
                            f"{type(sort_by).__name__}")
        if not hasattr(events[0], sort_by):
            raise AttributeError(f"table(): unknown sort_by key {sort_by!r}: "
                                 f"'{type(events[0]).__name__}' object has no attribute {sort_by!r}")
        events = sorted(events, key=lambda e: getattr(e, sort_by), reverse=True)
    if top_level_events_only:
        events = [e for e in events if e.cpu_parent is None]
    total_self = sum(e.self_cpu_time_total for e in events)
    has_shapes = any(e.input_shapes for e in events)
    has_stack = any(e.stack for e in events)
    if row_limit is not None and row_limit > 0:
        events = events[:row_limit]

    name_w = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    heads = [("Name", name_w), ("Self CPU %", 12), ("Self CPU", 12), ("CPU total %", 12),
             ("CPU total", 12), ("CPU time avg", 12)]
    if profile_memory:
        heads += [("CPU Mem", 12), ("Self CPU Mem", 12)]
    heads.append(("# of Calls", 12))
    if has_shapes:
        shapes_w = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_column_width)
        heads.append(("Input Shapes", shapes_w))
    if with_flops:
        heads.append(("Total MFLOPs", 12))
    if has_stack:
        src_w = min(max((len(s) for e in events for s in (e.stack or [""])), default=0) + 4,
                    max_src_column_width)
        heads.append(("Source Location", src_w))

    def row(cells: list) -> str:
        return "".join(str(c).rjust(w)[:w] + "  " for c, (_, w) in zip(cells, heads))

    def clip(s: str, w: int) -> str:
        return s if len(s) <= w - 3 else s[:w - 3] + "..."

    sep = "".join("-" * w + "  " for _, w in heads)
    lines = []
    if header is not None:
        lines += ["=" * len(sep), header]
    lines += [sep, row([h for h, _ in heads]), sep]
    for e in events:
        cells = [clip(e.key, name_w), _percent(e.self_cpu_time_total, total_self),
                 _format_time(e.self_cpu_time_total), _percent(e.cpu_time_total, total_self),
                 _format_time(e.cpu_time_total), _format_time(e.cpu_time)]
        if profile_memory:
            cells += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        cells.append(e.count)
        if has_shapes:
            cells.append(clip(str(e.input_shapes), shapes_w))
        if with_flops:
            cells.append(f"{e.flops / 1e6:.3f}" if e.flops else "--")
        if has_stack:
            stack = e.stack or [""]
            cells.append(clip(stack[0], src_w))
            lines.append(row(cells))
            for s in stack[1:]:
                lines.append(row([""] * (len(cells) - 1) + [clip(s, src_w)]))
            continue
        lines.append(row(cells))
    lines.append(sep)
    lines.append(f"Self CPU time total: {_format_time(total_self)}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ chrome trace
def write_chrome_trace(path: str, events: list, meta: dict) -> None:
    pid = os.getpid()
    base_us = meta.get("base_us", 0.0)
    trace: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": "python"}},
        {"ph": "M", "name": "process_labels", "pid": pid, "tid": 0, "args": {"labels": "CPU"}},
    ]
    for tid in sorted({e.thread for e in events}):
        trace.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                      "args": {"name": f"thread {tid} (python)"}})
    for e in events:
        args: dict[str, Any] = {"External id": e.id}
        if e.sequence_nr >= 0:
            args["Sequence number"] = e.sequence_nr
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        if meta.get("profile_memory"):
            args["CPU Mem"] = e.cpu_memory_usage
        trace.append({"ph": "X", "cat": e.cat, "name": e.name, "pid": pid, "tid": e.thread,
                      "ts": base_us + e.time_range.start, "dur": e.time_range.elapsed_us(), "args": args})
    doc = {"schemaVersion": 1, "deviceProperties": [], "record_shapes": int(bool(meta.get("record_shapes"))),
           "profile_memory": int(bool(meta.get("profile_memory"))),
           "with_modules": int(bool(meta.get("with_modules"))), "host_name": socket.gethostname(),
           "displayTimeUnit": "ms", "traceEvents": trace, "traceName": str(path)}
    with open(path, "w") as f:
        json.dump(doc, f)
