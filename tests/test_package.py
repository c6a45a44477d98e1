"""The package as a user meets it: import, light import, top-level names, the CLI, CUDA without CuPy."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ferrum

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("cupy", "mpi4py", "onnx", "onnxruntime", "scipy", "torch", "tensorboardX", "matplotlib")


def run_py(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def test_import_and_version():
    assert isinstance(ferrum.__version__, str) and ferrum.__version__.count(".") >= 2
    from importlib import metadata
    try:
        installed = metadata.version("ferrum-dl")
    except metadata.PackageNotFoundError:
        pytest.skip("ferrum-dl is not installed (running from the sources)")
    assert installed == ferrum.__version__


def test_import_is_light():
    code = ("import sys, json, ferrum; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    r = run_py("-c", code)
    assert r.returncode == 0, r.stderr
    loaded = set(json.loads(r.stdout.strip().splitlines()[-1]))
    assert "numpy" in loaded
    heavy = sorted(loaded.intersection(HEAVY))
    assert not heavy, f"`import ferrum` imported {heavy}; import them where they are used"


TOP_LEVEL = [
    "Tensor", "Size", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
    "linspace", "eye", "zeros_like", "ones_like", "randn", "rand", "randint", "randperm", "manual_seed",
    "seed", "Generator", "float32", "float64", "float16", "bfloat16", "int64", "int32", "int8", "uint8",
    "bool", "long", "double", "half", "dtype", "get_default_dtype", "set_default_dtype", "device",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_tensor",
    "matmul", "cat", "stack", "where", "exp", "log", "tanh", "sigmoid", "relu", "sum", "mean",
    "logsumexp", "reshape", "allclose", "set_printoptions", "get_num_threads",
    "set_num_threads", "autograd", "cuda",
]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_names(name):
    assert hasattr(ferrum, name), f"ferrum.{name} is missing"


@pytest.mark.parametrize("path", ["autograd.grad", "autograd.backward", "autograd.Function",
                                  "autograd.gradcheck", "autograd.gradgradcheck", "autograd.no_grad",
                                  "cuda.is_available", "cuda.device_count", "cuda.manual_seed_all"])
def test_submodule_names(path):
    obj = ferrum
    for part in path.split("."):
        assert hasattr(obj, part), f"ferrum.{path} is missing"
        obj = getattr(obj, part)
    assert callable(obj)


def test_tensor_basics_torch_style():
    x = ferrum.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.dtype is ferrum.float32 and x.shape == (2, 2) and str(x.device) == "cpu"
    (x @ x).sum().backward()
    assert x.grad.tolist() == [[7.0, 11.0], [9.0, 13.0]]
    with ferrum.no_grad():
        assert not (x * 2).requires_grad
    assert ferrum.is_grad_enabled()


cupy_missing = pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")


@cupy_missing
def test_cuda_unavailable_without_cupy():
    assert ferrum.cuda.is_available() is False
    assert ferrum.cuda.device_count() == 0
    with pytest.raises(RuntimeError):
        ferrum.zeros(2, device="cuda")
    with pytest.raises(RuntimeError):
        ferrum.ones(2).to("cuda")


def test_cli_info():
    r = run_py("-m", "ferrum", "info")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for word in ("ferrum", "numpy", "BLAS threads", "CUDA", "torch"):
        assert word in out, f"{word!r} missing from `ferrum info`:\n{out}"
    assert ferrum.__version__ in out


def test_cli_info_json():
    r = run_py("-m", "ferrum", "info", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ferrum"] == ferrum.__version__
    assert isinstance(info["blas_threads"], int) and info["blas_threads"] >= 1
    assert info["cuda"]["available"] in (True, False)
    assert set(info["optional"]) >= {"torch", "cupy"}


def test_cli_errors_are_clean():
    r = run_py("-m", "ferrum", "no-such-command")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr and "Traceback" not in r.stderr
    r = run_py("-m", "ferrum")
    assert r.returncode == 2 and "usage" in r.stdout


def test_cli_bench_help():
    r = run_py("-m", "ferrum", "bench", "--help", cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "--unset-openblas-env" in r.stdout


def test_cli_bench_outside_a_checkout(tmp_path):
    from ferrum import cli
    here = Path.cwd()
    try:
        os.chdir(tmp_path)
        script = cli.find_bench_script()  # found next to the sources in an editable install
        assert script.name == "run.py"
    except cli.CLIError as e:
        assert "benchmarks/run.py not found" in str(e)
    finally:
        os.chdir(here)


def test_demo_runs():
    r = run_py(str(REPO / "examples" / "demo.py"), cwd=REPO, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "demo finished" in r.stdout
