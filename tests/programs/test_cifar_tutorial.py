"""The CIFAR-10 "training a classifier" tutorial, run with ferrum as torch.

The classic Net (conv1/pool/conv2/fc1-3), ``transforms.Compose([ToTensor(), Normalize(...)])`` on
HWC uint8 images (synthetic instead of the CIFAR-10 download), SGD with momentum,
CrossEntropyLoss, ``torch.max(outputs, 1)``, per-class accuracy under ``torch.no_grad()``, and the
``torch.save(net.state_dict(), PATH)`` / ``net.load_state_dict(torch.load(PATH, weights_only=True))``
round trip.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import numpy as np
import torch
import torchvision.transforms as transforms
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

transform = transforms.Compose(
    [transforms.ToTensor(),
     transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])


class ImageList(torch.utils.data.Dataset):
    """CIFAR-10 stand-in: HWC uint8 images whose mean colour depends on the class."""

    def __init__(self, n, seed, transform=None):
        rng = np.random.default_rng(seed)
        self.labels = rng.integers(0, 10, n)
        base = np.stack([np.full((32, 32, 3), 20 * k, dtype=np.int64) for k in range(10)])
        noise = rng.integers(0, 40, (n, 32, 32, 3))
        self.data = (base[self.labels] + noise).astype(np.uint8)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        img = self.data[i]
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.labels[i])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def run(path, epochs=2, batch_size=4, n_train=200, lr=0.001):
    trainset = ImageList(n_train, 0, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=batch_size, shuffle=True, num_workers=0)
    testset = ImageList(100, 1, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=batch_size, shuffle=False, num_workers=0)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=lr, momentum=0.9)

    epoch_losses = []
    for epoch in range(epochs):  # loop over the dataset multiple times
        running_loss = 0.0
        total = 0.0
        for i, data in enumerate(trainloader, 0):
            # get the inputs; data is a list of [inputs, labels]
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            total += loss.item()
            if i % 20 == 19:
                print(f'[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 20:.3f}')
                running_loss = 0.0
        epoch_losses.append(total / len(trainloader))
    print('Finished Training')

    torch.save(net.state_dict(), path)

    net = Net()
    net.load_state_dict(torch.load(path, weights_only=True))

    correct = 0
    total = 0
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    print(f'Accuracy of the network on the {total} test images: {100 * correct // total} %')

    correct_pred = {classname: 0 for classname in classes}
    total_pred = {classname: 0 for classname in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predictions = torch.max(outputs, 1)
            for label, prediction in zip(labels, predictions):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    for classname, correct_count in correct_pred.items():
        accuracy = 100 * float(correct_count) / max(total_pred[classname], 1)
        print(f'Accuracy for class: {classname:5s} is {accuracy:.1f} %')
    return net, epoch_losses, correct, total, correct_pred
'''


def test_cifar_tutorial_trains_and_reloads(run_program, tmp_path, capsys):
    ns = run_program(SOURCE)
    net, losses, correct, total, per_class = ns["run"](str(tmp_path / "cifar_net.pth"), epochs=3, lr=0.01)
    out = capsys.readouterr().out
    assert "Finished Training" in out and "Accuracy for class: plane" in out
    assert losses[-1] < losses[0]
    assert total == 100 and sum(per_class.values()) == correct and correct > 10


def test_cifar_transform_and_net_match_torch(run_program, torch):
    import ferrum

    fns = run_program(SOURCE)
    tns = run_program(SOURCE, backend="torch")
    img = fns["ImageList"](1, 3).data[0]
    x = fns["transform"](img)
    assert tuple(x.shape) == (3, 32, 32) and x.dtype == ferrum.float32
    want = (torch.tensor(img).permute(2, 0, 1).float() / 255 - 0.5) / 0.5
    np.testing.assert_allclose(x.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    tn, fn = tns["Net"](), fns["Net"]()
    fn.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tn.state_dict().items()})
    xb = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    y = np.array([0, 3, 9, 5])
    tl = torch.nn.CrossEntropyLoss()(tn(torch.tensor(xb)), torch.tensor(y))
    fl = ferrum.nn.CrossEntropyLoss()(fn(ferrum.tensor(xb)), ferrum.tensor(y))
    tl.backward(), fl.backward()
    np.testing.assert_allclose(fl.item(), tl.item(), rtol=1e-5)
    for (n, tp), (_, fp) in zip(tn.named_parameters(), fn.named_parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=n)
