"""The time-sequence-prediction example (two stacked LSTMCells on sine waves, L-BFGS), run with ferrum.

The two scripts a user of that example runs: ``generate_sine_wave`` writes phase-shifted sine waves
with ``torch.save`` (a NumPy array, so the loader passes ``weights_only=False``), and the training
script loads them, builds a ``Sequence`` of ``nn.LSTMCell(1, H)``, ``nn.LSTMCell(H, H)`` and
``nn.Linear(H, 1)`` in float64 (``.double()``), steps through time with ``input.split(1, dim=1)``,
keeps predicting ``future`` steps from its own output, and trains with ``optim.LBFGS`` and a closure
(MSELoss), reporting the test loss of the prediction under ``no_grad``. The waves are shorter and
fewer than the example's (so one L-BFGS step takes a fraction of a second) and the plots are left out.
"""

from __future__ import annotations

import numpy as np

GEN_SOURCE = r'''
import numpy as np
import torch


def generate(path, T=20, L=1000, N=100, seed=2):
    np.random.seed(seed)
    x = np.empty((N, L), 'int64')
    # every row is the same wave started at a random phase
    x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
    data = np.sin(x / 1.0 / T).astype('float64')
    torch.save(data, open(path, 'wb'))
    return data


if __name__ == '__main__':
    generate('traindata.pt')
'''

SOURCE = r'''
from __future__ import print_function
import argparse
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super(Sequence, self).__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):  # keep going on its own predictions
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=15, help='steps to run')
    parser.add_argument('--data', default='traindata.pt')
    parser.add_argument('--hidden', type=int, default=51)
    parser.add_argument('--future', type=int, default=1000)
    parser.add_argument('--lr', type=float, default=0.8)
    parser.add_argument('--max-iter', type=int, default=20)
    opt = parser.parse_args(argv)
    # seeds fixed for reproducibility
    np.random.seed(0)
    torch.manual_seed(0)
    data = torch.load(opt.data, weights_only=False)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    seq = Sequence(opt.hidden)
    seq.double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=opt.lr, max_iter=opt.max_iter)
    train_losses, test_losses = [], []
    for i in range(opt.steps):
        print('STEP: ', i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print('loss:', loss.item())
            train_losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        # predict past the end of the test waves; no gradients needed
        with torch.no_grad():
            future = opt.future
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print('test loss:', loss.item())
            test_losses.append(loss.item())
            y = pred.detach().numpy()
    return seq, train_losses, test_losses, y


if __name__ == '__main__':
    main()
'''


def _data(run_program, tmp_path, backend="ferrum", **kw):
    gen = run_program(GEN_SOURCE, backend=backend)
    path = tmp_path / f"traindata_{backend}.pt"
    data = gen["generate"](str(path), **kw)
    return path, data


def test_sine_waves_written_and_read_back(run_program, tmp_path, torch):
    path, data = _data(run_program, tmp_path, T=20, L=60, N=8)
    # the file is a real torch checkpoint: torch reads ferrum's and ferrum reads torch's
    np.testing.assert_array_equal(torch.load(str(path), weights_only=False), data)
    tpath, tdata = _data(run_program, tmp_path, backend="torch", T=20, L=60, N=8)
    import ferrum

    np.testing.assert_array_equal(ferrum.load(str(tpath), weights_only=False), tdata)
    assert data.dtype == np.float64 and data.shape == (8, 60)


def test_time_sequence_program_learns_and_predicts(run_program, tmp_path, capsys):
    path, data = _data(run_program, tmp_path, T=20, L=120, N=12)
    ns = run_program(SOURCE)
    seq, train_losses, test_losses, y = ns["main"](["--steps", "4", "--data", str(path), "--hidden", "24",
                                                    "--future", "60", "--max-iter", "8"])
    assert y.shape == (3, 119 + 60) and y.dtype == np.float64
    assert str(seq.lstm1.weight_ih.dtype) == "ferrum.float64"
    assert train_losses[-1] < 0.1 * train_losses[0]
    assert test_losses[-1] < 0.1 * test_losses[0]
    # the free-running prediction stays a bounded wave
    assert np.abs(y[:, 119:]).max() < 1.5
    out = capsys.readouterr().out
    assert out.count("STEP: ") == 4 and "test loss:" in out


def test_time_sequence_lbfgs_matches_torch(run_program, tmp_path, torch):
    """Same waves and weights: one L-BFGS step (its closure evaluations), and the prediction, match."""
    import ferrum

    path, data = _data(run_program, tmp_path, T=20, L=50, N=6)
    fns, tns = run_program(SOURCE), run_program(SOURCE, backend="torch")
    tseq, fseq = tns["Sequence"](16).double(), fns["Sequence"](16).double()
    fseq.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tseq.state_dict().items()})
    res = []
    for lib, seq in ((torch, tseq), (ferrum, fseq)):
        x, y = lib.from_numpy(data[3:, :-1]), lib.from_numpy(data[3:, 1:])
        opt = lib.optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6)
        crit = lib.nn.MSELoss()
        losses = []

        def closure(opt=opt, crit=crit, seq=seq, x=x, y=y, losses=losses):
            opt.zero_grad()
            loss = crit(seq(x), y)
            losses.append(loss.item())
            loss.backward()
            return loss
        opt.step(closure)
        with lib.no_grad():
            pred = seq(lib.from_numpy(data[:3, :-1]), future=10).numpy()
        res.append((losses, pred, [p.detach().numpy().copy() for p in seq.parameters()]))
    (tl, tp, tw), (fl, fp, fw) = res
    assert len(fl) == len(tl)
    np.testing.assert_allclose(fl, tl, rtol=1e-7)
    np.testing.assert_allclose(fp, tp, rtol=1e-6, atol=1e-9)
    for a, b in zip(fw, tw):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)
