"""Pictures of training runs: the PNGs a run writes at its end and ``ferrum plot RUN_DIR...``.

Both read a run's metrics file (``RUN_DIR/metrics.jsonl``, written by
:class:`ferrum.train.tracking.Tracker`: one JSON object per line, ``kind`` ``"step"`` every
``--log-every`` steps, ``"eval"`` for a language model's periodic evaluation, ``"epoch"`` after each
epoch) and draw with matplotlib's Agg backend, imported inside the functions only (it costs about
0.5 s and is an optional dependency: ``pip install matplotlib``).

A run's pictures: ``loss.png`` (the training loss per logged step, the epoch means, and the test or
validation loss), ``accuracy.png`` (test accuracy per epoch; only for runs that measure accuracy) and
``lr.png`` (the learning-rate schedule per logged step). ``ferrum plot`` draws the same curves of
several runs in one PNG, one colour per run, one panel per quantity.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

__all__ = ["METRICS_FILE", "read_metrics", "write_run_plots", "plot_runs", "add_plot_parser", "main"]

#: the metrics file's name in a run directory
METRICS_FILE = "metrics.jsonl"


def read_metrics(run_dir: str) -> list[dict[str, Any]]:
    """The records of ``run_dir``'s metrics file, in order (a torn last line from a killed run is
    skipped). Raises ``FileNotFoundError`` naming the folder when it has no metrics file."""
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{run_dir}: no {METRICS_FILE} in it (not a ferrum train run directory)")
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict):
                records.append(rec)
    return records


def _series(records: list[dict], kind: str, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in records:
        if r.get("kind") == kind and isinstance(r.get(key), (int, float)) and "step" in r:
            xs.append(r["step"])
            ys.append(r[key])
    return xs, ys


# (panel, kind, key, label): what each picture holds; the first present series of a panel sets its
# y label
_LOSS = [("step", "loss", "train loss (per step)"), ("epoch", "train_loss", "train loss (epoch mean)"),
         ("eval", "train_loss", "train loss (evaluation)"), ("epoch", "test_loss", "test loss"),
         ("eval", "val_loss", "validation loss")]
_ACCURACY = [("epoch", "test_accuracy", "test accuracy"), ("epoch", "eval_accuracy", "eval accuracy")]
_LR = [("step", "lr", "learning rate")]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display needed, and no GUI window from a training run
    import matplotlib.pyplot as plt

    return plt


def _draw(ax: Any, records: list[dict], series: list[tuple[str, str, str]], prefix: str = "",
          color: Any = None) -> bool:
    drawn = False
    styles = ("-", "--", ":", "-.")
    for i, (kind, key, label) in enumerate(series):
        xs, ys = _series(records, kind, key)
        if not xs:
            continue
        marker = "o" if kind != "step" else None
        ax.plot(xs, ys, styles[i % len(styles)], marker=marker, markersize=3, color=color,
                label=f"{prefix}{label}", alpha=0.6 if kind == "step" else 1.0)
        drawn = True
    return drawn


def write_run_plots(run_dir: str, records: list[dict] | None = None) -> list[str]:
    """Writes ``loss.png``, ``accuracy.png`` (when the run measured accuracy) and ``lr.png`` into
    ``run_dir`` from its metrics (``records``, default: read from its metrics file); returns the
    paths written."""
    records = read_metrics(run_dir) if records is None else records
    plt = _pyplot()
    written = []
    for name, series, ylabel in (("loss", _LOSS, "loss"), ("accuracy", _ACCURACY, "accuracy"),
                                 ("lr", _LR, "learning rate")):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        try:
            if not _draw(ax, records, series):
                continue
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{os.path.basename(os.path.normpath(run_dir))}: {ylabel}")
            ax.grid(True, alpha=0.3)
            ax.legend()
            fig.tight_layout()
            path = os.path.join(run_dir, f"{name}.png")
            fig.savefig(path, dpi=100)
            written.append(path)
        finally:
            plt.close(fig)
    return written


def plot_runs(run_dirs: list[str], out: str) -> str:
    """One picture at ``out`` (PNG; another extension matplotlib knows, e.g. ``.svg``/``.pdf``,
    picks that format) with the loss, accuracy (when any run has it) and learning-rate curves of
    every run in ``run_dirs`` overlaid, one colour per run; returns ``out``."""
    runs = [(d, read_metrics(d)) for d in run_dirs]
    plt = _pyplot()
    panels = [("loss", _LOSS), ("learning rate", _LR)]
    if any(_series(r, kind, key)[0] for _, r in runs for kind, key, _ in _ACCURACY):
        panels.insert(1, ("accuracy", _ACCURACY))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.6 * len(panels)), squeeze=False)
    try:
        colors = plt.rcParams["axes.prop_cycle"].by_key().get("color", [None])
        for i, (d, records) in enumerate(runs):
            name = os.path.basename(os.path.normpath(d)) or d
            for ax, (_, series) in zip(axes[:, 0], panels):
                _draw(ax, records, series, prefix=f"{name}: ", color=colors[i % len(colors)])
        for ax, (ylabel, _) in zip(axes[:, 0], panels):
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(ylabel)
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="small")
        fig.tight_layout()
        try:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            fig.savefig(out, dpi=100)
        except OSError as e:
            raise OSError(f"cannot write {out}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return out


def add_plot_parser(sub: Any) -> None:
    """Registers ``ferrum plot`` in the ``ferrum`` command's subparsers."""
    p = sub.add_parser("plot", help="overlay the loss/accuracy/learning-rate curves of ferrum train runs "
                                    "in one PNG", description="Overlay the curves of several ferrum train "
                                    "runs (their run directories' metrics.jsonl) in one PNG.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                   help="run directories (--logdir, --checkpoint-dir, or $FERRUM_RUNS/<job>-<time>)")
    p.add_argument("-o", "--output", default="runs.png", help="the PNG to write (default runs.png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``ferrum plot``: exit status 0, or 2 with one line on stderr for a missing run directory,
    a folder without metrics, an unwritable output or an unknown picture format."""
    try:
        out = plot_runs(list(args.run_dirs), args.output)
    except ImportError:
        print("ferrum plot: error: matplotlib is not installed (pip install matplotlib)", file=sys.stderr)
        return 2
    except OSError as e:  # a missing run, a folder without metrics, an unwritable output
        msg = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e)
        print(f"ferrum plot: error: {msg}", file=sys.stderr)
        return 2
    except ValueError as e:  # matplotlib: an output extension it cannot write
        print(f"ferrum plot: error: cannot write {args.output}: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m ferrum.plot RUN_DIR... [-o out.png]``."""
    ap = argparse.ArgumentParser(prog="ferrum")
    add_plot_parser(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(["plot", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
