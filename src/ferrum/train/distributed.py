"""``ferrum train JOB --nproc N``: any recipe, data-parallel on N processes.

The command re-launches itself through ``ferrum run --nproc-per-node N`` (MPI; see
``ferrum.distributed``) with ``FERRUM_TRAIN_NPROC=N`` in the environment. Each rank then joins the
default process group and runs the same recipe, which notices the group (:func:`data_parallel`)
and changes three things, as a PyTorch user's DDP script does:

- the training loader draws from a :class:`~ferrum.utils.data.DistributedSampler` (shuffled with the
  recipe's seed, ``set_epoch`` every epoch), each rank taking ``batch_size / N`` samples per step,
  so one optimizer step still sees ``--batch-size`` samples and the schedule is the one-process one;
- the model is wrapped in :class:`~ferrum.nn.parallel.DistributedDataParallel` (rank 0's initial
  weights, averaged gradients, BatchNorm statistics broadcast from rank 0);
- the language-model recipes (shakespeare-*), which draw random windows with replacement, draw
  ``batch_size / N`` windows per step on each rank from a rank-dependent seed;
- only rank 0 prints (the other ranks' stdout is discarded; errors still reach stderr); its
  samples per second count every rank's samples, its training loss is its own shard's.

Each rank evaluates the whole test set (the replicas are identical, so their accuracies agree),
which keeps evaluation as simple as one process's. BLAS threads default to the cores divided
among the ranks. Training checkpoints (``--checkpoint-dir``): rank 0 writes them (the replicas are
identical), every rank resumes from the same files (``--resume``), so a resumed data-parallel run
continues as the uninterrupted one would; such a checkpoint holds the DDP wrapper's state
(``module.``-prefixed names) and resumes with the same ``--nproc``.

A program that calls a recipe's ``train()`` itself after ``init_process_group`` (under ``ferrum
run``) gets the same data parallelism.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import ferrum
from ferrum import nn

from .callbacks import Callback
from .checkpoint import Checkpoint
from .options import POSITIVE_INT

__all__ = ["ENV", "add_nproc_argument", "run_job", "data_parallel", "DataParallelRun"]

#: set in the ranks' environment by the re-launch (the value is N): the ranks must not re-launch
ENV = "FERRUM_TRAIN_NPROC"


def add_nproc_argument(p: argparse.ArgumentParser) -> None:
    """The ``--nproc N`` flag (default 1: this process only)."""
    p.add_argument("--nproc", type=POSITIVE_INT, default=1, metavar="N",
                   help="train data-parallel on N processes (re-launched through `ferrum run`; "
                        "--batch-size stays the global batch, split among them)")


def _without_nproc(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out


def relaunch(argv: list[str], nproc: int) -> int:
    """Runs ``ferrum train ARGV`` on ``nproc`` ranks through ``ferrum run``; returns its exit status."""
    entry = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_rank_main.py")
    cmd = [sys.executable, "-m", "ferrum", "run", "--nproc-per-node", str(nproc), entry,
           *_without_nproc(argv)]
    env = dict(os.environ)
    env[ENV] = str(nproc)
    return subprocess.run(cmd, env=env).returncode


def run_job(args: argparse.Namespace, argv: list[str], run: Callable[[argparse.Namespace], int]) -> int:
    """``ferrum train``'s dispatch: ``run(args)`` here, or on ``--nproc`` ranks."""
    nproc = int(os.environ.get(ENV, "0") or 0) or getattr(args, "nproc", 1)
    if nproc <= 1:
        return run(args)
    if ENV not in os.environ:
        return relaunch(argv, nproc)
    import ferrum.distributed as dist
    dist.init_process_group("gloo")
    if dist.get_world_size() != nproc:
        raise RuntimeError(f"ferrum train: expected {nproc} ranks, the job has {dist.get_world_size()}")
    if getattr(args, "threads", None) is None:
        ferrum.set_num_threads(max(1, (os.cpu_count() or 1) // nproc))
    if dist.get_rank() != 0:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of this rank's life
    code = run(args)  # an exception ends the whole job (ferrum.distributed's excepthook)
    if code != 0:
        # a failed rank leaves without waiting for the others (they may be inside a collective it
        # will never join, which destroy_process_group would wait for): the launcher ends the job
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    dist.destroy_process_group()
    return code


class _SetEpoch(Callback):
    """``sampler.set_epoch(epoch)`` before each epoch: a new shuffle per epoch, the same on every rank."""

    def __init__(self, sampler: Any) -> None:
        self.sampler = sampler

    def on_epoch_begin(self, trainer: Any) -> None:
        self.sampler.set_epoch(trainer.state.epoch - 1)


class _CountAllRanks(Callback):
    """Counts each step's samples of every rank (the epoch's ``samples_per_s`` is then the job's
    throughput, not one rank's); the running loss stays this rank's mean over its own samples."""

    def __init__(self, others: int) -> None:
        self.others = others
        self._seen = 0

    def on_epoch_begin(self, trainer: Any) -> None:
        self._seen = trainer.state.samples

    def on_batch_end(self, trainer: Any) -> None:
        st = trainer.state
        n = st.samples - self._seen  # this step's samples here; the other ranks had as many
        st.samples += n * self.others
        st.loss_sum += st.loss * n * self.others
        self._seen = st.samples


class _RankZeroSaves(Checkpoint):
    """A :class:`Checkpoint` that only rank 0 writes; every rank resumes from it."""

    def __init__(self, base: Checkpoint, rank: int) -> None:  # noqa: D107 - takes over ``base``
        self.__dict__.update(base.__dict__)
        self.rank = rank

    def save(self, trainer: Any) -> str:
        return super().save(trainer) if self.rank == 0 else ""


class DataParallelRun:
    """What a recipe changes when it runs on ``world`` ranks (see the module docstring)."""

    def __init__(self, rank: int, world: int) -> None:
        self.rank = rank
        self.world = world
        self.callbacks: list[Callback] = []

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def adapt(self, callbacks: list[Callback]) -> list[Callback]:
        """This run's callbacks (reshuffling, counting) first, then ``callbacks`` with each
        :class:`Checkpoint` written by rank 0 only."""
        return self.callbacks + [_RankZeroSaves(cb, self.rank) if isinstance(cb, Checkpoint) else cb
                                 for cb in callbacks]

    def share(self, job: str, batch_size: int) -> int:
        """This rank's share of a global batch; ValueError unless it divides evenly."""
        if batch_size % self.world:
            raise ValueError(f"{job}: batch_size ({batch_size}) must be a multiple of the number of "
                             f"processes ({self.world})")
        return batch_size // self.world

    def loader(self, job: str, loader: Any, seed: int) -> Any:
        """The training ``loader`` again, over this rank's shard (a DistributedSampler seeded with
        ``seed``) with this rank's share of its batch size."""
        from ferrum.utils.data import DataLoader, DistributedSampler
        batch = self.share(job, loader.batch_size)
        sampler = DistributedSampler(loader.dataset, num_replicas=self.world, rank=self.rank, shuffle=True,
                                     seed=seed)
        self.callbacks += [_SetEpoch(sampler), _CountAllRanks(self.world - 1)]
        workers = loader.num_workers
        return DataLoader(loader.dataset, batch_size=batch, sampler=sampler,
                          num_workers=workers, persistent_workers=workers > 0)

    def wrapping(self, make_model: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
        """``make_model`` whose model comes wrapped in DistributedDataParallel (the recipe's
        TrainResult then holds the wrapper; the trained model is its ``.module``)."""
        def make() -> nn.Module:
            from ferrum.nn.parallel import DistributedDataParallel
            return DistributedDataParallel(make_model())
        return make


def data_parallel() -> DataParallelRun | None:
    """A :class:`DataParallelRun` when this process is one rank of an initialized process group of
    more than one rank, else None."""
    import ferrum.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return None
    world = dist.get_world_size()
    return DataParallelRun(dist.get_rank(), world) if world > 1 else None
