"""Training checkpoints: one call saves everything a run needs to continue, one call restores it,
and the continued run is bit-identical to one that was never interrupted.

    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, loader=train_loader,
                    epoch=epoch, step=step)          # in the training loop, between steps
    ...
    ckpt = load_checkpoint(path, model=model, optimizer=opt, scheduler=sched, loader=train_loader)
    epoch, step = ckpt["epoch"], ckpt["step"]

What a checkpoint holds (each part only when given): the model's, optimizer's, scheduler's and
GradScaler's ``state_dict()``; the DataLoader's position (:meth:`DataLoader.state_dict`: batches
consumed in the current epoch, the workers' base seed, the shuffling generator and how the epoch's
order was drawn, so a resumed epoch yields the same remaining batches in the same order); a
:class:`~ferrum.train.Trainer`'s state (epoch, step, this epoch's running loss, the history); the
random states of ferrum's default generator, NumPy's global RNG and Python's ``random`` (dropout and
anything else drawing from them continues the same stream); ``epoch``, ``step`` and ``extra`` (any
data ``ferrum.load(weights_only=True)`` accepts). Nothing in it needs ``weights_only=False``.
Not covered: CUDA generators (ferrum has none to save yet), and randomness inside DataLoader worker
processes (random transforms), which restarts from the worker seeds (see ``DataLoader.state_dict``).

The file: a 24-byte header (``b"FERRUMCK"``, format version, payload length, CRC-32 of the payload)
followed by the ``ferrum.save`` payload. Reading checks length and checksum before unpickling, so
a truncated or corrupted file raises :class:`CheckpointError` naming the file instead of loading
garbage. Writing is atomic (:func:`atomic_write`): a temporary file in the same folder, written,
flushed and fsync'ed, renamed over the target with ``os.replace``, then the folder fsync'ed; a
writer killed at any moment leaves either the old file or the new one, never a partial one
(tests/train/test_checkpoint.py kills writers with SIGKILL a few hundred times).

:class:`Checkpointer` manages a folder of them (``checkpoint-<step>.ckpt``): saving with keep-last-k
rotation, finding the newest one that reads back (a corrupt newest one is skipped with a warning),
resuming from it. :class:`Checkpoint` is the :class:`~ferrum.train.Trainer` callback on top of it
(every epoch or every N steps, ``resume=True`` to continue), which ``ferrum train --checkpoint-dir
DIR [--resume]`` uses.
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

import ferrum

from ..utils.data import DataLoader
from .callbacks import Callback

if TYPE_CHECKING:
    from .loop import Trainer

__all__ = ["CheckpointError", "save_checkpoint", "load_checkpoint", "read_checkpoint", "restore_checkpoint",
           "atomic_write", "get_rng_states", "set_rng_states", "Checkpointer", "Checkpoint"]

MAGIC = b"FERRUMCK"
VERSION = 1
_HEADER = struct.Struct("<8sIQI")  # magic, version, payload bytes, CRC-32 of the payload
FORMAT = "ferrum.train.checkpoint"
# the parts save_checkpoint takes as objects with state_dict()/load_state_dict()
_PARTS = ("model", "optimizer", "scheduler", "scaler", "loader", "trainer")


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read back: truncated, corrupted, or not a checkpoint."""


