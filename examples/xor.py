"""XOR with a 2-8-1 MLP: the smallest problem a linear model cannot solve.

``nn.Sequential(Linear(2, 8), Tanh(), Linear(8, 1))`` trained with ``nn.BCEWithLogitsLoss`` and
``optim.Adam`` until all four inputs are classified correctly (then a few more steps so the margins
are comfortable); prints the predicted probabilities and ``4/4 correct``. Deterministic (seeded),
and it runs in about a second. Replace ``ferrum`` with ``torch`` and it runs under PyTorch.

    python examples/xor.py
"""

from __future__ import annotations

import sys

import ferrum
import ferrum.nn as nn
import ferrum.optim as optim


def main(seed: int = 0, max_steps: int = 2000) -> int:
    ferrum.manual_seed(seed)
    x = ferrum.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = ferrum.tensor([[0.0], [1.0], [1.0], [0.0]])

    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    opt = optim.Adam(model.parameters(), lr=0.05)

    solved_at = None
    for step in range(1, max_steps + 1):
        logits = model(x)
        loss = loss_fn(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with ferrum.no_grad():
            correct = int(((logits > 0).float() == y).sum().item())
        if correct == 4 and solved_at is None:
            solved_at = step
        # keep going a little after the first 4/4 so every prediction is confidently on its side
        if solved_at is not None and (step >= solved_at + 100 or loss.item() < 0.05):
            break

    with ferrum.no_grad():
        prob = ferrum.sigmoid(model(x))
    pred = (prob > 0.5).float()
    correct = int((pred == y).sum().item())
    print(f"trained {step} steps, final loss {loss.item():.4f}")
    for (a, b), p, t in zip(x.tolist(), prob.flatten().tolist(), y.flatten().tolist()):
        print(f"  {int(a)} xor {int(b)} = {int(t)}   predicted {p:.3f} -> {int(p > 0.5)}")
    print(f"{correct}/4 correct")
    return 0 if correct == 4 else 1


if __name__ == "__main__":
    sys.exit(main())
