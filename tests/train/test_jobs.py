"""The recipe table of ``ferrum train``: every job is listed in the help and has its own help."""

from __future__ import annotations

import pytest

from ferrum.cli import main as cli_main
from ferrum.train import JOBS

NAMES = ["mnist-mlp", "mnist-lenet", "fashion-lenet", "fashion-resnet", "shakespeare-gpt", "shakespeare-lstm"]
STEP_JOBS = {"shakespeare-gpt", "shakespeare-lstm"}  # trained for a number of steps, not epochs


def test_table():
    assert list(JOBS) == NAMES
    for module, help_ in JOBS.values():
        assert callable(module.add_arguments) and callable(module.run) and help_


def test_train_help_lists_every_job(capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out
    assert ">= 99% test accuracy" in out  # a literal %, not a format directive


@pytest.mark.parametrize("name", NAMES)
def test_job_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", name, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    if name in STEP_JOBS:
        assert "--steps" in out and "--eval-every" in out
    else:
        assert "--epochs" in out and "--schedule" in out
    assert " ".join(JOBS[name][1].split()) in " ".join(out.split())  # the description
