"""ferrum.backends.cudnn: the flags programs set (checked and restored as torch's), the queries."""

from __future__ import annotations

import pytest

import ferrum
import ferrum.backends.cudnn as cudnn

FLAGS = ("enabled", "benchmark", "deterministic", "allow_tf32", "fp32_precision", "depthwise_kernel")


@pytest.fixture(autouse=True)
def _restore_flags():
    before = {k: getattr(cudnn, k) for k in (*FLAGS, "benchmark_limit")}
    yield
    for k, v in before.items():
        setattr(cudnn, k, v)


def test_defaults_like_torch(torch):
    import torch.backends.cudnn as tc
    for k in FLAGS:
        assert getattr(cudnn, k) == getattr(tc, k), k
    if not ferrum.cuda.is_available() and not tc.is_available():
        assert cudnn.is_available() is False and cudnn.version() is None
        assert cudnn.benchmark_limit is None and tc.benchmark_limit is None


def test_same_object_every_way():
    from ferrum.backends import cudnn as c2
    assert c2 is cudnn and ferrum.backends.cudnn is cudnn


@pytest.mark.parametrize("name", ["enabled", "benchmark", "deterministic", "allow_tf32"])
@pytest.mark.parametrize("value", [True, False])
def test_bool_flags_set_and_read(name, value):
    setattr(cudnn, name, value)
    assert getattr(cudnn, name) is value
    assert getattr(ferrum.backends.cudnn, name) is value


@pytest.mark.parametrize("name,value", [("benchmark", "x"), ("benchmark", 1), ("enabled", None),
                                        ("deterministic", "x"), ("allow_tf32", 0),
                                        ("fp32_precision", "x"), ("fp32_precision", "bf16"),
                                        ("depthwise_kernel", "x")])
def test_bad_values_raise_like_torch(torch, name, value):
    import torch.backends.cudnn as tc
    before = getattr(tc, name)
    with pytest.raises(RuntimeError) as te:
        setattr(tc, name, value)
    setattr(tc, name, before)
    mine = getattr(cudnn, name)
    with pytest.raises(RuntimeError) as fe:
        setattr(cudnn, name, value)
    assert str(fe.value) == str(te.value)
    assert getattr(cudnn, name) == mine


@pytest.mark.parametrize("name,values", [("fp32_precision", ["ieee", "tf32", "none"]),
                                         ("depthwise_kernel", ["cudnn", "native", "auto"])])
def test_string_flags(name, values):
    for v in values:
        setattr(cudnn, name, v)
        assert getattr(cudnn, name) == v


@pytest.mark.parametrize("kwargs", [{}, {"enabled": True, "deterministic": True},
                                    {"benchmark": True, "allow_tf32": False, "fp32_precision": "ieee"}])
def test_flags_context_like_torch(torch, kwargs):
    import torch.backends.cudnn as tc
    cudnn.benchmark = tc.benchmark = True
    inside = {}
    for mod, out in ((tc, inside.setdefault("torch", {})), (cudnn, inside.setdefault("ferrum", {}))):
        before = {k: getattr(mod, k) for k in FLAGS}
        with mod.flags(**kwargs):
            out.update({k: getattr(mod, k) for k in FLAGS})
        assert {k: getattr(mod, k) for k in FLAGS} == before
    tc.benchmark = False
    assert inside["ferrum"] == inside["torch"]


def test_flags_restored_after_an_exception():
    cudnn.deterministic = False
    with pytest.raises(KeyError):
        with cudnn.flags(deterministic=True):
            assert cudnn.deterministic is True
            raise KeyError("body")
    assert cudnn.deterministic is False


def test_failed_flags_changes_nothing():
    before = {k: getattr(cudnn, k) for k in FLAGS}
    with pytest.raises(RuntimeError, match="set_benchmark_cudnn expects a bool"):
        with cudnn.flags(enabled=True, benchmark="x"):
            pass
    assert {k: getattr(cudnn, k) for k in FLAGS} == before


def test_set_flags_returns_previous():
    cudnn.deterministic = False
    prev = cudnn.set_flags(_deterministic=True)
    assert cudnn.deterministic is True and len(prev) == 7 and prev[3] is False
    cudnn.set_flags(*prev)
    assert cudnn.deterministic is False


def test_is_acceptable_cpu_tensor(torch):
    import torch.backends.cudnn as tc
    assert cudnn.is_acceptable(ferrum.zeros(2)) is tc.is_acceptable(torch.zeros(2)) is False


@pytest.mark.skipif(not ferrum.cuda.is_available(), reason="needs CuPy and a CUDA GPU")
def test_cuda_queries():
    if cudnn.is_available():
        assert isinstance(cudnn.version(), int) and cudnn.version() > 0
        assert cudnn.is_acceptable(ferrum.zeros(2, device="cuda"))
    else:
        assert cudnn.version() is None
