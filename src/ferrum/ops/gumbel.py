"""``F.gumbel_softmax``: a sample from the Gumbel-Softmax (Concrete) distribution over ``dim``.

``softmax((logits + g) / tau)`` with ``g = -log(E)``, ``E ~ Exponential(1)`` drawn from ferrum's
global generator (so a ``manual_seed`` makes it reproducible, though not equal to torch's stream).
``hard=True`` returns the one-hot of the arg-max with the soft sample's gradient
(straight-through: ``y_hard - y_soft.detach() + y_soft``). It is a composition of differentiable
ops, so every order of derivative works.
"""

from __future__ import annotations

import warnings

from .._tensor import Tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Samples (*) -> (*) from Gumbel-Softmax(logits, tau) along ``dim`` (one-hot if ``hard``,
    with the soft sample's gradient). ``eps`` is deprecated and ignored, as in torch."""
    from .gather_scatter import scatter
    from .softmax import softmax

    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax(): argument 'logits' must be Tensor, not {type(logits).__name__}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    if not (logits.is_floating_point() or logits.is_complex()):
        raise RuntimeError(f"gumbel_softmax: expected a floating point tensor, got {logits.dtype}")
    e = logits.detach().new_empty(logits.shape).exponential_()
    gumbels = -e.log()                                    # ~ Gumbel(0, 1)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = scatter(logits.detach().new_zeros(logits.shape), dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
