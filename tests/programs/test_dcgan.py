"""The DCGAN example (PyTorch's examples repository style), run with ferrum as torch.

Generator of ConvTranspose2d/BatchNorm2d/ReLU/Tanh, discriminator of Conv2d/BatchNorm2d/LeakyReLU/
Sigmoid, ``weights_init`` applied through ``m.__class__.__name__.find('Conv')`` and
``nn.init.normal_``/``constant_``, BCELoss, two Adam optimizers with ``betas``, ``torch.full``,
``label.fill_``, ``.detach()``, ``cudnn.benchmark``; 32x32 images instead of 64x64 to stay fast.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import argparse
import random
import torch
import torch.nn as nn
import torch.nn.parallel
import torch.backends.cudnn as cudnn
import torch.optim as optim
import torch.utils.data
import torchvision.utils as vutils


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu, nz, ngf, nc):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 4 x 4
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 16 x 16
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 32 x 32
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, ngpu, ndf, nc):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is (nc) x 32 x 32
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 16 x 16
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 8 x 8
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 4 x 4
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--batchSize', type=int, default=64)
    parser.add_argument('--nz', type=int, default=100)
    parser.add_argument('--ngf', type=int, default=64)
    parser.add_argument('--ndf', type=int, default=64)
    parser.add_argument('--niter', type=int, default=25)
    parser.add_argument('--lr', type=float, default=0.0002)
    parser.add_argument('--beta1', type=float, default=0.5)
    parser.add_argument('--ngpu', type=int, default=1)
    parser.add_argument('--manualSeed', type=int)
    parser.add_argument('--dry-run', action='store_true')
    parser.add_argument('--outf', default='.')
    opt = parser.parse_args(argv)

    if opt.manualSeed is None:
        opt.manualSeed = random.randint(1, 10000)
    random.seed(opt.manualSeed)
    torch.manual_seed(opt.manualSeed)
    cudnn.benchmark = True

    if torch.accelerator.is_available():
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")
    ngpu = int(opt.ngpu)
    nz, ngf, ndf, nc = int(opt.nz), int(opt.ngf), int(opt.ndf), 3

    real = torch.rand(4 * opt.batchSize, nc, 32, 32) * 2 - 1
    real[:, 0] = 0.8  # a constant red channel: something a discriminator can learn
    dataloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(real),
                                             batch_size=opt.batchSize, shuffle=True)

    netG = Generator(ngpu, nz, ngf, nc).to(device)
    netG.apply(weights_init)
    netD = Discriminator(ngpu, ndf, nc).to(device)
    netD.apply(weights_init)

    criterion = nn.BCELoss()

    fixed_noise = torch.randn(opt.batchSize, nz, 1, 1, device=device)
    real_label = 1
    fake_label = 0

    optimizerD = optim.Adam(netD.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=opt.lr, betas=(opt.beta1, 0.999))

    history = []
    for epoch in range(opt.niter):
        for i, data in enumerate(dataloader, 0):
            ############################
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            ###########################
            netD.zero_grad()
            real_cpu = data[0].to(device)
            batch_size = real_cpu.size(0)
            label = torch.full((batch_size,), real_label,
                               dtype=real_cpu.dtype, device=device)

            output = netD(real_cpu)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            # train with fake
            noise = torch.randn(batch_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            ############################
            # (2) Update G network: maximize log(D(G(z)))
            ###########################
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            print('[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
                  % (epoch, opt.niter, i, len(dataloader),
                     errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
            history.append((errD.item(), errG.item(), D_x, D_G_z1))
            if i % 100 == 0:
                vutils.save_image(real_cpu,
                                  '%s/real_samples.png' % opt.outf,
                                  normalize=True)
                fake = netG(fixed_noise)
                vutils.save_image(fake.detach(),
                                  '%s/fake_samples_epoch_%03d.png' % (opt.outf, epoch),
                                  normalize=True)
            if opt.dry_run:
                break
        # do checkpointing
        torch.save(netG.state_dict(), '%s/netG_epoch_%d.pth' % (opt.outf, epoch))
        torch.save(netD.state_dict(), '%s/netD_epoch_%d.pth' % (opt.outf, epoch))
    fake = netG(fixed_noise)
    return netG, netD, history, fake


if __name__ == '__main__':
    main()
'''


def test_dcgan_program_trains(run_program, capsys, tmp_path):
    ns = run_program(SOURCE)
    netG, netD, history, fake = ns["main"](["--batchSize", "8", "--nz", "16", "--ngf", "8", "--ndf", "8",
                                            "--niter", "2", "--manualSeed", "3", "--outf", str(tmp_path)])
    from tests.utils.test_image import _read_png

    png = (tmp_path / "fake_samples_epoch_001.png").read_bytes()
    assert _read_png(png).shape == (34 + 2, 8 * 34 + 2, 3)  # one row of 8 32x32 images, padding 2
    import ferrum

    netG2 = ns["Generator"](1, 16, 8, 3)
    netG2.load_state_dict(ferrum.load(str(tmp_path / "netG_epoch_1.pth")))
    # the program's last netG(fixed_noise) ran in train mode after saving: it moved only the running stats
    for (n, p), (_, q) in zip(netG.named_parameters(), netG2.named_parameters()):
        assert ferrum.equal(p, q), n
    assert tuple(fake.shape) == (8, 3, 32, 32) and fake.abs().max().item() <= 1
    assert len(history) == 8 and "Loss_D:" in capsys.readouterr().out
    errD = [h[0] for h in history]
    assert np.mean(errD[-3:]) < errD[0]  # the discriminator learns to tell the red channel
    import ferrum
    assert ferrum.backends.cudnn.benchmark is True
    ferrum.backends.cudnn.benchmark = False
    # weights_init reached every conv and batch norm
    for m in netG.modules():
        if type(m).__name__.startswith("ConvTranspose"):
            assert abs(m.weight.std().item() - 0.02) < 0.01


def test_dcgan_nets_match_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    for make, shape in (("Generator", (3, 16, 1, 1)), ("Discriminator", (3, 3, 32, 32))):
        args = (1, 16, 8, 3) if make == "Generator" else (1, 8, 3)
        tm, fm = tns[make](*args), fns[make](*args)
        tm.apply(tns["weights_init"])
        fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        to, fo = tm(torch.tensor(x)), fm(ferrum.tensor(x))
        np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
        to.sum().backward(), fo.sum().backward()
        for (n, tp), (_, fp) in zip(tm.named_parameters(), fm.named_parameters()):
            np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)
        for (n, tb), (_, fb) in zip(tm.named_buffers(), fm.named_buffers()):
            np.testing.assert_allclose(fb.numpy(), tb.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
