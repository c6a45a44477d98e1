"""``CharLSTM``: the recurrent character-level language model of ``ferrum train shakespeare-lstm``:
``Embedding -> nn.LSTM (2 layers, batch_first) -> Linear`` to next-character logits.

Generation needs no cache: the LSTM's state ``(h, c)`` *is* the summary of the context, so the
prompt runs through once and each new token is one step of the recurrence, whatever the length.
Parameters are PyTorch's default initialisation of each layer (Embedding N(0, 1), LSTM and Linear
uniform in ±1/sqrt(fan)), with PyTorch's names (``embedding.weight``, ``lstm.weight_ih_l0`` ...,
``head.weight``), so the same model written in torch loads the state dict as is.
"""

from __future__ import annotations

from typing import Any

import ferrum

from .. import nn
from .._tensor import Tensor
from ._api import _handle_weights, register_model
from ._sampling import check_sampling, sample_next

__all__ = ["CharLSTM", "char_lstm"]


class CharLSTM(nn.Module):
    """``(B, T)`` int64 character ids -> ``(B, T, vocab_size)`` logits of the next character.

    Args:
        vocab_size: the number of characters.
        embedding_dim: the width of the character embedding.
        hidden_size: the LSTM's state size.
        num_layers: stacked LSTM layers.
        dropout: dropout between the LSTM layers and before the output layer.
    """

    def __init__(self, vocab_size: int = 65, embedding_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward_with_state(self, idx: Tensor, hx: tuple[Tensor, Tensor] | None = None
                           ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """idx (B, T), optional state ``(h, c)`` each (num_layers, B, hidden_size) -> logits
        (B, T, vocab_size) and the state after the last position."""
        out, hx = self.lstm(self.embedding(idx), hx)
        return self.head(self.drop(out)), hx

    def forward(self, idx: Tensor) -> Tensor:
        """idx (B, T) int64 -> logits (B, T, vocab_size), from a zero initial state."""
        if idx.dim() != 2:
            raise ValueError(f"CharLSTM: expected token ids of shape (B, T), got {tuple(idx.shape)}")
        return self.forward_with_state(idx)[0]

    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 *, generator: Any = None) -> Tensor:
        """Continues ``idx`` (B, T) by ``max_new_tokens`` characters, sampled as
        :meth:`ferrum.models.GPT.generate` does (``temperature`` 0: greedy; ``top_k``; ``generator``).
        The prompt runs through the LSTM once; each new character is one recurrent step. Runs in
        ``eval()`` mode under ``no_grad`` (the mode is restored). Returns (B, T + max_new_tokens)."""
        check_sampling("CharLSTM", max_new_tokens, temperature, top_k)
        if idx.dim() != 2 or idx.shape[1] == 0:
            raise ValueError(f"CharLSTM.generate: expected a non-empty prompt of shape (B, T), got "
                             f"{tuple(idx.shape)}")
        was_training = self.training
        self.eval()
        try:
            with ferrum.no_grad():
                step, hx = idx, None
                for _ in range(max_new_tokens):
                    logits, hx = self.forward_with_state(step, hx)
                    step = sample_next(logits[:, -1, :], temperature, top_k, generator)
                    idx = ferrum.cat((idx, step), dim=1)
        finally:
            self.train(was_training)
        return idx


@register_model()
def char_lstm(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> CharLSTM:
    """A :class:`CharLSTM` (``vocab_size``, ``embedding_dim``, ``hidden_size``, ``num_layers``,
    ``dropout`` keywords); by default the 2-layer model of ``ferrum train shakespeare-lstm``.

    ``weights``: only None (no pretrained weights can be downloaded here); load a state dict
    instead. ``progress`` is accepted for torchvision's signature and unused.
    """
    _handle_weights("char_lstm", weights, kwargs)
    return CharLSTM(**kwargs)
