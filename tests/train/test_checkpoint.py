"""ferrum.train.checkpoint: one call saves and one restores everything (exactly), damaged files give
a clear error naming them, writes are atomic under SIGKILL, keep-last-k rotation, resume skips a
damaged newest checkpoint, the Trainer callback and the recipes' --checkpoint-dir/--resume."""

from __future__ import annotations

import os
import random
import signal
import time
import warnings
import zlib

import numpy as np
import pytest

import ferrum
from ferrum import nn, optim
from ferrum.cli import main as cli_main
from ferrum.train import Callback, Trainer
from ferrum.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    Checkpointer,
    get_rng_states,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
    set_rng_states,
)
from ferrum.utils.data import DataLoader, TensorDataset


def _model(seed=0):
    ferrum.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))


def _data(n=40):
    g = ferrum.Generator().manual_seed(1)
    return TensorDataset(ferrum.randn(n, 6, generator=g), ferrum.randint(0, 3, (n,), generator=g))


def _setup(seed=0):
    model = _model(seed)
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=100)
    loader = DataLoader(_data(), batch_size=8, shuffle=True,
                        generator=ferrum.Generator().manual_seed(seed + 3))
    return model, opt, sched, loader


def _step(model, opt, sched, batch):
    opt.zero_grad()
    nn.functional.cross_entropy(model(batch[0]), batch[1]).backward()
    opt.step()
    sched.step()


def _params(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _continue(model, opt, sched, it, n):
    for _ in range(n):
        _step(model, opt, sched, next(it))
    return [float(ferrum.rand(())), float(np.random.rand()), random.random()]


def test_round_trip_is_exact_and_continues_identically(tmp_path):
    path = tmp_path / "c.ckpt"
    model, opt, sched, loader = _setup()
    scaler = ferrum.amp.GradScaler("cpu", init_scale=1024.0)
    it = iter(loader)
    for _ in range(2):
        _step(model, opt, sched, next(it))
    returned = save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, scaler=scaler,
                               loader=loader, epoch=1, step=2, extra={"note": "x", "best": [0.5, 1]})
    assert returned == os.fspath(path)
    expected = _params(model)
    after = _continue(model, opt, sched, it, 2)
    expected_after = _params(model)

    m2, o2, s2, l2 = _setup(seed=5)  # differently initialised and seeded
    sc2 = ferrum.amp.GradScaler("cpu")
    ferrum.manual_seed(123)
    np.random.seed(9)
    random.seed(9)
    ck = load_checkpoint(path, model=m2, optimizer=o2, scheduler=s2, scaler=sc2, loader=l2)
    assert (ck["epoch"], ck["step"], ck["extra"]) == (1, 2, {"note": "x", "best": [0.5, 1]})
    assert _same(_params(m2), expected)
    assert sc2.get_scale() == 1024.0 and s2.last_epoch == sched.last_epoch - 2
    assert _continue(m2, o2, s2, iter(l2), 2) == after  # the loader's rest, dropout, RNG streams
    assert _same(_params(m2), expected_after)


def test_rng_states_round_trip():
    states = get_rng_states()
    a = [ferrum.randn(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)],
         random.gauss(0, 1), np.random.randn()]
    set_rng_states(states)
    b = [ferrum.randn(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)],
         random.gauss(0, 1), np.random.randn()]
    assert a == b


def test_missing_part_and_bad_objects(tmp_path):
    path = tmp_path / "c.ckpt"
    model = _model()
    save_checkpoint(path, model=model)
    with pytest.raises(KeyError, match="no optimizer state"):
        load_checkpoint(path, model=model, optimizer=optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="has no state_dict"):
        save_checkpoint(path, model=object())
    assert "optimizer" not in read_checkpoint(path)


# ------------------------------------------------------------------------------------ damage
def _write_good(path):
    model = _model()
    save_checkpoint(path, model=model, step=3)
    return model, path.read_bytes()


@pytest.mark.parametrize("cut", [0, 5, 23, 24, 100, -1])
def test_truncated_file_names_it(tmp_path, cut):
    path = tmp_path / "t.ckpt"
    _, data = _write_good(path)
    path.write_bytes(data[:cut if cut >= 0 else len(data) + cut])
    model = _model(seed=7)
    before = _params(model)
    with pytest.raises(CheckpointError, match="truncated|no FERRUMCK") as e:
        load_checkpoint(path, model=model)
    assert str(path) in str(e.value)
    assert _same(_params(model), before)  # nothing touched


