"""An MLP on synthetic data with TensorDataset, DataLoader and Adam, written as a PyTorch user would.

Data and initial weights come from NumPy so that torch and ferrum start from the same numbers."""
import argparse

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-2)
    args = ap.parse_args()
    rs = np.random.RandomState(0)
    x = rs.randn(256, 10).astype(np.float32)
    y = (x @ rs.randn(10, 3)).argmax(1)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32, shuffle=False)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rs.uniform(-0.3, 0.3, tuple(p.shape)).astype(np.float32)))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        print(f"RESULT loss{epoch} {total / len(loader.dataset):.6f}")
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(x)).argmax(dim=1) == torch.from_numpy(y)).float().mean().item()
    print(f"RESULT accuracy {acc:.6f}")


if __name__ == "__main__":
    main()
