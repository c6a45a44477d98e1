"""A small CNN trained on random images through torchvision.transforms (ToTensor, Normalize) and a
Dataset subclass, with SGD + momentum and torchvision.utils.make_grid."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader, Dataset
from torchvision.utils import make_grid


class RandomImages(Dataset):
    def __init__(self, n, transform=None):
        rs = np.random.RandomState(1)
        self.images = rs.randint(0, 256, (n, 12, 12, 3), dtype=np.uint8)
        self.labels = rs.randint(0, 4, n)
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = self.images[i]
        if self.transform is not None:
            img = self.transform(img)
        return img, int(self.labels[i])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(6 * 6 * 6, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        return self.fc1(torch.flatten(x, 1))


def main():
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    loader = DataLoader(RandomImages(64, transform), batch_size=16, shuffle=False)
    net = Net()
    rs = np.random.RandomState(2)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rs.uniform(-0.2, 0.2, tuple(p.shape)).astype(np.float32)))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(2):
        running = 0.0
        for images, labels in loader:
            opt.zero_grad()
            loss = criterion(net(images), labels)
            loss.backward()
            opt.step()
            running += loss.item()
        print(f"RESULT loss{epoch} {running / len(loader):.6f}")
    images, _ = next(iter(loader))
    grid = make_grid(images[:8], nrow=4)
    print("RESULT grid_shape", "x".join(str(s) for s in grid.shape))
    print("RESULT grid_sum", f"{grid.sum().item():.4f}")
    print("torchvision", hasattr(torchvision, "transforms"))


if __name__ == "__main__":
    main()
