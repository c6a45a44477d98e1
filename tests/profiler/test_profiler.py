"""ferrum.profiler: the events of a small model's training step, nesting, the table layout, the
Chrome trace, schedules, shapes, memory, and bad input (exception types as torch's)."""
from __future__ import annotations

import gzip
import json
import os
import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn.functional as F
from ferrum import nn
from ferrum.profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                             tensorboard_trace_handler)

N_STEPS = 3


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _train_step(m, opt, x):
    loss = m(x).sum()
    loss.backward()
    opt.step()
    opt.zero_grad()


def _by_key(prof, **kw) -> dict:
    return {e.key: e for e in prof.key_averages(**kw)}


def test_training_steps_counts_and_times():
    m = _model()
    opt = ferrum.optim.SGD(m.parameters(), lr=0.1)
    x = ferrum.randn(3, 4)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(N_STEPS):
            _train_step(m, opt, x)
    avg = _by_key(prof)
    assert avg["aten::linear"].count == 2 * N_STEPS
    assert avg["aten::relu"].count == N_STEPS
    assert avg["aten::sum"].count == N_STEPS
    assert avg["autograd::engine::evaluate_function: AddmmBackward0"].count == 2 * N_STEPS
    assert avg["Optimizer.step#SGD.step"].count == N_STEPS
    assert avg["Optimizer.zero_grad#SGD.zero_grad"].count == N_STEPS
    assert not any(k.startswith("nn.Module") for k in avg)   # only with with_modules, as torch
    for e in prof.events():
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        assert e.time_range.start <= e.time_range.end
        for c in e.cpu_children:
            assert c.cpu_parent is e
            assert e.time_range.start <= c.time_range.start <= c.time_range.end <= e.time_range.end
    for a in prof.key_averages():
        assert a.self_cpu_time_total <= a.cpu_time_total + 1e-9
        assert a.cpu_time == pytest.approx(a.cpu_time_total / a.count)
    total = prof.key_averages().self_cpu_time_total
    top = sum(e.cpu_time_total for e in prof.events() if e.cpu_parent is None)
    assert total == pytest.approx(top)


def test_nothing_patched_outside_the_profiler():
    before_add, before_linear = ferrum.Tensor.__add__, F.linear
    with profile():
        assert ferrum.Tensor.__add__ is not before_add
        assert F.linear is not before_linear
    assert ferrum.Tensor.__add__ is before_add and F.linear is before_linear
    with pytest.raises(ZeroDivisionError):
        with profile():
            raise ZeroDivisionError
    assert ferrum.Tensor.__add__ is before_add and F.linear is before_linear
    from ferrum.autograd.function import Node
    from ferrum.nn.modules._module_hooks import _global_hooks_on
    from ferrum.optim import optimizer
    backward, zero_grad = Node.backward, optimizer.Optimizer.zero_grad
    with profile(with_modules=True):
        assert _global_hooks_on[0] and Node.backward is not backward
    assert not _global_hooks_on[0]   # Module.__call__ and Sequential's fused path are back
    assert Node.backward is backward and optimizer.Optimizer.zero_grad is zero_grad
    assert not optimizer._global_optimizer_pre_hooks and not optimizer._global_optimizer_post_hooks
    assert ferrum.profiler.profile is profile   # the lazy submodule


def test_record_function_nesting_and_decorator():
    x = ferrum.randn(5, 5)

    @record_function("decorated")
    def inner(t):
        return (t * 2).tanh()

    with profile() as prof:
        with record_function("outer"):
            y = x + 1
            inner(y)
    events = prof.events()
    outer = next(e for e in events if e.name == "outer")
    deco = next(e for e in events if e.name == "decorated")
    assert deco.cpu_parent is outer
    names = [c.name for c in deco.cpu_children]
    assert names == ["aten::mul", "aten::tanh"]   # x.tanh() -> ops.tanh: one event, as torch
    assert [c.name for c in outer.cpu_children] == ["aten::add", "decorated"]
    assert outer.cpu_time_total >= deco.cpu_time_total >= sum(c.cpu_time_total for c in deco.cpu_children)
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - sum(c.cpu_time_total for c in outer.cpu_children))
    # outside a profiler record_function is a no-op
    with record_function("nothing"):
        pass
    assert inner(x).shape == (5, 5)


