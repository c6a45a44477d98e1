"""``GPT``: a decoder-only transformer language model (GPT-2's layout, nanoGPT's names), and the
key/value cache that makes its ``generate`` cost one position per new token.

Layout: token and learned position embeddings, ``n_layer`` pre-LayerNorm blocks (``x + attn(ln_1(x))``,
``x + mlp(ln_2(x))``; causal self-attention through ``F.scaled_dot_product_attention(is_causal=True)``;
an MLP ``n_embd -> 4 n_embd -> GELU -> n_embd``), a final LayerNorm and a bias-free ``lm_head``
whose weight *is* the token embedding's (weight tying). Parameter names are nanoGPT's
(``transformer.wte.weight``, ``transformer.h.0.attn.c_attn.weight``, ``lm_head.weight`` ...), so a
nanoGPT checkpoint of the same configuration loads with ``load_state_dict`` once its tensors are
ferrum tensors, and its initialisation is nanoGPT's: N(0, 0.02) for Linear and Embedding weights,
N(0, 0.02 / sqrt(2 n_layer)) for the projections back into the residual stream (``c_proj``), zero
biases.

Differences from nanoGPT's ``GPT``: ``forward(idx)`` returns the logits of every position
``(B, T, vocab_size)`` (a model is a module from tokens to logits, so ``train.Trainer`` and any
PyTorch training loop can compute the loss); ``generate`` keeps a key/value cache (below) and
switches to ``eval()`` mode for the call; ``temperature=0`` is greedy decoding.

The cache. Without one, every new token re-runs the model over the whole context (up to
``block_size`` positions). With it, each layer keeps the keys and values of the positions already
seen in buffers of ``block_size`` slots, and a new token runs the model on one position: its query
attends to the cached keys. Learned absolute positions make one thing impossible: once the context
is longer than ``block_size`` the window slides, every kept token changes position, and every cached
key is stale at each step; from then on each token is one full pass over the cropped window, exactly
what the uncached model does (rebuilding a cache there would only add writes nobody reads). So the
cached and uncached ``generate`` produce the same tokens (the tests check it, greedy and sampled,
through the slide), and the cache saves work while the context fits in ``block_size``
(benchmarks/generate_speed.py, the shakespeare-gpt model, batch 1, one thread, best of 3 rounds on
a shared 2-core machine: 60 new tokens at 412 tokens/s with the cache, 192 without, torch 2.13
eager without a cache 322; 300 new tokens, mostly past the window: 332, 309 and 513).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import ferrum

from .. import nn, optim
from .._tensor import Tensor
from ..nn import functional as F
from ._api import _handle_weights, register_model
from ._sampling import check_sampling, sample_next

__all__ = ["GPTConfig", "GPT", "KVCache", "char_gpt"]


@dataclass
class GPTConfig:
    """A GPT's shape: context length, vocabulary, depth, heads, width, dropout, whether Linear and
    LayerNorm layers have biases. The defaults are the character-level Shakespeare model of
    ``ferrum train shakespeare-gpt``."""

    block_size: int = 64
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"GPTConfig: {name} must be an int >= 1, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            raise ValueError(f"GPTConfig: dropout must be a number in [0, 1), got {self.dropout!r}")


class KVCache:
    """Per-layer key and value buffers ``(B, n_head, block_size, head_dim)`` and how many
    positions they hold (``length``). Built by :meth:`GPT.generate`; a layer's attention writes its
    new keys/values at ``length`` and attends over ``[0, length + T)``; :meth:`advance` moves on."""

    def __init__(self, n_layer: int, batch: int, n_head: int, block_size: int, head_dim: int,
                 dtype: Any = None, device: Any = None) -> None:
        shape = (batch, n_head, block_size, head_dim)
        self.keys = [ferrum.zeros(shape, dtype=dtype, device=device) for _ in range(n_layer)]
        self.values = [ferrum.zeros(shape, dtype=dtype, device=device) for _ in range(n_layer)]
        self.block_size = block_size
        self.length = 0

    def attend(self, layer: int, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Stores ``k``, ``v`` (B, H, T, hd) at the next T slots of ``layer`` and returns the causal
        attention over everything cached so far of ``q`` (B, H, L, hd): the queries of the last
        L <= T of the new positions."""
        t0, t = self.length, k.shape[2]
        if t0 + t > self.block_size:
            raise RuntimeError(f"KVCache: {t0} cached + {t} new positions exceed block_size "
                               f"{self.block_size}")
        kb, vb = self.keys[layer], self.values[layer]
        kb[:, :, t0:t0 + t] = k
        vb[:, :, t0:t0 + t] = v
        return _causal_tail(q, kb[:, :, :t0 + t], vb[:, :, :t0 + t])

    def advance(self, t: int) -> None:
        self.length += t


