"""A seeded PyTorch program that leaves everything random to torch: initial weights, data from
torch.randn, a shuffled DataLoader, random_split, dropout. Run under ferrum it gives torch's numbers,
because ferrum's generators draw PyTorch's CPU streams. Also reports how it reads torch's version."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split


def main():
    torch.manual_seed(0)
    x = torch.randn(240, 12)
    y = (x[:, :3].sum(1) > 0).long()
    train, val = random_split(TensorDataset(x, y), [200, 40])
    loader = DataLoader(train, batch_size=16, shuffle=True)
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(3):
        model.train()
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        print(f"RESULT loss{epoch} {total / len(train):.6f}")
    model.eval()
    with torch.no_grad():
        xv = torch.stack([val[i][0] for i in range(len(val))])
        print(f"RESULT val_logits_sum {model(xv).sum().item():.6f}")
    print(f"RESULT first_val_index {val.indices[0]}")
    print(f"RESULT version_ge_2 {torch.__version__ >= '2.0'} {torch.__version__ >= (1, 10)}")
    print(f"RESULT version_major {int(torch.__version__.split('.')[0]) >= 2}")


if __name__ == "__main__":
    main()