def test_table_layout_and_sorting():
    m = _model()
    x = ferrum.randn(3, 4)
    with profile(record_shapes=True, profile_memory=True) as prof:
        m(x).sum().backward()
    ka = prof.key_averages()
    text = ka.table(sort_by="cpu_time_total", row_limit=5)
    lines = text.splitlines()
    heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "CPU Mem",
             "Self CPU Mem", "# of Calls"]
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    assert lines[1].split("  ") and all(h in lines[1] for h in heads)
    assert lines[-1].startswith("Self CPU time total: ")
    assert len(lines) == 5 + 5   # 3 rules, header, 5 rows, total
    rows = [e for e in ka]
    want = sorted(rows, key=lambda e: e.cpu_time_total, reverse=True)[:5]
    for line, e in zip(lines[3:8], want):
        assert line.split()[0] == e.key.split()[0] or e.key in line
    assert "Input Shapes" not in text   # only when grouped by shape, as torch
    for key in ("self_cpu_time_total", "cpu_memory_usage", "self_cpu_memory_usage", "count", "cpu_time"):
        assert ka.table(sort_by=key).startswith("---")
    shaped = prof.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total")
    assert "Input Shapes" in shaped
    assert "[[3, 4], [8, 4], [8]]" in shaped and "[[3, 8], [2, 8], [2]]" in shaped
    assert "linear" in str(ka)


def test_unknown_sort_key_raises_like_torch(torch):
    with profile() as prof:
        ferrum.ones(2) + 1
    with torch.profiler.profile() as tprof:
        torch.ones(2) + 1
    with pytest.raises(Exception) as texc:
        tprof.key_averages().table(sort_by="no_such_column")
    with pytest.raises(type(texc.value)):
        prof.key_averages().table(sort_by="no_such_column")


def test_chrome_trace(tmp_path):
    m = _model()
    x = ferrum.randn(3, 4)
    with profile(record_shapes=True, with_modules=True) as prof:
        with record_function("fwd"):
            out = m(x)
        out.sum().backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    doc = json.loads(path.read_text())
    events = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(events) == len(prof.events())
    for e in events:
        assert {"name", "cat", "ts", "dur", "pid", "tid", "args"} <= set(e)
        assert isinstance(e["ts"], float) and e["dur"] >= 0 and e["pid"] == os.getpid()
    names = [e["name"] for e in events]
    assert names.count("aten::linear") == 2
    assert "fwd" in names and "nn.Module: Linear_0" in names and "nn.Module: Linear_1" in names
    assert "nn.Module: Sequential_0" in names
    assert any(n.startswith("autograd::engine::evaluate_function: ") for n in names)
    lin = next(e for e in events if e["name"] == "aten::linear")
    assert lin["cat"] == "cpu_op" and lin["args"]["Input Dims"] == [[3, 4], [8, 4], [8]]
    fwd = next(e for e in events if e["name"] == "fwd")
    assert fwd["cat"] == "user_annotation"
    assert fwd["ts"] <= lin["ts"] and lin["ts"] + lin["dur"] <= fwd["ts"] + fwd["dur"] + 1e-3
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    assert json.loads(gzip.decompress(gz.read_bytes()))["traceEvents"]


def test_schedule_actions_match_torch(torch):
    kw = dict(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    ours, theirs = schedule(**kw), torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(14)] == [theirs(i).name for i in range(14)]
    ours, theirs = schedule(wait=0, warmup=1, active=1), torch.profiler.schedule(wait=0, warmup=1, active=1)
    assert [ours(i).name for i in range(7)] == [theirs(i).name for i in range(7)]
    assert ProfilerAction.RECORD_AND_SAVE.name == "RECORD_AND_SAVE"


