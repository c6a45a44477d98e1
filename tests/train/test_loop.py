"""ferrum.train.Trainer on a tiny synthetic problem: it learns, calls its callbacks in order and the
right number of times, steps the scheduler per step or per epoch, evaluates under no_grad."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ferrum
from ferrum import nn, optim
from ferrum.train import Accuracy, Callback, Trainer
from ferrum.utils.data import DataLoader, TensorDataset

N, BATCH, EPOCHS = 40, 8, 3  # 5 batches per epoch


def _problem(seed=0):
    """Two linearly separable classes in 4-D, a linear model, SGD."""
    ferrum.manual_seed(seed)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    x = (rng.standard_normal((N, 4)) + 2.0 * (2 * y[:, None] - 1)).astype(np.float32)
    ds = TensorDataset(ferrum.from_numpy(x), ferrum.from_numpy(y.astype(np.int64)))
    train = DataLoader(ds, batch_size=BATCH, shuffle=True, generator=ferrum.Generator().manual_seed(seed))
    model = nn.Linear(4, 2)
    return model, optim.SGD(model.parameters(), lr=0.1), train, DataLoader(ds, batch_size=16)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def _rec(name):
        def hook(self, trainer):
            self.calls.append((name, trainer.state.epoch, trainer.state.step))
        return hook

    on_train_begin = _rec("on_train_begin")
    on_epoch_begin = _rec("on_epoch_begin")
    on_batch_begin = _rec("on_batch_begin")
    on_batch_end = _rec("on_batch_end")
    on_epoch_end = _rec("on_epoch_end")
    on_train_end = _rec("on_train_end")


def test_fit_learns_and_records_history():
    model, opt, train, test = _problem()
    history = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, eval_loader=test,
                      progress=False, log=None).fit()
    assert [h["epoch"] for h in history] == [1, 2, 3]
    losses = [h["train_loss"] for h in history]
    assert losses[-1] < losses[0] and all(np.isfinite(losses))
    assert history[-1]["eval_accuracy"] >= 0.9 and history[-1]["eval_loss"] < history[0]["eval_loss"] * 1.01
    assert {"lr", "seconds", "samples_per_s"} <= set(history[0])
    assert history[0]["lr"] == 0.1
    assert model.training and ferrum.is_grad_enabled()


def test_callbacks_run_in_order_with_the_right_counts():
    model, opt, train, test = _problem()
    rec = Recorder()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, callbacks=[rec],
                      progress=False, log=None)
    trainer.fit()
    names = [c[0] for c in rec.calls]
    per_epoch = ["on_epoch_begin"] + ["on_batch_begin", "on_batch_end"] * 5 + ["on_epoch_end"]
    assert names == ["on_train_begin"] + per_epoch * EPOCHS + ["on_train_end"]
    batch_ends = [c for c in rec.calls if c[0] == "on_batch_end"]
    assert [c[2] for c in batch_ends] == list(range(1, 16))  # state.step counts steps globally
    assert [c[1] for c in rec.calls if c[0] == "on_epoch_end"] == [1, 2, 3]
    assert trainer.state.step == 15 and trainer.state.batches == 5


@pytest.mark.parametrize("interval, steps", [("step", EPOCHS * 5), ("epoch", EPOCHS)])
def test_scheduler_is_stepped_per_step_or_per_epoch(interval, steps):
    model, opt, train, _ = _problem()
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, scheduler=sched,
                      scheduler_interval=interval, progress=False, log=None).fit()
    assert sched.last_epoch == steps
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** steps)
    # lr of each epoch: the first group's when the epoch began
    assert [h["lr"] for h in history] == pytest.approx([0.1 * 0.5 ** (steps // EPOCHS * e) for e in range(3)])


def test_cosine_schedule_per_step_matches_the_closed_form():
    model, opt, train, _ = _problem()
    total = EPOCHS * len(train)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    seen = []

    class Lr(Callback):
        def on_batch_begin(self, trainer):
            seen.append(trainer.optimizer.param_groups[0]["lr"])

    Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, scheduler=sched,
            scheduler_interval="step", callbacks=[Lr()], progress=False, log=None).fit()
    expected = [0.5 * 0.1 * (1 + np.cos(np.pi * s / total)) for s in range(total)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12, atol=1e-15)


class Probe:
    """A metric recording the conditions it is updated under."""

    def __init__(self, model):
        self.model = model
        self.seen = []

    def reset(self):
        self.n = 0

    def update(self, outputs, targets):
        self.seen.append((ferrum.is_grad_enabled(), self.model.training, outputs.requires_grad))
        self.n += len(targets)

    def compute(self):
        return float(self.n)


def test_evaluation_runs_in_eval_mode_under_no_grad():
    model, opt, train, test = _problem()
    probe = Probe(model)
    history = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=2, eval_loader=test,
                      metrics={"probe": probe}, eval_prefix="test", progress=False, log=None).fit()
    assert probe.seen and set(probe.seen) == {(False, False, False)}
    assert len(probe.seen) == 2 * 3  # 3 evaluation batches per epoch
    assert [h["test_probe"] for h in history] == [40.0, 40.0]
    assert model.training and ferrum.is_grad_enabled()


def test_evaluate_restores_mode_and_counts_accuracy():
    model, opt, train, test = _problem()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train, progress=False, log=None)
    model.eval()
    res = trainer.evaluate(test)
    assert not model.training and set(res) == {"loss", "accuracy"} and 0.0 <= res["accuracy"] <= 1.0
    acc = Accuracy()
    acc.update(ferrum.tensor([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0]]), ferrum.tensor([1, 1, 1]))
    assert acc.compute() == pytest.approx(2 / 3)
    acc.reset()
    assert np.isnan(acc.compute())


def test_quiet_prints_nothing(capsys):
    model, opt, train, test = _problem()
    Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=2, eval_loader=test, progress=False,
            log=None).fit()
    assert capsys.readouterr() == ("", "")


def test_log_prints_one_line_per_epoch(capsys):
    model, opt, train, test = _problem()
    out = io.StringIO()
    Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=2, eval_loader=test, log=out).fit()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  train loss ")
    assert "eval accuracy" in lines[1] and "samples/s" in lines[1]
    assert capsys.readouterr() == ("", "")  # stderr is no terminal under pytest: no bar
    Trainer(*_problem()[:1], opt, nn.CrossEntropyLoss(), train, epochs=1).fit()
    assert capsys.readouterr().out.startswith("epoch 1/1  train loss")


def test_should_stop_ends_training_after_the_batch():
    model, opt, train, _ = _problem()

    class StopAt7(Callback):
        def on_batch_end(self, trainer):
            if trainer.state.step == 7:
                trainer.state.should_stop = True

    rec = Recorder()
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, callbacks=[StopAt7(), rec],
                      progress=False, log=None)
    history = trainer.fit()
    assert trainer.state.step == 7 and len(history) == 2 and rec.calls[-1][0] == "on_train_end"


def test_callbacks_see_errors_end_training():
    model, opt, train, _ = _problem()
    rec = Recorder()

    def bad_loss(outputs, targets):
        raise RuntimeError("bad loss")

    with pytest.raises(RuntimeError, match="bad loss"):
        Trainer(model, opt, bad_loss, train, callbacks=[rec], progress=False, log=None).fit()
    assert rec.calls[-1][0] == "on_train_end"


@pytest.mark.parametrize("kwargs, match", [(dict(epochs=0), "epochs"), (dict(epochs=1.5), "epochs"),
                                           (dict(scheduler_interval="batch"), "scheduler_interval")])
def test_bad_arguments(kwargs, match):
    model, opt, train, _ = _problem()
    with pytest.raises(ValueError, match=match):
        Trainer(model, opt, nn.CrossEntropyLoss(), train, **kwargs)


def test_fit_resumes_after_a_stop():
    model, opt, train, _ = _problem()

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, trainer):
            trainer.state.should_stop = trainer.state.epoch == 1

    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS,
                      callbacks=[StopAfterFirstEpoch()], progress=False, log=None)
    assert [h["epoch"] for h in trainer.fit()] == [1]
    assert [h["epoch"] for h in trainer.fit()] == [1, 2, 3] and trainer.state.step == 15
    assert [h["epoch"] for h in trainer.fit()] == [1, 2, 3]  # done: nothing more


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_autocasts_the_forward_and_learns(amp):
    """--amp: the forward runs in the lower dtype (the model's output is bfloat16/float16), the
    parameters and their gradients stay float32, and the problem is learned as in float32."""
    model, opt, train, test = _problem()
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    history = Trainer(model, opt, nn.CrossEntropyLoss(), train, epochs=EPOCHS, eval_loader=test,
                      progress=False, log=None, amp=amp).fit()
    assert seen[0] == (ferrum.bfloat16 if amp == "bf16" else ferrum.float16)
    assert all(p.dtype == ferrum.float32 and p.grad.dtype == ferrum.float32 for p in model.parameters())
    assert history[-1]["eval_accuracy"] >= 0.9
    assert not ferrum.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="amp"):
        Trainer(model, opt, nn.CrossEntropyLoss(), train, amp="fp8")
