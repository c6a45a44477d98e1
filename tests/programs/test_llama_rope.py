"""A LLaMA-style decoder (Meta's reference model.py, shrunk), run with ferrum.

The program is what LLaMA users write: ``ModelArgs`` as a dataclass, ``RMSNorm`` (``x *
torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)`` in float32, ``type_as`` back), rotary
position embeddings the complex way (``precompute_freqs_cis`` with ``torch.outer`` and
``torch.polar(torch.ones_like(freqs), freqs)``; ``apply_rotary_emb`` through ``view_as_complex`` of
``x.float().reshape(*x.shape[:-1], -1, 2)``, a product with the broadcast ``freqs_cis`` and
``view_as_real(...).flatten(3)``), grouped-query attention with ``repeat_kv`` (``n_kv_heads <
n_heads``; here through ``repeat_interleave`` as LLaMA-3 ports do), ``F.scaled_dot_product_attention``
with ``is_causal``, the SwiGLU feed-forward (``w2(F.silu(w1(x)) * w3(x))`` with LLaMA's hidden-size
rounding), pre-norm residual blocks, an untied output head and AdamW. The gradients of the rotary
embedding flow through complex tensors (multiplication, view_as_complex/view_as_real), so this is
what checks ferrum's complex autograd convention inside a real model: the losses and weights after
several AdamW steps equal torch's.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelArgs:
    dim: int = 4096
    n_layers: int = 32
    n_heads: int = 32
    n_kv_heads: Optional[int] = None
    vocab_size: int = -1
    multiple_of: int = 256
    ffn_dim_multiplier: Optional[float] = None
    norm_eps: float = 1e-5
    rope_theta: float = 500000.0
    max_seq_len: int = 2048


class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float()).type_as(x)
        return output * self.weight


def precompute_freqs_cis(dim: int, end: int, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device, dtype=torch.float32)
    freqs = torch.outer(t, freqs)
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)  # complex64
    return freqs_cis


def reshape_for_broadcast(freqs_cis: torch.Tensor, x: torch.Tensor):
    ndim = x.ndim
    assert 0 <= 1 < ndim
    assert freqs_cis.shape == (x.shape[1], x.shape[-1])
    shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
    return freqs_cis.view(*shape)


def apply_rotary_emb(xq, xk, freqs_cis):
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = reshape_for_broadcast(freqs_cis, xq_)
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """torch.repeat_interleave(x, dim=2, repeats=n_rep)"""
    if n_rep == 1:
        return x
    return torch.repeat_interleave(x, dim=2, repeats=n_rep)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_kv_heads = args.n_heads if args.n_kv_heads is None else args.n_kv_heads
        self.n_local_heads = args.n_heads
        self.n_local_kv_heads = self.n_kv_heads
        self.n_rep = self.n_local_heads // self.n_local_kv_heads
        self.head_dim = args.dim // args.n_heads
        self.wq = nn.Linear(args.dim, args.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(args.n_heads * self.head_dim, args.dim, bias=False)

    def forward(self, x, freqs_cis):
        bsz, seqlen, _ = x.shape
        xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
        xq = xq.view(bsz, seqlen, self.n_local_heads, self.head_dim)
        xk = xk.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
        xv = xv.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        keys = repeat_kv(xk, self.n_rep)  # (bs, seqlen, n_local_heads, head_dim)
        values = repeat_kv(xv, self.n_rep)
        xq = xq.transpose(1, 2)  # (bs, n_local_heads, seqlen, head_dim)
        keys = keys.transpose(1, 2)
        values = values.transpose(1, 2)
        output = F.scaled_dot_product_attention(xq, keys, values, is_causal=True)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, multiple_of: int, ffn_dim_multiplier: Optional[float]):
        super().__init__()
        hidden_dim = int(2 * hidden_dim / 3)
        if ffn_dim_multiplier is not None:
            hidden_dim = int(ffn_dim_multiplier * hidden_dim)
        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.n_heads = args.n_heads
        self.dim = args.dim
        self.head_dim = args.dim // args.n_heads
        self.attention = Attention(args)
        self.feed_forward = FeedForward(dim=args.dim, hidden_dim=4 * args.dim, multiple_of=args.multiple_of,
                                        ffn_dim_multiplier=args.ffn_dim_multiplier)
        self.layer_id = layer_id
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, freqs_cis):
        h = x + self.attention(self.attention_norm(x), freqs_cis)
        out = h + self.feed_forward(self.ffn_norm(h))
        return out


class Transformer(nn.Module):
    def __init__(self, params: ModelArgs):
        super().__init__()
        self.params = params
        self.vocab_size = params.vocab_size
        self.n_layers = params.n_layers
        self.tok_embeddings = nn.Embedding(params.vocab_size, params.dim)
        self.layers = torch.nn.ModuleList()
        for layer_id in range(params.n_layers):
            self.layers.append(TransformerBlock(layer_id, params))
        self.norm = RMSNorm(params.dim, eps=params.norm_eps)
        self.output = nn.Linear(params.dim, params.vocab_size, bias=False)
        self.freqs_cis = precompute_freqs_cis(params.dim // params.n_heads, params.max_seq_len * 2,
                                              params.rope_theta)

    def forward(self, tokens: torch.Tensor, targets: Optional[torch.Tensor] = None):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        freqs_cis = self.freqs_cis[:seqlen]
        for layer in self.layers:
            h = layer(h, freqs_cis)
        h = self.norm(h)
        logits = self.output(h).float()
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def make_model(seed=0, **kw):
    torch.manual_seed(seed)
    args = ModelArgs(**{**dict(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, vocab_size=19, multiple_of=16,
                               max_seq_len=16, rope_theta=10000.0), **kw})
    return Transformer(args)


def counting_batches(n, batch=8, seqlen=12, vocab=19, seed=0):
    """Sequences that count upward mod ``vocab`` from a random start: the next token is learnable
    only through position-aware attention to the previous token."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        start = torch.randint(0, vocab, (batch, 1), generator=g)
        seq = (start + torch.arange(seqlen + 1)) % vocab
        out.append((seq[:, :-1].contiguous(), seq[:, 1:].contiguous()))
    return out


