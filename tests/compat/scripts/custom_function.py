"""A custom nn.Module subclass (parameters, a buffer, a submodule) and a custom autograd.Function."""
import numpy as np
import torch
from torch import nn
from torch.autograd import Function


class CubeShift(Function):
    @staticmethod
    def forward(ctx, x, shift):
        ctx.save_for_backward(x)
        return x ** 3 + shift

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2, grad.sum()


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(n))
        self.shift = nn.Parameter(torch.tensor(0.5))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.proj = nn.Linear(n, 2, bias=False)

    def forward(self, x):
        self.calls += 1
        return self.proj(CubeShift.apply(x * self.scale, self.shift))


def main():
    rs = np.random.RandomState(3)
    block = Block(4)
    with torch.no_grad():
        block.proj.weight.copy_(torch.from_numpy(rs.randn(2, 4)))
    x = torch.from_numpy(rs.randn(5, 4)).float().requires_grad_()
    out = block(x).pow(2).sum()
    out.backward()
    print("RESULT out", f"{out.item():.6f}")
    print("RESULT grad_x", f"{x.grad.abs().sum().item():.6f}")
    print("RESULT grad_scale", " ".join(f"{v:.6f}" for v in block.scale.grad.tolist()))
    print("RESULT grad_shift", f"{block.shift.grad.item():.6f}")
    print("RESULT calls", int(block.calls))
    print("RESULT keys", ",".join(block.state_dict().keys()))
    print("RESULT is_module", isinstance(block, torch.nn.Module), issubclass(Block, nn.Module))


if __name__ == "__main__":
    main()
