"""The ``ferrum`` command (also ``python -m ferrum``). ``--debug`` (before the command or among its
options) shows the traceback of an error; without it bad input is one line on stderr naming the
problem and the fix, with exit status 2.

    ferrum info [--json]      versions, BLAS library and threads, CPU features, CUDA, usable backends
    ferrum evaluate RUN_DIR   re-scores the model of a `ferrum train --checkpoint-dir RUN_DIR` run
    ferrum predict RUN_DIR INPUT...   its predictions for image files, or continuations of text
    ferrum train --list       the recipes, their data sets and expected results
    ferrum bench [ARGS ...]   runs benchmarks/run.py from a source checkout (ARGS go to it)
    ferrum train JOB [...]    trains an example model, e.g. `ferrum train mnist-mlp` (see ferrum.train)
    ferrum plot RUN_DIR...    overlays the curves of training runs in one PNG (see ferrum.plot)
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
from ferrum.plot import add_plot_parser

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


def _blas_fallback() -> list[dict]:
    """The BLAS numpy was built against, from ``numpy.show_config`` (when threadpoolctl is absent)."""
    import numpy
    try:
        cfg = numpy.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        b = deps.get("blas", {})
    except Exception:  # an older numpy without mode="dicts"
        return []
    return [{"internal_api": b.get("name"), "version": b.get("version"), "num_threads": None,
             "threading_layer": None, "architecture": None}] if b else []


def cpu_features() -> list[str]:
    """The SIMD features of this CPU that matter for BLAS and NumPy: from /proc/cpuinfo's flags
    (Linux), else NumPy's runtime dispatch table."""
    wanted = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
              "amx_tile", "neon", "asimd", "sve")
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    return [w for w in wanted if w in flags]
    except OSError:
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:
        return []
    return [k.lower() for k, on in feats.items() if on and k.lower() in wanted]


def _usable() -> dict:
    """Whether the optional backends work here, not only whether they are installed: MPI needs
    mpi4py and the mpiexec `ferrum run` would use, CuPy a GPU; onnx and tensorboardX must import."""
    from ferrum.distributed.run import find_mpiexec
    out = {}
    if importlib.util.find_spec("mpi4py") is None:
        out["MPI"] = "no (pip install 'ferrum-dl[dist]')"
    else:
        try:
            out["MPI"] = f"yes (mpi4py, {find_mpiexec()})"
        except RuntimeError:
            out["MPI"] = "no (mpi4py installed, no mpiexec: pip install 'ferrum-dl[dist]')"
    if importlib.util.find_spec("cupy") is None:
        out["CuPy"] = "no (not installed)"
    else:
        try:
            import cupy
            n = cupy.cuda.runtime.getDeviceCount()
            out["CuPy"] = f"yes ({n} GPU(s))" if n else "no (installed, no GPU)"
        except Exception as e:  # no driver, a broken install
            out["CuPy"] = f"no ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    for name, extra in (("onnx", "onnx"), ("tensorboardX", "tb")):
        if importlib.util.find_spec(name) is None:
            out[name] = f"no (pip install 'ferrum-dl[{extra}]')"
            continue
        try:
            importlib.import_module(name)
            out[name] = "yes"
        except Exception as e:
            out[name] = f"no (import fails: {type(e).__name__}: {e})"
    return out


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
        "blas": _blas_info() or _blas_fallback(),
        "cpu_features": cpu_features(),
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
    info["usable"] = _usable()
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
    print(row("CPU features", " ".join(info["cpu_features"]) or "unknown"))
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
    for name, state in info["usable"].items():
        print(row(f"  {name}", state))


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


def cmd_evaluate(args) -> int:
    from ferrum.train import evaluate

    return evaluate.run(args)


def cmd_predict(args) -> int:
    from ferrum.train import predict

    return predict.run(args)


def build_parser() -> argparse.ArgumentParser:
    from ferrum.train.config import OneLineParser

    ap = OneLineParser(prog="ferrum",
                                 description="ferrum: PyTorch's API on NumPy (CPU) and CuPy (GPU).")
    ap.add_argument("--version", action="store_true", help="print ferrum's version and exit")
    ap.add_argument("--debug", action="store_true",
                    help="show the traceback of an error (also after the command)")
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
    from ferrum.train import evaluate, predict
    p = sub.add_parser("evaluate", help="re-score the saved model of a `ferrum train --checkpoint-dir` run "
                                        "on the test split")
    evaluate.add_arguments(p)
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("predict", help="run the saved model of a run on image files or text prompts")
    predict.add_arguments(p)
    p.set_defaults(func=cmd_predict)
    add_run_parser(sub)
    add_compat_parser(sub)
    add_plot_parser(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from ferrum.train.config import BadInput

    ap = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # --debug before the command or among its options; `train` reads its own, and the programs run
    # by `bench` and `run` get theirs untouched
    debug = bool(argv) and argv[0] == "--debug"
    if debug:
        argv = argv[1:]
        if argv and argv[0] == "train":
            argv.append("--debug")
    elif argv and argv[0] not in ("bench", "train", "run") and "--debug" in argv:
        debug = True
        argv = [a for a in argv if a != "--debug"]
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
    except BadInput as e:
        if debug:
            raise
        print(f"ferrum {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ferrum: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a failure that is not the input's fault: still one line without --debug
        if debug:
            raise
        print(f"ferrum {args.command}: error: {type(e).__name__}: {e} (--debug shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
