"""ferrum.models.GPT: names and tying, parity with the same model in torch (logits, every gradient,
AdamW steps with configure_optimizers' groups), the key/value cache (cached generation gives the
same tokens as uncached, greedy and sampled, through the sliding window), and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models
from ferrum.models.gpt import GPT, GPTConfig, KVCache

from ._torch_lm import load_from, scaled_init, torch_gpt

SMALL = dict(vocab_size=11, block_size=12, n_layer=2, n_head=2, n_embd=16)


def _ids(shape, vocab=11, seed=0):
    return ferrum.tensor(np.random.default_rng(seed).integers(0, vocab, shape), dtype=ferrum.int64)


def test_names_tying_and_init():
    m = GPT(GPTConfig(**SMALL))
    names = [n for n, _ in m.named_parameters()]
    assert names[:6] == ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                         "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.weight",
                         "transformer.h.0.attn.c_attn.bias"]
    assert "lm_head.weight" not in names  # the tied weight is listed once, under its first name
    assert m.lm_head.weight is m.transformer.wte.weight
    sd = m.state_dict()
    assert "lm_head.weight" in sd
    assert np.shares_memory(sd["lm_head.weight"].numpy(), sd["transformer.wte.weight"].numpy())
    d = SMALL["n_embd"]
    per_block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    n_all = 11 * d + 12 * d + 2 * per_block + 2 * d
    assert m.get_num_params(non_embedding=False) == n_all and m.get_num_params() == n_all - 12 * d
    # nanoGPT's initialisation: zero biases, std 0.02, residual projections 0.02 / sqrt(2 n_layer)
    assert float(m.transformer.h[0].attn.c_attn.bias.abs().max()) == 0.0
    big = GPT(n_layer=2, n_embd=64, n_head=2, vocab_size=500, block_size=64)
    assert abs(float(big.transformer.wte.weight.std()) - 0.02) < 0.002
    assert abs(float(big.transformer.h[1].mlp.c_proj.weight.std()) - 0.01) < 0.001
    assert GPT(GPTConfig(**SMALL), bias=False).transformer.h[0].ln_1.bias is None


def test_registry_and_config_errors():
    m = models.get_model("char_gpt", **SMALL)
    assert isinstance(m, GPT) and m.config == GPTConfig(**SMALL)
    assert isinstance(models.char_gpt(), GPT) and models.char_gpt().config == GPTConfig()
    with pytest.raises(TypeError, match="unexpected keyword"):
        models.char_gpt(n_layers=2)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        models.char_gpt(weights="DEFAULT")
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="block_size must be an int >= 1"):
        GPTConfig(block_size=0)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(dropout=1.0)


def test_forward_shapes_and_errors():
    m = GPT(**SMALL)
    assert tuple(m(_ids((3, 12))).shape) == (3, 12, 11) and tuple(m(_ids((1, 1))).shape) == (1, 1, 11)
    with pytest.raises(ValueError, match="length 13, block size is only 12"):
        m(_ids((1, 13)))
    with pytest.raises(ValueError, match=r"shape \(B, T\)"):
        m(_ids((12,)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_parity_with_torch(torch, dtype, bias):
    cfg = GPTConfig(**SMALL, bias=bias)
    m = GPT(cfg).to(getattr(ferrum, dtype))
    scaled_init(m, std=0.2)
    tm = load_from(torch, torch_gpt(torch, cfg), m, getattr(torch, dtype))
    idx = _ids((3, 12))
    tgt = _ids((3, 12), seed=1)
    loss = ferrum.nn.functional.cross_entropy(m(idx).view(-1, 11), tgt.view(-1))
    tloss = torch.nn.functional.cross_entropy(tm(torch.from_numpy(idx.numpy())).view(-1, 11),
                                              torch.from_numpy(tgt.numpy()).view(-1))
    loss.backward()
    tloss.backward()
    # the key bias's gradient is 0 in exact arithmetic (it shifts a row's scores by a constant):
    # float32 leaves rounding noise of ~1e-6 there, hence the absolute tolerance
    tol = dict(rtol=1e-4, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.item(), tloss.item(), **tol)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), err_msg=name, **tol)


def test_configure_optimizers_groups_and_adamw_parity(torch):
    cfg = GPTConfig(**SMALL)
    # float64: the key bias's gradient is rounding noise around 0, which Adam's normalisation would
    # blow up to full-size steps of different signs in float32
    m = GPT(cfg).double()
    opt = m.configure_optimizers(weight_decay=0.1, learning_rate=3e-3, betas=(0.9, 0.95))
    assert isinstance(opt, ferrum.optim.AdamW)
    decay, no_decay = opt.param_groups
    names = {id(p): n for n, p in m.named_parameters()}
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(m.parameters()))
    decay_names = {names[id(p)] for p in decay["params"]}
    assert {"transformer.wte.weight", "transformer.wpe.weight",
            "transformer.h.0.attn.c_attn.weight"} <= decay_names
    assert not any(n.endswith("bias") or ".ln_" in n for n in decay_names)
    assert opt.defaults["lr"] == 3e-3 and opt.defaults["betas"] == (0.9, 0.95)
    # five steps against torch's AdamW with the same two groups
    tm = load_from(torch, torch_gpt(torch, cfg), m, torch.float64)
    tp = dict(tm.named_parameters())
    tgroups = [{"params": [tp[names[id(p)]] for p in g["params"]], "weight_decay": g["weight_decay"]}
               for g in opt.param_groups]
    topt = torch.optim.AdamW(tgroups, lr=3e-3, betas=(0.9, 0.95))
    F, tF = ferrum.nn.functional, torch.nn.functional
    for step in range(5):
        idx, tgt = _ids((2, 12), seed=step), _ids((2, 12), seed=step + 10)
        opt.zero_grad()
        topt.zero_grad()
        F.cross_entropy(m(idx).view(-1, 11), tgt.view(-1)).backward()
        tidx, ttgt = torch.from_numpy(idx.numpy()), torch.from_numpy(tgt.numpy())
        tF.cross_entropy(tm(tidx).view(-1, 11), ttgt.view(-1)).backward()
        opt.step()
        topt.step()
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), tp[name].detach().numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def _model(dtype=ferrum.float64, **kw):
    m = GPT(**{**SMALL, **kw}).to(dtype)
    scaled_init(m, std=0.4)
    return m


def test_cache_gives_the_full_forward_logits():
    """Prompt, then one token at a time, then a chunk of three: each step's logits equal the
    uncached forward's at the same positions."""
    m = _model()
    m.eval()
    idx = _ids((2, 12), seed=3)
    full = m(idx)
    cache = KVCache(2, 2, 2, 12, 8, dtype=ferrum.float64)
    with ferrum.no_grad():
        pieces = []
        for a, b in ((0, 5), (5, 6), (6, 7), (7, 10), (10, 12)):
            pieces.append(m._logits(idx[:, a:b], cache, a))
            cache.advance(b - a)
        with pytest.raises(RuntimeError, match="exceed block_size"):
            m._logits(idx[:, :1], cache, 0)
    np.testing.assert_allclose(ferrum.cat(pieces, dim=1).numpy(), full.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    # the last position alone (the last block computes only its query, attention and MLP)
    with ferrum.no_grad():
        last = m._logits(idx, last_only=True)
        cache = KVCache(2, 2, 2, 12, 8, dtype=ferrum.float64)
        prefill = m._logits(idx[:, :9], cache, 0, last_only=True)
        cache.advance(9)
        step = m._logits(idx[:, 9:12], cache, 9, last_only=True)
    assert tuple(last.shape) == (2, 1, 11)
    for got, want in ((last, full[:, -1:]), (prefill, full[:, 8:9]), (step, full[:, -1:])):
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("prompt_len", [1, 5, 12, 15])  # 15 > block_size: the prompt is cropped
def test_cached_generation_equals_uncached(prompt_len):
    m = _model()
    prompt = _ids((2, prompt_len), seed=prompt_len)
    n_new = 20  # past block_size 12: the window slides and the cache is rebuilt
    greedy = m.generate(prompt, n_new, temperature=0.0)
    assert greedy.dtype == ferrum.int64 and tuple(greedy.shape) == (2, prompt_len + n_new)
    assert greedy[:, :prompt_len].tolist() == prompt.tolist()
    assert greedy.tolist() == m.generate(prompt, n_new, temperature=0.0, use_cache=False).tolist()
    for temperature, top_k in ((1.0, None), (0.8, 3)):
        runs = [m.generate(prompt, n_new, temperature, top_k, use_cache=c,
                           generator=ferrum.Generator().manual_seed(7)) for c in (True, False)]
        assert runs[0].tolist() == runs[1].tolist()
        assert len(set(runs[0][:, prompt_len:].flatten().tolist())) > 2  # a varied stream, not a fixed point


def test_generate_float32_global_rng_and_top_k():
    m = _model(ferrum.float32)
    prompt = _ids((1, 4))
    ferrum.manual_seed(5)
    a = m.generate(prompt, 16, top_k=1)  # top_k=1 is greedy whatever the draw
    assert a.tolist() == m.generate(prompt, 16, temperature=0.0).tolist()
    ferrum.manual_seed(5)
    b = m.generate(prompt, 16, temperature=1.5, use_cache=False)
    ferrum.manual_seed(5)
    assert m.generate(prompt, 16, temperature=1.5).tolist() == b.tolist()


def test_generate_mode_grad_and_errors():
    m = _model(ferrum.float32, dropout=0.5)
    m.train()
    prompt = _ids((1, 3))
    out = m.generate(prompt, 4, temperature=0.0)
    assert m.training and not out.requires_grad
    # dropout is off during generation: the same result twice
    assert out.tolist() == m.generate(prompt, 4, temperature=0.0).tolist()
    assert m.generate(prompt, 0).tolist() == prompt.tolist()
    for kwargs, err in ((dict(max_new_tokens=-1), ValueError), (dict(max_new_tokens=2.0), TypeError),
                        (dict(max_new_tokens=2, temperature=-1.0), ValueError),
                        (dict(max_new_tokens=2, temperature=float("nan")), ValueError),
                        (dict(max_new_tokens=2, top_k=0), ValueError)):
        with pytest.raises(err):
            m.generate(prompt, **kwargs)
    with pytest.raises(ValueError, match="non-empty prompt"):
        m.generate(_ids((1, 0)), 2)
    assert m.training
