"""ferrum.device as a context manager, set_default_device/get_default_device, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum


@pytest.fixture(autouse=True)
def _default_restored():
    yield
    ferrum.set_default_device(None)


def test_default_device_is_cpu_and_settable(torch):
    assert ferrum.get_default_device() == ferrum.device("cpu") and str(torch.get_default_device()) == "cpu"
    for d in ("cpu", ferrum.device("cpu"), None):
        ferrum.set_default_device(d)
        assert ferrum.get_default_device() == ferrum.device("cpu")
    ferrum.set_default_device("cuda:1")  # accepted without a GPU, as in torch
    assert ferrum.get_default_device() == ferrum.device("cuda", 1)
    ferrum.set_default_device(None)
    assert ferrum.get_default_device().type == "cpu"


@pytest.mark.parametrize("bad", [3.5, "blah", [0]])
def test_set_default_device_bad_input(torch, bad):
    with pytest.raises(Exception) as te:
        torch.set_default_device(bad)
    torch.set_default_device(None)
    with pytest.raises(type(te.value)):
        ferrum.set_default_device(bad)
    assert ferrum.get_default_device().type == "cpu"  # unchanged by the failed call


def test_with_device_sets_and_restores_the_default(torch):
    with ferrum.device("cuda") as d:
        assert d == ferrum.device("cuda") and ferrum.get_default_device() == d
        with ferrum.device("cpu"):
            assert ferrum.get_default_device().type == "cpu"
            x = ferrum.zeros(2)
        assert ferrum.get_default_device().type == "cuda"
    assert ferrum.get_default_device().type == "cpu" and x.device.type == "cpu"
    with pytest.raises(KeyError), ferrum.device("cuda"):
        raise KeyError("inside")
    assert ferrum.get_default_device().type == "cpu"
    with torch.device("meta"):  # torch's behaviour that the above mirrors
        assert torch.zeros(2).device.type == "meta"
    assert torch.get_default_device().type == "cpu"


def _factories():
    return {
        "zeros": lambda: ferrum.zeros(2, 3),
        "full": lambda: ferrum.full((2,), 1.5),
        "arange": lambda: ferrum.arange(4),
        "tensor": lambda: ferrum.tensor([1.0, 2.0]),
        "tensor(ndarray)": lambda: ferrum.tensor(np.ones(2)),
        "as_tensor(ndarray)": lambda: ferrum.as_tensor(np.ones(2)),
        "randn": lambda: ferrum.randn(3),
        "randint": lambda: ferrum.randint(0, 5, (3,)),
        "Linear": lambda: ferrum.nn.Linear(2, 3).weight,
    }


@pytest.mark.parametrize("name", list(_factories()))
def test_factories_follow_the_default_device(name):
    make = _factories()[name]
    assert make().device.type == "cpu"
    with ferrum.device("cuda"):
        if ferrum.cuda.is_available():
            assert make().device.type == "cuda"
        else:
            with pytest.raises(RuntimeError, match="CUDA is not available"):
                make()
    assert make().device.type == "cpu"


def test_memory_of_existing_data_keeps_its_device():
    """As torch: from_numpy shares the array's memory, and a tensor built from a tensor keeps its
    device; the default applies to new memory only."""
    a = np.arange(3.0)
    t = ferrum.tensor([1.0])
    ferrum.set_default_device("cuda")
    assert ferrum.from_numpy(a).device.type == "cpu"
    assert ferrum.tensor(t).device.type == "cpu" and ferrum.as_tensor(t) is t
    assert ferrum.zeros_like(t).device.type == "cpu" and ferrum.randn_like(t).device.type == "cpu"
