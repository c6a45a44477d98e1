"""Experiment tracking of ``ferrum train``: the metrics file, TensorBoard scalars and PNG plots.

Every recipe run from the command line has a *run directory*, chosen as a user expects:

- ``--logdir DIR``: DIR (TensorBoard's event files, the metrics file and the plots together, so
  ``tensorboard --logdir DIR`` and ``ferrum plot DIR`` both read the run);
- else ``--checkpoint-dir DIR``: DIR, next to the checkpoints (a ``--resume`` run continues the
  same metrics file from its checkpoint's step);
- else ``$FERRUM_RUNS/<job>-<YYYYmmdd-HHMMSS>``, ``$FERRUM_RUNS`` defaulting to ``runs`` in the
  current directory (where torch's ``SummaryWriter`` writes too).

The :class:`Tracker` callback writes ``metrics.jsonl`` there (one JSON object per line: ``kind``
``"step"`` every ``--log-every`` optimizer steps with the mean training loss over those steps, the
learning rate, the gradients' total norm and samples/s; ``"eval"`` for a language model's periodic
evaluation; ``"epoch"`` after each epoch with the epoch's metrics, test accuracy included), the
same scalars to TensorBoard with ``--logdir`` (:class:`ferrum.utils.tensorboard.SummaryWriter`), and
at the end ``loss.png``, ``accuracy.png`` and ``lr.png`` (:func:`ferrum.plot.write_run_plots`;
matplotlib is imported only then, and a missing matplotlib skips the pictures with one line).

The gradient norm is computed only on logging steps (every ``--log-every`` steps, after the
backward and the optimizer step, before the next ``zero_grad``): one reduction over the gradients
then, nothing on the other steps. With ``--amp fp16`` it is the norm of the gradients as the
GradScaler left them (unscaled by its step); with gradient clipping, the clipped norm. Measured
(``benchmarks/tracking_overhead.py``, mnist-mlp's step of 5.6-11 ms on a loaded 2-core machine,
one BLAS thread): the default tracker (every 10 steps) costs under 1% of the step time, logging
every step about 7% (the gradient norm is 0.14-0.26 ms), TensorBoard adds 0.15 ms per scalar
(tensorboardX's protobuf and queue), about 1% at the default interval. A JSON value that is not
finite (a NaN loss, the infinite gradient norm of a step fp16 skipped) is written as ``null``.

In a ``--nproc`` job only rank 0 tracks. The command line sets the run up with :func:`configure`
(which checks that the directory is writable: exit status 2 with one line otherwise) and the
recipe's trainer picks it up with :func:`tracking_callbacks`; Python code adds a :class:`Tracker`
to its own :class:`~ferrum.train.Trainer`'s callbacks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ferrum.plot import METRICS_FILE, write_run_plots

from .callbacks import Callback
from .options import POSITIVE_INT

if TYPE_CHECKING:
    from .loop import Trainer

__all__ = ["RUNS_ENV", "METRICS_FILE", "RunConfig", "Tracker", "add_tracking_arguments", "default_run_dir",
           "prepare_run_dir", "configure", "tracking_callbacks", "grad_norm"]

#: the environment variable naming the folder of default run directories (default ./runs)
RUNS_ENV = "FERRUM_RUNS"
DEFAULT_LOG_EVERY = 10


@dataclass
class RunConfig:
    """A command-line run's tracking: its directory, TensorBoard's folder (None without --logdir)
    and the step-logging interval."""

    job: str
    run_dir: str
    logdir: str | None = None
    log_every: int = DEFAULT_LOG_EVERY
    config: dict | None = None  # the resolved options, saved as config.json into a default run_dir


# set by configure(), taken by the next tracking_callbacks(): one command-line run, one tracker
_pending: RunConfig | None = None


def add_tracking_arguments(p: argparse.ArgumentParser) -> None:
    """``--logdir DIR`` and ``--log-every STEPS``, the tracking flags every recipe has."""
    p.add_argument("--logdir", default=None, metavar="DIR",
                   help="write TensorBoard event files (loss, accuracy, learning rate, samples/s, gradient "
                        "norm), the metrics file and the plots into DIR (default: the metrics file and "
                        f"plots go to --checkpoint-dir, else ${RUNS_ENV}/<job>-<time>, ${RUNS_ENV} "
                        "defaulting to ./runs)")
    p.add_argument("--log-every", type=POSITIVE_INT, default=DEFAULT_LOG_EVERY, metavar="STEPS",
                   help=f"log the training scalars every STEPS optimizer steps (default {DEFAULT_LOG_EVERY})")


def default_run_dir(job: str, now: datetime | None = None) -> str:
    """``$FERRUM_RUNS/<job>-<YYYYmmdd-HHMMSS>`` (``$FERRUM_RUNS`` default ``runs``); a ``-2``,
    ``-3``, ... suffix when that folder exists already (two runs in one second)."""
    root = os.environ.get(RUNS_ENV) or "runs"
    base = os.path.join(root, f"{job}-{(now or datetime.now()):%Y%m%d-%H%M%S}")
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    return path


def prepare_run_dir(path: str) -> str:
    """Creates ``path`` (and its parents) and checks that files can be written in it; raises
    ``OSError`` with the folder and the reason otherwise. Returns ``path``."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(20, "exists and is not a folder", path)
    os.makedirs(path, exist_ok=True)
    probe = os.path.join(path, f".ferrum-write-test-{os.getpid()}")
    with open(probe, "w"):
        pass
    os.remove(probe)
    return path


