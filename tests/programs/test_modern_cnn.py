"""A modern-idiom CNN training script, run with ferrum as torch.

``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")``,
``torch.backends.cudnn.benchmark = True``, an ``nn.Sequential`` of Conv2d/GroupNorm/GELU/
``nn.AdaptiveAvgPool2d``/``nn.Flatten``/Linear, ``model.apply(init_fn)`` with kaiming/zeros init,
``model.to(device, memory_format=torch.channels_last)`` and channels_last inputs, AdamW with a
parameter group without weight decay, OneCycleLR, label smoothing, gradient accumulation,
``torch.nn.utils.clip_grad_norm_``, ``optimizer.zero_grad(set_to_none=True)``,
``torch.inference_mode()`` evaluation and a checkpoint dict (model, optimizer, scheduler, epoch)
saved and resumed.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import math
import torch
from torch import nn
import torch.nn.functional as F

torch.backends.cudnn.benchmark = True
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def conv_block(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.GroupNorm(num_groups=4, num_channels=cout),
        nn.GELU(),
    )


def build_model(num_classes=10, width=16):
    return nn.Sequential(
        conv_block(3, width),
        conv_block(width, width * 2, stride=2),
        nn.Dropout2d(0.1),
        conv_block(width * 2, width * 4, stride=2),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(width * 4, num_classes),
    )


def init_fn(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, (nn.GroupNorm, nn.BatchNorm2d)):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        nn.init.zeros_(m.bias)


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    x = torch.randn(n, 3, 16, 16, generator=g) * 0.5
    x[torch.arange(n), y % 3] += (y.float() / 5.0 - 1.0).view(-1, 1, 1)
    return torch.utils.data.TensorDataset(x, y)


def evaluate(model, loader):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.inference_mode():
        for x, y in loader:
            x = x.to(device, non_blocking=True).to(memory_format=torch.channels_last)
            y = y.to(device, non_blocking=True)
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=-1) == y).sum().item()
            total += y.numel()
    return loss_sum / total, correct / total


def fit(epochs=3, accum_steps=2, batch_size=8, lr=3e-3, max_norm=1.0, n=64, checkpoint=None, resume=None,
        stop_after=None):
    torch.manual_seed(0)
    model = build_model()
    model.apply(init_fn)
    model = model.to(device, memory_format=torch.channels_last)
    train_loader = torch.utils.data.DataLoader(make_data(n, 0), batch_size=batch_size, shuffle=True,
                                               drop_last=True, pin_memory=torch.cuda.is_available())
    val_loader = torch.utils.data.DataLoader(make_data(32, 1), batch_size=16)
    optimizer = torch.optim.AdamW(param_groups(model, 0.05), lr=lr, betas=(0.9, 0.999))
    steps_per_epoch = math.ceil(len(train_loader) / accum_steps)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=epochs,
                                                    steps_per_epoch=steps_per_epoch)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    start_epoch = 0
    if resume is not None:
        state = torch.load(resume, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch = state["epoch"] + 1
    history, norms = [], []
    for epoch in range(start_epoch, epochs):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        running = 0.0
        for i, (x, y) in enumerate(train_loader):
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            y = y.to(device)
            loss = criterion(model(x), y) / accum_steps
            loss.backward()
            running += loss.item()
            if (i + 1) % accum_steps == 0:
                total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                norms.append(float(total_norm))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
        val_loss, val_acc = evaluate(model, val_loader)
        history.append((running / len(train_loader) * accum_steps, val_loss, val_acc,
                        scheduler.get_last_lr()[0]))
        if checkpoint is not None:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "epoch": epoch}, checkpoint)
        if stop_after is not None and epoch == stop_after:
            break
    return model, history, norms
'''


def test_modern_cnn_program(run_program, tmp_path):
    import ferrum

    ns = run_program(SOURCE)
    ckpt = str(tmp_path / "ckpt.pt")
    model, history, norms = ns["fit"](epochs=4, checkpoint=ckpt)
    assert ferrum.backends.cudnn.benchmark is True
    ferrum.backends.cudnn.benchmark = False
    assert ns["device"].type == "cpu"
    assert history[-1][0] < history[0][0] and history[-1][1] < history[0][1]
    assert len(norms) == 4 * 4 and all(np.isfinite(norms))
    # an interrupted run resumes from its checkpoint: the schedule continues where it stopped
    _, first, _ = ns["fit"](epochs=4, checkpoint=ckpt, stop_after=1)
    _, resumed, _ = ns["fit"](epochs=4, resume=ckpt)
    assert len(first) == 2 and len(resumed) == 2
    assert [h[3] for h in resumed] == [h[3] for h in history[2:]]
    x = ferrum.randn(2, 3, 16, 16).to(memory_format=ferrum.channels_last)
    model.eval()
    with ferrum.no_grad():
        assert tuple(model(x).shape) == (2, 10)


def test_modern_cnn_step_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    # float64: AdamW's g/sqrt(v) turns float32 rounding of near-zero gradients into lr-sized steps
    tm = tns["build_model"]().double()
    tm.apply(tns["init_fn"])
    fm = fns["build_model"]().double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    tm.eval(), fm.eval()  # no dropout: the same function
    x = np.random.default_rng(0).standard_normal((4, 3, 16, 16))
    y = np.array([1, 2, 3, 4])
    res = []
    for lib, m in ((torch, tm), (ferrum, fm)):
        m = m.to(memory_format=lib.channels_last)
        opt = lib.optim.AdamW(fns["param_groups"](m, 0.05) if lib is ferrum else tns["param_groups"](m, 0.05),
                              lr=1e-2)
        norms = []
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            xin = lib.tensor(x).contiguous(memory_format=lib.channels_last)
            loss = lib.nn.CrossEntropyLoss(label_smoothing=0.1)(m(xin), lib.tensor(y))
            loss.backward()
            norms.append(float(lib.nn.utils.clip_grad_norm_(m.parameters(), 1.0)))
            opt.step()
        res.append((loss.item(), norms, {n: p.detach().numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-9)
    for n, p in res[0][2].items():
        np.testing.assert_allclose(res[1][2][n], p, rtol=1e-7, atol=1e-10, err_msg=n)
