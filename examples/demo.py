"""A short tour of what ferrum does today, with nothing but tensors and autograd (no nn yet).

1. Fits a 2-layer MLP, written with raw tensors, to a two-class spiral drawn with ferrum's RNG:
   forward with ``@`` and ``tanh``, a hand-written softmax cross-entropy (``logsumexp`` and
   ``gather``), ``loss.backward()``, and SGD with momentum applied by hand under ``ferrum.no_grad()``.
2. Takes a second derivative with ``ferrum.autograd.grad(..., create_graph=True)``.
3. Defines a custom ``ferrum.autograd.Function`` and checks its gradient with ``gradcheck``.

Run it with ``make demo`` (or ``python examples/demo.py``). Every line is PyTorch code with
``torch`` renamed ``ferrum``: replace the import and it runs under PyTorch too.
"""

from __future__ import annotations

import math
import time

import ferrum


def spiral(n_per_class: int, turns: float = 1.5, noise: float = 0.15):
    """Two interleaved spiral arms in 2-D; label 0 or 1 by arm. Returns (x [2n, 2], y [2n])."""
    t = ferrum.rand(n_per_class).sqrt()  # radius in (0, 1], denser near the rim
    xs, ys = [], []
    for label in (0, 1):
        angle = t * (turns * 2 * math.pi) + label * math.pi
        r = t * 2.0 + ferrum.randn(n_per_class) * noise * t
        xs.append(ferrum.stack([r * angle.cos(), r * angle.sin()], dim=1))
        ys.append(ferrum.full((n_per_class,), label, dtype=ferrum.int64))
    return ferrum.cat(xs), ferrum.cat(ys)


def param(*shape: int, scale: float) -> ferrum.Tensor:
    """A leaf tensor of N(0, scale^2) values that requires grad."""
    p = ferrum.randn(*shape, requires_grad=True)
    with ferrum.no_grad():
        p *= scale
    return p


def cross_entropy(logits: ferrum.Tensor, target: ferrum.Tensor) -> ferrum.Tensor:
    """Mean of -log softmax(logits)[target], written out: logsumexp(z) - z[target]."""
    picked = logits.gather(1, target.unsqueeze(1)).squeeze(1)
    return (logits.logsumexp(dim=1) - picked).mean()


def fit_spiral(steps: int = 600, hidden: int = 64, lr: float = 0.1, momentum: float = 0.9) -> float:
    ferrum.manual_seed(0)
    x, y = spiral(500)
    x_test, y_test = spiral(500)
    print(f"data: {tuple(x.shape)} points, {x.dtype}, classes {y.unique().tolist()}")

    w1, b1 = param(2, hidden, scale=1.0), param(hidden, scale=0.5)
    w2, b2 = param(hidden, hidden, scale=1 / math.sqrt(hidden)), param(hidden, scale=0.0)
    w3, b3 = param(hidden, 2, scale=1 / math.sqrt(hidden)), param(2, scale=0.0)
    params = [w1, b1, w2, b2, w3, b3]
    velocity = [ferrum.zeros_like(p) for p in params]

    def model(inp):
        h = (inp @ w1 + b1).tanh()
        h = (h @ w2 + b2).relu()
        return h @ w3 + b3

    t0 = time.perf_counter()
    for step in range(steps + 1):
        loss = cross_entropy(model(x), y)
        loss.backward()
        with ferrum.no_grad():
            for p, v in zip(params, velocity):
                v.mul_(momentum).add_(p.grad)
                p -= lr * v
                p.grad = None
        if step % 100 == 0:
            with ferrum.no_grad():
                acc = (model(x).argmax(dim=1) == y).float().mean()
            print(f"step {step:4d}  loss {loss:.4f}  train acc {acc:.3f}")
    elapsed = time.perf_counter() - t0

    with ferrum.no_grad():
        acc = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"trained {steps} steps in {elapsed:.2f} s; held-out accuracy {acc:.1%}")
    return acc


def second_derivative() -> None:
    x = ferrum.tensor([0.5, 1.0, 2.0], dtype=ferrum.float64, requires_grad=True)
    y = (x.sin() * x ** 2).sum()  # d/dx = 2x sin x + x^2 cos x
    (dy,) = ferrum.autograd.grad(y, x, create_graph=True)
    (d2y,) = ferrum.autograd.grad(dy.sum(), x)  # d2/dx2 = (2 - x^2) sin x + 4x cos x
    expected = (2 - x ** 2) * x.sin() + 4 * x * x.cos()
    print(f"f(x) = x^2 sin x at x = {x.tolist()}")
    print(f"  f'(x)  = {[round(v, 5) for v in dy.tolist()]}")
    print(f"  f''(x) = {[round(v, 5) for v in d2y.tolist()]}  (closed form: "
          f"{[round(v, 5) for v in expected.detach().tolist()]})")
    assert ferrum.allclose(d2y, expected.detach())


class Softplus(ferrum.autograd.Function):
    """log(1 + e^x) with a hand-written, numerically stable backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * x.sigmoid()


def custom_function() -> None:
    x = ferrum.randn(5, dtype=ferrum.float64, requires_grad=True)
    ok = ferrum.autograd.gradcheck(Softplus.apply, (x,))
    print(f"custom Function Softplus: gradcheck {'passed' if ok else 'FAILED'}")


def main() -> None:
    print(f"ferrum {ferrum.__version__}, CUDA available: {ferrum.cuda.is_available()}")
    print("\n== 1. a 2-layer MLP on a two-class spiral, raw tensors and manual SGD ==")
    acc = fit_spiral()
    print("\n== 2. higher-order gradients ==")
    second_derivative()
    print("\n== 3. a custom autograd Function ==")
    custom_function()
    if acc < 0.95:
        raise SystemExit(f"demo: accuracy {acc:.1%} is below the expected 95%")
    print("\ndemo finished")


if __name__ == "__main__":
    main()
