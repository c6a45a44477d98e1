"""A sentiment classifier over variable-length sentences with packed sequences, run with ferrum.

The shape of the widely followed "packed padded sequences" sentiment tutorials: sentences of
different lengths are padded in ``collate_fn`` with ``nn.utils.rnn.pad_sequence`` (batch_first,
the pad index), embedded with ``nn.Embedding(padding_idx=...)``, packed with
``pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)``, run
through a two-layer bidirectional ``nn.LSTM`` with dropout, unpacked with ``pad_packed_sequence``,
and classified from ``torch.cat((hidden[-2], hidden[-1]), dim=1)`` (the last layer's forward and
backward final states); ``BCEWithLogitsLoss``, Adam, ``torch.round(torch.sigmoid(...))`` accuracy,
the best model kept by validation loss with ``torch.save``/``load_state_dict``, and a
``predict_sentiment`` helper. The review corpus is synthetic: the label is whether positive or
negative words dominate, so the padding must not leak into the final states for it to work.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import random
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset

POSITIVE = ["great", "good", "wonderful", "loved", "brilliant", "fun", "enjoyable"]
NEGATIVE = ["bad", "awful", "boring", "hated", "terrible", "dull", "poor"]
NEUTRAL = ["the", "movie", "film", "was", "plot", "actors", "it", "and", "this", "really", "story"]


def make_reviews(n, seed):
    rng = random.Random(seed)
    reviews = []
    for _ in range(n):
        label = rng.random() < 0.5
        strong, weak = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = [rng.choice(NEUTRAL) for _ in range(rng.randint(2, 14))]
        n_strong = rng.randint(1, 3)
        for w in [rng.choice(strong) for _ in range(n_strong)] + \
                 [rng.choice(weak) for _ in range(rng.randint(0, n_strong - 1))]:
            words.insert(rng.randrange(len(words) + 1), w)
        reviews.append((words, float(label)))
    return reviews


class ReviewDataset(Dataset):
    def __init__(self, reviews, stoi):
        self.items = [(torch.tensor([stoi.get(w, 1) for w in words]), label) for words, label in reviews]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def build_vocab(reviews):
    itos = ["<pad>", "<unk>"] + sorted({w for words, _ in reviews for w in words})
    return itos, {w: i for i, w in enumerate(itos)}


PAD_IDX = 0


def collate(batch):
    texts, labels = zip(*batch)
    lengths = torch.tensor([len(t) for t in texts])
    padded = pad_sequence(texts, batch_first=True, padding_value=PAD_IDX)
    return padded, lengths, torch.tensor(labels)


class RNN(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim, n_layers, bidirectional,
                 dropout, pad_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_idx)
        self.rnn = nn.LSTM(embedding_dim, hidden_dim, num_layers=n_layers, bidirectional=bidirectional,
                           dropout=dropout, batch_first=True)
        self.fc = nn.Linear(hidden_dim * 2, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, text, text_lengths):
        # text [batch, seq len]
        embedded = self.dropout(self.embedding(text))
        # lengths must live on the CPU for packing
        packed_embedded = pack_padded_sequence(embedded, text_lengths.cpu(), batch_first=True,
                                               enforce_sorted=False)
        packed_output, (hidden, cell) = self.rnn(packed_embedded)
        output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
        # hidden [num layers * num directions, batch, hid dim]: the top layer's two directions
        hidden = self.dropout(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))
        return self.fc(hidden), output, output_lengths


def binary_accuracy(preds, y):
    rounded_preds = torch.round(torch.sigmoid(preds))
    correct = (rounded_preds == y).float()
    return correct.sum() / len(correct)


def train(model, iterator, optimizer, criterion):
    epoch_loss = 0
    epoch_acc = 0
    losses = []
    model.train()
    for text, text_lengths, label in iterator:
        optimizer.zero_grad()
        predictions = model(text, text_lengths)[0].squeeze(1)
        loss = criterion(predictions, label)
        acc = binary_accuracy(predictions, label)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
        epoch_acc += acc.item()
        losses.append(loss.item())
    return epoch_loss / len(iterator), epoch_acc / len(iterator), losses


def evaluate(model, iterator, criterion):
    epoch_loss = 0
    epoch_acc = 0
    model.eval()
    with torch.no_grad():
        for text, text_lengths, label in iterator:
            predictions = model(text, text_lengths)[0].squeeze(1)
            loss = criterion(predictions, label)
            acc = binary_accuracy(predictions, label)
            epoch_loss += loss.item()
            epoch_acc += acc.item()
    return epoch_loss / len(iterator), epoch_acc / len(iterator)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def predict_sentiment(model, stoi, sentence):
    model.eval()
    indexed = [stoi.get(t, 1) for t in sentence.split()]
    length = torch.LongTensor([len(indexed)])
    tensor = torch.LongTensor(indexed).unsqueeze(0)
    prediction = torch.sigmoid(model(tensor, length)[0])
    return prediction.item()


def main(n_epochs=5, batch_size=32, embedding_dim=32, hidden_dim=32, dropout=0.25, save='best.pt',
         n_train=800, seed=0):
    random.seed(seed)
    torch.manual_seed(seed)
    reviews = make_reviews(n_train + 200, seed)
    itos, stoi = build_vocab(reviews[:n_train])
    train_data = ReviewDataset(reviews[:n_train], stoi)
    valid_data = ReviewDataset(reviews[n_train:], stoi)
    train_iterator = DataLoader(train_data, batch_size=batch_size, shuffle=True, collate_fn=collate)
    valid_iterator = DataLoader(valid_data, batch_size=batch_size, collate_fn=collate)

    model = RNN(len(itos), embedding_dim, hidden_dim, 1, 2, True, dropout, PAD_IDX)
    print(f'The model has {count_parameters(model):,} trainable parameters')
    # the pad row starts (and, with padding_idx, stays) at zero
    model.embedding.weight.data[PAD_IDX] = torch.zeros(embedding_dim)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.BCEWithLogitsLoss()

    best_valid_loss = float('inf')
    history = []
    for epoch in range(n_epochs):
        start_time = time.time()
        train_loss, train_acc, losses = train(model, train_iterator, optimizer, criterion)
        valid_loss, valid_acc = evaluate(model, valid_iterator, criterion)
        if valid_loss < best_valid_loss:
            best_valid_loss = valid_loss
            torch.save(model.state_dict(), save)
        history.append((losses, valid_loss, valid_acc))
        print(f'Epoch: {epoch + 1:02} | Epoch Time: {time.time() - start_time:.2f}s')
        print(f'\tTrain Loss: {train_loss:.3f} | Train Acc: {train_acc * 100:.2f}%')
        print(f'\t Val. Loss: {valid_loss:.3f} |  Val. Acc: {valid_acc * 100:.2f}%')

    model.load_state_dict(torch.load(save))
    return model, history, stoi


if __name__ == '__main__':
    main()
'''


def test_packed_bilstm_program_learns(run_program, tmp_path, capsys):
    import ferrum

    ns = run_program(SOURCE)
    model, history, stoi = ns["main"](n_epochs=4, save=str(tmp_path / "best.pt"))
    assert np.mean(history[-1][0]) < 0.5 * history[0][0][0]
    assert max(h[2] for h in history) > 0.9
    pos = ns["predict_sentiment"](model, stoi, "this film was really great and fun")
    neg = ns["predict_sentiment"](model, stoi, "the plot was dull and the actors awful")
    assert pos > 0.8 and neg < 0.2
    assert not model.embedding.weight[0].any()  # padding_idx row: no gradient, never updated
    assert "trainable parameters" in capsys.readouterr().out
    # the program ends on the checkpoint it saved
    state = ferrum.load(str(tmp_path / "best.pt"))
    assert tuple(state["rnn.weight_hh_l1_reverse"].shape) == (128, 32)
    assert all(ferrum.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_packed_padding_does_not_change_the_result(run_program):
    """A sentence scores the same alone and padded inside a batch with longer ones."""
    import ferrum

    ns = run_program(SOURCE)
    model = ns["RNN"](30, 8, 6, 1, 2, True, 0.0, 0)
    model.eval()
    seqs = [ferrum.tensor([5, 3, 9]), ferrum.tensor([4, 4, 7, 8, 2, 11]), ferrum.tensor([6])]
    text, lengths, _ = ns["collate"]([(s, 0.0) for s in seqs])
    assert tuple(text.shape) == (3, 6) and lengths.tolist() == [3, 6, 1]
    with ferrum.no_grad():
        batch_logits, out, out_lengths = model(text, lengths)
        assert out_lengths.tolist() == [3, 6, 1] and tuple(out.shape) == (3, 6, 12)
        assert not out[0, 3:].any() and not out[2, 1:].any()
        for i, s in enumerate(seqs):
            alone = model(s.unsqueeze(0), ferrum.tensor([len(s)]))[0]
            np.testing.assert_allclose(batch_logits[i].numpy(), alone[0].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_packed_bilstm_matches_torch(run_program, torch, dtype):
    """Same weights and batches, dropout off: the outputs, four Adam steps' losses and every
    gradient of the first step equal torch's."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    reviews = fns["make_reviews"](64, 5)
    itos, stoi = fns["build_vocab"](reviews)
    tm = tns["RNN"](len(itos), 10, 7, 1, 2, True, 0.0, 0).to(getattr(torch, dtype))
    fm = fns["RNN"](len(itos), 10, 7, 1, 2, True, 0.0, 0).to(getattr(ferrum, dtype))
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    res = []
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        data = ns["ReviewDataset"](reviews, stoi)
        batches = [ns["collate"]([data[j] for j in range(i, i + 16)]) for i in range(0, 64, 16)]
        batches = [(x, n, y.to(getattr(lib, dtype))) for x, n, y in batches]
        opt = lib.optim.Adam(m.parameters(), lr=1e-2)
        crit = lib.nn.BCEWithLogitsLoss()
        x, n, y = batches[0]
        logits, out, _ = m(x, n)
        crit(logits.squeeze(1), y).backward()
        grads = {k: p.grad.numpy().copy() for k, p in m.named_parameters()}
        _, _, losses = ns["train"](m, batches, opt, crit)
        res.append((out.detach().numpy(), grads, losses))
    (to, tg, tl), (fo, fg, fl) = res
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(fo, to, rtol=tol, atol=tol)
    for k in tg:
        np.testing.assert_allclose(fg[k], tg[k], rtol=tol * 10, atol=tol, err_msg=k)
    np.testing.assert_allclose(fl, tl, rtol=tol * 10)
