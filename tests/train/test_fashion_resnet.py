"""``ferrum train fashion-resnet``: the network (torchvision's block and names), the augmentation,
and a short run of a narrow network through 2 DataLoader workers that learns, reports and leaves no
worker process behind."""

from __future__ import annotations

import gc
import io
import multiprocessing

import numpy as np
import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.models.resnet import BasicBlock
from ferrum.train import fashion_resnet

from ._recipe_checks import check_learns, check_report


@pytest.mark.parametrize("layers, params", [((1, 1, 1), 77754), ((0, 2, 2), 165626), ((2, 1, 0), None)])
def test_network_shape_and_names(layers, params):
    m = fashion_resnet.FashionResNet(width=16, layers=layers)
    assert tuple(m(ferrum.zeros(2, 1, 28, 28)).shape) == (2, 10)
    names = [n for n, _ in m.named_parameters()]
    assert names[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"] and names[-2:] == ["fc.weight", "fc.bias"]
    for i, blocks in enumerate(layers, 1):
        stage = getattr(m, f"layer{i}", None)
        assert (stage is None) == (blocks == 0)
        if blocks:
            assert len(stage) == blocks and all(isinstance(b, BasicBlock) for b in stage)
    if params is not None:  # the counts of the same networks written in torch
        assert sum(p.numel() for p in m.parameters()) == params
    if layers == (1, 1, 1):
        assert "layer2.0.downsample.0.weight" in names
        assert "layer3.0.downsample.1.running_var" in m.state_dict()
        assert sum(isinstance(x, ferrum.nn.BatchNorm2d) for x in m.modules()) == 9
    assert m.fc.in_features == 16 << max(i for i, b in enumerate(layers) if b)


def test_augmentation_is_random_and_seeded():
    img = ferrum.from_numpy(np.arange(28 * 28, dtype=np.uint8).reshape(28, 28))
    tf = fashion_resnet.train_transform()
    ferrum.manual_seed(3)
    a = [tf(img) for _ in range(6)]
    ferrum.manual_seed(3)
    b = [tf(img) for _ in range(6)]
    assert all(tuple(x.shape) == (1, 28, 28) and x.dtype == ferrum.float32 for x in a)
    assert all(ferrum.equal(x, y) for x, y in zip(a, b))
    assert len({x.numpy().tobytes() for x in a}) > 1
    plain = fashion_resnet.train_transform(augment=False)
    assert ferrum.equal(plain(img), plain(img))


def _children() -> set:
    return set(multiprocessing.active_children())


@pytest.mark.timeout(300)
def test_short_run_with_two_workers_learns(idx_root):
    before = _children()
    out = io.StringIO()
    res = fashion_resnet.train(epochs=3, batch_size=16, width=4, root=idx_root, progress=False, out=out,
                               lr=0.05)
    check_learns(res, 3)
    check_report(out.getvalue(), "Fashion-MNIST", 96, 40, 3)
    assert isinstance(res.model, fashion_resnet.FashionResNet) and res.model.fc.in_features == 16
    gc.collect()
    leaked = _children() - before
    for p in leaked:
        p.kill()
        p.join()
    assert not leaked, f"DataLoader workers left behind: {leaked}"


@pytest.mark.timeout(300)
def test_cli_without_workers(idx_root, capsys):
    rc = cli_main(["train", "fashion-resnet", "--root", idx_root, "--epochs", "1", "--width", "2",
                   "--layers", "0,1,1", "--workers", "0", "--no-augment", "--quiet"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == "" and out.startswith("final test accuracy:")


@pytest.mark.parametrize("argv, message", [(["--width", "0"], "--width"), (["--workers", "-1"], "--workers"),
                                           (["--weight-decay", "-1"], "--weight-decay"),
                                           (["--layers", "1,1"], "--layers"),
                                           (["--layers", "0,0,0"], "--layers"),
                                           (["--layers", "a,1,1"], "--layers")])
def test_cli_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "fashion-resnet", *argv])
    assert e.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [dict(width=0), dict(num_workers=-1), dict(width=1.5), dict(epochs=0),
                                    dict(layers=(1, 1)), dict(layers=(0, 0, 0)), dict(layers=(1, -1, 1))])
def test_train_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="fashion-resnet"):
        fashion_resnet.train(**kwargs)
