"""A word-level language model in the style of PyTorch's word_language_model example, run with ferrum.

The program is what that example's users write: an ``RNNModel`` (Embedding, a recurrent layer
picked by a flag among LSTM, GRU, RNN_TANH and RNN_RELU, dropout, optionally tied encoder/decoder
weights, ``init_weights`` with ``nn.init.uniform_``/``zeros_``, ``init_hidden`` through
``weight.new_zeros``), a ``TransformerModel`` (a ``PositionalEncoding`` buffer built with
``torch.exp``/``torch.arange``/``math.log``, ``nn.TransformerEncoder``, a causal mask from
``nn.Transformer.generate_square_subsequent_mask``, ``log_softmax`` with ``nn.NLLLoss``),
``batchify``/``get_batch`` over a token stream, truncated BPTT with ``repackage_hidden`` (``detach``),
``clip_grad_norm_`` and the hand-written SGD step ``p.data.add_(p.grad, alpha=-lr)``, an annealed
learning rate, evaluation under ``no_grad``, ``torch.save``/``torch.load`` of the state dict, and
word generation with ``torch.multinomial`` on the exponentiated logits. The corpus is a tiny
synthetic one (sentences drawn from a small grammar) so that the program runs in seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus(object):
    """Train/valid/test token streams; sentences come from a tiny grammar instead of files."""

    def __init__(self, seed=0):
        self.dictionary = Dictionary()
        g = torch.Generator().manual_seed(seed)
        self.train = self.tokenize(self.sentences(400, g))
        self.valid = self.tokenize(self.sentences(30, g))
        self.test = self.tokenize(self.sentences(30, g))

    @staticmethod
    def sentences(n, g):
        subjects = ["the cat", "a dog", "my friend", "the old man", "she", "he"]
        verbs = ["sees", "likes", "eats", "finds", "wants"]
        objects = ["the fish", "a ball", "some bread", "the red apple", "a book"]
        out = []
        for _ in range(n):
            s = torch.randint(len(subjects), (1,), generator=g).item()
            v = torch.randint(len(verbs), (1,), generator=g).item()
            o = torch.randint(len(objects), (1,), generator=g).item()
            out.append(" ".join([subjects[s], verbs[v], objects[o]]))
        return out

    def tokenize(self, lines):
        idss = []
        for line in lines:
            words = line.split() + ['<eos>']
            ids = [self.dictionary.add_word(w) for w in words]
            idss.append(torch.tensor(ids).type(torch.int64))
        return torch.cat(idss)


class RNNModel(nn.Module):
    """Encoder (embedding), a recurrent module, and a decoder (linear to the vocabulary)."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ['LSTM', 'GRU']:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
            except KeyError as e:
                raise ValueError("An invalid option for `--model` was supplied, "
                                 "options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']") from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight

        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    """Adds fixed sine/cosine position codes of shape [max_len, 1, d_model] to [S, N, E] input."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)

        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    """A causal transformer encoder over the token stream (nn.Transformer's encoder only)."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                                               num_encoder_layers=nlayers)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None

        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def batchify(data, bsz, device):
    # columns are independent streams: [nbatch * bsz] -> [nbatch, bsz]
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def repackage_hidden(h):
    """Cuts the graph at the batch boundary (truncated BPTT)."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(args, model, criterion, data_source, ntokens):
    model.eval()
    total_loss = 0.
    if args.model != 'Transformer':
        hidden = model.init_hidden(args.eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, args.bptt):
            data, targets = get_batch(data_source, i, args.bptt)
            if args.model == 'Transformer':
                output = model(data)
                output = output.view(-1, ntokens)
            else:
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(args, model, criterion, train_data, ntokens, lr, epoch):
    model.train()
    total_loss = 0.
    losses = []
    start_time = time.time()
    if args.model != 'Transformer':
        hidden = model.init_hidden(args.batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        data, targets = get_batch(train_data, i, args.bptt)
        model.zero_grad()
        if args.model == 'Transformer':
            output = model(data)
            output = output.view(-1, ntokens)
        else:
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()

        # clip_grad_norm_ keeps exploding gradients of the recurrence in check
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)

        total_loss += loss.item()
        losses.append(loss.item())

        if batch % args.log_interval == 0 and batch > 0:
            cur_loss = total_loss / args.log_interval
            elapsed = time.time() - start_time
            print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | ms/batch {:5.2f} | '
                  'loss {:5.2f} | ppl {:8.2f}'.format(
                      epoch, batch, len(train_data) // args.bptt, lr,
                      elapsed * 1000 / args.log_interval, cur_loss, math.exp(cur_loss)))
            total_loss = 0
            start_time = time.time()
        if args.dry_run:
            break
    return losses


def generate(args, model, corpus, device):
    model.eval()
    ntokens = len(corpus.dictionary)
    if args.model != 'Transformer':
        hidden = model.init_hidden(1)
    input = torch.randint(ntokens, (1, 1), dtype=torch.long).to(device)
    words = []
    with torch.no_grad():
        for i in range(args.words):
            if args.model == 'Transformer':
                output = model(input, False)
                word_weights = output[-1].squeeze().div(args.temperature).exp().cpu()
                word_idx = torch.multinomial(word_weights, 1)[0]
                word_tensor = torch.Tensor([[word_idx]]).long().to(device)
                input = torch.cat([input, word_tensor], 0)
            else:
                output, hidden = model(input, hidden)
                word_weights = output.squeeze().div(args.temperature).exp().cpu()
                word_idx = torch.multinomial(word_weights, 1)[0]
                input.fill_(word_idx)
            words.append(corpus.dictionary.idx2word[word_idx])
    return words


def main(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch Wikitext-2 RNN/LSTM/GRU/Transformer Language Model')
    parser.add_argument('--model', type=str, default='LSTM',
                        help='type of network (RNN_TANH, RNN_RELU, LSTM, GRU, Transformer)')
    parser.add_argument('--emsize', type=int, default=200)
    parser.add_argument('--nhid', type=int, default=200)
    parser.add_argument('--nlayers', type=int, default=2)
    parser.add_argument('--lr', type=float, default=20)
    parser.add_argument('--clip', type=float, default=0.25)
    parser.add_argument('--epochs', type=int, default=40)
    parser.add_argument('--batch_size', type=int, default=20, metavar='N')
    parser.add_argument('--eval_batch_size', type=int, default=10)
    parser.add_argument('--bptt', type=int, default=35)
    parser.add_argument('--dropout', type=float, default=0.2)
    parser.add_argument('--tied', action='store_true')
    parser.add_argument('--seed', type=int, default=1111)
    parser.add_argument('--log-interval', type=int, default=200, metavar='N')
    parser.add_argument('--save', type=str, default='model.pt')
    parser.add_argument('--nhead', type=int, default=2)
    parser.add_argument('--dry-run', action='store_true')
    parser.add_argument('--words', type=int, default=20)
    parser.add_argument('--temperature', type=float, default=1.0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device("cpu")

    corpus = Corpus()
    train_data = batchify(corpus.train, args.batch_size, device)
    val_data = batchify(corpus.valid, args.eval_batch_size, device)
    test_data = batchify(corpus.test, args.eval_batch_size, device)

    ntokens = len(corpus.dictionary)
    if args.model == 'Transformer':
        model = TransformerModel(ntokens, args.emsize, args.nhead, args.nhid, args.nlayers,
                                 args.dropout).to(device)
    else:
        model = RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout,
                         args.tied).to(device)

    criterion = nn.NLLLoss()

    lr = args.lr
    best_val_loss = None
    history = []
    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        losses = train(args, model, criterion, train_data, ntokens, lr, epoch)
        val_loss = evaluate(args, model, criterion, val_data, ntokens)
        print('-' * 89)
        print('| end of epoch {:3d} | time: {:5.2f}s | valid loss {:5.2f} | '
              'valid ppl {:8.2f}'.format(epoch, (time.time() - epoch_start_time),
                                         val_loss, math.exp(val_loss)))
        print('-' * 89)
        history.append((losses, val_loss, lr))
        if not best_val_loss or val_loss < best_val_loss:
            torch.save(model.state_dict(), args.save)
            best_val_loss = val_loss
        else:
            # no improvement on the validation set: anneal the learning rate
            lr /= 4.0

    model.load_state_dict(torch.load(args.save))
    if args.model in ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU']:
        model.rnn.flatten_parameters()

    test_loss = evaluate(args, model, criterion, test_data, ntokens)
    print('=' * 89)
    print('| End of training | test loss {:5.2f} | test ppl {:8.2f}'.format(
        test_loss, math.exp(test_loss)))
    print('=' * 89)
    words = generate(args, model, corpus, device)
    print(' '.join(words))
    return model, corpus, history, test_loss, words


if __name__ == '__main__':
    main()
'''

_SMALL = ["--emsize", "32", "--nhid", "32", "--nlayers", "2", "--batch_size", "8",
          "--eval_batch_size", "4", "--bptt", "12", "--log-interval", "5"]


@pytest.mark.parametrize("kind,lr,extra", [
    ("LSTM", 20.0, ["--tied", "--nlayers", "1", "--dropout", "0"]),
    ("GRU", 20.0, []),
    ("RNN_TANH", 2.0, ["--tied"]),
    ("Transformer", 0.5, ["--nhead", "2", "--dropout", "0.1"]),
])
def test_word_language_model_trains_saves_and_generates(run_program, tmp_path, kind, lr, extra):
    import ferrum

    path = tmp_path / "model.pt"
    ns = run_program(SOURCE)
    model, corpus, history, test_loss, words = ns["main"](
        ["--model", kind, "--lr", str(lr), "--epochs", "3", "--save", str(path), "--words", "12",
         *_SMALL, *extra])
    first = history[0][0]
    last = history[-1][0]
    # ln(vocabulary) is where an untrained model starts; the grammar is learnable well below it
    assert np.isclose(first[0], np.log(len(corpus.dictionary)), atol=0.5)
    assert np.mean(last) < first[0] - 0.7
    assert history[-1][1] < history[0][1] - 0.2
    assert test_loss < first[0] - 0.7
    assert len(words) == 12 and all(w in corpus.dictionary.word2idx for w in words)
    state = ferrum.load(str(path))
    if "--tied" in extra:
        assert model.decoder.weight is model.encoder.weight
        assert ferrum.equal(state["encoder.weight"], state["decoder.weight"])
    if kind == "Transformer":
        assert "pos_encoder.pe" in state and tuple(state["pos_encoder.pe"].shape) == (5000, 1, 32)


def test_word_language_model_dry_run_as_main(run_program, tmp_path, capsys):
    run_program(SOURCE, run_main=True, argv=["--epochs", "1", "--dry-run", "--save", str(tmp_path / "m.pt"),
                                             "--words", "5", *_SMALL])
    out = capsys.readouterr().out
    assert "| end of epoch   1 |" in out and "| End of training | test loss" in out


def test_word_language_model_bad_flag(run_program):
    ns = run_program(SOURCE)
    with pytest.raises(ValueError, match="invalid option"):
        ns["RNNModel"]("LSTMX", 10, 8, 8, 1)
    with pytest.raises(ValueError, match="nhid must be equal"):
        ns["RNNModel"]("GRU", 10, 8, 6, 1, tie_weights=True)


def _train_steps(lib, ns, model, data, steps, lr=2.0, clip=0.25, transformer=False):
    """The program's own inner loop (clip, manual SGD, repackage) for a few steps; returns losses."""
    criterion = lib.nn.NLLLoss()
    hidden = None if transformer else model.init_hidden(data.size(1))
    losses = []
    for i in range(steps):
        x, y = ns["get_batch"](data, i * 5, 5)
        model.zero_grad()
        if transformer:
            out = model(x).view(-1, model.decoder.out_features)
        else:
            hidden = ns["repackage_hidden"](hidden)
            out, hidden = model(x, hidden)
        loss = criterion(out, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU", "Transformer"])
def test_word_language_model_matches_torch(run_program, torch, kind):
    """Same weights and batches: the first training losses (dropout 0) and the final weights match."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    if kind == "Transformer":
        tm = tns["TransformerModel"](20, 16, 2, 24, 2, dropout=0.0)
        fm = fns["TransformerModel"](20, 16, 2, 24, 2, dropout=0.0)
    else:
        tm = tns["RNNModel"](kind, 20, 16, 16, 2, dropout=0.0, tie_weights=True)
        fm = fns["RNNModel"](kind, 20, 16, 16, 2, dropout=0.0, tie_weights=True)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for lib, m in ((torch, tm), (ferrum, fm)):
        # nn.Transformer's layers keep their default dropout 0.1: turn it off for a deterministic step
        for mod in m.modules():
            if isinstance(mod, lib.nn.Dropout):
                mod.p = 0.0
            elif isinstance(mod, lib.nn.MultiheadAttention):
                mod.dropout = 0.0
    stream = np.random.default_rng(0).integers(0, 20, 26 * 4)
    tdata = tns["batchify"](torch.tensor(stream), 4, torch.device("cpu"))
    fdata = fns["batchify"](ferrum.tensor(stream), 4, ferrum.device("cpu"))
    tr = kind == "Transformer"
    tl = _train_steps(torch, tns, tm, tdata, 5, transformer=tr)
    fl = _train_steps(ferrum, fns, fm, fdata, 5, transformer=tr)
    np.testing.assert_allclose(fl, tl, rtol=2e-4)
    for (n, tp), (_, fp) in zip(tm.named_parameters(), fm.named_parameters()):
        np.testing.assert_allclose(fp.detach().numpy(), tp.detach().numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=n)
