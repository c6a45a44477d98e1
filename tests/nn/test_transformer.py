"""nn/modules/transformer.py: the encoder and decoder layers, the stacks and Transformer against
torch with torch's weights (norm_first x activation x batch_first x masks, train with dropout 0
and eval; outputs and every gradient), generate_square_subsequent_mask, causal-mask detection,
parameter names, repr, init, and bad input (torch's exception types)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ferrum

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

D, NH, FF = 8, 2, 12
SRC, TGT, N = 5, 4, 2


def _act(T, name):
    if name == "tanh":  # a callable that is neither relu nor gelu
        return T.tanh
    if name == "gelu_module":
        return T.nn.GELU()
    return name


def _load(torch, make):
    torch.manual_seed(0)
    tm = make(torch).double()
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.randn_like(p) * 0.4 + (1.0 if p.dim() == 1 and p.shape[0] == D else 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fm = make(ferrum).double()
    fm.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    assert list(fm.state_dict()) == list(tm.state_dict())
    return tm, fm


def _seq(rng, length, batch_first, unbatched=False):
    if unbatched:
        return rng.standard_normal((length, D))
    return rng.standard_normal((N, length, D) if batch_first else (length, N, D))


def _mask(rng, kind, rows, cols):
    if kind is None:
        return None
    if kind == "causal":
        return np.triu(np.full((rows, cols), -np.inf), 1)
    m = rng.random((rows, cols)) > 0.6
    m[:, 0] = False
    return m if kind == "bool" else np.where(m, -np.inf, rng.standard_normal(m.shape))


def _kpm(rng, on, length, unbatched=False):
    if not on:
        return None
    m = rng.random((length,) if unbatched else (N, length)) > 0.6
    m[..., 0] = False
    return m


def _run(T, mod, arrays, kw, train):
    mod.train(train)
    ins = [T.tensor(a, requires_grad=True) for a in arrays]
    targs = {k: (None if v is None else (v if not isinstance(v, np.ndarray) else
                                         T.tensor(v) if v.dtype == bool else T.tensor(v)))
             for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = mod(*ins, **targs)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(T.tensor(g))
    return [out.detach().numpy()] + [t.grad.numpy() for t in ins] + \
        [p.grad.numpy() for _, p in sorted(mod.named_parameters())]


def _compare(torch, make, arrays, kw, train=True):
    tm, fm = _load(torch, make)
    t = _run(torch, tm, arrays, kw, train)
    f = _run(ferrum, fm, arrays, kw, train)
    assert len(t) == len(f)
    for i, (a, b) in enumerate(zip(f, t)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"result {i}")


ACTS = ["relu", "gelu", "tanh", "gelu_module"]
MASKS = [None, "bool", "float", "causal"]
GRID = list(itertools.product([False, True], ACTS, [False, True], MASKS, [False, True]))


@pytest.mark.parametrize("norm_first,act,batch_first,mask,kpm", GRID)
def test_encoder_layer(torch, norm_first, act, batch_first, mask, kpm):
    rng = np.random.default_rng(0)
    x = _seq(rng, SRC, batch_first)
    kw = {"src_mask": _mask(rng, mask, SRC, SRC), "src_key_padding_mask": _kpm(rng, kpm, SRC),
          "is_causal": mask == "causal"}
    make = lambda T: T.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.0, activation=_act(T, act),  # noqa: E731
                                                  batch_first=batch_first, norm_first=norm_first)
    _compare(torch, make, [x], kw)


@pytest.mark.parametrize("norm_first,act,batch_first,mask,kpm", GRID)
def test_decoder_layer(torch, norm_first, act, batch_first, mask, kpm):
    rng = np.random.default_rng(0)
    tgt, mem = _seq(rng, TGT, batch_first), _seq(rng, SRC, batch_first)
    kw = {"tgt_mask": _mask(rng, mask, TGT, TGT),
          "memory_mask": _mask(rng, "bool" if mask else None, TGT, SRC),
          "tgt_key_padding_mask": _kpm(rng, kpm, TGT), "memory_key_padding_mask": _kpm(rng, kpm, SRC),
          "tgt_is_causal": mask == "causal"}
    make = lambda T: T.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, activation=_act(T, act),  # noqa: E731
                                                  batch_first=batch_first, norm_first=norm_first)
    _compare(torch, make, [tgt, mem], kw)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "all", "causal_detected", "causal_flags"])
def test_transformer(torch, train, norm_first, batch_first, masks):
    rng = np.random.default_rng(0)
    src, tgt = _seq(rng, SRC, batch_first), _seq(rng, TGT, batch_first)
    kw = {}
    if masks == "all":
        kw = {"src_mask": _mask(rng, "float", SRC, SRC), "tgt_mask": _mask(rng, "bool", TGT, TGT),
              "memory_mask": _mask(rng, "float", TGT, SRC), "src_key_padding_mask": _kpm(rng, True, SRC),
              "tgt_key_padding_mask": _kpm(rng, True, TGT), "memory_key_padding_mask": _kpm(rng, True, SRC)}
    elif masks.startswith("causal"):
        kw = {"src_mask": _mask(rng, "causal", SRC, SRC), "tgt_mask": _mask(rng, "causal", TGT, TGT)}
        if masks == "causal_flags":
            kw.update(src_is_causal=True, tgt_is_causal=True, src_key_padding_mask=_kpm(rng, True, SRC))
    # eval mode with dropout > 0: dropout is off; training compares with dropout 0
    make = lambda T: T.nn.Transformer(D, NH, 2, 1, FF, dropout=0.0 if train else 0.3,  # noqa: E731
                                      batch_first=batch_first, norm_first=norm_first, activation="gelu")
    _compare(torch, make, [src, tgt], kw, train=train)


@pytest.mark.parametrize("bias", [True, False])
def test_stacks_bias_eps_and_unbatched(torch, bias):
    rng = np.random.default_rng(0)
    src, tgt = _seq(rng, SRC, False, True), _seq(rng, TGT, False, True)
    make = lambda T: T.nn.Transformer(D, NH, 1, 2, FF, dropout=0.0, bias=bias,  # noqa: E731
                                      layer_norm_eps=1e-3)
    _compare(torch, make, [src, tgt], {"tgt_mask": _mask(rng, "causal", TGT, TGT),
                                       "memory_key_padding_mask": _kpm(rng, True, SRC, unbatched=True)})
    enc = lambda T: T.nn.TransformerEncoder(  # noqa: E731
        T.nn.TransformerEncoderLayer(D, NH, FF, 0.0, bias=bias), 2, T.nn.LayerNorm(D, bias=bias),
        enable_nested_tensor=False)
    _compare(torch, enc, [_seq(rng, SRC, False)], {"mask": _mask(rng, "causal", SRC, SRC)})
    dec = lambda T: T.nn.TransformerDecoder(  # noqa: E731
        T.nn.TransformerDecoderLayer(D, NH, FF, 0.0, bias=bias), 2)
    _compare(torch, dec, [_seq(rng, TGT, False), _seq(rng, SRC, False)], {"tgt_is_causal": False})


def test_custom_encoder_decoder(torch):
    rng = np.random.default_rng(0)

    def make(T):
        enc = T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(D, NH, FF, 0.0), 1,
                                      enable_nested_tensor=False)
        dec = T.nn.TransformerDecoder(T.nn.TransformerDecoderLayer(D, NH, FF, 0.0, norm_first=True), 1)
        return T.nn.Transformer(D, NH, custom_encoder=enc, custom_decoder=dec)
    _compare(torch, make, [_seq(rng, SRC, False), _seq(rng, TGT, False)], {})


@pytest.mark.parametrize("sz", [1, 4])
def test_generate_square_subsequent_mask(torch, sz):
    f = ferrum.nn.Transformer.generate_square_subsequent_mask(sz)
    t = torch.nn.Transformer.generate_square_subsequent_mask(sz)
    np.testing.assert_array_equal(f.numpy(), t.numpy())
    assert f.dtype == ferrum.float32
    m64 = ferrum.nn.Transformer.generate_square_subsequent_mask(3, dtype=ferrum.float64)
    assert m64.dtype == ferrum.float64


def test_causal_mask_detection():
    from ferrum.nn.modules.transformer import _detect_is_causal_mask

    m = ferrum.nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(m) is True
    assert _detect_is_causal_mask(m, size=3) is False
    assert _detect_is_causal_mask(ferrum.zeros(4, 4)) is False
    assert _detect_is_causal_mask(ferrum.zeros(4, 4), is_causal=True) is True
    assert _detect_is_causal_mask(None) is False


def test_structure_repr_and_init(torch):
    with warnings.catch_warnings(record=True) as wf:
        warnings.simplefilter("always")
        fm = ferrum.nn.Transformer(D, NH, 2, 2, FF)
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        tm = torch.nn.Transformer(D, NH, 2, 2, FF)
    assert [str(w.message) for w in wf] == [str(w.message) for w in wt]  # the nested-tensor warning
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())
    assert fm.encoder.use_nested_tensor == tm.encoder.use_nested_tensor
    layer = fm.encoder.layers[0]
    assert layer.activation_relu_or_gelu == 1 and layer.norm_first is False
    w = fm.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (D + FF))  # Transformer re-initialises every matrix with xavier_uniform_
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    # the clones are independent copies
    assert fm.encoder.layers[0].linear1.weight is not fm.encoder.layers[1].linear1.weight
    lyr = ferrum.nn.TransformerEncoderLayer(D, NH, activation="gelu", batch_first=True)
    assert lyr.activation_relu_or_gelu == 2 and lyr.activation is ferrum.nn.functional.gelu
    enc = ferrum.nn.TransformerEncoder(lyr, 1, enable_nested_tensor=True, mask_check=False)
    assert enc.use_nested_tensor is True and enc.mask_check is False


def _bad(T):
    model = lambda: T.nn.Transformer(D, NH, 1, 1, FF, dropout=0.0)  # noqa: E731
    src, tgt = T.ones(SRC, N, D), T.ones(TGT, N, D)
    layer = lambda: T.nn.TransformerEncoderLayer(D, NH, FF, 0.0)  # noqa: E731
    return {
        "batch_mismatch": lambda: model()(src, T.ones(TGT, N + 1, D)),
        "feature_mismatch": lambda: model()(T.ones(SRC, N, D + 1), tgt),
        "activation_name": lambda: T.nn.TransformerEncoderLayer(D, NH, activation="tanh"),
        "heads_not_dividing": lambda: T.nn.TransformerEncoderLayer(D, 3),
        "src_mask_shape": lambda: layer()(src, src_mask=T.zeros(SRC, SRC + 1)),
        "src_mask_int": lambda: layer()(src, src_mask=T.zeros(SRC, SRC, dtype=T.int64)),
        "kpm_shape": lambda: layer()(src, src_key_padding_mask=T.zeros(N, SRC + 1, dtype=T.bool)),
        "input_size": lambda: layer()(T.ones(SRC, N, D + 2)),
        "decoder_memory_size": lambda: T.nn.TransformerDecoderLayer(D, NH, FF, 0.0)(tgt,
                                                                                  T.ones(SRC, N, D + 1)),
    }


@pytest.mark.parametrize("case", list(_bad(ferrum)))
def test_bad_input_types_match_torch(torch, case):
    errs = []
    for T in (torch, ferrum):
        with pytest.raises(Exception) as e:
            _bad(T)[case]()
        errs.append(type(e.value))
    assert errs[1] is errs[0], errs
