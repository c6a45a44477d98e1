"""nn.RNN, LSTM, GRU against torch with torch's state dict: outputs, final states and every
gradient (input, h0/c0, each parameter) over num_layers x bidirectional x batch_first x proj_size x
packed/padded x with/without h0, float32 and float64; the module surface (names, init, repr,
flat weights) and torch's errors. The cells: tests/ops/test_rnn.py and the op registry."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import ferrum
from ferrum.nn.utils import rnn as R
from ferrum.ops import rnn as rnn_ops

T_, B_, I_, H_, P_ = 4, 3, 4, 5, 3
LENGTHS = [2, 4, 1]  # unsorted: exercises sorted/unsorted_indices too


def _modules(torch, mode, dtype, **kw):
    warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
    tm = getattr(torch.nn, mode)(I_, H_, **kw).to(getattr(torch, dtype))
    fm = getattr(ferrum.nn, mode)(I_, H_, **kw).to(getattr(ferrum, dtype))
    fm.load_state_dict({k: ferrum.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, fm


def _check(torch, mode, dtype, num_layers=1, bidirectional=False, batch_first=False, proj=False, packed=False,
           h0=False, unbatched=False, fused=True, **extra):
    rnn_ops.FUSED = fused
    try:
        kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **extra)
        if proj:
            kw["proj_size"] = P_
        tm, fm = _modules(torch, mode, dtype, **kw)
        rng = np.random.default_rng(0)
        shape = (T_, I_) if unbatched else ((B_, T_, I_) if batch_first else (T_, B_, I_))
        x = rng.standard_normal(shape).astype(dtype)
        xt, xf = torch.tensor(x, requires_grad=True), ferrum.tensor(x, requires_grad=True)
        D = 2 if bidirectional else 1
        hout = P_ if proj else H_
        lead = (num_layers * D,) if unbatched else (num_layers * D, B_)
        states = []
        if h0:
            shapes = [lead + (hout,)] + ([lead + (H_,)] if mode == "LSTM" else [])
            for s in shapes:
                a = rng.standard_normal(s).astype(dtype)
                states.append((torch.tensor(a, requires_grad=True), ferrum.tensor(a, requires_grad=True)))
        if not h0:
            hxt = hxf = None
        elif mode == "LSTM":
            hxt, hxf = tuple(a for a, _ in states), tuple(b for _, b in states)
        else:
            hxt, hxf = states[0]
        it, inf = xt, xf
        if packed:
            pk = {"batch_first": batch_first, "enforce_sorted": False}
            it = torch.nn.utils.rnn.pack_padded_sequence(xt, LENGTHS, **pk)
            inf = R.pack_padded_sequence(xf, LENGTHS, **pk)
        ot, st = tm(it, hxt)
        of, sf = fm(inf, hxf)
        if packed:
            assert isinstance(of, R.PackedSequence)
            assert of.batch_sizes.tolist() == ot.batch_sizes.tolist()
            assert of.sorted_indices.tolist() == ot.sorted_indices.tolist()
            ot, of = ot.data, of.data
        st = st if isinstance(st, tuple) else (st,)
        sf = sf if isinstance(sf, tuple) else (sf,)
        tol = 2e-5 if dtype == "float32" else 1e-11
        assert of.dtype == getattr(ferrum, dtype)
        assert tuple(of.shape) == tuple(ot.shape)
        np.testing.assert_allclose(of.detach().numpy(), ot.detach().numpy(), rtol=tol, atol=tol)
        for a, b in zip(st, sf):
            assert tuple(b.shape) == tuple(a.shape)
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=tol, atol=tol)
        ws = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in (ot,) + st]
        sum((o * torch.tensor(w)).sum() for o, w in zip((ot,) + st, ws)).backward()
        sum((o * ferrum.tensor(w)).sum() for o, w in zip((of,) + sf, ws)).backward()
        gtol = 10 * tol
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=gtol, atol=gtol)
        for a, b in states:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=gtol, atol=gtol)
        for (n, p), (n2, q) in zip(tm.named_parameters(), fm.named_parameters()):
            assert n == n2
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=gtol, atol=gtol, err_msg=n)
    finally:
        rnn_ops.FUSED = True


GRID = list(itertools.product((1, 2), (False, True), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,packed,h0", GRID)
def test_lstm_matches_torch(torch, dtype, num_layers, bidirectional, batch_first, packed, h0):
    for proj in (False, True):
        _check(torch, "LSTM", dtype, num_layers, bidirectional, batch_first, proj, packed, h0)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first,packed,h0", GRID)
def test_gru_and_rnn_match_torch(torch, dtype, num_layers, bidirectional, batch_first, packed, h0):
    _check(torch, "GRU", dtype, num_layers, bidirectional, batch_first, False, packed, h0)
    _check(torch, "RNN", dtype, num_layers, bidirectional, batch_first, False, packed, h0,
           nonlinearity="relu" if h0 else "tanh")


@pytest.mark.parametrize("mode", ("LSTM", "GRU"))
@pytest.mark.parametrize("bidirectional,packed", [(False, False), (True, True)])
def test_composed_path_matches_torch(torch, mode, bidirectional, packed):
    """The cell composition (RNN's path, and LSTM/GRU's with FUSED off) against torch."""
    for proj in ((False, True) if mode == "LSTM" else (False,)):
        _check(torch, mode, "float64", 2, bidirectional, True, proj, packed, True, fused=False)


@pytest.mark.parametrize("mode", ("LSTM", "GRU", "RNN"))
@pytest.mark.parametrize("h0", (False, True))
def test_unbatched_input(torch, mode, h0):
    _check(torch, mode, "float64", 2, True, False, mode == "LSTM", False, h0, unbatched=True)
    _check(torch, mode, "float32", 1, False, True, False, False, h0, unbatched=True)


def test_no_bias(torch):
    for mode in ("LSTM", "GRU", "RNN"):
        _check(torch, mode, "float64", 2, True, False, False, True, True, bias=False)


def test_packed_final_states_per_length(torch):
    """Every sequence's h_n and c_n come from its own last step, in both directions."""
    tm, fm = _modules(torch, "LSTM", "float64", bidirectional=True)
    rng = np.random.default_rng(1)
    lens = [5, 1, 3, 3, 2]
    x = rng.standard_normal((5, 5, I_))
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lens, enforce_sorted=False)
    pf = R.pack_padded_sequence(ferrum.tensor(x), lens, enforce_sorted=False)
    _, (ht, ct) = tm(pt)
    _, (hf, cf) = fm(pf)
    np.testing.assert_allclose(hf.detach().numpy(), ht.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cf.detach().numpy(), ct.detach().numpy(), rtol=1e-12, atol=1e-12)
    # and each equals running that sequence alone
    for j, n in enumerate(lens):
        _, (h1, _) = fm(ferrum.tensor(x[:n, j:j + 1]))
        np.testing.assert_allclose(hf[:, j].detach().numpy(), h1[:, 0].detach().numpy(), rtol=1e-12,
                                   atol=1e-12)


