"""The sequence-to-sequence translation tutorial (GRU encoder, Bahdanau-attention decoder), run with ferrum.

What the tutorial's readers write: a ``Lang`` word index built from normalised sentence pairs, the
pairs turned into fixed-length id arrays and loaded through ``TensorDataset``/``RandomSampler``/
``DataLoader`` over ``torch.LongTensor``; an ``EncoderRNN`` (Embedding, batch-first GRU, dropout), a
``BahdanauAttention`` (additive scores ``Va(tanh(Wa(q) + Ua(k)))``, ``softmax``, ``bmm``) and an
``AttnDecoderRNN`` that feeds ``cat(embedded, context)`` to a GRU one step at a time, with teacher
forcing during training and ``topk(1)`` greedy decoding otherwise; two Adam optimizers and an
``NLLLoss`` over ``log_softmax`` outputs; evaluation returns the decoded words and the attention
matrix. The French-English corpus is replaced by a made-up language: each English sentence of the
tutorial's "i am / he is / ..." shape has a word-by-word pseudo-French source, so the task is
learnable in a few epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

SOURCE = r'''
from __future__ import unicode_literals, print_function, division
import random
import re
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
from torch import optim
import torch.nn.functional as F
from torch.utils.data import TensorDataset, DataLoader, RandomSampler

device = torch.device("cpu")

SOS_token = 0
EOS_token = 1
MAX_LENGTH = 10


class Lang:
    def __init__(self, name):
        self.name = name
        self.word2index = {}
        self.word2count = {}
        self.index2word = {0: "SOS", 1: "EOS"}
        self.n_words = 2  # SOS and EOS

    def addSentence(self, sentence):
        for word in sentence.split(' '):
            self.addWord(word)

    def addWord(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.n_words
            self.word2count[word] = 1
            self.index2word[self.n_words] = word
            self.n_words += 1
        else:
            self.word2count[word] += 1


def unicodeToAscii(s):
    return ''.join(c for c in unicodedata.normalize('NFD', s) if unicodedata.category(c) != 'Mn')


def normalizeString(s):
    s = unicodeToAscii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z!?]+", r" ", s)
    return s.strip()


ENG_PREFIXES = ("i am", "he is", "she is", "you are", "we are", "they are")
_LEXICON = {"i": "je", "am": "suis", "he": "il", "she": "elle", "is": "est", "you": "vous",
            "we": "nous", "they": "ils", "are": "sont", "cold": "froid", "tired": "fatigue",
            "happy": "heureux", "hungry": "affame", "not": "pas", "very": "tres", "here": "ici",
            "late": "tard", "ready": "pret", "sad": "triste", "home": "maison"}


def makePairs(n, seed):
    """(pseudo-French, English) pairs: an English sentence and its word-by-word translation."""
    rng = random.Random(seed)
    adjectives = ["cold", "tired", "happy", "hungry", "here", "late", "ready", "sad", "home"]
    pairs = []
    for _ in range(n):
        words = rng.choice(ENG_PREFIXES).split()
        if rng.random() < 0.3:
            words.append("not")
        if rng.random() < 0.3:
            words.append("very")
        words.append(rng.choice(adjectives))
        eng = " ".join(words) + (" !" if rng.random() < 0.2 else " .")
        fra = " ".join(_LEXICON.get(w, w) for w in eng.split())
        pairs.append([normalizeString(fra), normalizeString(eng)])
    return pairs


def filterPair(p):
    return (len(p[0].split(' ')) < MAX_LENGTH and len(p[1].split(' ')) < MAX_LENGTH
            and p[1].startswith(ENG_PREFIXES))


def prepareData(n, seed=0):
    pairs = [p for p in makePairs(n, seed) if filterPair(p)]
    input_lang, output_lang = Lang('fra'), Lang('eng')
    for pair in pairs:
        input_lang.addSentence(pair[0])
        output_lang.addSentence(pair[1])
    print("Counted words:", input_lang.name, input_lang.n_words, output_lang.name, output_lang.n_words)
    return input_lang, output_lang, pairs


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        # query [B, 1, H], keys [B, S, H] -> scores [B, 1, S]
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None, teacher_forcing_ratio=1.0):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs)
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None and random.random() < teacher_forcing_ratio:
                # teacher forcing: the next input is the target word
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                # otherwise its own best guess, cut from the graph
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


def indexesFromSentence(lang, sentence):
    return [lang.word2index[word] for word in sentence.split(' ')]


def tensorFromSentence(lang, sentence):
    indexes = indexesFromSentence(lang, sentence)
    indexes.append(EOS_token)
    # padded as the training batches are, so the encoder's final state is the one it learned from
    indexes += [0] * (MAX_LENGTH - len(indexes))
    return torch.tensor(indexes, dtype=torch.long, device=device).view(1, -1)


def get_dataloader(batch_size, n_pairs=600):
    input_lang, output_lang, pairs = prepareData(n_pairs)
    n = len(pairs)
    input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
    for idx, (inp, tgt) in enumerate(pairs):
        inp_ids = indexesFromSentence(input_lang, inp)
        tgt_ids = indexesFromSentence(output_lang, tgt)
        inp_ids.append(EOS_token)
        tgt_ids.append(EOS_token)
        input_ids[idx, :len(inp_ids)] = inp_ids
        target_ids[idx, :len(tgt_ids)] = tgt_ids
    train_data = TensorDataset(torch.LongTensor(input_ids).to(device),
                               torch.LongTensor(target_ids).to(device))
    train_sampler = RandomSampler(train_data)
    train_dataloader = DataLoader(train_data, sampler=train_sampler, batch_size=batch_size)
    return input_lang, output_lang, pairs, train_dataloader


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion,
                teacher_forcing_ratio=1.0):
    total_loss = 0
    for data in dataloader:
        input_tensor, target_tensor = data
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor,
                                        teacher_forcing_ratio)

        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        total_loss += loss.item()
    return total_loss / len(dataloader)


def train(train_dataloader, encoder, decoder, n_epochs, learning_rate=0.001, print_every=100,
          teacher_forcing_ratio=1.0):
    start = time.time()
    losses = []
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()
    for epoch in range(1, n_epochs + 1):
        loss = train_epoch(train_dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer,
                           criterion, teacher_forcing_ratio)
        losses.append(loss)
        if epoch % print_every == 0:
            print('%.1fs (%d %d%%) %.4f' % (time.time() - start, epoch, epoch / n_epochs * 100, loss))
    return losses


def evaluate(encoder, decoder, sentence, input_lang, output_lang):
    with torch.no_grad():
        input_tensor = tensorFromSentence(input_lang, sentence)
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = decoder(encoder_outputs, encoder_hidden)

        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()

        decoded_words = []
        for idx in decoded_ids:
            if idx.item() == EOS_token:
                decoded_words.append('<EOS>')
                break
            decoded_words.append(output_lang.index2word[idx.item()])
    return decoded_words, decoder_attn


def evaluateRandomly(encoder, decoder, pairs, input_lang, output_lang, n=10):
    correct = 0
    for i in range(n):
        pair = random.choice(pairs)
        print('>', pair[0])
        print('=', pair[1])
        output_words, _ = evaluate(encoder, decoder, pair[0], input_lang, output_lang)
        output_sentence = ' '.join(output_words)
        print('<', output_sentence)
        print('')
        correct += output_sentence == pair[1] + ' <EOS>'
    return correct


def main(hidden_size=128, batch_size=32, n_epochs=30, learning_rate=0.001, teacher_forcing_ratio=1.0,
         seed=0):
    random.seed(seed)
    torch.manual_seed(seed)
    input_lang, output_lang, pairs, train_dataloader = get_dataloader(batch_size)
    encoder = EncoderRNN(input_lang.n_words, hidden_size).to(device)
    decoder = AttnDecoderRNN(hidden_size, output_lang.n_words).to(device)
    losses = train(train_dataloader, encoder, decoder, n_epochs, learning_rate, print_every=5,
                   teacher_forcing_ratio=teacher_forcing_ratio)
    encoder.eval()
    decoder.eval()
    correct = evaluateRandomly(encoder, decoder, pairs, input_lang, output_lang, n=20)
    return encoder, decoder, losses, correct, (input_lang, output_lang, pairs)


if __name__ == '__main__':
    main()
'''


def test_seq2seq_program_learns_to_translate(run_program, capsys):
    ns = run_program(SOURCE)
    encoder, decoder, losses, correct, (inp, out, pairs) = ns["main"](
        hidden_size=32, batch_size=32, n_epochs=8, learning_rate=0.01, teacher_forcing_ratio=0.5)
    assert losses[-1] < 0.25 * losses[0]
    assert correct >= 12  # of 20 random training sentences translated exactly
    printed = capsys.readouterr().out
    assert "Counted words: fra" in printed and "> " in printed and "< " in printed
    words, attn = ns["evaluate"](encoder, decoder, pairs[0][0], inp, out)
    assert tuple(attn.shape) == (1, ns["MAX_LENGTH"], ns["MAX_LENGTH"])
    np.testing.assert_allclose(attn.sum(-1).numpy(), 1.0, rtol=1e-5)
    assert words[-1] == "<EOS>" or len(words) == ns["MAX_LENGTH"]


def test_seq2seq_normalise_and_data(run_program):
    ns = run_program(SOURCE)
    assert ns["normalizeString"]("  Élan, Où es-tu?! ") == "elan ou es tu ? !"
    _, _, pairs, loader = ns["get_dataloader"](8, n_pairs=40)
    x, y = next(iter(loader))
    assert tuple(x.shape) == (8, 10) and str(x.dtype) == "ferrum.int64"
    assert (y == 1).any(dim=1).all()  # every target row holds its EOS


@pytest.mark.parametrize("teacher_forcing", [1.0, 0.0])
def test_seq2seq_matches_torch(run_program, torch, teacher_forcing):
    """Same weights, same batches, dropout off: three Adam steps of both models give torch's losses,
    and the greedy (topk) decoding path feeds the same ids back."""
    import ferrum

    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    inp, out, pairs = fns["prepareData"](200)
    batches = []
    for start in range(0, 48, 16):
        chunk = pairs[start:start + 16]
        x = np.zeros((16, 10), np.int64)
        y = np.zeros((16, 10), np.int64)
        for i, (a, b) in enumerate(chunk):
            ia = fns["indexesFromSentence"](inp, a) + [1]
            ib = fns["indexesFromSentence"](out, b) + [1]
            x[i, :len(ia)], y[i, :len(ib)] = ia, ib
        batches.append((x, y))
    models = {lib: (ns["EncoderRNN"](inp.n_words, 24, 0.0), ns["AttnDecoderRNN"](24, out.n_words, 0.0))
              for lib, ns in ((torch, tns), (ferrum, fns))}
    for tm, fm in zip(models[torch], models[ferrum]):
        fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    results = []
    for lib, ns in ((torch, tns), (ferrum, fns)):
        enc, dec = models[lib]
        eo, do = lib.optim.Adam(enc.parameters(), lr=0.01), lib.optim.Adam(dec.parameters(), lr=0.01)
        crit = lib.nn.NLLLoss()
        losses = [ns["train_epoch"]([(lib.tensor(x), lib.tensor(y))], enc, dec, eo, do, crit,
                                    teacher_forcing) for x, y in batches]
        with lib.no_grad():
            eout, ehid = enc(lib.tensor(batches[0][0]))
            dout, _, attn = dec(eout, ehid)
        results.append((losses, dout.numpy(), attn.numpy()))
    (tl, tdo, ta), (fl, fdo, fa) = results
    np.testing.assert_allclose(fl, tl, rtol=1e-4)
    np.testing.assert_allclose(fdo, tdo, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fa, ta, rtol=1e-3, atol=1e-5)