def _check_creatable(path: str) -> None:
    """Raises ``OSError`` unless ``path`` could be created: its nearest existing ancestor is a
    writable folder (nothing is created)."""
    parent = os.path.abspath(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise NotADirectoryError(20, f"{parent} is not a folder", path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(13, f"{parent} is not writable", path)


def _rank() -> int:
    dist = sys.modules.get("ferrum.distributed")
    if dist is not None and dist.is_initialized():
        return dist.get_rank()
    return 0


def configure(job: str, args: argparse.Namespace) -> int:
    """The command line's side: the run directory of ``args`` (see the module docstring) made and
    checked, remembered for the recipe's :func:`tracking_callbacks`. Returns 0, or 2 after one line
    on stderr when the directory cannot be written or ``--logdir`` lacks tensorboardX. Ranks other
    than 0 of a ``--nproc`` job track nothing."""
    global _pending
    _pending = None
    if _rank() != 0:
        return 0
    logdir = getattr(args, "logdir", None)
    path = logdir or getattr(args, "checkpoint_dir", None)
    try:
        if path is not None:
            prepare_run_dir(path)
        else:  # made when training starts: a run that fails before leaves no empty folder behind
            path = default_run_dir(job)
            _check_creatable(path)
    except OSError as e:
        flag = "--logdir" if logdir else ("--checkpoint-dir" if getattr(args, "checkpoint_dir", None)
                                          else f"--logdir or ${RUNS_ENV}")
        print(f"ferrum train {job}: error: cannot write the run directory {path}: "
              f"{e.strerror or e}; give {flag} a writable folder", file=sys.stderr)
        return 2
    if logdir is not None and importlib.util.find_spec("tensorboardX") is None:
        print(f"ferrum train {job}: error: --logdir writes TensorBoard event files and needs tensorboardX: "
              "pip install 'ferrum[tb]'", file=sys.stderr)
        return 2
    from .config import resolved_config  # --logdir/--checkpoint-dir get theirs from train/config.py
    default_dir = path not in (logdir, getattr(args, "checkpoint_dir", None))
    config = resolved_config(args) if default_dir and hasattr(args, "job") else None
    _pending = RunConfig(job, path, logdir, getattr(args, "log_every", DEFAULT_LOG_EVERY), config)
    return 0


def tracking_callbacks(log: TextIO | None = None, evaluations: Any = None) -> list[Callback]:
    """The :class:`Tracker` of the run :func:`configure` set up (and forgets), or ``[]`` (a recipe
    called from Python without it). ``log``: where the closing line naming the run directory
    goes; ``evaluations``: passed to :class:`Tracker`."""
    global _pending
    cfg, _pending = _pending, None
    if cfg is None:
        return []
    return [Tracker(cfg.run_dir, logdir=cfg.logdir, log_every=cfg.log_every, evaluations=evaluations,
                    log=log, config=cfg.config)]


def grad_norm(parameters: Any) -> float:
    """The total 2-norm of the gradients of ``parameters`` (those that have one), as a float;
    NaN when none has a gradient."""
    import ferrum

    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return math.nan
    total = 0.0
    rest = []
    for g in grads:
        if g.device.type == "cpu" and g.dtype in (ferrum.float32, ferrum.float64):
            # BLAS dot on the gradient's own memory: no squared temporary. mnist-mlp's 535,818
            # gradients: 0.20 ms against 1.20 ms for g.square().sum() per tensor (loaded 2-core box)
            a = g.detach().numpy().reshape(-1)
            total += float(np.dot(a, a))
        else:
            rest.append(g)
    if rest:  # GPU tensors and low-precision dtypes: on their device, in float32, one sync
        with ferrum.no_grad():
            total += sum((g.detach().float().square().sum() for g in rest[1:]),
                         rest[0].detach().float().square().sum()).item()
    return math.sqrt(total)


def _plain(v: Any) -> Any:
    # strict JSON has no NaN or infinity (a step fp16 skipped has an infinite gradient norm): null
    return None if isinstance(v, float) and not math.isfinite(v) else v


class Tracker(Callback):
    """Writes a run's metrics to ``run_dir/metrics.jsonl``, to TensorBoard in ``logdir`` when given,
    and the PNG plots into ``run_dir`` at the end (``plots=False``: none).

    The metrics file describes the run the folder holds: training that starts at step ``s`` (0 for
    a new run, the checkpoint's step for a resumed one) first drops the file's records of the
    steps after ``s`` (those an interrupted run wrote after its last checkpoint, or all of an
    earlier run), and TensorBoard is told to hide those steps of older event files (``purge_step``).

    Args:
        run_dir: the folder of the metrics file and the plots (created).
        logdir: TensorBoard's folder (usually ``run_dir``); None: no event files.
        log_every: the interval, in optimizer steps, of the ``"step"`` records.
        evaluations: an object whose ``records`` list grows with evaluation results (dataclasses or
            dicts with a ``step``), logged as ``"eval"`` records as they appear (the language models'
            periodic evaluation).
        plots: write ``loss.png``, ``accuracy.png``, ``lr.png`` at the end.
        log: a stream for the closing line naming the run directory (None: silent).

    TensorBoard tags: ``train/loss``, ``train/lr``, ``train/grad_norm``, ``train/samples_per_s`` per
    logged step; ``epoch/<metric>`` (``epoch/train_loss``, ``epoch/test_accuracy``, ...) per epoch;
    ``eval/<field>`` per evaluation; all at the global optimizer step.
    """

    def __init__(self, run_dir: str, logdir: str | None = None, log_every: int = DEFAULT_LOG_EVERY,
                 evaluations: Any = None, plots: bool = True, log: TextIO | None = None,
                 config: dict | None = None) -> None:
        POSITIVE_INT.check("Tracker", "log_every", log_every)
        self.run_dir = run_dir
        self.config = config
        self.logdir = logdir
        self.log_every = log_every
        self.evaluations = evaluations
        self.plots = plots
        self.log = log
        self.writer = None
        self._file = None
        self._seen_evals = 0
        self._loss_sum = 0.0
        self._loss_n = 0
        self._samples = 0
        self._t = 0.0
        self._t0 = 0.0

    @property
    def metrics_path(self) -> str:
        return os.path.join(self.run_dir, METRICS_FILE)

    # ------------------------------------------------------------------------------------ output
    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps({k: _plain(v) for k, v in record.items()}) + "\n")
        if self.writer is not None:
            kind, step = record["kind"], record["step"]
            prefix = {"step": "train", "epoch": "epoch", "eval": "eval"}[kind]
            for k, v in record.items():
                skip = k in ("kind", "step", "epoch", "time") or isinstance(v, bool)
                if skip or not isinstance(v, (int, float)):
                    continue
                if math.isfinite(v):
                    self.writer.add_scalar(f"{prefix}/{k}", v, step)

    # ------------------------------------------------------------------------------------- hooks
    def on_train_begin(self, trainer: Trainer) -> None:
        prepare_run_dir(self.run_dir)
        if self.config is not None:
            from .config import save_resolved_config
            save_resolved_config(self.config, [self.run_dir])
        self._drop_records_after(trainer.state.step)
        self._file = open(self.metrics_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        if self.logdir is not None:
            from ferrum.utils.tensorboard import SummaryWriter

            # TensorBoard hides the events of steps >= purge_step from earlier runs in the folder,
            # like the records dropped from the metrics file
            self.writer = SummaryWriter(self.logdir, flush_secs=10, purge_step=trainer.state.step + 1)
        if self.evaluations is not None:  # a resumed run's evaluations were logged before
            self._seen_evals = len(getattr(self.evaluations, "records", []))
        self._t0 = time.perf_counter()

    def _drop_records_after(self, step: int) -> None:
        # a run resumed from a checkpoint (restored before this hook: the Checkpoint callback comes
        # first) repeats the steps after it; their records from the interrupted run go
        path = self.metrics_path
        if not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
        keep = []
        for line in lines:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # a line torn by a crash
                continue
            if not isinstance(rec, dict) or rec.get("step", 0) <= step:
                keep.append(line if line.endswith("\n") else line + "\n")
        if keep != lines:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                f.writelines(keep)
            os.replace(tmp, path)

    def on_epoch_begin(self, trainer: Trainer) -> None:
        self._samples = trainer.state.samples
        self._t = time.perf_counter()
        self._loss_sum, self._loss_n = 0.0, 0

    def on_batch_end(self, trainer: Trainer) -> None:
        st = trainer.state
        self._loss_sum += st.loss
        self._loss_n += 1
        if st.step % self.log_every == 0:
            now = time.perf_counter()
            seconds = now - self._t
            samples = st.samples - self._samples
            groups = getattr(trainer.optimizer, "param_groups", None)
            self._write({"kind": "step", "step": st.step, "epoch": st.epoch,
                         "loss": self._loss_sum / self._loss_n,
                         "lr": float(groups[0]["lr"]) if groups else math.nan,
                         "grad_norm": grad_norm(trainer.model.parameters()),
                         "samples_per_s": samples / seconds if seconds > 0 else math.nan,
                         "time": now - self._t0})
            self._loss_sum, self._loss_n = 0.0, 0
            self._samples, self._t = st.samples, time.perf_counter()
        self._log_evaluations(st.step)

    def _log_evaluations(self, step: int) -> None:
        records = getattr(self.evaluations, "records", None)
        if not records or len(records) <= self._seen_evals:
            return
        for r in records[self._seen_evals:]:
            fields = asdict(r) if is_dataclass(r) else dict(r)
            self._write({"kind": "eval", **fields, "step": fields.get("step", step)})
        self._seen_evals = len(records)

    def on_epoch_end(self, trainer: Trainer) -> None:
        st = trainer.state
        self._write({"kind": "epoch", "step": st.step, "epoch": st.epoch, **st.metrics})

    def on_train_end(self, trainer: Trainer) -> None:
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        written = []
        if self.plots:
            try:
                written = write_run_plots(self.run_dir)
            except ImportError:
                if self.log is not None:
                    print("no plots: matplotlib is not installed (pip install matplotlib)", file=self.log)
        if self.log is not None:
            what = ("metrics" + (", TensorBoard events" if self.logdir else "")
                    + (", plots" if written else ""))
            print(f"{what}: {self.run_dir}", file=self.log, flush=True)
