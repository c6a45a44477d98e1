"""`ferrum compat run`: PyTorch programs written for these tests (scripts/) run unmodified with
ferrum as torch, give the numbers the real torch gives, and a missing API is named by its torch
spelling."""

from __future__ import annotations

import importlib.util

import pytest

import ferrum
from ferrum.compat._coverage import torch_names
from ferrum.compat._runner import rewrite_error
from tests.compat._util import SCRIPTS, assert_same, compat_run, results, run, torch_run


def test_mlp_adam_trains_and_matches_torch(torch):
    got = results(compat_run("mlp_adam.py", "--epochs", "3"))
    losses = [float(got[f"loss{i}"][0]) for i in range(3)]
    assert losses[0] > losses[1] > losses[2]
    assert float(got["accuracy"][0]) > 0.8
    assert_same(got, results(torch_run("mlp_adam.py", "--epochs", "3")))


def test_custom_module_and_function_match_torch(torch):
    got = results(compat_run("custom_function.py"))
    assert got["keys"] == ["scale,shift,calls,proj.weight"]
    assert got["is_module"] == ["True", "True"]
    assert got["calls"] == ["1"]
    assert_same(got, results(torch_run("custom_function.py")))


def test_cnn_with_torchvision_transforms():
    got = results(compat_run("cnn_transforms.py"))
    assert float(got["loss0"][0]) > float(got["loss1"][0]) > 0
    assert got["grid_shape"] == ["3x30x58"]  # 8 images of 12x12, 4 per row, padding 2
    if importlib.util.find_spec("torchvision") is not None:  # parity where torchvision exists
        assert_same(got, results(torch_run("cnn_transforms.py")))


def test_argv_and_script_directory_on_path(torch):
    args = ("alice", "--steps", "5", "--scale", "0.5")
    got = results(compat_run("argv_script.py", *args))
    assert got["argv"] == list(args)
    assert got["argv0"] == ["True"]
    assert got["parsed"] == ["alice", "5", "0.5"]
    assert got == results(torch_run("argv_script.py", *args))
    proc = compat_run("argv_script.py", "--help")  # the program's flags are the program's, --help too
    assert proc.returncode == 0 and proc.stdout.startswith("usage: argv_script.py"), proc.stderr


def test_exit_status_is_the_programs():
    proc = compat_run("argv_script.py", "fail")
    assert proc.returncode == 3
    assert "RESULT parsed fail 1 1.0" in proc.stdout


def test_torch_names_are_ferrum_modules():
    """Runs with the real torch installed: the hook must still win."""
    got = results(run(["-m", "ferrum.compat", str(SCRIPTS / "identity.py")]))
    assert got and all(v == ["True"] for v in got.values()), got


def _a_missing_functional() -> str:
    import ferrum.nn.functional as F

    missing = sorted(n for n in torch_names("torch.nn.functional") if not hasattr(F, n) and n.islower())
    if not missing:
        pytest.skip("ferrum has every function of torch.nn.functional")
    return missing[0]


@pytest.mark.parametrize("mode", ["functional", "from"])
def test_missing_function_names_torch_api(mode):
    name = _a_missing_functional()
    proc = compat_run("missing_api.py", mode, name)
    assert proc.returncode == 1
    err = proc.stderr
    assert f"torch.nn.functional.{name} is not available in ferrum" in err
    assert "compatibility" in err
    assert "missing_api.py" in err and "runpy" not in err and "_runner.py" not in err
    assert "unreachable" not in proc.stdout


def test_missing_tensor_method_and_modules():
    missing = sorted(n for n in torch_names("torch.Tensor") if not hasattr(ferrum.Tensor, n)
                     and not n.endswith("_") and n.islower())
    if missing:
        err = compat_run("missing_api.py", "tensor", missing[0]).stderr
        assert f"torch.Tensor.{missing[0]} is not available in ferrum" in err
    err = compat_run("missing_api.py", "module", "no_such_submodule").stderr
    assert "ModuleNotFoundError: torch.no_such_submodule is not available in ferrum" in err
    err = compat_run("missing_api.py", "torchvision", "io").stderr
    assert "ModuleNotFoundError: torchvision.io is not available in ferrum" in err


def test_typo_keeps_pythons_message():
    """A name torch does not have either is the program's mistake, not a gap in ferrum."""
    proc = compat_run("missing_api.py", "typo", "-")
    assert proc.returncode == 1
    assert "has no attribute 'relu_typo_not_in_torch'" in proc.stderr
    assert "not available in ferrum" not in proc.stderr