def _causal_tail(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Causal attention of the queries of the last L of S positions (q (B, H, L, hd), k and v
    (B, H, S, hd)): query i sees keys 0 .. S - L + i (a bottom-right aligned causal mask)."""
    n_q, n_k = q.shape[2], k.shape[2]
    if n_q == n_k:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    if n_q == 1:  # the last position sees every key
        return F.scaled_dot_product_attention(q, k, v)
    mask = ferrum.ones(n_q, n_k, dtype=ferrum.bool, device=q.device).tril(n_k - n_q)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: one ``c_attn`` Linear gives q, k, v; ``c_proj`` mixes the
    heads back. (B, T, n_embd) -> (B, T, n_embd)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0,
                last_only: bool = False) -> Tensor:
        """x (B, T, C) -> (B, T, C); with ``last_only``, the last position's output only (B, 1, C)
        (keys and values still come from every position)."""
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)  # (B, H, T, hd)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        if last_only:
            q, T = q[:, -1:], 1
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        if cache is not None:
            y = cache.attend(layer, q, k, v)
        elif last_only:
            y = _causal_tail(q, k, v)
        else:
            p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """``n_embd -> 4 n_embd -> GELU -> n_embd`` with dropout: (B, T, n_embd) -> (B, T, n_embd)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-LayerNorm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0,
                last_only: bool = False) -> Tensor:
        """x (B, T, C) -> (B, T, C), or (B, 1, C) for the last position only with ``last_only``."""
        a = self.attn(self.ln_1(x), cache, layer, last_only)
        x = (x[:, -1:] if last_only else x) + a
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only transformer language model: ``(B, T)`` int64 token ids (``T <= block_size``)
    -> ``(B, T, vocab_size)`` logits of the next token at every position.

    ``GPT(GPTConfig(...))`` or ``GPT(vocab_size=..., block_size=..., n_layer=..., n_head=...,
    n_embd=..., dropout=..., bias=...)``. See the module docstring for the layout and the names.
    """

    def __init__(self, config: GPTConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        if config is None:
            config = GPTConfig(**kwargs)
        elif kwargs:
            config = GPTConfig(**{**asdict(config), **kwargs})
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying: one Parameter, two uses
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's scaled init of the residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def get_num_params(self, non_embedding: bool = True) -> int:
        """The number of parameters (the tied embedding counted once); ``non_embedding`` leaves out
        the position embedding, as nanoGPT reports it."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def _logits(self, idx: Tensor, cache: KVCache | None = None, start: int = 0,
                last_only: bool = False) -> Tensor:
        _, t = idx.shape
        if start + t > self.config.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {start + t}, block size is only "
                             f"{self.config.block_size}")
        tr = self.transformer
        pos = ferrum.arange(start, start + t, dtype=ferrum.int64, device=idx.device)
        x = tr.drop(tr.wte(idx) + tr.wpe(pos))
        last = len(tr.h) - 1
        for i, block in enumerate(tr.h):
            # generation needs the last position's logits only: the last block then computes its
            # query, attention output and MLP for that position alone (a 64-token window pass of the
            # shakespeare-gpt model at batch 1: 6.9 ms against 7.7 ms computing every position)
            x = block(x, cache, i, last_only and i == last)
        return self.lm_head(tr.ln_f(x))

    def forward(self, idx: Tensor) -> Tensor:
        """idx (B, T) int64, T <= block_size -> logits (B, T, vocab_size)."""
        if idx.dim() != 2:
            raise ValueError(f"GPT: expected token ids of shape (B, T), got {tuple(idx.shape)}")
        return self._logits(idx)

    def configure_optimizers(self, weight_decay: float, learning_rate: float,
                             betas: tuple[float, float] = (0.9, 0.95),
                             device_type: Any = None) -> optim.AdamW:
        """AdamW (decoupled weight decay) with two parameter groups, nanoGPT's rule: every parameter
        with 2 or more dims (the matrices: Linear weights, the tied token embedding / ``lm_head``, the
        position embedding) decays by ``weight_decay``; the 1-D ones (biases, LayerNorm weights)
        do not, since shrinking a bias or a norm's gain towards 0 is no regularisation. (minGPT
        also spared the embeddings; nanoGPT dropped that exception, and so does this model.)
        ``device_type`` is accepted for nanoGPT's signature and unused (no fused AdamW here)."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return optim.AdamW(groups, lr=learning_rate, betas=betas)

    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 *, use_cache: bool = True, generator: Any = None) -> Tensor:
        """Continues the sequences ``idx`` (B, T) by ``max_new_tokens`` tokens: each step takes the
        logits of the last position (over the last ``block_size`` tokens), divides them by
        ``temperature`` (0: greedy, the argmax), keeps the ``top_k`` largest, and draws from their
        softmax (``generator``: the random stream, default the global one). Returns
        (B, T + max_new_tokens). Runs in ``eval()`` mode under ``no_grad`` (the mode is restored).

        With ``use_cache`` (the default) keys and values are cached per layer, so while the context
        fits in ``block_size`` a new token costs one position instead of the whole context; the
        tokens are the same as with ``use_cache=False`` (see the module docstring)."""
        check_sampling("GPT", max_new_tokens, temperature, top_k)
        if idx.dim() != 2 or idx.shape[1] == 0:
            raise ValueError(f"GPT.generate: expected a non-empty prompt of shape (B, T), got "
                             f"{tuple(idx.shape)}")
        bs = self.config.block_size
        was_training = self.training
        self.eval()
        cache = None
        try:
            with ferrum.no_grad():
                for _ in range(max_new_tokens):
                    n = idx.shape[1]
                    if not use_cache or n > bs:
                        # past block_size the window slides and every kept token changes position:
                        # each step is a full pass over the window, and a cache would be stale at once
                        logits = self._logits(idx[:, -bs:], last_only=True)
                    elif cache is None:  # the prompt: one pass, keeping its keys and values
                        cache = self._new_cache(idx)
                        logits = self._logits(idx, cache, 0, last_only=True)
                        cache.advance(n)
                    else:  # one new position against the cached ones
                        logits = self._logits(idx[:, -1:], cache, cache.length, last_only=True)
                        cache.advance(1)
                    nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)
                    idx = ferrum.cat((idx, nxt), dim=1)
        finally:
            self.train(was_training)
        return idx

    def _new_cache(self, idx: Tensor) -> KVCache:
        c = self.config
        w = self.lm_head.weight
        return KVCache(c.n_layer, idx.shape[0], c.n_head, c.block_size, c.n_embd // c.n_head, dtype=w.dtype,
                       device=w.device)


_CONFIG_FIELDS = tuple(f.name for f in fields(GPTConfig))


@register_model()
def char_gpt(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> GPT:
    """A :class:`GPT` built from :class:`GPTConfig` keywords (``vocab_size``, ``block_size``,
    ``n_layer``, ``n_head``, ``n_embd``, ``dropout``, ``bias``); the defaults are the
    character-level Shakespeare model (4 layers, 4 heads, width 128, context 64).

    ``weights``: only None (no pretrained weights can be downloaded here); load a state dict
    instead. ``progress`` is accepted for torchvision's signature and unused.
    """
    _handle_weights("char_gpt", weights, kwargs)
    unknown = sorted(set(kwargs) - set(_CONFIG_FIELDS))
    if unknown:
        raise TypeError(f"char_gpt() got unexpected keyword arguments {unknown}; GPTConfig has "
                        f"{list(_CONFIG_FIELDS)}")
    return GPT(GPTConfig(**kwargs))
