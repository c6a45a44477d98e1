"""``ferrum.profiler.profile``, ``schedule`` and ``tensorboard_trace_handler``, as ``torch.profiler``.

``profile`` is a context manager that times ferrum's ops, autograd nodes, optimizer steps, module
forwards (``with_modules``) and ``record_function`` ranges on the host (``_record.py`` says how,
at no cost outside a profiler). With a ``schedule``, ``step()`` walks its actions as PyTorch's
profiler does: NONE (wait: nothing installed, nothing recorded), WARMUP (installed, not recorded),
RECORD, and RECORD_AND_SAVE (the last active step: when it ends, the events of the cycle become
the profiler's results and ``on_trace_ready(prof)`` is called). Each recorded step is a
"ProfilerStep#N" range. Without a schedule every step records, and ``on_trace_ready`` is called
once when the profiler stops.

Only host (CPU) time is measured; asking for ``ProfilerActivity.CUDA`` without a GPU warns "CUDA is
not available, disabling CUDA profiling" as torch does, and with CuPy's GPU the ops are still timed
on the host (CuPy launches asynchronously, so these are launch times).
"""
from __future__ import annotations

import enum
import gzip
import os
import socket
import time
import warnings
from typing import Any, Callable, Iterable

from ._events import EventList, write_chrome_trace
from ._record import _ACTIVE, Recorder

__all__ = ["profile", "ProfilerActivity", "ProfilerAction", "schedule", "tensorboard_trace_handler",
           "supported_activities", "record_function"]