def train(model, batches, lr=3e-3, clip=1.0):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    losses = []
    for x, y in batches:
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    return losses
'''


def test_llama_rope_learns_to_count(run_program):
    import ferrum

    ns = run_program(SOURCE)
    model = ns["make_model"]()
    assert model.freqs_cis.dtype == ferrum.complex64 and tuple(model.freqs_cis.shape) == (32, 4)
    ff = model.layers[0].feed_forward
    assert tuple(ff.w1.weight.shape) == (96, 32)  # int(2 * 128 / 3) = 85, rounded up to 16s
    assert tuple(model.layers[0].attention.wk.weight.shape) == (16, 32)  # 2 kv heads of 8
    losses = ns["train"](model, ns["counting_batches"](60), lr=1e-2)
    assert losses[0] == pytest.approx(np.log(19), abs=0.5)
    assert np.mean(losses[-5:]) < 0.25 * losses[0]
    # every parameter is trained, including through the rotary (complex) path of wq and wk
    model.zero_grad(set_to_none=True)
    x, y = ns["counting_batches"](1, seed=5)[0]
    _, loss = model(x, y)
    loss.backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in model.parameters())


def test_rotary_embedding_matches_torch(run_program, torch):
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 6, 4, 8)), rng.standard_normal((2, 6, 2, 8))
    w = rng.standard_normal((2, 6, 4, 8))
    res = []
    for lib, ns in ((torch, tns), (ferrum, fns)):
        fc = ns["precompute_freqs_cis"](8, 12, 10000.0)[:6]
        xq = lib.tensor(q, dtype=lib.float32, requires_grad=True)
        xk = lib.tensor(k, dtype=lib.float32, requires_grad=True)
        oq, ok = ns["apply_rotary_emb"](xq, xk, fc)
        ((oq * lib.tensor(w, dtype=lib.float32)).sum() + (ok ** 2).sum()).backward()
        res.append([t.detach().numpy() for t in (fc.real, fc.imag, oq, ok, xq.grad, xk.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # a rotation: norms of each (even, odd) pair are kept
    np.testing.assert_allclose(np.linalg.norm(res[1][2].reshape(2, 6, 4, 4, 2), axis=-1),
                               np.linalg.norm(q.reshape(2, 6, 4, 4, 2), axis=-1), rtol=1e-5)


@pytest.mark.parametrize("n_kv_heads", [1, 2, 4])
def test_llama_training_matches_torch(run_program, torch, n_kv_heads):
    """Same weights and batches: four AdamW steps with clipping give torch's losses and weights."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm = tns["make_model"](n_kv_heads=n_kv_heads)
    fm = fns["make_model"](n_kv_heads=n_kv_heads)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(fm.freqs_cis.numpy(), tm.freqs_cis.numpy(), rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(1)
    batches = [rng.integers(0, 19, (3, 11)) for _ in range(4)]
    res = []
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        data = [(lib.tensor(b[:, :-1]), lib.tensor(b[:, 1:])) for b in batches]
        losses = ns["train"](m, data, lr=1e-2)
        res.append((losses, {k: p.detach().numpy().copy() for k, p in m.named_parameters()}))
    (tl, tw), (fl, fw) = res
    np.testing.assert_allclose(fl, tl, rtol=1e-4)
    assert tw.keys() == fw.keys()
    for k in tw:
        np.testing.assert_allclose(fw[k], tw[k], rtol=1e-3, atol=1e-4, err_msg=k)