# ------------------------------------------------------------------------------------ random states
def get_rng_states() -> dict:
    """The states of ferrum's default generator, NumPy's global (legacy) RNG and Python's
    ``random``, as data ``ferrum.save`` stores and ``ferrum.load(weights_only=True)`` reads."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, words, gauss_next = random.getstate()
    return {"ferrum": ferrum.get_rng_state(),
            "numpy": {"kind": kind, "keys": keys.tolist(), "pos": int(pos), "has_gauss": int(has_gauss),
                      "cached_gaussian": float(cached)},
            "python": {"version": version, "words": list(words), "gauss_next": gauss_next}}


def set_rng_states(states: dict) -> None:
    """Restores what :func:`get_rng_states` returned."""
    ferrum.set_rng_state(states["ferrum"])
    n = states["numpy"]
    np.random.set_state((n["kind"], np.array(n["keys"], dtype=np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = states["python"]
    random.setstate((p["version"], tuple(p["words"]), p["gauss_next"]))


# ------------------------------------------------------------------------------------ the file
_umask: int | None = None


def _file_mode() -> int:
    # mkstemp creates 0600 files; a checkpoint gets what open() would give it (0666 & ~umask). The
    # umask can only be read by setting it, so it is read once per process.
    global _umask
    if _umask is None:
        _umask = os.umask(0o022)
        os.umask(_umask)
    return 0o666 & ~_umask


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # a platform whose folders cannot be opened (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Writes ``path`` with ``write(file)`` so that ``path`` is at every moment either its old
    content (or absent) or the complete new one: a temporary file in the same folder (so the
    rename stays on one file system), flush + fsync, ``os.replace``, fsync of the folder (so the
    rename itself survives a power cut). The temporary file is removed if writing fails."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w+b") as f:
            os.fchmod(f.fileno(), _file_mode())
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


class _Checksummed:
    """The payload's file for ``ferrum.save``: passes writes through to ``f`` after the header,
    computing the CRC-32 on the way (the file is not read again). A writer that seeks back and
    rewrites (zip writers may) turns that off; the CRC is then computed by reading the payload back.
    Measured on a 50 MB state dict (2 shared cores, best of 3): 180-210 ms a checkpoint this way,
    260 ms serialising into a BytesIO first (its growth copies, one more copy), 90-115 ms a plain
    ``ferrum.save`` without checksum or fsync; today's zip writer seeks back, so the CRC is taken
    by reading the payload back (from the page cache). benchmarks/checkpoint_save.py."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.pos = self.end = 0
        self.crc = 0
        self.streaming = True

    def write(self, b: Any) -> int:
        if self.pos != self.end:
            self.streaming = False
        n = self.f.write(b)
        if self.streaming:
            self.crc = zlib.crc32(b, self.crc)
        self.pos += n
        self.end = max(self.end, self.pos)
        return n

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.pos, self.end)[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self.pos = base + offset
        self.f.seek(_HEADER.size + self.pos)
        return self.pos

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def flush(self) -> None:
        self.f.flush()

    def finish(self) -> None:
        """Writes the header (length, CRC-32) at the start of the file."""
        f = self.f
        if not self.streaming:
            f.flush()
            f.seek(_HEADER.size)
            crc, left = 0, self.end
            while left:
                chunk = f.read(min(left, 1 << 24))
                if not chunk:
                    raise OSError("checkpoint: the temporary file is shorter than what was written")
                crc = zlib.crc32(chunk, crc)
                left -= len(chunk)
            self.crc = crc
        f.seek(0)
        f.write(_HEADER.pack(MAGIC, VERSION, self.end, self.crc))


def _write_state(obj: Any) -> Callable[[BinaryIO], None]:
    def write(f: BinaryIO) -> None:
        f.write(b"\0" * _HEADER.size)  # the header goes last, once length and CRC are known
        out = _Checksummed(f)
        ferrum.save(obj, out)
        out.finish()
    return write


def _read(path: str, map_location: Any) -> dict:
    def fail(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path!r}: {why}")

    with open(path, "rb") as f:
        head = f.read(_HEADER.size)
        # bytes, not a slice of a larger buffer: BytesIO shares it instead of copying
        payload = f.read()
    n = len(head)
    if n < _HEADER.size:
        if MAGIC.startswith(head[:8]):
            raise fail(f"truncated: {n} bytes, shorter than the {_HEADER.size}-byte header")
        raise fail("not a ferrum training checkpoint (no FERRUMCK header)")
    magic, version, length, crc = _HEADER.unpack(head)
    if magic != MAGIC:
        raise fail("not a ferrum training checkpoint (no FERRUMCK header)")
    if version != VERSION:
        raise fail(f"format version {version}; this ferrum reads version {VERSION}")
    if len(payload) != length:
        kind = "truncated" if len(payload) < length else "has trailing bytes"
        raise fail(f"{kind}: the header says {length} payload bytes, the file has {len(payload)}")
    if zlib.crc32(payload) != crc:
        raise fail(f"corrupt: CRC-32 mismatch (stored {crc:08x}, computed {zlib.crc32(payload):08x})")
    try:
        state = ferrum.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as e:  # the checksum matched, so this is a writer's bug, not a damaged disk
        raise fail(f"cannot be loaded: {type(e).__name__}: {e}") from e
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise fail("not a ferrum training checkpoint (unexpected content)")
    return state


# ------------------------------------------------------------------------------------ one file
def save_checkpoint(path: str | os.PathLike, *, model: Any = None, optimizer: Any = None,
                    scheduler: Any = None, scaler: Any = None, loader: Any = None, trainer: Any = None,
                    epoch: int | None = None, step: int | None = None, extra: Any = None,
                    objects: dict[str, Any] | None = None, rng: bool = True) -> str:
    """Saves a training checkpoint to ``path`` atomically; returns the path.

    Args:
        model, optimizer, scheduler, scaler (``ferrum.amp.GradScaler``), loader (the training
            ``DataLoader``), trainer (a :class:`~ferrum.train.Trainer`): anything with
            ``state_dict()``; the ones left None are not saved.
        epoch, step: where training is, returned by :func:`load_checkpoint` as they were given.
        extra: any other data (dicts, lists, tensors, numbers, strings).
        objects: more objects with ``state_dict()``, by name (restored by name).
        rng: save the states of ferrum's, NumPy's and Python's global random generators.

    Call it between steps, in the process that iterates the loader.
    """
    state: dict[str, Any] = {"format": FORMAT, "epoch": epoch, "step": step, "extra": extra,
                             "time": time.time()}
    for name, obj in zip(_PARTS, (model, optimizer, scheduler, scaler, loader, trainer)):
        if obj is not None:
            sd = getattr(obj, "state_dict", None)
            if not callable(sd):
                raise TypeError(f"save_checkpoint: {name} ({type(obj).__name__}) has no state_dict()")
            state[name] = sd()
    if objects:
        state["objects"] = {name: obj.state_dict() for name, obj in objects.items()}
    state["rng"] = get_rng_states() if rng else None
    atomic_write(path, _write_state(state))
    return os.fspath(path)


def read_checkpoint(path: str | os.PathLike, map_location: Any = None) -> dict:
    """The content of a checkpoint (a dict with ``epoch``, ``step``, ``extra``, the saved
    ``state_dict()`` of each part and ``rng``), checked (header, length, CRC-32) before anything is
    unpickled. Raises :class:`CheckpointError` naming the file when it is damaged."""
    return _read(os.fspath(path), map_location)


def restore_checkpoint(state: dict, *, model: Any = None, optimizer: Any = None, scheduler: Any = None,
                       scaler: Any = None, loader: Any = None, trainer: Any = None,
                       objects: dict[str, Any] | None = None, rng: bool = True, strict: bool = True) -> dict:
    """Loads what :func:`read_checkpoint` returned into the given objects (each one given must have
    been saved; ``strict`` is the model's ``load_state_dict`` flag) and, with ``rng``, restores the
    global random states. Returns ``state``."""
    objs = dict(zip(_PARTS, (model, optimizer, scheduler, scaler, loader, trainer)))
    missing = [k for k, v in objs.items() if v is not None and state.get(k) is None]
    saved_objects = state.get("objects") or {}
    missing += [f"objects[{k!r}]" for k in (objects or {}) if k not in saved_objects]
    if missing:
        raise KeyError(f"load_checkpoint: the checkpoint has no {', '.join(missing)} state")
    for name, obj in objs.items():
        if obj is None:
            continue
        if name == "model":
            obj.load_state_dict(state[name], strict=strict)
        else:
            obj.load_state_dict(state[name])
    for name, obj in (objects or {}).items():
        obj.load_state_dict(saved_objects[name])
    if rng and state.get("rng") is not None:
        set_rng_states(state["rng"])
    return state


def load_checkpoint(path: str | os.PathLike, *, model: Any = None, optimizer: Any = None,
                    scheduler: Any = None, scaler: Any = None, loader: Any = None, trainer: Any = None,
                    objects: dict[str, Any] | None = None, rng: bool = True, strict: bool = True,
                    map_location: Any = None) -> dict:
    """Restores a checkpoint written by :func:`save_checkpoint` into the given objects (see
    :func:`restore_checkpoint`); returns its content (``epoch``, ``step``, ``extra``, ...). The
    file is checked completely before any object is touched."""
    state = read_checkpoint(path, map_location)
    return restore_checkpoint(state, model=model, optimizer=optimizer, scheduler=scheduler, scaler=scaler,
                              loader=loader, trainer=trainer, objects=objects, rng=rng, strict=strict)


# ------------------------------------------------------------------------------------ a folder
class Checkpointer:
    """A folder of checkpoints ``<prefix>-<step>.ckpt`` (step zero-padded to 10 digits): saving
    with keep-last-``keep`` rotation (None: keep all) and resuming from the newest readable one.

    Temporary files left by a writer that was killed (``.<name>.<random>.tmp``) are removed when a
    Checkpointer is created on the folder; they are never mistaken for checkpoints.
    """

    def __init__(self, directory: str | os.PathLike, keep: int | None = 3,
                 prefix: str = "checkpoint") -> None:
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
            raise ValueError(f"Checkpointer: keep must be an integer >= 1 or None, got {keep!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", prefix) or prefix.startswith("."):
            raise ValueError(f"Checkpointer: prefix must be a plain file name part, got {prefix!r}")
        self.directory = os.fspath(directory)
        self.keep = keep
        self.prefix = prefix
        self._name = re.compile(rf"{re.escape(prefix)}-(\d+)\.ckpt")
        self._tmp = re.compile(rf"\.{re.escape(prefix)}-\d+\.ckpt\..+\.tmp")
        os.makedirs(self.directory, exist_ok=True)
        for name in os.listdir(self.directory):
            if self._tmp.fullmatch(name):
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass

    def path(self, step: int) -> str:
        """The file of the checkpoint at ``step``."""
        return os.path.join(self.directory, f"{self.prefix}-{step:010d}.ckpt")

    def checkpoints(self) -> list[str]:
        """The checkpoint files in the folder, oldest (lowest step) first."""
        found = []
        for name in os.listdir(self.directory):
            m = self._name.fullmatch(name)
            if m:
                found.append((int(m.group(1)), os.path.join(self.directory, name)))
        return [p for _, p in sorted(found)]

    def save(self, step: int, **parts: Any) -> str:
        """:func:`save_checkpoint` to :meth:`path` ``(step)`` (``step`` is saved too), then removes
        all but the newest ``keep`` checkpoints; returns the path. A checkpoint of the same step is
        replaced (atomically)."""
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"Checkpointer.save: step must be an integer >= 0, got {step!r}")
        path = save_checkpoint(self.path(step), step=step, **parts)
        if self.keep is not None:
            # only after the new one is durable: a crash here leaves more files, never fewer
            for old in self.checkpoints()[:-self.keep]:
                try:
                    os.unlink(old)
                except FileNotFoundError:
                    pass
        return path

    def latest(self, map_location: Any = None) -> tuple[str, dict] | None:
        """The newest checkpoint that reads back, as ``(path, content)``; damaged newer ones are
        skipped with a warning naming them. None when there is none."""
        for path in reversed(self.checkpoints()):
            try:
                return path, read_checkpoint(path, map_location)
            except CheckpointError as e:
                warnings.warn(f"skipping a damaged checkpoint: {e}", RuntimeWarning, stacklevel=2)
            except FileNotFoundError:  # removed meanwhile (another process's rotation)
                continue
        return None

    def load_latest(self, *, map_location: Any = None, **objects: Any) -> dict | None:
        """Restores the newest readable checkpoint into ``objects`` (the keywords of
        :func:`restore_checkpoint`); returns its content with its ``path``, or None when the folder
        has none."""
        found = self.latest(map_location)
        if found is None:
            return None
        path, state = found
        restore_checkpoint(state, **objects)
        state["path"] = path
        return state


