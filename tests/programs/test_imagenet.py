"""The ImageNet training example (PyTorch's examples repository style), run with ferrum as torch,
on its ``--dummy`` data (``datasets.FakeData``) at a small image size.

Imports torch.distributed / torch.multiprocessing / torch.utils.data.distributed; picks the model
by name from ``models.__dict__``; wraps it in ``torch.nn.DataParallel`` on a CPU; SGD with
momentum and weight decay, StepLR; AverageMeter/ProgressMeter; top-1/top-5 ``accuracy`` through
``output.topk(maxk, 1, True, True)``; ``save_checkpoint`` with ``shutil.copyfile`` of the best;
``--resume`` restoring model, optimizer, scheduler and ``best_acc1``; ``--evaluate``.
"""

from __future__ import annotations

SOURCE = r'''
import argparse
import os
import shutil
import time
from enum import Enum

import torch
import torch.backends.cudnn as cudnn
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.parallel
import torch.optim
import torch.utils.data
import torch.utils.data.distributed
import torchvision.datasets as datasets
import torchvision.models as models
import torchvision.transforms as transforms
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import Subset

model_names = sorted(name for name in models.__dict__
                     if name.islower() and not name.startswith("__")
                     and callable(models.__dict__[name]))

parser = argparse.ArgumentParser(description='PyTorch ImageNet Training')
parser.add_argument('data', metavar='DIR', nargs='?', default='imagenet')
parser.add_argument('-a', '--arch', metavar='ARCH', default='resnet18', choices=model_names)
parser.add_argument('-j', '--workers', default=0, type=int)
parser.add_argument('--epochs', default=90, type=int)
parser.add_argument('--start-epoch', default=0, type=int)
parser.add_argument('-b', '--batch-size', default=256, type=int)
parser.add_argument('--lr', '--learning-rate', default=0.1, type=float, dest='lr')
parser.add_argument('--momentum', default=0.9, type=float)
parser.add_argument('--wd', '--weight-decay', default=1e-4, type=float, dest='weight_decay')
parser.add_argument('-p', '--print-freq', default=10, type=int)
parser.add_argument('--resume', default='', type=str)
parser.add_argument('-e', '--evaluate', dest='evaluate', action='store_true')
parser.add_argument('--world-size', default=-1, type=int)
parser.add_argument('--seed', default=None, type=int)
parser.add_argument('--multiprocessing-distributed', action='store_true')
parser.add_argument('--dummy', action='store_true')
parser.add_argument('--dummy-size', default=64, type=int)
parser.add_argument('--image-size', default=224, type=int)
parser.add_argument('--num-classes', default=1000, type=int)
parser.add_argument('--out', default='.')

best_acc1 = 0


def main(argv=None):
    args = parser.parse_args(argv)
    if args.seed is not None:
        torch.manual_seed(args.seed)
        cudnn.deterministic = True
        cudnn.benchmark = False
    args.distributed = args.world_size > 1 or args.multiprocessing_distributed
    return main_worker(None, 1, args)


def main_worker(gpu, ngpus_per_node, args):
    global best_acc1
    best_acc1 = 0
    print("=> creating model '{}'".format(args.arch))
    model = models.__dict__[args.arch](num_classes=args.num_classes)

    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        print('using CPU, this will be slow')
    if args.distributed:
        raise SystemExit("not in this test")
    model = torch.nn.DataParallel(model)
    device = torch.device("cpu")

    criterion = nn.CrossEntropyLoss().to(device)
    optimizer = torch.optim.SGD(model.parameters(), args.lr, momentum=args.momentum,
                                weight_decay=args.weight_decay)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)

    if args.resume:
        if os.path.isfile(args.resume):
            print("=> loading checkpoint '{}'".format(args.resume))
            checkpoint = torch.load(args.resume, map_location='cpu')
            args.start_epoch = checkpoint['epoch']
            best_acc1 = checkpoint['best_acc1']
            model.load_state_dict(checkpoint['state_dict'])
            optimizer.load_state_dict(checkpoint['optimizer'])
            scheduler.load_state_dict(checkpoint['scheduler'])
            print("=> loaded checkpoint '{}' (epoch {})".format(args.resume, checkpoint['epoch']))
        else:
            print("=> no checkpoint found at '{}'".format(args.resume))

    if args.dummy:
        print("=> Dummy data is used!")
        s = args.image_size
        train_dataset = datasets.FakeData(args.dummy_size, (3, s, s), args.num_classes, transforms.ToTensor())
        val_dataset = datasets.FakeData(args.dummy_size // 2, (3, s, s), args.num_classes,
                                        transforms.ToTensor())
    else:
        raise SystemExit("only --dummy here")

    train_sampler = None
    val_sampler = None
    train_loader = torch.utils.data.DataLoader(
        train_dataset, batch_size=args.batch_size, shuffle=(train_sampler is None),
        num_workers=args.workers, pin_memory=True, sampler=train_sampler)
    val_loader = torch.utils.data.DataLoader(
        val_dataset, batch_size=args.batch_size, shuffle=False,
        num_workers=args.workers, pin_memory=True, sampler=val_sampler)

    if args.evaluate:
        return validate(val_loader, model, criterion, args), model

    history = []
    for epoch in range(args.start_epoch, args.epochs):
        train(train_loader, model, criterion, optimizer, epoch, device, args)
        acc1 = validate(val_loader, model, criterion, args)
        scheduler.step()
        is_best = acc1 > best_acc1
        best_acc1 = max(acc1, best_acc1)
        save_checkpoint({
            'epoch': epoch + 1,
            'arch': args.arch,
            'state_dict': model.state_dict(),
            'best_acc1': best_acc1,
            'optimizer': optimizer.state_dict(),
            'scheduler': scheduler.state_dict()
        }, is_best, os.path.join(args.out, 'checkpoint.pth.tar'))
        history.append(acc1)
    return history, model


def train(train_loader, model, criterion, optimizer, epoch, device, args):
    batch_time = AverageMeter('Time', ':6.3f')
    data_time = AverageMeter('Data', ':6.3f')
    losses = AverageMeter('Loss', ':.4e')
    top1 = AverageMeter('Acc@1', ':6.2f')
    top5 = AverageMeter('Acc@5', ':6.2f')
    progress = ProgressMeter(len(train_loader), [batch_time, data_time, losses, top1, top5],
                             prefix="Epoch: [{}]".format(epoch))
    model.train()
    end = time.time()
    for i, (images, target) in enumerate(train_loader):
        data_time.update(time.time() - end)
        images = images.to(device, non_blocking=True)
        target = target.to(device, non_blocking=True)
        output = model(images)
        loss = criterion(output, target)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        losses.update(loss.item(), images.size(0))
        top1.update(acc1[0], images.size(0))
        top5.update(acc5[0], images.size(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_time.update(time.time() - end)
        end = time.time()
        if i % args.print_freq == 0:
            progress.display(i + 1)


def validate(val_loader, model, criterion, args):
    def run_validate(loader, base_progress=0):
        with torch.no_grad():
            end = time.time()
            for i, (images, target) in enumerate(loader):
                i = base_progress + i
                output = model(images)
                loss = criterion(output, target)
                acc1, acc5 = accuracy(output, target, topk=(1, 5))
                losses.update(loss.item(), images.size(0))
                top1.update(acc1[0], images.size(0))
                top5.update(acc5[0], images.size(0))
                batch_time.update(time.time() - end)
                end = time.time()
                if i % args.print_freq == 0:
                    progress.display(i + 1)

    batch_time = AverageMeter('Time', ':6.3f', Summary.NONE)
    losses = AverageMeter('Loss', ':.4e', Summary.NONE)
    top1 = AverageMeter('Acc@1', ':6.2f', Summary.AVERAGE)
    top5 = AverageMeter('Acc@5', ':6.2f', Summary.AVERAGE)
    progress = ProgressMeter(len(val_loader), [batch_time, losses, top1, top5], prefix='Test: ')
    model.eval()
    run_validate(val_loader)
    progress.display_summary()
    return top1.avg


def save_checkpoint(state, is_best, filename='checkpoint.pth.tar'):
    torch.save(state, filename)
    if is_best:
        shutil.copyfile(filename, os.path.join(os.path.dirname(filename), 'model_best.pth.tar'))


class Summary(Enum):
    NONE = 0
    AVERAGE = 1
    SUM = 2
    COUNT = 3


class AverageMeter(object):
    """Computes and stores the average and current value"""
    def __init__(self, name, fmt=':f', summary_type=Summary.AVERAGE):
        self.name = name
        self.fmt = fmt
        self.summary_type = summary_type
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = '{name} {val' + self.fmt + '} ({avg' + self.fmt + '})'
        return fmtstr.format(**self.__dict__)

    def summary(self):
        fmtstr = ''
        if self.summary_type is Summary.NONE:
            fmtstr = ''
        elif self.summary_type is Summary.AVERAGE:
            fmtstr = '{name} {avg:.3f}'
        elif self.summary_type is Summary.SUM:
            fmtstr = '{name} {sum:.3f}'
        elif self.summary_type is Summary.COUNT:
            fmtstr = '{name} {count:.3f}'
        return fmtstr.format(**self.__dict__)


class ProgressMeter(object):
    def __init__(self, num_batches, meters, prefix=""):
        self.batch_fmtstr = self._get_batch_fmtstr(num_batches)
        self.meters = meters
        self.prefix = prefix

    def display(self, batch):
        entries = [self.prefix + self.batch_fmtstr.format(batch)]
        entries += [str(meter) for meter in self.meters]
        print('\t'.join(entries))

    def display_summary(self):
        entries = [" *"]
        entries += [meter.summary() for meter in self.meters]
        print(' '.join(entries))

    def _get_batch_fmtstr(self, num_batches):
        num_digits = len(str(num_batches // 1))
        fmt = '{:' + str(num_digits) + 'd}'
        return '[' + fmt + '/' + fmt.format(num_batches) + ']'


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res
'''


