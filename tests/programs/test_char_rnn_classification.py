"""The char-RNN name classification tutorial (nn.RNN over one-hot letters), run with ferrum.

What the tutorial's readers write: ``torch.set_default_device`` after picking the device, names read
from ``data/names/<Language>.txt`` files (``glob``, ``unicodedata`` to ASCII), each name as a
``[len, 1, n_letters]`` one-hot tensor, a ``Dataset`` holding (label tensor, name tensor, label,
name), ``random_split(..., [.85, .15], generator=torch.Generator(device=device).manual_seed(...))``,
a ``CharRNN`` (``nn.RNN``, ``nn.Linear`` on ``hidden[0]``, ``nn.LogSoftmax``), training by summing
the per-name ``NLLLoss`` of a shuffled mini-batch (``np.array_split`` of the indices),
``clip_grad_norm_``, SGD, ``topk`` to read a label, and a row-normalised confusion matrix. The
surnames are synthetic: each "language" builds names from its own syllables, written to files in a
temporary folder the program globs.
"""

from __future__ import annotations

import numpy as np

SOURCE = r'''
import glob
import os
import random
import string
import time
import unicodedata
from io import open

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset

device = torch.device('cpu')
if torch.cuda.is_available():
    device = torch.device('cuda')
torch.set_default_device(device)

# every letter we keep, plus "_" for anything else
allowed_characters = string.ascii_letters + " .,;'" + "_"
n_letters = len(allowed_characters)


def unicodeToAscii(s):
    return ''.join(c for c in unicodedata.normalize('NFD', s)
                   if unicodedata.category(c) != 'Mn' and c in allowed_characters)


def letterToIndex(letter):
    if letter not in allowed_characters:
        return allowed_characters.find("_")
    return allowed_characters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class NamesDataset(Dataset):
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.load_time = time.localtime
        labels_set = set()
        self.data = []
        self.data_tensors = []
        self.labels = []
        self.labels_tensors = []

        text_files = glob.glob(os.path.join(data_dir, '*.txt'))
        for filename in sorted(text_files):
            label = os.path.splitext(os.path.basename(filename))[0]
            labels_set.add(label)
            lines = open(filename, encoding='utf-8').read().strip().split('\n')
            for name in lines:
                self.data.append(name)
                self.data_tensors.append(lineToTensor(name))
                self.labels.append(label)

        self.labels_uniq = sorted(labels_set)
        for idx in range(len(self.labels)):
            temp_tensor = torch.tensor([self.labels_uniq.index(self.labels[idx])], dtype=torch.long)
            self.labels_tensors.append(temp_tensor)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return self.labels_tensors[idx], self.data_tensors[idx], self.labels[idx], self.data[idx]


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


def label_from_output(output, output_labels):
    top_n, top_i = output.topk(1)
    label_i = top_i[0].item()
    return output_labels[label_i], label_i


def train(rnn, training_data, n_epoch=10, n_batch_size=64, report_every=50, learning_rate=0.2,
          criterion=nn.NLLLoss()):
    current_loss = 0
    all_losses = []
    rnn.train()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)
    start = time.time()
    print(f"training on data set with n = {len(training_data)}")
    for iter in range(1, n_epoch + 1):
        rnn.zero_grad()  # clear the gradients
        # mini-batches of shuffled indices: the names have different lengths, so one at a time
        batches = list(range(len(training_data)))
        random.shuffle(batches)
        batches = np.array_split(batches, len(batches) // n_batch_size)
        for idx, batch in enumerate(batches):
            batch_loss = 0
            for i in batch:
                (label_tensor, text_tensor, label, text) = training_data[i]
                output = rnn.forward(text_tensor)
                loss = criterion(output, label_tensor)
                batch_loss += loss
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            current_loss += batch_loss.item() / len(batch)
        all_losses.append(current_loss / len(batches))
        if iter % report_every == 0:
            print(f"{iter} ({iter / n_epoch:.0%}): \t average batch loss = {all_losses[-1]}")
        current_loss = 0
    return all_losses


def evaluate(rnn, testing_data, classes):
    confusion = torch.zeros(len(classes), len(classes))
    rnn.eval()
    with torch.no_grad():
        for i in range(len(testing_data)):
            (label_tensor, text_tensor, label, text) = testing_data[i]
            output = rnn(text_tensor)
            guess, guess_i = label_from_output(output, classes)
            label_i = classes.index(label)
            confusion[label_i][guess_i] += 1
    # each row sums to one
    for i in range(len(classes)):
        denom = confusion[i].sum()
        if denom > 0:
            confusion[i] = confusion[i] / denom
    return confusion


def main(data_dir, n_hidden=64, n_epoch=8, n_batch_size=32, learning_rate=0.15, seed=2024):
    random.seed(seed)
    torch.manual_seed(seed)
    alldata = NamesDataset(data_dir)
    print(f"loaded {len(alldata)} items of data")
    print(f"example = {alldata[0]}")
    train_set, test_set = torch.utils.data.random_split(
        alldata, [.85, .15], generator=torch.Generator(device=device).manual_seed(seed))
    print(f"train examples = {len(train_set)}, validation examples = {len(test_set)}")
    rnn = CharRNN(n_letters, n_hidden, len(alldata.labels_uniq))
    print(rnn)
    all_losses = train(rnn, train_set, n_epoch=n_epoch, n_batch_size=n_batch_size, report_every=2,
                       learning_rate=learning_rate)
    confusion = evaluate(rnn, test_set, classes=alldata.labels_uniq)
    return rnn, all_losses, confusion, alldata
'''