def test_schedule_records_only_active_steps(tmp_path):
    x = ferrum.randn(4, 4)
    traces = []

    def ready(p):
        traces.append((p.step_num, [e.name for e in p.events()]))

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2), on_trace_ready=ready) as prof:
        for step in range(10):
            for _ in range(step + 1):   # step k runs k+1 tanh ops
                x.tanh()
            prof.step()
    assert [s for s, _ in traces] == [4, 8]
    for (_, names), active in zip(traces, ((2, 3), (6, 7))):
        steps = [n for n in names if n.startswith("ProfilerStep#")]
        assert steps == [f"ProfilerStep#{i}" for i in active]
        assert names.count("aten::tanh") == sum(k + 1 for k in active)
    # the wait and the steps after the cycles ran with nothing patched
    assert ferrum.Tensor.tanh is ferrum.Tensor.tanh and not hasattr(ferrum.Tensor.tanh, "__wrapped__")


def test_tensorboard_trace_handler(tmp_path):
    d = tmp_path / "tb"
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=1),
                 on_trace_ready=tensorboard_trace_handler(str(d), worker_name="w0")) as prof:
        for _ in range(3):
            ferrum.ones(3).exp()
            prof.step()
    files = os.listdir(d)
    assert len(files) == 1 and files[0].startswith("w0.") and files[0].endswith(".pt.trace.json")
    doc = json.loads((d / files[0]).read_text())
    assert [e["name"] for e in doc["traceEvents"] if e["ph"] == "X"] == ["ProfilerStep#1", "aten::ones",
                                                                           "aten::exp"]


def test_profile_memory_column():
    x = ferrum.randn(16, 8, dtype=ferrum.float64)
    w = ferrum.randn(4, 8, dtype=ferrum.float64)
    with profile(profile_memory=True) as prof:
        with record_function("block"):
            y = F.linear(x, w)      # a new (16, 4) float64: 512 bytes
            z = y.view(64)          # a view: no new memory
            (z * 2).sum()
    ev = {e.name: e for e in prof.events()}
    assert ev["aten::linear"].cpu_memory_usage == 512
    assert ev["aten::linear"].self_cpu_memory_usage == 512
    assert ev["aten::view"].cpu_memory_usage == 0
    assert ev["aten::mul"].cpu_memory_usage == 512
    assert ev["aten::sum"].cpu_memory_usage == 8
    assert ev["block"].cpu_memory_usage == 512 + 512 + 8 and ev["block"].self_cpu_memory_usage == 0
    assert "1.01 Kb" in prof.key_averages().table(sort_by="cpu_memory_usage")
    with profile() as prof2:
        F.linear(x, w)
    assert "CPU Mem" not in prof2.key_averages().table()


def test_with_stack_and_flops():
    x = ferrum.randn(3, 4)
    w = ferrum.randn(5, 4)
    with profile(with_stack=True, with_flops=True) as prof:
        F.linear(x, w)
    ev = next(e for e in prof.events() if e.name == "aten::linear")
    assert ev.flops == 2 * 3 * 4 * 5
    assert any(__file__ in s and "test_with_stack_and_flops" in s for s in ev.stack)
    assert "Total MFLOPs" in prof.key_averages().table()
    assert "Source Location" in prof.key_averages(group_by_stack_n=3).table()
    assert "Source Location" not in prof.key_averages().table()   # as torch: only when grouped


def test_cuda_activity_warns_without_gpu(torch):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    assert any("CUDA is not available" in str(w.message) for w in got)
    assert prof.activities == {ProfilerActivity.CPU}


def test_bad_input():
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    with pytest.raises(TypeError):
        record_function(3)
    with pytest.raises(AssertionError):
        schedule(wait=0, warmup=0, active=0)
    with pytest.raises(TypeError):
        schedule(wait=1.5, warmup=1, active=1)
    with profile():
        with pytest.raises(RuntimeError):
            profile().__enter__()
    with profile() as prof:
        ferrum.ones(2).exp()
    with pytest.raises(AssertionError):
        prof.key_averages(group_by_input_shape=True)


