"""torch twins of ferrum's language models (GPT with nanoGPT's names, CharLSTM) for the parity
tests: built from a ferrum model's configuration, loaded with its state dict."""

from __future__ import annotations

import numpy as np


def torch_gpt(torch, cfg):
    """A torch module with ferrum's GPT layout and parameter names for ``cfg`` (a GPTConfig)."""
    nn, F = torch.nn, torch.nn.functional

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
            self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (t.view(B, T, cfg.n_head, C // cfg.n_head).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
            self.attn = Attn()
            self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(cfg.vocab_size, cfg.n_embd), wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
                h=nn.ModuleList([Block() for _ in range(cfg.n_layer)]),
                ln_f=nn.LayerNorm(cfg.n_embd, bias=cfg.bias)))
            self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx):
            tr = self.transformer
            x = tr.wte(idx) + tr.wpe(torch.arange(idx.shape[1]))
            for b in tr.h:
                x = b(x)
            return self.lm_head(tr.ln_f(x))

    return GPT()


def torch_char_lstm(torch, m):
    """A torch twin of a ferrum CharLSTM ``m`` (same sizes and names)."""
    nn = torch.nn
    lstm = m.lstm

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(m.embedding.num_embeddings, m.embedding.embedding_dim)
            self.lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, num_layers=lstm.num_layers,
                                batch_first=True)
            self.head = nn.Linear(lstm.hidden_size, m.vocab_size)

        def forward(self, idx):
            return self.head(self.lstm(self.embedding(idx))[0])

    return CharLSTM()


def load_from(torch, torch_model, ferrum_model, dtype=None):
    """Copies ferrum's state dict into ``torch_model`` (tied weights stay tied: they are one tensor)."""
    sd = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in ferrum_model.state_dict().items()}
    if dtype is not None:  # first: load_state_dict copies into the parameters' own dtype
        torch_model.to(dtype)
    torch_model.load_state_dict(sd)
    return torch_model


def scaled_init(model, std: float = 0.3, seed: int = 0) -> None:
    """Re-draws every parameter from N(0, std) with NumPy: a model whose logits are far from
    uniform, so that greedy and sampled generations are varied and ties are implausible."""
    import ferrum

    rng = np.random.default_rng(seed)
    with ferrum.no_grad():
        for p in model.parameters():
            p.copy_(ferrum.tensor(rng.normal(0.0, std, tuple(p.shape)), dtype=p.dtype))