def test_imagenet_program_dummy_train_resume_evaluate(run_program, tmp_path, capsys):
    import ferrum

    ns = run_program(SOURCE)
    assert {"resnet18", "resnet50", "vgg16", "mobilenet_v2", "lenet5"} <= set(ns["model_names"])
    common = ["--dummy", "--dummy-size", "16", "--image-size", "32", "--num-classes", "10", "-b", "8",
              "--lr", "0.01", "-p", "1", "--out", str(tmp_path), "--seed", "0"]
    history, model = ns["main"](common + ["--epochs", "1"])
    out = capsys.readouterr().out
    assert "=> creating model 'resnet18'" in out and "Epoch: [0][1/2]" in out and " * " in out
    assert "Acc@1 " in out.split(" * ")[1]
    assert len(history) == 1 and 0.0 <= float(history[0]) <= 100.0
    ckpt = tmp_path / "checkpoint.pth.tar"
    assert ckpt.exists()
    state = ferrum.load(ckpt)
    assert state["epoch"] == 1 and state["arch"] == "resnet18"
    assert all(k.startswith("module.") for k in state["state_dict"])  # DataParallel's key prefix
    assert state["scheduler"]["last_epoch"] == 1
    # resume for one more epoch, then evaluate from the saved state
    history2, _ = ns["main"](common + ["--epochs", "2", "--resume", str(ckpt)])
    assert "=> loaded checkpoint" in capsys.readouterr().out and len(history2) == 1
    assert ferrum.load(ckpt)["epoch"] == 2
    acc, _ = ns["main"](common + ["--evaluate", "--resume", str(ckpt)])
    assert 0.0 <= float(acc) <= 100.0


def test_imagenet_accuracy_matches_torch(run_program, torch):
    import numpy as np

    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    out = np.random.default_rng(0).standard_normal((16, 10)).astype(np.float32)
    tgt = np.random.default_rng(1).integers(0, 10, 16)
    fa = fns["accuracy"](ferrum.tensor(out), ferrum.tensor(tgt), topk=(1, 3, 5))
    ta = tns["accuracy"](torch.tensor(out), torch.tensor(tgt), topk=(1, 3, 5))
    assert [a.item() for a in fa] == [a.item() for a in ta]
