"""The built-in callbacks of ferrum.train: the tqdm progress bar (terminals only), the summary line."""

from __future__ import annotations

import io

import pytest

from ferrum import nn
from ferrum.train import ProgressBar, Trainer
from ferrum.train.callbacks import format_metrics

from .test_loop import _problem


class _Tty(io.StringIO):
    def isatty(self):
        return True


def _fit(bar):
    model, opt, train, _ = _problem()
    Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=2, callbacks=[bar], progress=False,
            log=None).fit()


def test_progress_bar_draws_on_terminals():
    pytest.importorskip("tqdm")
    s = _Tty()
    bar = ProgressBar(stream=s, min_interval=0.0)
    _fit(bar)
    text = s.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "5/5" in text and "loss " in text
    assert bar.bar is None  # closed (and erased: leave=False) at the end of each epoch


def test_progress_bar_nests_epochs_and_steps():
    pytest.importorskip("tqdm")
    s = _Tty()
    bar = ProgressBar(stream=s, min_interval=0.0)
    _fit(bar)
    text = s.getvalue()
    # the outer bar over the epochs (with the last epoch's loss), the inner one over the steps with
    # its rate (batch/s) and ETA (the "<" of elapsed<remaining)
    assert "epochs" in text and "2/2" in text and "train loss" in text
    assert "batch/s" in text and "<" in text
    assert "\x1b[A" in text  # tqdm moves the cursor between the two lines of nested bars
    assert bar.epoch_bar is None and bar.bar is None


def test_epoch_lines_do_not_land_on_a_bar():
    pytest.importorskip("tqdm")
    from ferrum.train import PrintMetrics
    s = _Tty()
    model, opt, train, _ = _problem()
    Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=2, progress=False, log=None,
            callbacks=[ProgressBar(stream=s, min_interval=0.0), PrintMetrics(s)]).fit()
    text = s.getvalue()
    for k in (1, 2):
        i = text.index(f"epoch {k}/2  train loss")
        assert text[i - 1] in "\r\n"  # at the start of a line, not after a bar's text


def test_progress_bar_is_quiet_elsewhere():
    plain = io.StringIO()
    _fit(ProgressBar(stream=plain))  # not a terminal
    forced_off = _Tty()
    _fit(ProgressBar(enabled=False, stream=forced_off))
    assert plain.getvalue() == "" and forced_off.getvalue() == ""


def test_format_metrics():
    line = format_metrics({"epoch": 3, "train_loss": 0.08123, "lr": 0.000854, "seconds": 4.06,
                           "samples_per_s": 14634.2, "test_loss": 0.06, "test_accuracy": 0.98214})
    assert line == ("train loss 0.0812  lr 0.000854  test loss 0.0600  test accuracy 98.21%  "
                    "4.1s (14,634 samples/s)")