@pytest.mark.parametrize("where", [0, 9, 14, 20, 30, "mid", -1])
def test_bit_flip_names_it(tmp_path, where):
    path = tmp_path / "f.ckpt"
    _, data = _write_good(path)
    pos = len(data) // 2 if where == "mid" else where % len(data)
    flipped = bytearray(data)
    flipped[pos] ^= 0x10
    path.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(path)
    assert str(path) in str(e.value)
    assert any(w in str(e.value) for w in ("CRC-32", "truncated", "trailing", "FERRUMCK", "version"))


def test_other_files_are_refused(tmp_path):
    path = tmp_path / "plain.pt"
    ferrum.save({"a": ferrum.ones(2)}, path)  # a ferrum.save file, not a checkpoint
    with pytest.raises(CheckpointError, match="not a ferrum training checkpoint"):
        read_checkpoint(path)
    _, data = _write_good(tmp_path / "g.ckpt")
    (tmp_path / "long.ckpt").write_bytes(data + b"\0")
    with pytest.raises(CheckpointError, match="trailing bytes"):
        read_checkpoint(tmp_path / "long.ckpt")


# ------------------------------------------------------------------------------------ a folder
def test_rotation_keeps_the_newest(tmp_path):
    model = _model()
    c = Checkpointer(tmp_path / "d", keep=2)
    for step in (1, 2, 3, 10, 11):
        c.save(step, model=model)
    assert [os.path.basename(p) for p in c.checkpoints()] == ["checkpoint-0000000010.ckpt",
                                                              "checkpoint-0000000011.ckpt"]
    c.save(11, model=model, extra="again")  # the same step: replaced
    assert len(c.checkpoints()) == 2 and read_checkpoint(c.path(11))["extra"] == "again"
    keep_all = Checkpointer(tmp_path / "e", keep=None)
    for step in range(5):
        keep_all.save(step, model=model)
    assert len(keep_all.checkpoints()) == 5
    assert sorted(os.listdir(tmp_path / "e")) == [os.path.basename(p) for p in keep_all.checkpoints()]


def test_bad_checkpointer_arguments(tmp_path):
    for keep in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="keep"):
            Checkpointer(tmp_path, keep=keep)
    with pytest.raises(ValueError, match="prefix"):
        Checkpointer(tmp_path, prefix="../x")
    with pytest.raises(ValueError, match="step"):
        Checkpointer(tmp_path).save(-1, model=_model())
    with pytest.raises(ValueError, match="every_steps"):
        Checkpoint(tmp_path, every_steps=0)