class ProfilerActivity(enum.Enum):
    """What a profiler may time (``torch.profiler.ProfilerActivity``)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does during a step, as a ``schedule`` says."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    """The activities this build can time: the host's."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """A step -> ``ProfilerAction`` function: after ``skip_first`` steps, cycles of ``wait`` idle,
    ``warmup`` and ``active`` recorded steps, ``repeat`` times (0: until the profiler stops).
    ``skip_first_wait`` skips the wait of the first cycle."""
    for n, v in (("wait", wait), ("warmup", warmup), ("active", active), ("repeat", repeat),
                 ("skip_first", skip_first), ("skip_first_wait", skip_first_wait)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"schedule(): {n} must be an int, got {type(v).__name__}")
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"profiler schedule: step must be >= 0, got {step}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait   # the first cycle starts at its warmup
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[Any], None]:
    """An ``on_trace_ready`` that writes each trace to
    ``dir_name/<worker_name>.<time in ms>.pt.trace.json`` (``.gz`` with ``use_gzip``), the file
    name TensorBoard's profiler plugin looks for."""
    def handler(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{name}.{time.time_ns() // 1_000_000}.pt.trace.json")
        prof.export_chrome_trace(path + ".gz" if use_gzip else path)
    return handler


class record_function:
    """Marks a range of code (``with record_function("name"):`` or ``@record_function("name")``):
    it is one event of that name while a profiler records, and costs one test otherwise."""

    def __init__(self, name: str, args: str | None = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"record_function(): name must be a str, got {type(name).__name__}")
        self.name = name
        self.args = args
        self._entered: list = []

    def __enter__(self) -> "record_function":
        rec = _ACTIVE[0]
        if rec is not None and rec.recording:
            self._entered.append((rec, rec.token(self.name, "user_annotation")))
        else:
            self._entered.append(None)
        return self

    def __exit__(self, *exc) -> bool:
        top = self._entered.pop() if self._entered else None
        if top is not None:
            top[0].end_token(top[1])   # nothing when the recording it began in was saved meanwhile
        return False

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped


class _ProfileBase:
    """Shared by ``profile`` and the legacy ``autograd.profiler.profile``: the recorder, the
    results and their reports."""

    def _init_recording(self, record_shapes, profile_memory, with_stack, with_flops, with_modules) -> None:
        for n, v in (("record_shapes", record_shapes), ("profile_memory", profile_memory),
                     ("with_stack", with_stack), ("with_flops", with_flops), ("with_modules", with_modules)):
            if not isinstance(v, bool):
                raise TypeError(f"profile(): {n} must be a bool, got {type(v).__name__}")
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self._rec: Recorder | None = None
        self._events: EventList | None = None

    def _new_recorder(self) -> Recorder:
        return Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.with_modules,
                        self.with_flops)

    def _start(self, recording: bool) -> None:
        if _ACTIVE[0] is not None:
            raise RuntimeError("Profiler is already enabled on this thread: ferrum runs one profiler "
                               "at a time; end the other one first")
        rec = self._rec = self._new_recorder()
        rec.install()
        rec.recording = recording
        _ACTIVE[0] = rec

    def _stop(self) -> None:
        rec = self._rec
        if rec is None:
            return
        rec.recording = False
        if _ACTIVE[0] is rec:
            _ACTIVE[0] = None
        rec.uninstall()

    def _collect(self) -> None:
        """The recorder's events become the results (and the recorder starts afresh)."""
        rec = self._rec
        meta = {"record_shapes": self.record_shapes, "profile_memory": self.profile_memory,
                "with_modules": self.with_modules, "base_us": rec.base_us}
        self._events = EventList(rec.function_events(), profile_memory=self.profile_memory,
                                 with_flops=self.with_flops, trace_meta=meta)
        rec.reset()

    def events(self) -> EventList:
        """Every recorded event (``FunctionEvent``), in start order."""
        if self._events is None:
            return EventList(profile_memory=self.profile_memory, with_flops=self.with_flops)
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """The events averaged by name (and input shapes / stack); ``.table(sort_by=...)`` prints them."""
        if group_by_input_shape and not self.record_shapes:
            raise AssertionError("Input shapes are not recorded: use record_shapes=True to group by "
                                 "input shape")
        if group_by_stack_n > 0 and not self.with_stack:
            raise AssertionError("Stacks are not recorded: use with_stack=True to group by stack")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        """Writes the results as a Chrome trace JSON (gzipped when ``path`` ends in ``.gz``)."""
        ev = self.events()
        if str(path).endswith(".gz"):
            tmp = str(path)[:-3] + f".{os.getpid()}.tmp"
            write_chrome_trace(tmp, list(ev), ev._trace_meta)
            with open(tmp, "rb") as fin, gzip.open(path, "wb") as fout:
                fout.write(fin.read())
            os.remove(tmp)
        else:
            write_chrome_trace(path, list(ev), ev._trace_meta)


class profile(_ProfileBase):
    """Profiles the code in its ``with`` block (or between ``start()`` and ``stop()``).

    ``activities``: ``ProfilerActivity`` values (default: the supported ones); ``schedule``: a
    step -> ``ProfilerAction`` function (``ferrum.profiler.schedule``); ``on_trace_ready(prof)``:
    called when a recorded cycle ends; ``record_shapes``: input shapes of every op;
    ``profile_memory``: bytes allocated by op outputs; ``with_stack``: the Python call site;
    ``with_flops``: FLOPs of matrix products; ``with_modules``: "nn.Module: Linear_0" ranges.
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[Any], None] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 execution_trace_observer: Any = None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback: Callable | None = None) -> None:
        acts = set(supported_activities() if activities is None else activities)
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile(): activities must be ProfilerActivity values, got {a!r}")
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            acts.add(ProfilerActivity.CUDA)
        if ProfilerActivity.CUDA in acts:
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
            acts.discard(ProfilerActivity.CUDA)
        for a in list(acts):
            if a is not ProfilerActivity.CPU:
                warnings.warn(f"{a.name} is not available, disabling {a.name} profiling", stacklevel=2)
                acts.discard(a)
        if not acts:
            raise AssertionError("No valid profiler activities found")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"profile(): schedule must be callable, got {type(schedule).__name__}")
        if on_trace_ready is not None and not callable(on_trace_ready):
            raise TypeError("profile(): on_trace_ready must be callable, got "
                            f"{type(on_trace_ready).__name__}")
        self.activities = acts
        self._init_recording(record_shapes, profile_memory, with_stack, with_flops, with_modules)
        self.schedule = schedule if schedule is not None else _always_record
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.experimental_config = experimental_config
        self.acc_events = acc_events
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._running = False
        self._installed = False
        self._step_event: tuple | None = None

    # -------------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> "profile":
        self.start()
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def start(self) -> None:
        if self._running:
            raise RuntimeError("profile.start(): the profiler is already running")
        self._running = True
        self.step_num = 0
        self.current_action = self.schedule(0)
        try:
            self._enter_action(self.current_action)
        except BaseException:
            self._running = False
            raise

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        save = self.current_action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        try:
            self._close_step_event()
            if save:
                self._collect()
        finally:
            self._leave()   # the originals are back even when collecting failed
        if save and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """Ends the current step and begins the next one, following the schedule."""
        if not self._running:
            return
        self._close_step_event()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if prev in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and \
                (prev is ProfilerAction.RECORD_AND_SAVE or self.current_action in
                 (ProfilerAction.NONE, ProfilerAction.WARMUP)):
            self._collect()
            if self.current_action is ProfilerAction.NONE:
                self._leave()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        self._enter_action(self.current_action)

    # ---------------------------------------------------------------------------------- helpers
    def _enter_action(self, action: ProfilerAction) -> None:
        if action is ProfilerAction.NONE:
            self._leave()
            return
        recording = action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if not self._installed:
            self._start(recording)
            self._installed = True
        else:
            if self._rec.recording and not recording:
                self._rec.reset()
            self._rec.recording = recording
        if recording and self.record_steps:
            self._step_event = self._rec.token(f"ProfilerStep#{self.step_num}", "user_annotation")

    def _close_step_event(self) -> None:
        if self._step_event is not None and self._rec is not None and self._rec.recording:
            self._rec.end_token(self._step_event)
        self._step_event = None

    def _leave(self) -> None:
        if self._installed:
            self._stop()
            self._installed = False
