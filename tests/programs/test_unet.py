"""A U-Net segmentation program (in the style of the popular PyTorch U-Net repositories), run with
ferrum as torch.

DoubleConv (Conv2d/BatchNorm2d/ReLU twice), MaxPool2d downsampling, both upsampling variants
(``nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)`` and ``ConvTranspose2d``),
``F.pad`` of the skip connection when sizes differ (odd input sizes), ``torch.cat([x2, x1],
dim=1)``, cross-entropy over (N, C, H, W) logits plus a Dice loss built from ``F.one_hot(...)
.permute(0, 3, 1, 2)``, RMSprop with momentum and weight decay, ReduceLROnPlateau, ``torch.autocast``
and ``torch.amp.GradScaler`` (both disabled, as on a CPU), ``clip_grad_norm_`` and channels_last
inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim


class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        # input is CHW
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2,
                        diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(OutConv, self).__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False, base=64):
        super(UNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        factor = 2 if bilinear else 1
        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.down3 = Down(base * 4, base * 8 // factor)
        self.up1 = Up(base * 8, base * 4 // factor, bilinear)
        self.up2 = Up(base * 4, base * 2 // factor, bilinear)
        self.up3 = Up(base * 2, base, bilinear)
        self.outc = OutConv(base, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.up1(x4, x3)
        x = self.up2(x, x2)
        x = self.up3(x, x1)
        logits = self.outc(x)
        return logits


def dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
    assert input.size() == target.size()
    sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
    inter = 2 * (input * target).sum(dim=sum_dim)
    sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
    sets_sum = torch.where(sets_sum == 0, inter, sets_sum)
    dice = (inter + epsilon) / (sets_sum + epsilon)
    return dice.mean()


def multiclass_dice_coeff(input, target, reduce_batch_first=False, epsilon=1e-6):
    return dice_coeff(input.flatten(0, 1), target.flatten(0, 1), reduce_batch_first, epsilon)


def dice_loss(input, target, multiclass=False):
    fn = multiclass_dice_coeff if multiclass else dice_coeff
    return 1 - fn(input, target, reduce_batch_first=True)


def make_data(n, size, n_classes, seed):
    # images with a bright square; the mask labels the square 1 and its right half 2
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(n, 3, size, size, generator=g) * 0.3
    masks = torch.zeros(n, size, size, dtype=torch.long)
    for i in range(n):
        r, c = torch.randint(0, size - 8, (2,), generator=g).tolist()
        images[i, :, r:r + 8, c:c + 8] += 1.5
        masks[i, r:r + 8, c:c + 4] = 1
        masks[i, r:r + 8, c + 4:c + 8] = n_classes - 1
    return images, masks


def train_model(model, device, epochs=2, batch_size=2, learning_rate=1e-5, weight_decay=1e-8,
                momentum=0.999, gradient_clipping=1.0, amp=False, size=36, n=4):
    images, masks = make_data(n, size, model.n_classes, 0)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, masks),
                                         batch_size=batch_size, shuffle=True)
    optimizer = optim.RMSprop(model.parameters(), lr=learning_rate, weight_decay=weight_decay,
                              momentum=momentum, foreach=True)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'max', patience=5)
    grad_scaler = torch.amp.GradScaler(enabled=amp)
    criterion = nn.CrossEntropyLoss() if model.n_classes > 1 else nn.BCEWithLogitsLoss()
    global_step = 0
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_loss = 0
        for batch_images, true_masks in loader:
            batch_images = batch_images.to(device=device, dtype=torch.float32,
                                           memory_format=torch.channels_last)
            true_masks = true_masks.to(device=device, dtype=torch.long)
            with torch.autocast(device.type if device.type != 'mps' else 'cpu', enabled=amp):
                masks_pred = model(batch_images)
                if model.n_classes == 1:
                    loss = criterion(masks_pred.squeeze(1), true_masks.float())
                    loss += dice_loss(F.sigmoid(masks_pred.squeeze(1)), true_masks.float(), multiclass=False)
                else:
                    loss = criterion(masks_pred, true_masks)
                    loss += dice_loss(
                        F.softmax(masks_pred, dim=1).float(),
                        F.one_hot(true_masks, model.n_classes).permute(0, 3, 1, 2).float(),
                        multiclass=True
                    )
            optimizer.zero_grad(set_to_none=True)
            grad_scaler.scale(loss).backward()
            grad_scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), gradient_clipping)
            grad_scaler.step(optimizer)
            grad_scaler.update()
            global_step += 1
            epoch_loss += loss.item()
            history.append(loss.item())
        val_score = evaluate(model, images, masks, device)
        scheduler.step(val_score)
    return history


@torch.inference_mode()
def evaluate(net, images, masks, device):
    net.eval()
    mask_pred = net(images.to(device))
    mask_true = F.one_hot(masks, net.n_classes).permute(0, 3, 1, 2).float()
    mask_pred = F.one_hot(mask_pred.argmax(dim=1), net.n_classes).permute(0, 3, 1, 2).float()
    dice_score = multiclass_dice_coeff(mask_pred[:, 1:], mask_true[:, 1:], reduce_batch_first=False)
    net.train()
    return dice_score
'''


@pytest.mark.parametrize("bilinear", [True, False])
def test_unet_program_trains(run_program, bilinear):
    import ferrum

    ns = run_program(SOURCE)
    model = ns["UNet"](n_channels=3, n_classes=3, bilinear=bilinear, base=4)
    model = model.to(memory_format=ferrum.channels_last)
    x = ferrum.randn(2, 3, 36, 36)  # 36 -> 18 -> 9 -> 4: the way up pads 8 to 9
    assert tuple(model(x).shape) == (2, 3, 36, 36)
    history = ns["train_model"](model, ferrum.device("cpu"), epochs=3, learning_rate=1e-3, momentum=0.9)
    assert len(history) == 6 and np.mean(history[-2:]) < np.mean(history[:2])
    score = ns["evaluate"](model, *ns["make_data"](2, 36, 3, 5), ferrum.device("cpu"))
    assert 0.0 <= score.item() <= 1.0 and model.training


@pytest.mark.parametrize("bilinear", [True, False])
def test_unet_matches_torch(run_program, torch, bilinear):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm = tns["UNet"](3, 3, bilinear=bilinear, base=4).double()
    fm = fns["UNet"](3, 3, bilinear=bilinear, base=4).double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    imgs, masks = fns["make_data"](2, 20, 3, 1)  # 20 -> 10 -> 5 -> 2: padding on the way up
    res = []
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        x, y = lib.tensor(imgs.numpy()).double(), lib.tensor(masks.numpy())
        pred = m(x)
        loss = lib.nn.CrossEntropyLoss()(pred, y) + ns["dice_loss"](
            lib.nn.functional.softmax(pred, dim=1),
            lib.nn.functional.one_hot(y, 3).permute(0, 3, 1, 2).double(), multiclass=True)
        loss.backward()
        res.append((loss.item(), {n: p.grad.numpy() for n, p in m.named_parameters()}))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10)
    for n, g in res[0][1].items():
        np.testing.assert_allclose(res[1][1][n], g, rtol=1e-7, atol=1e-10, err_msg=n)