def test_rewrite_error_in_process():
    import ferrum.nn.functional as F

    name = _a_missing_functional()
    with pytest.raises(AttributeError) as info:
        getattr(F, name)
    assert rewrite_error(info.value).startswith(f"torch.nn.functional.{name} is not available in ferrum")
    with pytest.raises(AttributeError) as info:
        ferrum.nn.Linear(2, 2).definitely_not_an_attribute  # noqa: B018
    assert rewrite_error(info.value).startswith("torch.nn.Linear.definitely_not_an_attribute is not")

    class Mine:
        pass

    with pytest.raises(AttributeError) as info:
        Mine().x  # noqa: B018
    assert rewrite_error(info.value) is None  # the program's own classes are left alone
    assert rewrite_error(ValueError("x")) is None


def test_bad_invocations():
    proc = compat_run("does_not_exist.py")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = run(["-m", "ferrum.compat"])
    assert proc.returncode == 2 and "usage" in proc.stdout


def test_install_refuses_after_real_torch(torch):
    proc = run(["-c", "import torch, ferrum.compat as c\ntry:\n    c.install()\nexcept RuntimeError as e:\n"
                      "    print('refused', e)\n"])
    assert proc.returncode == 0 and "refused" in proc.stdout and "fresh" in proc.stdout, proc.stderr


def test_uninstall_gives_the_real_torch_back(torch):
    code = "\n".join([
        "import sys, ferrum, ferrum.compat as c", "c.install()", "import torch.nn", "assert torch is ferrum",
        "c.uninstall()", "assert not [n for n in sys.modules if n.split('.')[0] in ('torch', 'torchvision')]",
        "import torch", "assert torch is not ferrum and hasattr(torch, '_C')", "print('ok')"])
    proc = run(["-c", code])
    assert proc.stdout.strip() == "ok", proc.stderr


def test_spawned_processes_get_ferrum_too(tmp_path):
    """torch.multiprocessing.spawn children re-import the program: the hook reaches them through
    _boot/sitecustomize.py."""
    got = results(compat_run("spawn_workers.py", str(tmp_path / "out")))
    assert got["rank0"] == ["0", "2", "2.0", "ferrum", "ferrum.nn.modules.module"]
    assert got["rank1"] == ["1", "2", "4.0", "ferrum", "ferrum.nn.modules.module"]


def test_boot_keeps_another_sitecustomize(tmp_path):
    import os

    from ferrum.compat import _runner

    other = tmp_path / "site"
    other.mkdir()
    (other / "sitecustomize.py").write_text("import builtins\nbuiltins.OTHER_SITE = 1\n")
    boot = os.path.join(os.path.dirname(_runner.__file__), "_boot")
    code = ("import sys, builtins, torch\n"
            "print(torch.__name__, builtins.OTHER_SITE, sys.argv[1] in sys.path)")
    env = {"PYTHONPATH": os.pathsep.join([boot, str(other)]), "FERRUM_COMPAT": "1"}
    proc = run(["-c", code, boot], env=env)
    assert proc.stdout.split() == ["ferrum", "1", "False"], proc.stderr


def test_cli_runs_in_a_fresh_interpreter(torch, capfd):
    """This process has the real torch imported; `ferrum compat run` from it still gives ferrum."""
    from ferrum import cli

    assert cli.main(["compat", "run", str(SCRIPTS / "identity.py")]) == 0
    out = capfd.readouterr().out
    assert "RESULT torch_is_ferrum True" in out and "False" not in out


def test_seeded_program_gives_torchs_numbers(torch):
    """Everything random left to torch (weights, data, shuffling, split, dropout): ferrum's generators
    draw PyTorch's streams, so the run is torch's, loss for loss."""
    got = results(compat_run("seeded_training.py"))
    assert got["version_ge_2"] == ["True", "True"] and got["version_major"] == ["True"]
    assert_same(got, results(torch_run("seeded_training.py")), rtol=1e-5)


def test_torch_version_under_the_hook(tmp_path):
    """torch.__version__ names the API release ferrum implements (and ferrum's own version)."""
    script = tmp_path / "v.py"
    script.write_text("import torch, ferrum\n"
                      "print('RESULT v', torch.__version__, torch.version.__version__)\n"
                      "print('RESULT cmp', torch.__version__ > '2.12.9', torch.__version__ < (2, 14),"
                      " torch.__version__ == '2.13.0', torch.__version__ >= (2, 13),"
                      " torch.__version__ == torch.__version__ + '')\n")
    got = results(run(["-m", "ferrum.cli", "compat", "run", str(script)]))
    assert got["v"] == [f"2.13.0+ferrum.{ferrum.__version__}"] * 2
    # as torch's own: '2.13.0+cpu' == '2.13.0' is False, >= (2, 13) is True
    assert got["cmp"] == ["True", "True", "False", "True", "True"]
