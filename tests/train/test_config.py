"""``ferrum train``'s command line: ``--list``, ``--config FILE`` (TOML, YAML, JSON; flags win;
unknown keys named), the resolved config printed and saved, and bad input: one line on stderr,
exit status 2, the traceback only with ``--debug``."""

from __future__ import annotations

import argparse
import json

import pytest

from ferrum import datasets
from ferrum.train import JOBS, RECIPES, main as train_main, save_resolved_config
from ferrum.train.config import CONFIG_FILE, BadInput, load_config_file, resolved_config

QUICK = ["--epochs", "1", "--train-limit", "128", "--test-limit", "64", "--threads", "1"]


def _one_error_line(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # no traceback, no usage block
    assert "error:" in lines[0] and "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_list_shows_every_recipe_with_data_and_result(capsys):
    with pytest.raises(SystemExit) as e:
        train_main(["--list"])
    assert e.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["RECIPE", "DATA", "SET", "EXPECTED", "RESULT"]
    assert set(RECIPES) == set(JOBS)
    for name, (data, result) in RECIPES.items():
        row = next(line for line in out if line.startswith(name + " "))
        assert data in row and result in row


def test_config_file_flags_win_and_config_is_saved(tmp_path, mnist_root, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('job = "mnist-mlp"\nepochs = 1\nbatch-size = 64\ntrain_limit = 128\ntest_limit = 64\n'
                   f'threads = 1\nroot = "{mnist_root}"\noptimizer = "sgd"\nquiet = false\n')
    run = tmp_path / "run"
    assert train_main(["mnist-mlp", "--config", str(cfg), "--batch-size", "32", "--checkpoint-dir", str(run),
                       "--no-progress"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("config: job=mnist-mlp") and "batch_size=32" in out and "optimizer=sgd" in out
    saved = json.loads((run / CONFIG_FILE).read_text())
    assert saved["job"] == "mnist-mlp" and saved["batch_size"] == 32 and saved["epochs"] == 1
    assert saved["optimizer"] == "sgd" and saved["root"] == mnist_root and "run" not in saved
    # the saved config is itself a config file: the same run again from it
    assert train_main(["mnist-mlp", "--config", str(run / CONFIG_FILE), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("final test accuracy")


def test_json_config_and_lists(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 2, "layers": [1, 1, 1]}))
    assert load_config_file(str(path)) == {"epochs": 2, "layers": [1, 1, 1]}
    # a list value goes through the flag's type (fashion-resnet's --layers 1,1,1)
    from ferrum.train import build_parser
    from ferrum.train.config import apply_config
    ap = build_parser()
    apply_config(ap.job_parsers["fashion-resnet"], "fashion-resnet",
                 {"layers": [1, 0, 2], "no-augment": True})
    args = ap.parse_args(["fashion-resnet"])
    assert args.layers == (1, 0, 2) and args.no_augment is True


def test_yaml_config(tmp_path, mnist_root, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(f"epochs: 1\ntrain_limit: 64\ntest_limit: 32\nroot: {mnist_root}\nthreads: 1\n")
    try:
        import yaml  # noqa: F401
    except ImportError:
        assert train_main(["mnist-mlp", "--config", str(path)]) == 2
        _one_error_line(capsys.readouterr().err, "PyYAML", "pip install pyyaml", str(path))
    else:
        assert train_main(["mnist-mlp", "--config", str(path), "--quiet"]) == 0


@pytest.mark.parametrize("text, words", [
    ("epoch = 1\n", ["unknown key 'epoch'", "valid keys:", "epochs", "batch_size"]),
    ("lr = -1\n", ["'lr'", "--lr", "a number > 0"]),
    ("optimizer = \"rmsprop\"\n", ["'optimizer'", "not one of", "adam"]),
    ("quiet = 1\n", ["'quiet'", "true or false"]),
    ("job = \"mnist-lenet\"\n", ["for the recipe 'mnist-lenet'", "ferrum train mnist-lenet --config"]),
    ("epochs = [\n", ["not valid TOML"]),
])
def test_bad_config_is_one_line_exit_2(tmp_path, capsys, text, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert train_main(["mnist-mlp", "--config", str(cfg)]) == 2
    _one_error_line(capsys.readouterr().err, "ferrum train", *words)


def test_missing_or_unknown_config_file(tmp_path, capsys):
    assert train_main(["mnist-mlp", "--config", str(tmp_path / "none.toml")]) == 2
    _one_error_line(capsys.readouterr().err, "cannot read config file", "none.toml")
    (tmp_path / "c.ini").write_text("x")
    assert train_main(["mnist-mlp", "--config", str(tmp_path / "c.ini")]) == 2
    _one_error_line(capsys.readouterr().err, "unknown format", ".toml")


def test_debug_shows_the_traceback(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("epoch = 1\n")
    with pytest.raises(BadInput, match="unknown key 'epoch'"):
        train_main(["mnist-mlp", "--config", str(cfg), "--debug"])


def test_unknown_recipe_and_bad_flag(capsys):
    with pytest.raises(SystemExit) as e:
        train_main(["mnist-mpl"])
    assert e.value.code == 2
    _one_error_line(capsys.readouterr().err, "unknown recipe 'mnist-mpl'", "ferrum train --list")
    with pytest.raises(SystemExit) as e:
        train_main(["mnist-mlp", "--epochs", "0"])
    assert e.value.code == 2
    _one_error_line(capsys.readouterr().err, "--epochs", "an integer >= 1", "--help")


def test_unwritable_run_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert train_main(["mnist-mlp", *QUICK, "--checkpoint-dir", str(blocker / "run")]) == 2
    _one_error_line(capsys.readouterr().err, "cannot write the run directory", "--checkpoint-dir")


def test_missing_data_set(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", [])
    assert train_main(["fashion-lenet", *QUICK, "--root", str(tmp_path)]) == 2
    _one_error_line(capsys.readouterr().err, "Fashion-MNIST not found", "--download")


def test_save_resolved_config_for_other_folders(tmp_path):
    args = argparse.Namespace(job="mnist-mlp", epochs=3, layers=(1, 2, 3), run=print, config=None,
                              debug=False)
    paths = save_resolved_config(args, [tmp_path / "a", None, tmp_path / "b"])
    assert [p.rsplit("/", 2)[-2] for p in paths] == ["a", "b"]
    for p in paths:
        assert json.loads(open(p).read()) == {"job": "mnist-mlp", "epochs": 3, "layers": [1, 2, 3]}
    assert resolved_config(args) == {"job": "mnist-mlp", "epochs": 3, "layers": [1, 2, 3]}


def test_config_saved_next_to_the_metrics_of_a_logdir_run(tmp_path, mnist_root, capsys):
    pytest.importorskip("tensorboardX")  # --logdir writes TensorBoard events
    logdir, ckpt = tmp_path / "tb", tmp_path / "ckpt"
    assert train_main(["mnist-mlp", *QUICK, "--root", mnist_root, "--quiet", "--logdir", str(logdir),
                       "--checkpoint-dir", str(ckpt)]) == 0
    for d in (logdir, ckpt):
        assert json.loads((d / CONFIG_FILE).read_text())["logdir"] == str(logdir)
    assert (logdir / "metrics.jsonl").exists()
