"""ONNX export of ferrum.models: LeNet-5, ResNet-18, MobileNetV2, GPT (tied weights, causal SDPA,
arange positions) and CharLSTM, at a dynamic batch size."""

from __future__ import annotations

import pytest

import ferrum
from ferrum import models

from .helpers import onnx, roundtrip


@pytest.fixture(autouse=True)
def _seed():
    ferrum.manual_seed(0)


def test_lenet5():
    roundtrip(models.lenet5(), (ferrum.randn(2, 1, 28, 28),), (ferrum.randn(5, 1, 28, 28),))


def _stats(m):
    """Non-trivial batch-norm statistics and affine parameters, and a classifier that is not near
    zero, so that the outputs are O(1) and eval-mode batch norm is really tested."""
    for mod in m.modules():
        if isinstance(mod, ferrum.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.9, 1.1)
            mod.weight.data.uniform_(0.8, 1.2)
            mod.bias.data.uniform_(-0.1, 0.1)
        elif isinstance(mod, ferrum.nn.Linear):
            ferrum.nn.init.normal_(mod.weight, std=0.3)
    return m


def test_resnet18():
    m = _stats(models.resnet18(num_classes=10))
    roundtrip(m, (ferrum.randn(2, 3, 32, 32),), (ferrum.randn(1, 3, 32, 32),))


def test_mobilenet_v2():
    m = _stats(models.mobilenet_v2(num_classes=10))
    roundtrip(m, (ferrum.randn(2, 3, 32, 32),), (ferrum.randn(3, 3, 32, 32),))


def test_gpt_tied_weights_stored_once():
    g = models.char_gpt(vocab_size=20, block_size=8, n_layer=2, n_head=2, n_embd=16)
    proto = roundtrip(g, (ferrum.randint(0, 20, (2, 8)),), (ferrum.randint(0, 20, (3, 8)),))
    names = [i.name for i in proto.graph.initializer]
    assert len(names) == len(set(names))
    assert sum(1 for n in names if n in ("lm_head.weight", "transformer.wte.weight")) == 1
    assert "transformer.h.0.attn.c_attn.weight" in names


def test_char_lstm():
    c = models.char_lstm(vocab_size=20, embedding_dim=8, hidden_size=16)
    roundtrip(c, (ferrum.randint(0, 20, (2, 6)),), (ferrum.randint(0, 20, (3, 6)),))


def test_model_file_roundtrip(tmp_path):
    m = models.lenet5().eval()
    x = ferrum.randn(1, 1, 28, 28)
    p = tmp_path / "lenet.onnx"
    ferrum.onnx.export(m, (x,), p)
    proto = onnx.load(str(p))
    onnx.checker.check_model(proto, full_check=True)
    assert set(m.state_dict()) <= {i.name for i in proto.graph.initializer}


@pytest.mark.parametrize("opset", [17, 23])
def test_gpt_other_opsets(opset):
    g = models.char_gpt(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16)
    roundtrip(g, (ferrum.randint(0, 20, (2, 8)),), (ferrum.randint(0, 20, (3, 8)),), opset=opset)


def _run_dynamic(model, x, others, axes, out_axes=None):
    import io

    import numpy as np

    from .helpers import ort
    model.eval()
    buf = io.BytesIO()
    ferrum.onnx.export(model, (x,), buf, input_names=["x"], output_names=["y"],
                       dynamic_axes={"x": axes, "y": out_axes or {0: "batch"}})
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    for t in [x, *others]:
        with ferrum.no_grad():
            want = model(t)
        want = (want[0] if isinstance(want, tuple) else want).numpy()
        np.testing.assert_allclose(sess.run(None, {"x": t.numpy()})[0], want, atol=1e-5, rtol=1e-5)


def test_resnet18_dynamic_image_size():
    """Convolutions, pooling, the global average pool and flatten follow any H and W."""
    m = _stats(models.resnet18(num_classes=10))
    _run_dynamic(m, ferrum.randn(2, 3, 32, 32), [ferrum.randn(1, 3, 40, 48)], {0: "batch", 2: "h", 3: "w"})


def test_lstm_dynamic_sequence_length():
    m = ferrum.nn.LSTM(4, 5, num_layers=2, batch_first=True)
    _run_dynamic(m, ferrum.randn(2, 3, 4), [ferrum.randn(3, 7, 4)], {0: "batch", 1: "time"})


def test_gpt_dynamic_sequence_length():
    """Sizes read off traced tensors stay symbolic (``_symint``): GPT's arange positions, its
    view(B, T, n_head, head_dim) and the causal mask follow the sequence length too."""
    g = models.char_gpt(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=16)
    others = [ferrum.randint(0, 20, s) for s in ((3, 5), (1, 16), (4, 1))]
    _run_dynamic(g, ferrum.randint(0, 20, (2, 8)), others, {0: "batch", 1: "time"}, {0: "batch", 1: "time"})
