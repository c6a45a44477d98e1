"""An encoder-decoder ``nn.Transformer`` on a sequence-reversal task, run with ferrum.

The shape of the "translation with nn.Transformer" tutorial, batch-first: a ``TokenEmbedding``
scaled by ``sqrt(emb_size)``, a ``PositionalEncoding`` buffer, ``nn.Transformer(batch_first=True)``
and a generator ``nn.Linear``; ``create_mask`` builds the causal ``tgt_mask`` with
``nn.Transformer.generate_square_subsequent_mask``, a boolean all-False ``src_mask`` and the source
and target key padding masks ``(x == PAD_IDX)``; the weights get ``xavier_uniform_``; training uses
teacher forcing (``tgt[:, :-1]`` in, ``tgt[:, 1:]`` out) with ``CrossEntropyLoss(ignore_index=PAD)``
and Adam(betas=(0.9, 0.98), eps=1e-9); ``greedy_decode`` encodes once and decodes one token at a time
with ``model.decode``/``torch.max``. The data: random digit strings of varying length, padded, whose
target is the reversed string between BOS and EOS.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import math
import time

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer
from torch.nn.utils.rnn import pad_sequence

PAD_IDX, BOS_IDX, EOS_IDX = 0, 1, 2
N_DIGITS = 10          # tokens 3 .. 12
VOCAB = 3 + N_DIGITS


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 64):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(0)      # [1, maxlen, emb]: batch-first
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:, :token_embedding.size(1), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super(TokenEmbedding, self).__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_encoder_layers, num_decoder_layers, emb_size, nhead, src_vocab_size,
                 tgt_vocab_size, dim_feedforward=512, dropout=0.1, norm_first=False):
        super(Seq2SeqTransformer, self).__init__()
        self.transformer = Transformer(d_model=emb_size, nhead=nhead,
                                       num_encoder_layers=num_encoder_layers,
                                       num_decoder_layers=num_decoder_layers,
                                       dim_feedforward=dim_feedforward, dropout=dropout,
                                       batch_first=True, norm_first=norm_first)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                memory_key_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)

    def encode(self, src, src_mask):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt, memory, tgt_mask):
        return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory,
                                        tgt_mask)


def create_mask(src, tgt):
    src_seq_len = src.shape[1]
    tgt_seq_len = tgt.shape[1]
    tgt_mask = Transformer.generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD_IDX)
    tgt_padding_mask = (tgt == PAD_IDX)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


def make_batch(n, generator, min_len=2, max_len=8):
    srcs, tgts = [], []
    for _ in range(n):
        length = int(torch.randint(min_len, max_len + 1, (1,), generator=generator))
        digits = torch.randint(3, VOCAB, (length,), generator=generator)
        srcs.append(digits)
        tgts.append(torch.cat([torch.tensor([BOS_IDX]), digits.flip(0), torch.tensor([EOS_IDX])]))
    return (pad_sequence(srcs, batch_first=True, padding_value=PAD_IDX),
            pad_sequence(tgts, batch_first=True, padding_value=PAD_IDX))


def train_step(model, optimizer, loss_fn, src, tgt):
    tgt_input = tgt[:, :-1]
    src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
    logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                   src_padding_mask)
    optimizer.zero_grad()
    tgt_out = tgt[:, 1:]
    loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
    loss.backward()
    optimizer.step()
    return loss.item()


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for i in range(max_len - 1):
        tgt_mask = Transformer.generate_square_subsequent_mask(ys.size(1)).type(torch.bool)
        out = model.decode(ys, memory, tgt_mask)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=1)
        if next_word == EOS_IDX:
            break
    return ys


def reverse(model, digits):
    model.eval()
    src = torch.tensor(digits).view(1, -1)
    num_tokens = src.shape[1]
    src_mask = (torch.zeros(num_tokens, num_tokens)).type(torch.bool)
    tgt_tokens = greedy_decode(model, src, src_mask, max_len=num_tokens + 5,
                               start_symbol=BOS_IDX).flatten()
    return [t for t in tgt_tokens.tolist() if t not in (BOS_IDX, EOS_IDX)]


def main(steps=300, batch_size=32, emb_size=32, nhead=4, ffn_hid_dim=64, layers=2, lr=1e-3,
         dropout=0.0, seed=0):
    torch.manual_seed(seed)
    model = Seq2SeqTransformer(layers, layers, emb_size, nhead, VOCAB, VOCAB, ffn_hid_dim, dropout)
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    g = torch.Generator().manual_seed(seed + 1)
    losses = []
    start = time.time()
    model.train()
    for step in range(steps):
        src, tgt = make_batch(batch_size, g)
        losses.append(train_step(model, optimizer, loss_fn, src, tgt))
        if step % 50 == 0:
            print(f"step {step}: train loss {losses[-1]:.3f}, {time.time() - start:.1f}s")
    return model, losses


if __name__ == '__main__':
    main()
'''


def test_transformer_reverse_program_learns_and_decodes(run_program, capsys):
    ns = run_program(SOURCE)
    model, losses = ns["main"](steps=200, lr=3e-3)
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:3])
    g = np.random.default_rng(0)
    cases = [g.integers(3, 13, int(n)).tolist() for n in g.integers(2, 9, 10)]
    right = sum(ns["reverse"](model, c) == c[::-1] for c in cases)
    assert right >= 6, right
    assert "step 150: train loss" in capsys.readouterr().out


def test_transformer_reverse_masks(run_program):
    import ferrum

    ns = run_program(SOURCE)
    src = ferrum.tensor([[5, 6, 0], [7, 8, 9]])
    tgt = ferrum.tensor([[1, 6, 5, 2, 0], [1, 9, 8, 7, 2]])
    src_mask, tgt_mask, sp, tp = ns["create_mask"](src, tgt)
    assert src_mask.dtype == ferrum.bool and not src_mask.any()
    assert tgt_mask.dtype == ferrum.float32 and tuple(tgt_mask.shape) == (5, 5)
    assert ferrum.isinf(tgt_mask).sum().item() == 10 and tgt_mask.diagonal().eq(0).all()
    assert sp.tolist() == [[False, False, True], [False, False, False]]
    assert tp[0].tolist() == [False] * 4 + [True]


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_reverse_matches_torch(run_program, torch, norm_first):
    """Same weights and batches (dropout 0, every mask kind): five Adam steps' losses, and the
    greedy decode's logits, equal torch's."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm = tns["Seq2SeqTransformer"](2, 2, 16, 4, 13, 13, 32, 0.0, norm_first)
    fm = fns["Seq2SeqTransformer"](2, 2, 16, 4, 13, 13, 32, 0.0, norm_first)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    g = torch.Generator().manual_seed(3)
    batches = [tuple(t.numpy() for t in tns["make_batch"](8, g)) for _ in range(5)]
    res = []
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        opt = lib.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
        loss_fn = lib.nn.CrossEntropyLoss(ignore_index=0)
        losses = [ns["train_step"](m, opt, loss_fn, lib.tensor(s), lib.tensor(t)) for s, t in batches]
        m.eval()
        with lib.no_grad():
            src = lib.tensor([[4, 9, 3, 7]])
            memory = m.encode(src, lib.zeros(4, 4).bool())
            ys = lib.tensor([[1, 7, 3]])
            mask = lib.nn.Transformer.generate_square_subsequent_mask(3).bool()
            logits = m.generator(m.decode(ys, memory, mask)).numpy()
        res.append((losses, logits))
    (tl, tlog), (fl, flog) = res
    np.testing.assert_allclose(fl, tl, rtol=1e-4)
    np.testing.assert_allclose(flog, tlog, rtol=1e-3, atol=1e-4)