def test_latest_skips_a_damaged_newest(tmp_path):
    c = Checkpointer(tmp_path, keep=3)
    model = _model()
    for step in (1, 2, 3):
        c.save(step, model=model, extra=step)
    newest = c.path(3)
    data = open(newest, "rb").read()
    with open(newest, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.warns(RuntimeWarning, match="skipping a damaged checkpoint.*checkpoint-0000000003"):
        path, state = c.latest()
    assert path == c.path(2) and state["extra"] == 2
    with open(c.path(2), "r+b") as f:
        f.seek(40)
        f.write(b"\xff\xff")
    with pytest.warns(RuntimeWarning):
        assert c.load_latest(model=model)["extra"] == 1
    assert Checkpointer(tmp_path / "empty").load_latest(model=model) is None


def test_leftover_temporary_files_are_ignored_and_removed(tmp_path):
    c = Checkpointer(tmp_path)
    c.save(1, model=_model())
    leftover = tmp_path / ".checkpoint-0000000002.ckpt.abc123.tmp"
    leftover.write_bytes(b"FERRUMCK partial")
    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert c.checkpoints() == [c.path(1)]
    Checkpointer(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-0000000001.ckpt", "notes.txt"]


def test_file_permissions_follow_the_umask(tmp_path):
    path = tmp_path / "p.ckpt"
    save_checkpoint(path, model=_model())
    old = os.umask(0o022)
    os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~old


@pytest.mark.timeout(120)
def test_sigkill_while_saving_always_leaves_a_loadable_checkpoint(tmp_path):
    """Children saving in a loop (a 256 KB tensor, steps increasing, keep=2) are SIGKILLed at random
    moments, 120 times; after each kill the newest checkpoint reads back without a warning, holds
    what its step says, and no step was lost that a previous check had seen."""
    d = tmp_path / "k"
    payload = ferrum.zeros(64 * 1024)
    rng = random.Random(0)
    seen, interrupted, step = -1, 0, 0
    for _ in range(120):
        pid = os.fork()
        if pid == 0:  # the child: save forever
            try:
                c = Checkpointer(d, keep=2)
                s = step
                while True:
                    payload.fill_(float(s))
                    c.save(s, extra={"payload": payload, "step": s})
                    s += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        interrupted += any(n.endswith(".tmp") for n in os.listdir(d)) if d.exists() else 0
        if not d.exists():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            found = Checkpointer(d, keep=2).latest()
        if found is None:
            assert seen == -1
            continue
        path, state = found
        s = state["extra"]["step"]
        assert state["step"] == s and os.path.basename(path) == f"checkpoint-{s:010d}.ckpt"
        assert np.all(state["extra"]["payload"].numpy() == s)
        assert s >= seen
        seen, step = s, s + 1
        assert not any(n.endswith(".tmp") for n in os.listdir(d))  # Checkpointer() removed them
    assert seen >= 10, seen  # the children did save (about 30 steps on an idle machine)
    assert interrupted >= 5, interrupted  # and kills landed inside a write (about 40 of 120)


# ------------------------------------------------------------------------------------ the Trainer
class _StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer):
        if trainer.state.step == self.step:
            trainer.state.should_stop = True


class _Losses(Callback):
    """A callback with a state of its own: the Checkpoint callback saves and restores it."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, trainer):
        self.losses.append(trainer.state.loss)

    def state_dict(self):
        return {"losses": list(self.losses)}

    def load_state_dict(self, sd):
        self.losses = list(sd["losses"])


def _trainer(callbacks=(), epochs=3, seed=0):
    model, opt, sched, loader = _setup(seed)
    eval_loader = DataLoader(_data(16), batch_size=8)
    return Trainer(model, opt, nn.CrossEntropyLoss(), loader, epochs=epochs, scheduler=sched,
                   scheduler_interval="step", eval_loader=eval_loader, callbacks=list(callbacks),
                   progress=False, log=None)


def _history(trainer):
    return [{k: v for k, v in h.items() if k not in ("seconds", "samples_per_s")} for h in trainer.history]


def test_epoch_checkpoints_and_rotation(tmp_path):
    cb = Checkpoint(tmp_path, keep=2)
    t = _trainer([cb])
    t.fit()
    assert [os.path.basename(p) for p in cb.checkpointer.checkpoints()] == [
        "checkpoint-0000000010.ckpt", "checkpoint-0000000015.ckpt"]  # 5 batches per epoch, keep 2
    state = read_checkpoint(cb.checkpointer.path(15))
    assert state["epoch"] == 3 and state["trainer"]["in_epoch"] is False
    assert len(state["trainer"]["history"]) == 3


@pytest.mark.parametrize("every,stop", [(None, 5), (3, 7), (3, 9)])
def test_trainer_resume_matches_straight_run(tmp_path, every, stop):
    straight = _trainer([_Losses()])
    straight.fit()
    first = _trainer([_Losses(), _StopAt(stop), Checkpoint(tmp_path, every_steps=every)])
    first.fit()
    cb = Checkpoint(tmp_path, every_steps=every, resume=True)
    resumed = _trainer([_Losses(), cb], seed=4)
    ferrum.manual_seed(77)  # the resumed process's own seeding is overwritten
    resumed.fit()
    assert cb.resumed is not None and cb.resumed["step"] == stop - (stop % every if every else 0)
    assert _same(_params(resumed.model), _params(straight.model))
    assert _history(resumed) == _history(straight)
    losses = straight.callbacks[-1].losses
    assert resumed.callbacks[-2].losses == losses and len(losses) == 15


def test_resume_skips_a_damaged_newest_and_still_matches(tmp_path):
    straight = _trainer()
    straight.fit()
    first = _trainer([_StopAt(9), Checkpoint(tmp_path, every_steps=3)])
    first.fit()
    newest = Checkpointer(tmp_path).checkpoints()[-1]
    assert newest.endswith("0000000009.ckpt")
    with open(newest, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    cb = Checkpoint(tmp_path, every_steps=3, resume=True)
    resumed = _trainer([cb], seed=4)
    with pytest.warns(RuntimeWarning, match="damaged.*0000000009"):
        resumed.fit()
    assert cb.resumed["step"] == 6  # the previous one, and training redone from there
    assert _same(_params(resumed.model), _params(straight.model))


def test_resume_without_checkpoints_starts_afresh(tmp_path):
    cb = Checkpoint(tmp_path / "none", resume=True)
    t = _trainer([cb], epochs=1)
    t.fit()
    assert cb.resumed is None and t.state.step == 5


# ------------------------------------------------------------------------------------ the recipes
def _cli(root, ckpt, *more):
    return cli_main(["train", "mnist-lenet", "--root", root, "--epochs", "2", "--train-limit", "96",
                     "--test-limit", "50", "--batch-size", "32", "--no-progress",
                     "--checkpoint-dir", str(ckpt), *more])


@pytest.mark.timeout(120)
def test_recipe_checkpoint_flags(mnist_root, tmp_path, capsys):
    assert _cli(mnist_root, tmp_path, "--keep-checkpoints", "1") == 0
    out = capsys.readouterr().out
    # the run's metrics.jsonl and plots (ferrum.train.tracking) live next to the checkpoints
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".ckpt")) == ["checkpoint-0000000006.ckpt"]
    final = out.strip().splitlines()[-1].split("  training time")[0]
    assert _cli(mnist_root, tmp_path, "--resume") == 0  # finished: nothing left to train
    out = capsys.readouterr().out
    assert "resumed from " in out and "(step 6, after epoch 2)" in out
    assert out.strip().splitlines()[-1].startswith(final)
    assert _cli(mnist_root, tmp_path / "s", "--checkpoint-every", "4") == 0
    capsys.readouterr()
    assert sorted(f for f in os.listdir(tmp_path / "s") if f.endswith(".ckpt")) == [
        "checkpoint-0000000004.ckpt", "checkpoint-0000000006.ckpt"]


def test_recipe_resume_needs_a_folder(mnist_root, capsys):
    rc = cli_main(["train", "mnist-lenet", "--root", mnist_root, "--resume", "--quiet"])
    assert rc == 2 and "--resume needs --checkpoint-dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["train", "mnist-lenet", "--keep-checkpoints", "0"])


def _epoch_lines(text):
    # "epoch 1/2  train loss ...  test accuracy ...%  0.3s (...)": everything but the timing
    return [ln.rsplit("  ", 1)[0] for ln in text.splitlines() if ln.startswith("epoch ")]


@pytest.mark.timeout(120)
def test_recipe_resume_mid_epoch_matches_the_straight_run(mnist_root, tmp_path, capsys):
    common = ["train", "mnist-lenet", "--root", mnist_root, "--epochs", "2", "--train-limit", "96",
              "--test-limit", "50", "--batch-size", "32", "--no-progress"]
    assert cli_main(common) == 0
    straight = _epoch_lines(capsys.readouterr().out)
    assert cli_main([*common, "--checkpoint-dir", str(tmp_path), "--checkpoint-every", "2"]) == 0
    assert _epoch_lines(capsys.readouterr().out) == straight  # checkpointing changes nothing
    c = Checkpointer(tmp_path)
    assert [os.path.basename(p)[-9:-5] for p in c.checkpoints()] == ["0002", "0004", "0006"]
    for p in c.checkpoints()[1:]:
        os.unlink(p)  # as if the run had been killed after step 2, in the middle of epoch 1
    assert cli_main([*common, "--checkpoint-dir", str(tmp_path), "--checkpoint-every", "2", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "(step 2, in epoch 1)" in out
    assert _epoch_lines(out) == straight


@pytest.mark.parametrize("seeks", [False, True])
def test_header_checksum_with_streaming_and_seeking_writers(tmp_path, seeks):
    """The CRC is computed on the way for a writer that only appends, and by reading back for one
    that seeks back and rewrites (today's zip writer does; the format may change)."""
    from ferrum.train import checkpoint as C

    payload = bytes(range(256)) * 100

    def write(f):
        f.write(b"\0" * C._HEADER.size)
        out = C._Checksummed(f)
        out.write(payload[:1000])
        if seeks:
            out.seek(10)
            out.write(b"XYZ")
            out.seek(0, 2)
        out.write(payload[1000:])
        assert out.streaming is not seeks and out.tell() == len(payload)
        out.finish()

    path = tmp_path / "h.bin"
    C.atomic_write(path, write)
    expected = bytearray(payload)
    if seeks:
        expected[10:13] = b"XYZ"
    data = path.read_bytes()
    assert data[C._HEADER.size:] == expected
    header = C._HEADER.unpack(data[:C._HEADER.size])
    assert header == (C.MAGIC, C.VERSION, len(expected), zlib.crc32(expected))