_SYLLABLES = {
    "Italian": (["ro", "ma", "ri", "bel", "lu", "gio", "van", "ca"], ["ini", "elli", "etti", "ano", "one"]),
    "Japanese": (["ka", "mo", "to", "shi", "ya", "na", "ta", "ku"], ["moto", "shita", "uchi", "da", "gawa"]),
    "Russian": (["iv", "pet", "mak", "sok", "vol", "ko", "dmi", "bor"], ["ov", "ev", "in", "sky", "enko"]),
    "Scottish": (["mac", "mc", "don", "gre", "ross", "cam", "fra", "dug"], ["ald", "son", "gor", "ie", "an"]),
}


def _write_names(folder, per_language=120, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for lang, (heads, tails) in _SYLLABLES.items():
        names = set()
        while len(names) < per_language:
            parts = [heads[i] for i in rng.integers(0, len(heads), rng.integers(1, 3))]
            names.add(("".join(parts) + tails[rng.integers(0, len(tails))]).capitalize())
        if lang == "Italian":
            names.add("Niccolò")  # non-ASCII letters go through unicodeToAscii's table or to "_"
        (folder / f"{lang}.txt").write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")


def test_char_rnn_program_learns_languages(run_program, tmp_path, capsys):
    _write_names(tmp_path / "names")
    ns = run_program(SOURCE)
    rnn, losses, confusion, alldata = ns["main"](str(tmp_path / "names"))
    assert alldata.labels_uniq == ["Italian", "Japanese", "Russian", "Scottish"]
    assert losses[-1] < 0.4 * losses[0]
    c = confusion.numpy()
    np.testing.assert_allclose(c.sum(1), 1.0, rtol=1e-6)
    assert np.diag(c).mean() > 0.8  # the syllables give the language away
    out = capsys.readouterr().out
    assert "train examples = 409, validation examples = 72" in out
    assert "CharRNN(\n  (rnn): RNN(58, 64)" in out


def test_char_rnn_one_hot_and_ascii(run_program):
    ns = run_program(SOURCE)
    assert ns["unicodeToAscii"]("Ślusàrski") == "Slusarski"
    t = ns["lineToTensor"]("Ab_")
    assert tuple(t.shape) == (3, 1, 58) and t.sum().item() == 3.0
    assert t[0, 0, 26].item() == 1 and t[1, 0, 1].item() == 1 and t[2, 0, 57].item() == 1
    assert ns["letterToIndex"]("ö") == 57


def test_char_rnn_matches_torch(run_program, torch, tmp_path):
    """Same weights and names: two clipped SGD mini-batches of summed per-name losses, and the
    predictions after them, equal torch's."""
    import ferrum

    _write_names(tmp_path / "names", per_language=10)
    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tm, fm = tns["CharRNN"](58, 16, 4), fns["CharRNN"](58, 16, 4)
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    res = []
    for ns, m in ((tns, tm), (fns, fm)):
        data = ns["NamesDataset"](str(tmp_path / "names"))
        ns["random"].seed(0)  # the same shuffle of the same 40 names
        losses = ns["train"](m, data, n_epoch=1, n_batch_size=20, report_every=5, learning_rate=0.2)
        with ns["torch"].no_grad():
            logp = [m(data[i][1]).numpy() for i in range(len(data))]
        res.append((losses, np.concatenate(logp)))
    (tl, tp), (fl, fp) = res
    np.testing.assert_allclose(fl, tl, rtol=1e-5)
    np.testing.assert_allclose(fp, tp, rtol=1e-4, atol=1e-5)
