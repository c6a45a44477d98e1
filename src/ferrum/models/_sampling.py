"""The next-token choice the language models' ``generate`` share (:class:`~ferrum.models.GPT`,
:class:`~ferrum.models.CharLSTM`): temperature, top-k, then one draw from the softmax.

It is nanoGPT's rule, so a model generates what the same model does there under the same random
stream: ``logits / temperature``, every logit below the k-th largest set to -inf, ``softmax``, one
``multinomial`` draw. ``temperature == 0`` is greedy decoding (the argmax, no draw).
"""

from __future__ import annotations

import math
from typing import Any

from .._tensor import Tensor
from ..nn import functional as F
from ..random import multinomial

__all__ = ["check_sampling", "sample_next"]


def check_sampling(who: str, max_new_tokens: Any, temperature: Any, top_k: Any) -> None:
    """ValueError/TypeError for arguments ``generate`` cannot use, before any work is done."""
    if not isinstance(max_new_tokens, int) or isinstance(max_new_tokens, bool):
        raise TypeError(f"{who}.generate: max_new_tokens must be an int, got {type(max_new_tokens).__name__}")
    if max_new_tokens < 0:
        raise ValueError(f"{who}.generate: max_new_tokens must be >= 0, got {max_new_tokens}")
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) \
            or not (temperature >= 0 and math.isfinite(temperature)):
        raise ValueError(f"{who}.generate: temperature must be a finite number >= 0, got {temperature!r}")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"{who}.generate: top_k must be None or an int >= 1, got {top_k!r}")


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                generator: Any = None) -> Tensor:
    """The next token of each row of ``logits`` (B, V): a (B, 1) int64 tensor."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    return multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
