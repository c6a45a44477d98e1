"""One training run of tests/train/test_checkpoint_resume.py, in a process of its own:

    python _resume_run.py ROOT CKPT_DIR OUT.npz STOP_STEP PERSISTENT RESUME

trains a small MLP with dropout on 320 MNIST images (batch 32, shuffled, 2 DataLoader workers),
Adam with a per-step OneCycleLR, an evaluation loader, and a callback drawing from NumPy's and
Python's global RNGs every step, for 3 epochs; saves a checkpoint every 5 steps; stops after step
STOP_STEP (0: never); with RESUME=1 first resumes from CKPT_DIR. Writes the final parameters and
the history to OUT.npz.
"""

from __future__ import annotations

import json
import random
import sys

import numpy as np

import ferrum
from ferrum import nn, optim, transforms
from ferrum.datasets import MNIST
from ferrum.train import Callback, Trainer
from ferrum.train.checkpoint import Checkpoint
from ferrum.utils.data import DataLoader, Subset


class GlobalRNGNoise(Callback):
    """Perturbs the last bias with NumPy's and Python's global RNGs after every step, so a resumed
    run that did not restore them would differ."""

    def on_batch_end(self, trainer):
        b = trainer.model[-1].bias
        with ferrum.no_grad():
            b.add_(float(np.random.rand() - 0.5) * 1e-4 + (random.random() - 0.5) * 1e-4)


class StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer):
        if trainer.state.step == self.step:
            trainer.state.should_stop = True


def main(root, ckpt_dir, out, stop, persistent, resume):
    ferrum.set_num_threads(1)
    to_x = transforms.ToTensor()
    train_set = Subset(MNIST(root, train=True, transform=to_x), range(320))
    test_set = Subset(MNIST(root, train=False, transform=to_x), range(64))
    loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=2, persistent_workers=persistent,
                        generator=ferrum.Generator().manual_seed(7))
    eval_loader = DataLoader(test_set, batch_size=64)
    ferrum.manual_seed(0)
    np.random.seed(1)
    random.seed(2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    epochs = 3
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=epochs * len(loader))
    callbacks = [GlobalRNGNoise()]
    if stop:
        callbacks.append(StopAt(stop))
    callbacks.append(Checkpoint(ckpt_dir, every_steps=5, keep=2, resume=resume))
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), loader, epochs=epochs, scheduler=sched,
                      scheduler_interval="step", eval_loader=eval_loader, callbacks=callbacks, progress=False,
                      log=None)
    trainer.fit()
    if resume:
        assert callbacks[-1].resumed is not None, "nothing to resume from"
    history = [{k: v for k, v in h.items() if k not in ("seconds", "samples_per_s")} for h in trainer.history]
    np.savez(out, history=json.dumps(history), step=trainer.state.step,
             **{name: p.detach().numpy() for name, p in model.state_dict().items()})


if __name__ == "__main__":
    root, ckpt_dir, out, stop, persistent, resume = sys.argv[1:]
    main(root, ckpt_dir, out, int(stop), persistent == "1", resume == "1")
