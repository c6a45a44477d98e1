"""The text classification tutorial (EmbeddingBag over n-grams, offsets), run with ferrum.

What the tutorial's readers write: a tokenizer with bigrams, a vocabulary built from the training
iterator (with ``<unk>`` as the default index), a ``collate_batch`` that concatenates the token ids of
a batch and turns their lengths into ``offsets`` with ``torch.tensor(...).cumsum(dim=0)``, a
``TextClassificationModel`` (``nn.EmbeddingBag`` in mean mode, ``nn.Linear``, ``init_weights`` with
``uniform_``/``zero_``), ``random_split`` of the training set, ``SGD(lr=5)`` with ``StepLR`` stepped
when the validation accuracy stops improving, ``clip_grad_norm_(..., 0.1)``, and the accuracy count
``(predicted_label.argmax(1) == label).sum().item()``. The news corpus is replaced by synthetic
"headlines" whose class shows in their topic words (torchtext is not used: the vocabulary and the
bigram iterator are the few lines a user writes without it).
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
import random
import time
from collections import Counter

import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data.dataset import random_split

TOPICS = {
    1: ["election", "minister", "vote", "parliament", "treaty", "border"],      # World
    2: ["match", "goal", "league", "coach", "season", "striker"],               # Sports
    3: ["shares", "market", "profit", "bank", "earnings", "stocks"],            # Business
    4: ["software", "chip", "internet", "robot", "startup", "quantum"],         # Sci/Tech
}
FILLER = ["the", "a", "new", "report", "says", "after", "week", "big", "on", "in", "over", "plans"]


def make_news(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.randint(1, 4)
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 9))]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(TOPICS[label]))
        out.append((label, " ".join(words)))
    return out


def tokenizer(line):
    return line.lower().split()


def ngrams_iterator(tokens, n):
    for tok in tokens:
        yield tok
    for k in range(2, n + 1):
        for i in range(len(tokens) - k + 1):
            yield " ".join(tokens[i:i + k])


class Vocab:
    def __init__(self, counter, specials=("<unk>",)):
        self.itos = list(specials) + sorted(counter, key=lambda w: (-counter[w], w))
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.default_index = 0

    def set_default_index(self, index):
        self.default_index = index

    def __call__(self, tokens):
        return [self.stoi.get(t, self.default_index) for t in tokens]

    def __len__(self):
        return len(self.itos)


def build_vocab(data_iter, ngrams):
    counter = Counter()
    for _, text in data_iter:
        counter.update(ngrams_iterator(tokenizer(text), ngrams))
    vocab = Vocab(counter)
    vocab.set_default_index(vocab.stoi["<unk>"])
    return vocab


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


def make_pipelines(vocab, ngrams):
    text_pipeline = lambda x: vocab(list(ngrams_iterator(tokenizer(x), ngrams)))  # noqa: E731
    label_pipeline = lambda x: int(x) - 1  # noqa: E731
    return text_pipeline, label_pipeline


def make_collate(text_pipeline, label_pipeline, device):
    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for (_label, _text) in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list.to(device), text_list.to(device), offsets.to(device)
    return collate_batch


def train(dataloader, model, optimizer, criterion, epoch, log_interval=500):
    model.train()
    total_acc, total_count = 0, 0
    losses = []
    start_time = time.time()
    for idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        losses.append(loss.item())
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
        if idx % log_interval == 0 and idx > 0:
            elapsed = time.time() - start_time
            print('| epoch {:3d} | {:5d}/{:5d} batches | accuracy {:8.3f}'.format(
                epoch, idx, len(dataloader), total_acc / total_count))
            total_acc, total_count = 0, 0
            start_time = time.time()
    return losses


def evaluate(dataloader, model, criterion):
    model.eval()
    total_acc, total_count = 0, 0
    with torch.no_grad():
        for idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count


def predict(model, text, text_pipeline):
    with torch.no_grad():
        text = torch.tensor(text_pipeline(text))
        output = model(text, torch.tensor([0]))
        return output.argmax(1).item() + 1


def main(epochs=10, lr=5, batch_size=64, emsize=64, ngrams=2, n_train=2000, n_test=400, seed=0):
    torch.manual_seed(seed)
    device = torch.device("cpu")
    train_iter, test_iter = make_news(n_train, seed), make_news(n_test, seed + 1)
    vocab = build_vocab(train_iter, ngrams)
    text_pipeline, label_pipeline = make_pipelines(vocab, ngrams)
    collate_batch = make_collate(text_pipeline, label_pipeline, device)

    num_class = len(set([label for (label, text) in train_iter]))
    vocab_size = len(vocab)
    model = TextClassificationModel(vocab_size, emsize, num_class).to(device)

    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    total_accu = None
    num_train = int(len(train_iter) * 0.95)
    split_train_, split_valid_ = random_split(train_iter, [num_train, len(train_iter) - num_train])

    train_dataloader = DataLoader(split_train_, batch_size=batch_size, shuffle=True,
                                  collate_fn=collate_batch)
    valid_dataloader = DataLoader(split_valid_, batch_size=batch_size, shuffle=True,
                                  collate_fn=collate_batch)
    test_dataloader = DataLoader(test_iter, batch_size=batch_size, shuffle=True,
                                 collate_fn=collate_batch)
    history = []
    for epoch in range(1, epochs + 1):
        epoch_start_time = time.time()
        losses = train(train_dataloader, model, optimizer, criterion, epoch)
        accu_val = evaluate(valid_dataloader, model, criterion)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        history.append((losses, accu_val, scheduler.get_last_lr()[0]))
        print('-' * 59)
        print('| end of epoch {:3d} | time: {:5.2f}s | valid accuracy {:8.3f} '.format(
            epoch, time.time() - epoch_start_time, accu_val))
        print('-' * 59)

    accu_test = evaluate(test_dataloader, model, criterion)
    print('test accuracy {:8.3f}'.format(accu_test))
    ag_news_label = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tec"}
    ex_text_str = "the coach says the striker scored a goal over the week"
    label = ag_news_label[predict(model, ex_text_str, text_pipeline)]
    print("This is a %s news" % label)
    return model, history, accu_test, label, (vocab, text_pipeline, collate_batch)


if __name__ == '__main__':
    main()
'''


def test_text_sentiment_ngrams_program_classifies(run_program, capsys):
    ns = run_program(SOURCE)
    model, history, accu_test, label, _ = ns["main"](epochs=4)
    first_losses = history[0][0]
    assert np.mean(history[-1][0]) < 0.5 * first_losses[0]
    assert accu_test > 0.9 and history[-1][1] > 0.9
    assert label == "Sports"
    out = capsys.readouterr().out
    assert "| end of epoch   4 |" in out and "This is a Sports news" in out


def test_text_sentiment_collate_offsets(run_program):
    ns = run_program(SOURCE)
    vocab = ns["build_vocab"]([(1, "a b a")], 2)
    assert vocab.itos == ["<unk>", "a", "a b", "b", "b a"]
    tp, lp = ns["make_pipelines"](vocab, 2)
    collate = ns["make_collate"](tp, lp, None)
    label, text, offsets = collate([(2, "a b"), (4, "b zz a")])
    assert label.tolist() == [1, 3]
    assert text.tolist() == [1, 3, 2, 3, 0, 1, 0, 0]  # unigrams, then bigrams; unknowns -> 0
    assert offsets.tolist() == [0, 3] and str(offsets.dtype) == "ferrum.int64"


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_text_sentiment_matches_torch(run_program, torch, mode):
    """Same weights, same batches: five clipped SGD steps give torch's losses and weights."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    data = fns["make_news"](5 * 16, 3)
    vocab = fns["build_vocab"](data, 2)
    results = []
    tm = tns["TextClassificationModel"](len(vocab), 12, 4)
    fm = fns["TextClassificationModel"](len(vocab), 12, 4)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for lib, ns, m in ((torch, tns, tm), (ferrum, fns, fm)):
        m.embedding.mode = mode
        tp, lp = ns["make_pipelines"](vocab, 2)
        collate = ns["make_collate"](tp, lp, lib.device("cpu"))
        batches = [collate(data[i:i + 16]) for i in range(0, len(data), 16)]
        opt = lib.optim.SGD(m.parameters(), lr=5)
        losses = ns["train"](batches, m, opt, lib.nn.CrossEntropyLoss(), 1)
        results.append((losses, [p.detach().numpy().copy() for p in m.parameters()]))
    (tl, tw), (fl, fw) = results
    np.testing.assert_allclose(fl, tl, rtol=1e-5)
    for a, b in zip(fw, tw):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