# ------------------------------------------------------------------------------------ the callback
class _BetweenEpochs:
    """A DataLoader's state as if its current epoch were over."""

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader

    def state_dict(self) -> dict:
        return self.loader._state_dict(end_epoch=True)


class Checkpoint(Callback):
    """Saves a checkpoint of a :class:`~ferrum.train.Trainer` run into ``directory``: after every
    epoch, or every ``every_steps`` optimizer steps (and after the last step) when given; keeps
    the newest ``keep``. With ``resume=True`` it first restores the newest readable checkpoint
    there (model, optimizer, scheduler, the training loader's position, the trainer's state and
    the random states), so ``fit()`` continues exactly where that run stopped, in the middle of an
    epoch if it was saved there; with no checkpoint there it starts from the beginning.

    Put it last in ``callbacks``: it saves what the callbacks before it did in the same hook. The
    training loader is saved when it has ``state_dict()`` (a ``DataLoader`` has); other iterables
    restart their epoch on resume. The trainer's other callbacks that have ``state_dict()`` and
    ``load_state_dict()`` are saved and restored too (by position and class). ``scaler``: a
    ``GradScaler`` to save along (a custom loop's).
    """

    def __init__(self, directory: str | os.PathLike, every_steps: int | None = None, keep: int | None = 3,
                 resume: bool = False, scaler: Any = None, log: Any = None) -> None:
        if every_steps is not None and (not isinstance(every_steps, int) or isinstance(every_steps, bool)
                                        or every_steps < 1):
            raise ValueError(f"Checkpoint: every_steps must be an integer >= 1 or None, got {every_steps!r}")
        self.checkpointer = Checkpointer(directory, keep=keep)
        self.every_steps = every_steps
        self.resume = resume
        self.scaler = scaler
        self.log = log
        #: the content of the checkpoint resumed from (None when starting afresh)
        self.resumed: dict | None = None

    def _parts(self, trainer: Trainer, saving: bool = False) -> dict[str, Any]:
        loader = trainer.train_loader
        if not callable(getattr(loader, "state_dict", None)):
            loader = None
        elif saving and not trainer.state.in_epoch and isinstance(loader, DataLoader):
            # the Trainer ended its epoch (maybe early, stopped by a callback) but the loader's
            # iterator may not know: save the loader between epochs too
            loader = _BetweenEpochs(loader)
        # the other callbacks that have a state of their own (both methods), by position and class
        stateful = {f"callback{i}:{type(cb).__name__}": cb for i, cb in enumerate(trainer.callbacks)
                    if cb is not self and callable(getattr(cb, "state_dict", None))
                    and callable(getattr(cb, "load_state_dict", None))}
        return {"model": trainer.model, "optimizer": trainer.optimizer, "scheduler": trainer.scheduler,
                "scaler": self.scaler, "trainer": trainer, "loader": loader, "objects": stateful}

    def on_train_begin(self, trainer: Trainer) -> None:
        if not self.resume or self.resumed is not None:
            return
        state = self.checkpointer.load_latest(**self._parts(trainer))
        self.resumed = state
        if state is not None:
            if self.log is not None:
                st = trainer.state
                where = f"in epoch {st.epoch}" if st.in_epoch else f"after epoch {st.epoch}"
                print(f"resumed from {state['path']} (step {st.step}, {where})", file=self.log, flush=True)

    def save(self, trainer: Trainer) -> str:
        """Saves a checkpoint now (at ``trainer.state.step``)."""
        return self.checkpointer.save(trainer.state.step, epoch=trainer.state.epoch,
                                      **self._parts(trainer, saving=True))

    def on_batch_end(self, trainer: Trainer) -> None:
        st = trainer.state
        if self.every_steps is not None and (st.step % self.every_steps == 0 or (
                st.epoch == st.epochs and st.batch == st.batches)):  # and after the last step
            self.save(trainer)

    def on_epoch_end(self, trainer: Trainer) -> None:
        if self.every_steps is None:
            self.save(trainer)


def checkpoint_callbacks(job: str, checkpoint_dir: str | None, resume: bool, keep: int = 3,
                         every_steps: int | None = None, log: Any = None) -> list[Callback]:
    """What a recipe adds to its Trainer's callbacks for ``--checkpoint-dir`` / ``--resume`` /
    ``--keep-checkpoints`` / ``--checkpoint-every``: ``[Checkpoint(...)]``, or ``[]`` without a
    folder. Raises ``ValueError("<job>: ...")`` for ``resume`` without a folder."""
    if checkpoint_dir is None:
        if resume:
            raise ValueError(f"{job}: --resume needs --checkpoint-dir (the folder to resume from)")
        return []
    return [Checkpoint(checkpoint_dir, every_steps=every_steps, keep=keep, resume=resume, log=log)]