# ------------------------------------------------------------------------------------ module surface
def test_parameter_names_shapes_and_flat_weights(torch):
    for mode, kw in (("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {"nonlinearity": "relu"})):
        t = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True, **kw)
        f = getattr(ferrum.nn, mode)(3, 4, num_layers=2, bidirectional=True, **kw)
        assert [(n, tuple(p.shape)) for n, p in f.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in t.named_parameters()]
        assert f._flat_weights_names == t._flat_weights_names
        assert [tuple(w.shape) for w in f._flat_weights] == [tuple(w.shape) for w in t._flat_weights]
        assert [[tuple(w.shape) for w in ws] for ws in f.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in t.all_weights]
        assert f.flatten_parameters() is None


def test_init_range():
    m = ferrum.nn.LSTM(8, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    for p in m.parameters():
        a = p.detach().numpy()
        assert a.min() >= -bound and a.max() <= bound and a.std() > bound / 3


def test_extra_repr_matches_torch(torch):
    cases = [("LSTM", (3, 4), {}), ("LSTM", (3, 4, 2), dict(bias=False, batch_first=True, dropout=0.1,
                                                             bidirectional=True, proj_size=2)),
             ("GRU", (3, 4), {"num_layers": 3}), ("RNN", (3, 4), {"nonlinearity": "relu"}),
             ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}), ("LSTMCell", (3, 4), {}),
             ("GRUCell", (3, 4), {"bias": False})]
    for name, args, kw in cases:
        assert repr(getattr(ferrum.nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_dropout_warning_and_constructor_errors(torch):
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ferrum.nn.LSTM(3, 4, dropout=0.5)
    cases = [("RNN", dict(nonlinearity="foo")), ("LSTM", dict(proj_size=4)), ("LSTM", dict(proj_size=-1)),
             ("GRU", dict(proj_size=2)), ("LSTM", dict(dropout=1.5)), ("LSTM", dict(num_layers=0)),
             ("RNN", dict(proj_size=1))]
    for name, kw in cases:
        for mod in (torch.nn, ferrum.nn):
            with pytest.raises(ValueError) as e:
                getattr(mod, name)(3, 4, **kw)
            if mod is torch.nn:
                msg = str(e.value)
            else:
                assert str(e.value) == msg
    for args in ((3, 0), (3, 4.0)):
        et = _err(lambda a=args: torch.nn.LSTM(*a))
        ef = _err(lambda a=args: ferrum.nn.LSTM(*a))
        assert type(ef) is type(et) and str(ef) == str(et)


def test_dropout_between_layers_training_only_and_seeded():
    m = ferrum.nn.GRU(3, 6, num_layers=2, dropout=0.5)
    x = ferrum.randn(4, 2, 3)
    ferrum.manual_seed(5)
    a, _ = m(x)
    ferrum.manual_seed(5)
    b, _ = m(x)
    c, _ = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not np.array_equal(a.detach().numpy(), c.detach().numpy())
    m.eval()
    e1, _ = m(x)
    m2 = ferrum.nn.GRU(3, 6, num_layers=2)
    m2.load_state_dict(m.state_dict())
    e2, _ = m2(x)
    np.testing.assert_array_equal(e1.detach().numpy(), e2.detach().numpy())


def test_state_dict_roundtrip_to_torch(torch):
    f = ferrum.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    t = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in f.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(f(ferrum.tensor(x))[0].detach().numpy(),
                               t(torch.tensor(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ("LSTM", "GRU"))
def test_low_precision_runs_the_composition(mode):
    """float16/bfloat16 layers run the composed cells (computed in the dtype, as torch's CPU path)."""
    m = getattr(ferrum.nn, mode)(3, 4, num_layers=2)
    x = ferrum.randn(5, 2, 3)
    ref, _ = m(x)
    for dt in (ferrum.float16, ferrum.bfloat16):
        out, h = m.to(dt)(x.to(dt))
        assert out.dtype == dt and (h[0] if mode == "LSTM" else h).dtype == dt
        np.testing.assert_allclose(out.float().detach().numpy(), ref.detach().numpy(), atol=0.05)
        m.float()


def test_no_grad_and_eval_leave_no_graph():
    m = ferrum.nn.LSTM(3, 4)
    with ferrum.no_grad():
        out, (h, c) = m(ferrum.randn(2, 1, 3))
    assert out.grad_fn is None and not h.requires_grad


# ------------------------------------------------------------------------------------ errors
def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared by type
        return e
    return None


def _bad_calls(T, mode):
    rng = np.random.default_rng(0)

    def t(*s, dtype="float32"):
        return T.tensor(rng.standard_normal(s).astype(dtype))

    m = getattr(T.nn, mode)(3, 4)
    lstm = mode == "LSTM"

    def hid(*s):
        return (t(*s), t(*s)) if lstm else t(*s)

    calls = {
        "input_size": lambda: m(t(5, 2, 2)),
        "input_4d": lambda: m(t(5, 2, 2, 3)),
        "h0_batch": lambda: m(t(5, 2, 3), hid(1, 3, 4)),
        "h0_layers": lambda: m(t(5, 2, 3), hid(2, 2, 4)),
        "h0_hidden": lambda: m(t(5, 2, 3), hid(1, 2, 5)),
        "h0_dims": lambda: m(t(5, 2, 3), hid(2, 4)),
        "unbatched_h0_dims": lambda: m(t(5, 3), hid(1, 2, 4)),
        "dtype": lambda: m(t(5, 2, 3, dtype="float64")),
        "packed_h0": lambda: m(T.nn.utils.rnn.pack_padded_sequence(t(5, 2, 3), [5, 3]), hid(1, 3, 4)),
        "packed_zero_length": lambda: m(T.nn.utils.rnn.pack_padded_sequence(t(5, 2, 3), [5, 0])),
        "packed_unsorted": lambda: m(T.nn.utils.rnn.pack_padded_sequence(t(5, 2, 3), [3, 5])),
        "empty_sequence": lambda: m(t(0, 2, 3)),
    }
    if lstm:
        calls["c0_shape"] = lambda: m(t(5, 2, 3), (t(1, 2, 4), t(2, 2, 4)))
    return m, calls


BAD = ["input_size", "input_4d", "h0_batch", "h0_layers", "h0_hidden", "h0_dims", "unbatched_h0_dims",
       "dtype", "packed_h0", "packed_zero_length", "packed_unsorted", "empty_sequence", "c0_shape"]


@pytest.mark.parametrize("mode", ("LSTM", "GRU", "RNN"))
@pytest.mark.parametrize("case", BAD)
def test_bad_input_matches_torch_and_changes_nothing(torch, mode, case):
    if case == "c0_shape" and mode != "LSTM":
        pytest.skip("LSTM only")
    _, tcalls = _bad_calls(torch, mode)
    fm, fcalls = _bad_calls(ferrum, mode)
    before = {k: v.detach().numpy().copy() for k, v in fm.state_dict().items()}
    mode_before = fm.training
    et, ef = _err(tcalls[case]), _err(fcalls[case])
    assert et is not None, "torch accepts it"
    assert ef is not None, f"ferrum accepts it; torch raises {type(et).__name__}: {et}"
    if case == "packed_h0":  # torch fails inside its own permutation (RuntimeError either way)
        assert isinstance(ef, RuntimeError) and isinstance(et, RuntimeError)
    else:
        assert type(ef) is type(et), (ef, et)
    if case in ("input_size", "h0_batch", "h0_hidden", "h0_dims", "unbatched_h0_dims", "empty_sequence"):
        assert str(ef) == str(et)
    after = fm.state_dict()
    assert all(np.array_equal(before[k], after[k].detach().numpy()) for k in before)
    assert fm.training == mode_before


@pytest.mark.parametrize("mode", ("LSTM", "GRU", "RNN"))
def test_zero_batch(torch, mode):
    kw = {"proj_size": 2} if mode == "LSTM" else {}
    tm, fm = _modules(torch, mode, "float32", bidirectional=True, **kw)
    xf = ferrum.zeros(5, 0, I_, requires_grad=True)
    of, hf = fm(xf)
    ot, ht = tm(torch.zeros(5, 0, I_))
    assert tuple(of.shape) == tuple(ot.shape)
    hf = hf if isinstance(hf, tuple) else (hf,)
    ht = ht if isinstance(ht, tuple) else (ht,)
    assert [tuple(h.shape) for h in hf] == [tuple(h.shape) for h in ht]
    (of.sum() + hf[0].sum()).backward()
    assert tuple(xf.grad.shape) == (5, 0, I_)
