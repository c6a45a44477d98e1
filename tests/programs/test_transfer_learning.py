"""The transfer-learning tutorial, run with ferrum as torch.

``models.resnet18(weights=None)`` with ``fc`` replaced (``fc.in_features``), the fine-tuning and the
fixed-feature-extractor variants (``requires_grad = False`` on every parameter but the new head),
``lr_scheduler.StepLR``, ``model.train()/eval()`` per phase, ``torch.set_grad_enabled(phase ==
'train')``, ``torch.max(outputs, 1)``, ``running_corrects += torch.sum(preds == labels.data)``,
``running_corrects.double() / dataset_size``, ``copy.deepcopy(model.state_dict())`` of the best
epoch and the best weights saved and reloaded through a temporary directory. The ants/bees folder
is replaced by a small two-class synthetic set of 32x32 images.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import copy
import os
import time
from tempfile import TemporaryDirectory

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import models

torch.backends.cudnn.benchmark = True
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"


def make_dataloaders(n_train=32, n_val=16, batch_size=8):
    g = torch.Generator().manual_seed(0)

    def make(n):
        labels = torch.randint(0, 2, (n,), generator=g)
        images = torch.randn(n, 3, 32, 32, generator=g) * 0.5
        images[labels == 1, 1] += 1.0  # "bees" are greener
        return torch.utils.data.TensorDataset(images, labels)

    image_datasets = {'train': make(n_train), 'val': make(n_val)}
    dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=batch_size,
                                                  shuffle=(x == 'train'), num_workers=0)
                   for x in ['train', 'val']}
    dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
    return dataloaders, dataset_sizes


def train_model(model, criterion, optimizer, scheduler, dataloaders, dataset_sizes, num_epochs=25):
    since = time.time()
    history = []
    with TemporaryDirectory() as tempdir:
        best_model_params_path = os.path.join(tempdir, 'best_model_params.pt')
        torch.save(model.state_dict(), best_model_params_path)
        best_acc = 0.0
        best_model_wts = copy.deepcopy(model.state_dict())

        for epoch in range(num_epochs):
            print(f'Epoch {epoch}/{num_epochs - 1}')
            print('-' * 10)
            for phase in ['train', 'val']:
                if phase == 'train':
                    model.train()
                else:
                    model.eval()

                running_loss = 0.0
                running_corrects = 0

                for inputs, labels in dataloaders[phase]:
                    inputs = inputs.to(device)
                    labels = labels.to(device)
                    optimizer.zero_grad()
                    with torch.set_grad_enabled(phase == 'train'):
                        outputs = model(inputs)
                        _, preds = torch.max(outputs, 1)
                        loss = criterion(outputs, labels)
                        if phase == 'train':
                            loss.backward()
                            optimizer.step()
                    running_loss += loss.item() * inputs.size(0)
                    running_corrects += torch.sum(preds == labels.data)
                if phase == 'train':
                    scheduler.step()

                epoch_loss = running_loss / dataset_sizes[phase]
                epoch_acc = running_corrects.double() / dataset_sizes[phase]
                print(f'{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}')
                history.append((phase, epoch_loss, float(epoch_acc)))

                if phase == 'val' and epoch_acc > best_acc:
                    best_acc = epoch_acc
                    best_model_wts = copy.deepcopy(model.state_dict())
                    torch.save(model.state_dict(), best_model_params_path)
            print()

        time_elapsed = time.time() - since
        print(f'Training complete in {time_elapsed // 60:.0f}m {time_elapsed % 60:.0f}s')
        print(f'Best val Acc: {best_acc:4f}')
        model.load_state_dict(torch.load(best_model_params_path, weights_only=True))
        reloaded = copy.deepcopy(model.state_dict())
        model.load_state_dict(best_model_wts)
    return model, history, best_acc, reloaded


def finetune(num_epochs=2):
    dataloaders, dataset_sizes = make_dataloaders()
    model_ft = models.resnet18(weights=None)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 2)
    model_ft = model_ft.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
    return train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, dataloaders, dataset_sizes,
                       num_epochs=num_epochs), optimizer_ft


def fixed_feature_extractor(num_epochs=2):
    dataloaders, dataset_sizes = make_dataloaders()
    model_conv = models.resnet18(weights=None)
    for param in model_conv.parameters():
        param.requires_grad = False
    num_ftrs = model_conv.fc.in_features
    model_conv.fc = nn.Linear(num_ftrs, 2)
    model_conv = model_conv.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=1, gamma=0.1)
    frozen_before = copy.deepcopy(model_conv.layer1[0].conv1.weight)
    out = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, dataloaders, dataset_sizes,
                      num_epochs=num_epochs)
    return out, frozen_before, optimizer_conv
'''


def test_finetune_program(run_program, capsys):
    import ferrum

    ns = run_program(SOURCE)
    (model, history, best_acc, reloaded), opt = ns["finetune"](num_epochs=2)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "Training complete in" in out and "Best val Acc:" in out
    assert [h[0] for h in history] == ["train", "val", "train", "val"]
    assert all(0.0 <= h[2] <= 1.0 for h in history)
    assert isinstance(best_acc, ferrum.Tensor) and best_acc.dtype == ferrum.float64
    # the best weights saved to disk and the deep copy are the same state
    best = model.state_dict()
    assert list(reloaded) == list(best)
    for k, v in best.items():
        assert ferrum.equal(reloaded[k], v), k
    assert opt.param_groups[0]["lr"] == 0.001 and model.fc.out_features == 2
    assert ferrum.backends.cudnn.benchmark is True
    ferrum.backends.cudnn.benchmark = False


def test_fixed_feature_extractor_program(run_program):
    import ferrum

    ns = run_program(SOURCE)
    (model, history, best_acc, _), frozen_before, opt = ns["fixed_feature_extractor"](num_epochs=2)
    assert ferrum.equal(model.layer1[0].conv1.weight, frozen_before)  # frozen
    assert model.layer1[0].conv1.weight.grad is None and model.fc.weight.requires_grad
    assert abs(opt.param_groups[0]["lr"] - 0.0001) < 1e-12
    # batch norm statistics still moved in train mode (as in torch: frozen weights, live buffers);
    # the model holds the best epoch's state: 4 batches per epoch
    assert model.bn1.num_batches_tracked.item() in (4, 8)


def test_set_grad_enabled_phase_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    # float64: eval after a train step on 2 samples uses running variances of 2-sample batches
    tm = tns["models"].resnet18(weights=None)
    tm.fc = torch.nn.Linear(tm.fc.in_features, 2)
    fm = fns["models"].resnet18(weights=None)
    fm.fc = ferrum.nn.Linear(fm.fc.in_features, 2)
    tm.double(), fm.double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32))
    for phase in ("train", "val"):
        res = []
        for lib, m in ((torch, tm), (ferrum, fm)):
            m.train() if phase == "train" else m.eval()
            with lib.set_grad_enabled(phase == "train"):
                out = m(lib.tensor(x))
                res.append((out.detach().numpy(), out.requires_grad, lib.max(out, 1)[1].numpy()))
        np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-9, atol=1e-12)
        assert res[1][1] == res[0][1] == (phase == "train")
        assert (res[1][2] == res[0][2]).all()
