"""The ``ferrum`` command (also ``python -m ferrum``).

    ferrum info [--json]      versions, BLAS threads, CUDA, optional packages
    ferrum bench [ARGS ...]   runs benchmarks/run.py from a source checkout (ARGS go to it)
    ferrum train JOB [...]    trains an example model, e.g. `ferrum train mnist-mlp` (see ferrum.train)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from ferrum.compat._runner import add_compat_parser
from ferrum.distributed.run import add_run_parser

# optional packages whose presence `info` reports (found without importing them)
_OPTIONAL = ("torch", "cupy", "scipy", "threadpoolctl", "mpi4py", "onnx", "onnxruntime", "tensorboardX",
             "matplotlib")
_DIST_NAMES = {"cupy": ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy")}
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
             "OPENBLAS_L2_SIZE")


class CLIError(Exception):
    """An error reported as `ferrum: error: ...` with exit status 1."""


def _dist_version(module: str) -> str | None:
    """The installed version of the package that provides ``module``, or None (never imports it)."""
    from importlib import metadata

    if importlib.util.find_spec(module) is None:
        return None
    for dist in _DIST_NAMES.get(module, (module,)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "installed"


def _blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: i.get(k) for k in keys} for i in threadpool_info() if i.get("user_api") == "blas"]


def collect_info() -> dict:
    """Everything `ferrum info` prints, as a dict."""
    import numpy

    import ferrum

    info = {
        "ferrum": ferrum.__version__,
        "ferrum_path": str(Path(ferrum.__file__).parent),
        "python": f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})",
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
        "blas_threads": ferrum.get_num_threads(),
        "blas": _blas_info(),
        "env": {k: os.environ[k] for k in _BLAS_ENV if k in os.environ},
    }
    cuda = {"available": False, "device_count": 0, "devices": []}
    try:
        cuda["available"] = bool(ferrum.cuda.is_available())
        if cuda["available"]:
            cuda["device_count"] = ferrum.cuda.device_count()
            cuda["devices"] = [ferrum.cuda.get_device_name(i) for i in range(cuda["device_count"])]
    except Exception as e:  # a broken CuPy install must not break `info`
        cuda["error"] = f"{type(e).__name__}: {e}"
    info["cuda"] = cuda
    info["optional"] = {m: _dist_version(m) for m in _OPTIONAL}
    return info


def _print_info(info: dict) -> None:
    row = "{:<14s} {}".format
    print(row("ferrum", f"{info['ferrum']} ({info['ferrum_path']})"))
    print(row("python", info["python"]))
    print(row("platform", f"{info['platform']}, {info['cpus']} CPUs"))
    print(row("numpy", info["numpy"]))
    print(row("BLAS threads", info["blas_threads"]))
    for b in info["blas"]:
        print(row("  BLAS", f"{b['internal_api']} {b['version']}, {b['num_threads']} threads, "
                            f"{b.get('threading_layer')}, {b.get('architecture')}"))
    for k, v in info["env"].items():
        print(row(f"  {k}", v))
    c = info["cuda"]
    if c["available"]:
        cuda = f"available, {c['device_count']} device(s): {', '.join(c['devices'])}"
    else:
        cuda = "not available" + (f" ({c['error']})" if "error" in c else " (needs CuPy and an NVIDIA GPU)")
    print(row("CUDA", cuda))
    torch = info["optional"]["torch"]
    print(row("torch", torch if torch else "not installed (parity tests and benchmarks need torch==2.13.0)"))
    others = [f"{m} {v}" if v else f"{m} -" for m, v in info["optional"].items() if m != "torch"]
    print(row("optional", ", ".join(others)))


def cmd_info(args) -> int:
    info = collect_info()
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        _print_info(info)
    return 0


def find_bench_script() -> Path:
    """benchmarks/run.py of a source checkout: next to the current directory, or to ferrum's sources."""
    here = Path(__file__).resolve()
    candidates = [Path.cwd() / "benchmarks" / "run.py"]
    if len(here.parents) > 2:
        candidates.append(here.parents[2] / "benchmarks" / "run.py")  # <repo>/src/ferrum/cli.py
    for c in candidates:
        if c.is_file():
            return c
    raise CLIError("benchmarks/run.py not found: `ferrum bench` runs from a source checkout of ferrum "
                   "(cd into it, or run `make bench` there)")


def cmd_bench(args) -> int:
    script = find_bench_script()
    extra = list(args.args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    return subprocess.call([sys.executable, str(script), *extra])


def cmd_train(args) -> int:
    from ferrum.train import main as train_main

    return train_main(list(args.args))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ferrum",
                                 description="ferrum: PyTorch's API on NumPy (CPU) and CuPy (GPU).")
    ap.add_argument("--version", action="store_true", help="print ferrum's version and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="versions, BLAS threads, CUDA availability, optional packages")
    p.add_argument("--json", action="store_true", help="print the information as JSON")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("bench", add_help=False,
                       help="run the benchmarks against torch (benchmarks/run.py; --help for its options)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for benchmarks/run.py")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("train", add_help=False,
                       help="train an example model: `ferrum train mnist-mlp` (--help for the jobs)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the job and its options")
    p.set_defaults(func=cmd_train)
    add_run_parser(sub)
    add_compat_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "bench":  # everything after `bench` goes to benchmarks/run.py, --help included
        args = argparse.Namespace(version=False, command="bench", func=cmd_bench, args=argv[1:])
    elif argv and argv[0] == "train":  # `ferrum.train` parses the job and its options, --help included
        args = argparse.Namespace(version=False, command="train", func=cmd_train, args=argv[1:])
    else:
        args = ap.parse_args(argv)
    if args.version:
        import ferrum
        print(ferrum.__version__)
        return 0
    if args.command is None:
        ap.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as e:
        print(f"ferrum: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ferrum: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
