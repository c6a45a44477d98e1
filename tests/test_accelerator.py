"""ferrum.accelerator against torch.accelerator: on a machine without a GPU both answer "no
accelerator" the same way (values, and the exception types of the calls that need a device); with a
GPU seen by CuPy, ferrum's answers are CUDA's (``ferrum.cuda``)."""

from __future__ import annotations

import warnings

import pytest

import ferrum
from ferrum import accelerator as acc

no_gpu = pytest.mark.skipif(ferrum.cuda.is_available(), reason="the CPU-only behaviour needs no GPU")
gpu = pytest.mark.skipif(not ferrum.cuda.is_available(), reason="needs CuPy and a CUDA GPU")

# each call as (name, f(T) with T = torch or ferrum)
CALLS = [
    ("is_available", lambda T: T.accelerator.is_available()),
    ("current_accelerator", lambda T: T.accelerator.current_accelerator()),
    ("current_accelerator_checked", lambda T: T.accelerator.current_accelerator(check_available=True)),
    ("device_count", lambda T: T.accelerator.device_count()),
    ("current_device_index", lambda T: T.accelerator.current_device_index()),
    ("set_device_index_0", lambda T: T.accelerator.set_device_index(0)),
    ("set_device_index_negative", lambda T: T.accelerator.set_device_index(-1)),
    ("set_device_index_None", lambda T: T.accelerator.set_device_index(None)),
    ("set_device_index_float", lambda T: T.accelerator.set_device_index(1.5)),
    ("set_device_index_cuda_str", lambda T: T.accelerator.set_device_index("cuda:0")),
    ("set_device_index_bad_str", lambda T: T.accelerator.set_device_index("foo")),
    ("synchronize", lambda T: T.accelerator.synchronize()),
    ("synchronize_0", lambda T: T.accelerator.synchronize(0)),
    ("synchronize_cpu", lambda T: T.accelerator.synchronize("cpu")),
    ("synchronize_device", lambda T: T.accelerator.synchronize(T.device("cuda", 0))),
    ("device_index_None", lambda T: _enter(T.accelerator.device_index(None))),
    ("device_index_0", lambda T: _enter(T.accelerator.device_index(0))),
    ("empty_cache", lambda T: T.accelerator.empty_cache()),
    ("memory_allocated", lambda T: T.accelerator.memory_allocated()),
    ("max_memory_allocated", lambda T: T.accelerator.max_memory_allocated()),
]


def _enter(cm) -> str:
    with cm:
        pass
    return "entered"


def _outcome(f, T):
    try:
        return "value", f(T)
    except Exception as e:  # the exception type is what is compared
        return "raises", type(e)


@no_gpu
@pytest.mark.parametrize("f", [c[1] for c in CALLS], ids=[c[0] for c in CALLS])
def test_no_gpu_like_torch(torch, f):
    if torch.accelerator.is_available():
        pytest.skip("torch sees an accelerator here")
    expected, got = _outcome(f, torch), _outcome(f, ferrum)
    assert got == expected


@no_gpu
def test_no_gpu_message():
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
        acc.current_device_index()


def test_deprecated_aliases_warn():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for f in (acc.current_device_idx, lambda: acc.set_device_idx(-1)):
            try:
                f()
            except RuntimeError:  # no GPU: the alias still warned first
                pass
    assert [type(x.message) for x in w] == [FutureWarning, FutureWarning]


def test_reachable_from_ferrum():
    import ferrum.accelerator as mod
    assert ferrum.accelerator is mod
    assert set(mod.__all__) <= set(dir(mod))


def test_device_choice_idiom():
    # the line PyTorch's examples start with
    dev = acc.current_accelerator().type if acc.is_available() else "cpu"
    assert ferrum.zeros(2, device=dev).device.type == dev


@gpu
def test_cuda_answers():
    assert acc.is_available()
    assert acc.current_accelerator() == ferrum.device("cuda")
    assert acc.device_count() == ferrum.cuda.device_count()
    acc.set_device_index(0)
    assert acc.current_device_index() == 0 == ferrum.cuda.current_device()
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.synchronize()
    acc.synchronize("cuda:0")
    with pytest.raises(ValueError, match="doesn't match the current accelerator"):
        acc.synchronize("cpu")
    assert acc.memory_allocated() >= 0
