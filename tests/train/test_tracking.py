"""ferrum.train.tracking and ferrum.plot: the run directory of ``ferrum train`` (--logdir,
--checkpoint-dir, $FERRUM_RUNS), its metrics file, TensorBoard events and PNG plots, ``ferrum plot``,
and the one-line errors (exit status 2) for an unwritable run directory or a missing run. Every run
writes into a temporary folder."""

from __future__ import annotations

import glob
import json
import math
import os

import numpy as np
import pytest

import ferrum
from ferrum import nn
from ferrum.cli import main as cli_main
from ferrum.train import Trainer, tracking
from ferrum.utils.data import DataLoader, TensorDataset

try:
    import matplotlib.image as mpl_image
except ImportError:  # the runs still write their metrics; the pictures are checked where it is
    mpl_image = None
PLOTS = {"accuracy.png", "loss.png", "lr.png"} if mpl_image is not None else set()

TINY = ["--train-limit", "256", "--test-limit", "256", "--epochs", "1", "--batch-size", "32", "--no-progress",
        "--log-every", "2"]


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path, monkeypatch):
    """Default run directories go to a temporary folder, never the checkout."""
    monkeypatch.setenv(tracking.RUNS_ENV, str(tmp_path / "default-runs"))
    tracking._pending = None


def _records(run_dir) -> list[dict]:
    with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _assert_png(path) -> None:
    if mpl_image is None:
        pytest.skip("matplotlib is not installed (pip install 'ferrum[plot]')")
    assert os.path.getsize(path) > 0
    img = mpl_image.imread(path)  # decodes the PNG
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100 and img.shape[2] in (3, 4)


