"""ferrum.jit: pass-throughs whose results equal torch.jit's (scripted/traced) results, torch's errors."""

from __future__ import annotations

import typing
import warnings

import numpy as np
import pytest

import ferrum
import ferrum.nn as nn


def _mlp(lib, torch_model=None):
    m = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))
    if torch_model is not None:
        m.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    return m


def _fn(lib):
    def f(x, y):
        return (x * y).sum(1) + lib.jit.annotate(float, 1.5)
    return f


@pytest.fixture
def no_deprecation():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("how", ["script", "trace"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_results_equal_torch(torch, no_deprecation, how, dtype):
    tm = _mlp(torch).to(getattr(torch, dtype))
    fm = _mlp(ferrum, tm).to(getattr(ferrum, dtype))
    x = np.random.randn(5, 4).astype(dtype)
    tx, fx = torch.tensor(x), ferrum.tensor(x)
    ts = torch.jit.script(tm) if how == "script" else torch.jit.trace(tm, (tx,))
    fs = ferrum.jit.script(fm) if how == "script" else ferrum.jit.trace(fm, (fx,))
    assert fs is fm
    assert isinstance(ts, torch.jit.ScriptModule) and not isinstance(fs, ferrum.jit.ScriptModule)
    tol = 1e-6 if dtype == "float32" else 1e-12
    out_t, out_f = ts(tx), fs(fx)
    np.testing.assert_allclose(out_f.detach().numpy(), out_t.detach().numpy(), rtol=tol, atol=tol)
    out_t.sum().backward()
    out_f.sum().backward()
    for (n, pt), (_, pf) in zip(tm.named_parameters(), fm.named_parameters()):
        np.testing.assert_allclose(pf.grad.numpy(), pt.grad.numpy(), rtol=tol, atol=tol, err_msg=n)


@pytest.mark.parametrize("how", ["script", "trace", "trace_kw"])
def test_function_results_equal_torch(torch, no_deprecation, how):
    x, y = np.random.randn(3, 4), np.random.randn(3, 4)
    tf, ff = _fn(torch), _fn(ferrum)
    targs, fargs = (torch.tensor(x), torch.tensor(y)), (ferrum.tensor(x), ferrum.tensor(y))
    if how == "script":
        ts, fs = torch.jit.script(tf), ferrum.jit.script(ff)
    elif how == "trace":
        ts, fs = torch.jit.trace(tf, targs), ferrum.jit.trace(ff, fargs, check_trace=False, strict=False)
    else:
        ts = torch.jit.trace(tf, example_kwarg_inputs=dict(x=targs[0], y=targs[1]))
        fs = ferrum.jit.trace(ff, example_kwarg_inputs=dict(x=fargs[0], y=fargs[1]))
    assert fs is ff
    np.testing.assert_allclose(fs(*fargs).numpy(), ts(*targs).numpy(), rtol=1e-12)


def test_trace_runs_the_example_and_single_tensor_input():
    calls = []

    def f(x):
        calls.append(x.shape)
        return x + 1

    assert ferrum.jit.trace(f, ferrum.zeros(2, 3)) is f
    assert calls == [(2, 3)]
    with pytest.raises(RuntimeError):       # the example's own error surfaces, as in torch
        ferrum.jit.trace(lambda a, b: a @ b, (ferrum.zeros(2, 3), ferrum.zeros(2, 3)))


def test_trace_module_and_errors(torch, no_deprecation):
    class M(nn.Module):
        def forward(self, x):
            return x * 2

        def half(self, x):
            return x / 2

    m = M()
    assert ferrum.jit.trace_module(m, {"forward": ferrum.ones(2), "half": (ferrum.ones(2),)}) is m
    assert ferrum.jit.trace(m.forward, ferrum.ones(2)) is m
    for lib, mod in ((ferrum, m), (torch, torch.nn.Identity())):
        with pytest.raises(AttributeError):
            lib.jit.trace_module(mod, (lib.ones(2),))
        with pytest.raises(AttributeError):
            lib.jit.trace_module(lambda x: x, {"forward": lib.ones(2)})
        with pytest.raises(RuntimeError):
            lib.jit.trace(mod)                      # no example inputs for a Module


def test_decorators_and_flags(torch, no_deprecation):
    for lib in (ferrum, torch):
        class M(lib.nn.Module):
            c: lib.jit.Final[int] = 3

            @lib.jit.ignore
            def a(self, x):
                return x + 1

            @lib.jit.ignore(drop=True)
            def b(self, x):
                return x + 2

            @lib.jit.unused
            def c_(self, x):
                return x + 3

            @lib.jit.export
            def d(self, x):
                return x + 4

            def forward(self, x):
                return self.a(x) + self.d(x)

        assert M()(lib.ones(1)).item() == 7.0 and M().b(1) == 3 and M().c_(1) == 4
        assert lib.jit.is_scripting() is False and lib.jit.is_tracing() is False
        assert lib.jit.annotate(list[int], []) == []
        assert lib.jit.Final is typing.Final
        assert lib.jit.isinstance([1, 2], list[int]) and not lib.jit.isinstance([1, "a"], list[int])
        assert lib.jit.isinstance({"a": lib.ones(1)}, dict[str, lib.Tensor])
        assert lib.jit.isinstance(None, typing.Optional[int])
        assert lib.jit.isinstance((1, "a"), tuple[int, str])
        fut = lib.jit.fork(lambda x, k: x * k, lib.ones(2), k=3)
        assert lib.jit.wait(fut).tolist() == [3.0, 3.0] and fut.wait().tolist() == [3.0, 3.0]
        assert not isinstance(lambda: 0, lib.jit.ScriptFunction)

    @ferrum.jit.interface
    class Iface:
        def f(self) -> int:
            ...

    assert ferrum.jit.script(Iface) is Iface
    with pytest.raises(TypeError):
        ferrum.jit.ScriptFunction()


def test_fork_error_raised_by_wait():
    fut = ferrum.jit.fork(lambda: ferrum.zeros(2) @ ferrum.zeros(3))
    with pytest.raises(RuntimeError):
        ferrum.jit.wait(fut)


def test_old_style_script_module_subclass():
    class M(ferrum.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        @ferrum.jit.script_method
        def forward(self, x):
            return self.lin(x)

    m = M()
    assert isinstance(m, ferrum.jit.ScriptModule) and isinstance(m, nn.Module)
    assert m(ferrum.ones(1, 2)).shape == (1, 2) and len(list(m.parameters())) == 2


def test_freeze_and_optimize_for_inference(torch, no_deprecation):
    fm, tm = _mlp(ferrum), torch.jit.script(_mlp(torch))
    for lib, mod in ((ferrum, fm), (torch, tm)):
        with pytest.raises(RuntimeError, match="eval mode"):
            lib.jit.freeze(mod)
    assert ferrum.jit.freeze(fm.eval()) is fm
    fm.train()
    assert ferrum.jit.optimize_for_inference(fm) is fm and not fm.training
    for lib in (ferrum, torch):
        with pytest.raises(RuntimeError):
            lib.jit.freeze(lambda x: x)
        with pytest.raises(RuntimeError):
            lib.jit.optimize_for_inference(lambda x: x)


def test_save_load_refused(tmp_path):
    m = _mlp(ferrum)
    with pytest.raises(RuntimeError, match="ferrum.save"):
        ferrum.jit.save(m, tmp_path / "m.pt")
    with pytest.raises(RuntimeError, match="TorchScript archives are not supported"):
        ferrum.jit.load(tmp_path / "m.pt")


def test_context_managers_and_onednn(torch):
    for lib in (ferrum, torch):
        with lib.jit.optimized_execution(False):
            pass
        with lib.jit.fuser("fuser1"):
            pass
        with pytest.raises(Exception, match="unrecognized fuser option"):
            with lib.jit.fuser("nope"):
                pass
    ferrum.jit.enable_onednn_fusion(True)
    assert ferrum.jit.onednn_fusion_enabled()
    ferrum.jit.enable_onednn_fusion(False)
    assert not ferrum.jit.onednn_fusion_enabled()


def test_private_helpers_used_by_libraries(torch, no_deprecation):
    for lib in (ferrum, torch):
        @lib.jit._overload
        def f(x: int) -> int:  # noqa: F811
            ...

        def f(x):  # noqa: F811
            return x + 1

        assert f(1) == 2
        assert lib.jit._unwrap_optional(3) == 3
        with pytest.raises(AssertionError, match="Unwrapping null optional"):
            lib.jit._unwrap_optional(None)
        assert lib.jit._script_if_tracing(sorted)([2, 1]) == [1, 2]
