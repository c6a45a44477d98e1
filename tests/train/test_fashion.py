"""``ferrum train fashion-lenet``: where the data comes from (IDX files in ROOT, Debian's package)
and the error naming both when neither is there; a short run learns and prints the report."""

from __future__ import annotations

import io
import os

import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.datasets import FashionMNIST
from ferrum.train import fashion

from ._recipe_checks import check_learns, check_report


def _installed() -> bool:
    names = [f"{p}-{k}-idx{d}-ubyte" for p in ("train", "t10k") for k, d in (("images", 3), ("labels", 1))]
    return any(all(os.path.isfile(os.path.join(d, n)) or os.path.isfile(os.path.join(d, n + ".gz"))
                   for n in names) for d in FashionMNIST.system_dirs)


requires_package = pytest.mark.skipif(
    not _installed(),
    reason=f"Fashion-MNIST is not installed ({fashion.INSTALL_COMMAND}; `make test` does it where it can)")


def test_idx_files_in_root_come_first(idx_root):
    train_set, test_set = fashion.build_datasets(idx_root)
    assert (train_set.source, len(train_set), len(test_set)) == ("raw", 96, 40)
    x, y = train_set[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ferrum.float32 and 0 <= y < 10


@pytest.mark.timeout(300)
def test_short_run_on_idx_files_learns(idx_root):
    out = io.StringIO()
    res = fashion.train(epochs=3, batch_size=16, root=idx_root, progress=False, out=out)
    check_learns(res, 3)
    check_report(out.getvalue(), "Fashion-MNIST", 96, 40, 3)
    assert out.getvalue().startswith(f"Fashion-MNIST (raw, {idx_root})")


@requires_package
@pytest.mark.timeout(300)
def test_short_run_on_the_installed_package(tmp_path):
    out = io.StringIO()
    res = fashion.train(epochs=2, batch_size=32, train_limit=640, test_limit=200, root=str(tmp_path),
                        progress=False, out=out)
    check_learns(res, 2)
    check_report(out.getvalue(), "Fashion-MNIST", 640, 200, 2)
    assert out.getvalue().startswith("Fashion-MNIST (system, ")
    assert res.test_accuracy > 0.4, out.getvalue()


def test_missing_data_names_both_places_and_the_install_command(tmp_path, monkeypatch, capsys):
    nowhere = str(tmp_path / "no-package-here")
    monkeypatch.setattr(FashionMNIST, "system_dirs", [nowhere])
    root = str(tmp_path / "data")
    with pytest.raises(RuntimeError) as e:
        fashion.train(root=root, quiet=True)
    msg = str(e.value)
    assert os.path.join(root, "FashionMNIST", "raw") in msg and nowhere in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "dataset-fashion-mnist" in msg
    assert cli_main(["train", "fashion-lenet", "--root", root]) == 2  # bad input: exit status 2
    err = capsys.readouterr().err
    assert err.startswith("ferrum train fashion-lenet: error: Fashion-MNIST not found")
    assert "apt-get install dataset-fashion-mnist" in err


def test_other_errors_pass_through(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="is not an IDX file"):  # read_idx's error, unchanged
        fashion.build_datasets(str(tmp_path))


def test_model_and_defaults():
    assert isinstance(fashion.build_model(), ferrum.models.lenet.LeNet5)
    assert fashion.DEFAULTS.epochs >= 8 and fashion.JOB == "fashion-lenet"


@pytest.mark.parametrize("argv, message", [(["--epochs", "0"], "--epochs"),
                                           (["--schedule", "x"], "--schedule"),
                                           (["--optimizer", "adagrad"], "--optimizer")])
def test_cli_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "fashion-lenet", *argv])
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_cli_run(idx_root, capsys):
    assert cli_main(["train", "fashion-lenet", "--root", idx_root, "--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1" in out and out.splitlines()[-1].startswith("final test accuracy:")