def test_threads_recorded_separately():
    import threading
    x = ferrum.randn(3, 3)
    with profile() as prof:
        t = threading.Thread(target=lambda: x.exp())
        t.start()
        t.join()
        x.tanh()
    ev = {e.name: e for e in prof.events()}
    assert ev["aten::exp"].thread != ev["aten::tanh"].thread
    assert ev["aten::exp"].cpu_parent is None and ev["aten::tanh"].cpu_parent is None
    np.testing.assert_array_equal(x.exp().numpy(), np.exp(x.numpy()))


def test_legacy_autograd_profiler(tmp_path):
    from ferrum.autograd import profiler as legacy
    x = ferrum.randn(4, 4, requires_grad=True)
    p = legacy.profile(record_shapes=True)
    with pytest.raises(RuntimeError):
        p.table()
    with p:
        with legacy.record_function("block"):
            (x * 2).sum().backward()
    names = [e.name for e in p.function_events]
    assert names[:3] == ["block", "aten::mul", "aten::sum"]
    assert "autograd::engine::evaluate_function: MulBackward0" in names
    assert p.self_cpu_time_total == pytest.approx(p.total_average().self_cpu_time_total)
    assert "aten::mul" in p.table(sort_by="self_cpu_time_total")
    assert p.key_averages(group_by_input_shape=True)[1].input_shapes == [[4, 4], []]
    p.export_chrome_trace(str(tmp_path / "t.json"))
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    with legacy.profile(enabled=False) as off:
        x.exp()
    assert off.function_events is None


def _names_of_program(fw, steps: int = 2):
    fw.manual_seed(0)
    m = fw.nn.Sequential(fw.nn.Linear(4, 8), fw.nn.ReLU(), fw.nn.Linear(8, 3))
    opt = fw.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    x, c = fw.randn(5, 4), fw.randn(5, 3)
    target = fw.tensor([0, 2, 1, 1, 0])
    with fw.profiler.profile() as prof:
        for _ in range(steps):
            out = m(x)
            loss = fw.nn.functional.cross_entropy(out, target) + ((out + c) * c).tanh().sum()
            loss.backward()
            opt.step()
            opt.zero_grad()
    def program_level(e) -> bool:   # not inside an autograd node or optimizer (their insides differ)
        p = e.cpu_parent
        while p is not None:
            if p.name.startswith(("autograd::", "Optimizer.")):
                return False
            p = p.cpu_parent
        return True
    counts: dict = {}
    for e in prof.events():
        if program_level(e):
            counts[e.name] = counts.get(e.name, 0) + 1
    return counts, {e.name for e in prof.events() if e.cpu_parent is None}


def test_names_and_counts_match_torch(torch):
    ours, our_top = _names_of_program(ferrum)
    theirs, their_top = _names_of_program(torch)
    assert our_top <= their_top
    backward = {k: v for k, v in theirs.items() if k.startswith("autograd::engine")}
    # torch's cross entropy is log_softmax + nll_loss and its linear t + addmm; ferrum's are one node
    backward.pop("autograd::engine::evaluate_function: LogSoftmaxBackward0")
    backward.pop("autograd::engine::evaluate_function: TBackward0")
    assert backward == {k: v for k, v in ours.items() if k.startswith("autograd::engine")}
    for key in ("aten::linear", "aten::relu", "aten::cross_entropy_loss", "aten::add", "aten::mul",
                "aten::tanh", "aten::sum", "Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad",
                "autograd::engine::evaluate_function: torch::autograd::AccumulateGrad"):
        assert ours[key] >= 1 and ours[key] == theirs[key], key


def test_failing_op_is_closed():
    x, w = ferrum.randn(3, 4), ferrum.randn(5, 3)
    with profile() as prof:
        with record_function("outer"):
            with pytest.raises(RuntimeError):
                F.linear(x, w)   # bad shapes: torch's RuntimeError, the event still ends
        x.exp()
    ev = {e.name: e for e in prof.events()}
    assert ev["aten::linear"].cpu_parent is ev["outer"]
    assert ev["aten::exp"].cpu_parent is None
    assert ev["aten::linear"].time_range.end <= ev["outer"].time_range.end