@pytest.mark.timeout(300)
def test_mnist_mlp_with_logdir_writes_events_metrics_and_plots(mnist_root, tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = tmp_path / "tb"
    rc = cli_main(["train", "mnist-mlp", "--root", mnist_root, *TINY, "--logdir", str(logdir)])
    out = capsys.readouterr().out
    assert rc == 0
    assert f"metrics, TensorBoard events{', plots' if PLOTS else ''}: {logdir}" in out
    recs = _records(logdir)
    steps = [r for r in recs if r["kind"] == "step"]
    assert [r["step"] for r in steps] == [2, 4, 6, 8]  # 256 / 32 = 8 steps, every 2
    for r in steps:
        assert r["epoch"] == 1 and math.isfinite(r["loss"]) and r["grad_norm"] > 0 and r["samples_per_s"] > 0
        assert 0 <= r["lr"] <= 1e-3
    (epoch,) = [r for r in recs if r["kind"] == "epoch"]
    assert epoch["step"] == 8 and 0 <= epoch["test_accuracy"] <= 1 and epoch["lr"] == 1e-3
    ea = EventAccumulator(str(logdir))
    ea.Reload()
    tags = set(ea.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/grad_norm", "train/samples_per_s", "epoch/train_loss",
            "epoch/test_accuracy", "epoch/test_loss", "epoch/samples_per_s"} <= tags
    assert [e.step for e in ea.Scalars("train/loss")] == [2, 4, 6, 8]
    np.testing.assert_allclose([e.value for e in ea.Scalars("train/grad_norm")],
                               [r["grad_norm"] for r in steps], rtol=1e-6)
    assert ea.Scalars("epoch/test_accuracy")[0].value == pytest.approx(epoch["test_accuracy"])
    for name in ("loss", "accuracy", "lr"):
        _assert_png(logdir / f"{name}.png")


@pytest.mark.timeout(300)
def test_default_run_dir_and_checkpoint_dir(mnist_root, tmp_path, capsys):
    assert cli_main(["train", "mnist-mlp", "--root", mnist_root, *TINY, "--quiet"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # --quiet: only the final line
    (run,) = glob.glob(str(tmp_path / "default-runs" / "mnist-mlp-*"))
    assert set(os.listdir(run)) == {"metrics.jsonl", "config.json", *PLOTS}  # no event files without --logdir
    ckpt = tmp_path / "ckpt"
    assert cli_main(["train", "mnist-mlp", "--root", mnist_root, *TINY, "--checkpoint-dir", str(ckpt)]) == 0
    assert f"metrics{', plots' if PLOTS else ''}: {ckpt}" in capsys.readouterr().out
    assert {"metrics.jsonl", *PLOTS} <= set(os.listdir(ckpt))
    assert len(glob.glob(str(tmp_path / "default-runs" / "*"))) == 1  # the second run went to ckpt


def test_shakespeare_logs_its_evaluations(tmp_path, capsys):
    text = tmp_path / "tiny.txt"
    text.write_text("ROMEO:\nBut soft, what light through yonder window breaks?\n\n" * 40, encoding="utf-8")
    rc = cli_main(["train", "shakespeare-gpt", "--text", str(text), "--steps", "4", "--eval-every", "2",
                   "--batch-size", "4", "--block-size", "8", "--eval-batches", "1", "--sample-len", "0",
                   "--n-layer", "1", "--n-head", "2", "--n-embd", "8", "--no-progress", "--log-every", "1"])
    assert rc == 0, capsys.readouterr().err
    (run,) = glob.glob(str(tmp_path / "default-runs" / "shakespeare-gpt-*"))
    recs = _records(run)
    assert [r["step"] for r in recs if r["kind"] == "step"] == [1, 2, 3, 4]
    evals = [r for r in recs if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == [2, 4] and all(r["val_loss"] > 0 for r in evals)
    assert set(os.listdir(run)) - {"metrics.jsonl", "config.json"} == PLOTS - {"accuracy.png"}  # no accuracy


def _toy_trainer(callbacks, epochs=2):
    g = ferrum.Generator().manual_seed(0)
    x = ferrum.randn(64, 5, generator=g)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = ferrum.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    return Trainer(model, opt, nn.CrossEntropyLoss(), loader, epochs=epochs, eval_loader=loader, log=None,
                   progress=False, callbacks=callbacks)


def test_tracker_in_a_python_trainer_and_grad_norm(tmp_path):
    run = tmp_path / "py"
    seen = []

    class Probe(ferrum.train.Callback):  # runs after the tracker: the gradients it measured are there
        def on_batch_end(self, trainer):
            if trainer.state.step % 3 == 0:
                grads = [p.grad.numpy().astype(np.float64) for p in trainer.model.parameters()]
                seen.append(math.sqrt(sum((g * g).sum() for g in grads)))

    trainer = _toy_trainer([tracking.Tracker(str(run), log_every=3, plots=False), Probe()])
    trainer.fit()
    recs = _records(run)
    steps = [r for r in recs if r["kind"] == "step"]
    assert [r["step"] for r in steps] == [3, 6]  # 2 epochs of 4 steps
    np.testing.assert_allclose([r["grad_norm"] for r in steps], seen, rtol=1e-5)
    assert [r["epoch"] for r in recs if r["kind"] == "epoch"] == [1, 2]
    assert not glob.glob(str(run / "*.png"))
    # a new run into the same folder starts a new metrics file
    _toy_trainer([tracking.Tracker(str(run), log_every=3, plots=False)], epochs=1).fit()
    assert [(r["kind"], r["step"]) for r in _records(run)] == [("step", 3), ("epoch", 4)]
    # no parameter has a gradient yet: NaN, written as JSON null
    assert math.isnan(tracking.grad_norm(nn.Linear(2, 2).parameters()))
    with pytest.raises(ValueError, match="log_every"):
        tracking.Tracker(str(run), log_every=0)


def test_tracking_callbacks_only_after_configure(tmp_path):
    assert tracking.tracking_callbacks() == []  # a recipe called from Python: no tracking
    import argparse

    args = argparse.Namespace(logdir=None, checkpoint_dir=None, log_every=5)
    assert tracking.configure("job", args) == 0
    assert not os.path.exists(tmp_path / "default-runs")  # made only when training starts
    (cb,) = tracking.tracking_callbacks()
    assert cb.run_dir.startswith(str(tmp_path / "default-runs" / "job-")) and cb.log_every == 5
    assert cb.logdir is None
    assert tracking.tracking_callbacks() == []  # one configure, one run


def test_plot_overlays_runs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    runs = []
    for lr in (0.1, 0.05):
        run = tmp_path / f"lr{lr}"
        trainer = _toy_trainer([tracking.Tracker(str(run), log_every=1)])
        trainer.optimizer.param_groups[0]["lr"] = lr
        trainer.fit()
        runs.append(str(run))
    out = tmp_path / "plots" / "both.png"
    assert cli_main(["plot", *runs, "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    _assert_png(out)
    # an output that cannot be written, a format matplotlib does not know: one line, exit 2
    assert cli_main(["plot", *runs, "-o", os.path.join(runs[0], "metrics.jsonl", "x.png")]) == 2
    assert "cannot write" in _one_line_error(capsys)
    assert cli_main(["plot", *runs, "-o", str(tmp_path / "x.nope")]) == 2
    assert "cannot write" in _one_line_error(capsys) and not os.path.exists(tmp_path / "x.nope")


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_bad_input_one_line_exit_2(tmp_path, capsys, mnist_root, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rc = cli_main(["train", "mnist-mlp", "--root", mnist_root, *TINY, "--logdir", str(blocker / "sub")])
    assert rc == 2
    err = _one_line_error(capsys)
    assert err.startswith("ferrum train mnist-mlp: error: cannot write the run directory")
    assert "--logdir" in err
    # the same for the language models, and for a $FERRUM_RUNS that cannot hold run directories
    monkeypatch.setenv(tracking.RUNS_ENV, str(blocker))
    rc = cli_main(["train", "shakespeare-lstm", "--text", str(blocker), "--steps", "1"])
    assert rc == 2
    assert "$FERRUM_RUNS" in _one_line_error(capsys)
    # ferrum plot: a missing run directory, a folder that is not a run
    assert cli_main(["plot", str(tmp_path / "missing"), "-o", str(tmp_path / "x.png")]) == 2
    assert "no such run directory" in _one_line_error(capsys)
    assert cli_main(["plot", str(tmp_path), "-o", str(tmp_path / "x.png")]) == 2
    assert "no metrics.jsonl" in _one_line_error(capsys)
    assert not os.path.exists(tmp_path / "x.png")


@pytest.mark.timeout(120)
def test_resume_drops_the_records_after_the_checkpoint(mnist_root, tmp_path):
    ckpt = tmp_path / "ckpt"
    args = ["train", "mnist-mlp", "--root", mnist_root, "--train-limit", "128", "--test-limit", "64",
            "--batch-size", "32", "--epochs", "2", "--log-every", "1", "--no-progress", "--quiet",
            "--checkpoint-dir", str(ckpt), "--checkpoint-every", "3"]
    assert cli_main(args) == 0
    first = _records(ckpt)
    assert [(r["kind"], r["step"]) for r in first if r["kind"] != "step"] == [("epoch", 4), ("epoch", 8)]
    # as if the run had died after step 8 before its last checkpoint: resumed from step 6, the
    # records of steps 7 and 8 (and epoch 2's) are written again, not repeated
    os.remove(ckpt / "checkpoint-0000000008.ckpt")
    assert cli_main([*args, "--resume"]) == 0
    again = _records(ckpt)
    assert [r["step"] for r in again if r["kind"] == "step"] == list(range(1, 9))
    assert [(r["kind"], r["step"]) for r in again if r["kind"] != "step"] == [("epoch", 4), ("epoch", 8)]
    assert again[:6] == first[:6]


def test_logdir_without_tensorboardx_is_one_line(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboardX" else
                        real(name, *a))
    rc = cli_main(["train", "shakespeare-lstm", "--text", str(tmp_path / "none.txt"), "--steps", "1",
                   "--logdir", str(tmp_path / "tb")])
    assert rc == 2
    assert "--logdir writes TensorBoard event files and needs tensorboardX" in _one_line_error(capsys)
