"""ferrum's top-level spellings of nn.functional ops (src/ferrum/_nn_top.py) against torch's:
the kernels' signatures, outputs and every gradient, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum

R = np.random.default_rng(0)


def _a(*shape):
    return R.standard_normal(shape)


def _pos(*shape):
    return R.random(shape) + 0.5


# name -> (callable(T, *tensors), arrays that become tensors requiring grad, extra integer arrays)
CASES = {
    "conv1d": (lambda T, x, w, b: T.conv1d(x, w, b, 2, 1, 1, 2), [_a(2, 4, 9), _a(6, 2, 3), _a(6)], {}),
    "conv2d": (
        lambda T, x, w, b: T.conv2d(x, w, b, 1, "same", 1, 2),
        [_a(2, 4, 6, 5), _a(6, 2, 3, 3), _a(6)],
        {},
    ),
    "conv3d": (lambda T, x, w: T.conv3d(x, w, None, 1, 1), [_a(1, 2, 4, 4, 4), _a(3, 2, 3, 3, 3)], {}),
    "conv_transpose1d": (
        lambda T, x, w: T.conv_transpose1d(x, w, None, 2, 1, 1),
        [_a(2, 3, 5), _a(3, 2, 3)],
        {},
    ),
    "conv_transpose2d": (
        lambda T, x, w, b: T.conv_transpose2d(x, w, b, 2),
        [_a(1, 3, 4, 4), _a(3, 2, 2, 2), _a(2)],
        {},
    ),
    "conv_transpose3d": (
        lambda T, x, w: T.conv_transpose3d(x, w),
        [_a(1, 2, 3, 3, 3), _a(2, 1, 2, 2, 2)],
        {},
    ),
    "convolution": (
        lambda T, x, w, b: T.convolution(x, w, b, [1, 1], [1, 0], [1, 1], False, [0, 0], 1),
        [_a(2, 3, 5, 5), _a(4, 3, 3, 3), _a(4)],
        {},
    ),
    "convolution_t": (
        lambda T, x, w: T.convolution(x, w, None, [2], [1], [1], True, [1], 1),
        [_a(2, 3, 5), _a(3, 2, 3)],
        {},
    ),
    "conv_tbc": (lambda T, x, w, b: T.conv_tbc(x, w, b, 1), [_a(7, 2, 3), _a(3, 3, 4), _a(4)], {}),
    "max_pool1d": (lambda T, x: T.max_pool1d(x, 3), [_a(2, 3, 10)], {}),
    "max_pool2d": (lambda T, x: T.max_pool2d(x, 2, [], 1, 1, True), [_a(2, 3, 7, 6)], {}),
    "max_pool3d": (lambda T, x: T.max_pool3d(x, 2, 1), [_a(1, 2, 4, 4, 4)], {}),
    "max_pool1d_with_indices": (lambda T, x: T.max_pool1d_with_indices(x, 2)[0], [_a(2, 3, 8)], {}),
    "avg_pool1d": (lambda T, x: T.avg_pool1d(x, 3, [], 1, False, False), [_a(2, 3, 10)], {}),
    "adaptive_avg_pool1d": (lambda T, x: T.adaptive_avg_pool1d(x, 4), [_a(2, 3, 10)], {}),
    "adaptive_max_pool1d": (lambda T, x: T.adaptive_max_pool1d(x, 3)[0], [_a(2, 3, 9)], {}),
    "batch_norm": (
        lambda T, x, w, b: T.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
        [_a(4, 3, 5), _pos(3), _a(3)],
        {},
    ),
    "instance_norm": (
        lambda T, x, w, b: T.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
        [_a(2, 3, 6), _pos(3), _a(3)],
        {},
    ),
    "layer_norm": (
        lambda T, x, w, b: T.layer_norm(x, [4, 5], w, b, 1e-5),
        [_a(3, 4, 5), _pos(4, 5), _a(4, 5)],
        {},
    ),
    "group_norm": (lambda T, x, w, b: T.group_norm(x, 2, w, b), [_a(2, 4, 5), _pos(4), _a(4)], {}),
    "rms_norm": (lambda T, x, w: T.rms_norm(x, [5], w), [_a(3, 5), _pos(5)], {}),
    "bilinear": (lambda T, a, b, w: T.bilinear(a, b, w, None), [_a(3, 4), _a(3, 2), _a(5, 4, 2)], {}),
    "channel_shuffle": (lambda T, x: T.channel_shuffle(x, 3), [_a(2, 6, 4, 3)], {}),
    "constant_pad_nd": (lambda T, x: T.constant_pad_nd(x, [1, 2, 0, 1], 0.5), [_a(2, 3, 4)], {}),
    "affine_grid_generator": (
        lambda T, th: T.affine_grid_generator(th, [2, 1, 4, 5], False),
        [_a(2, 2, 3)],
        {},
    ),
    "grid_sampler": (
        lambda T, x, g: T.grid_sampler(x, g, 0, 1, True),
        [_a(2, 3, 5, 4), R.random((2, 3, 3, 2)) * 1.6 - 0.8],
        {},
    ),
    "grid_sampler_2d": (
        lambda T, x, g: T.grid_sampler_2d(x, g, 0, 0, False),
        [_a(1, 2, 4, 4), R.random((1, 2, 2, 2)) * 1.6 - 0.8],
        {},
    ),
    "kl_div": (lambda T, x, y: T.kl_div(x, y, 2, log_target=False), [_a(3, 4), R.random((3, 4))], {}),
    "kl_div_log_target": (lambda T, x, y: T.kl_div(x, y, 0, log_target=True), [_a(3, 4), _a(3, 4)], {}),
    "binary_cross_entropy_with_logits": (
        lambda T, x, y, w, pw: T.binary_cross_entropy_with_logits(x, y, w.detach(), pw.detach(), 1),
        [_a(3, 4), R.random((3, 4)), _pos(4), _pos(4)],
        {},
    ),
    "cosine_embedding_loss": (
        lambda T, a, b, y: T.cosine_embedding_loss(a, b, y.detach().sign(), 0.1, 2),
        [_a(4, 5), _a(4, 5), _a(4)],
        {},
    ),
    "hinge_embedding_loss": (
        lambda T, x, y: T.hinge_embedding_loss(x, y.detach().sign(), 0.5, 1),
        [_a(3, 4), _a(3, 4)],
        {},
    ),
    "margin_ranking_loss": (
        lambda T, a, b, y: T.margin_ranking_loss(a, b, y.detach().sign(), 0.2, 0),
        [_a(5), _a(5), _a(5)],
        {},
    ),
    "poisson_nll_loss": (
        lambda T, x, y: T.poisson_nll_loss(x, y, True, True, 1e-8, 1),
        [_a(3, 4), _pos(3, 4)],
        {},
    ),
    "embedding": (lambda T, w: T.embedding(w, T.tensor([[0, 3], [2, 3]]), 2), [_a(5, 3)], {}),
    "rnn_tanh_cell": (lambda T, x, h, wi, wh, bi, bh: T.rnn_tanh_cell(x, h, wi, wh, bi, bh),
                      [_a(2, 3), _a(2, 4), _a(4, 3), _a(4, 4), _a(4), _a(4)], {}),
    "rnn_relu_cell": (lambda T, x, h, wi, wh: T.rnn_relu_cell(x, h, wi, wh),
                      [_a(2, 3), _a(2, 4), _a(4, 3), _a(4, 4)], {}),
    "lstm_cell": (lambda T, x, h, c, wi, wh, bi, bh: T.cat(T.lstm_cell(x, (h, c), wi, wh, bi, bh)),
                  [_a(2, 3), _a(2, 4), _a(2, 4), _a(16, 3), _a(16, 4), _a(16), _a(16)], {}),
    "gru_cell": (lambda T, x, h, wi, wh, bi, bh: T.gru_cell(x, h, wi, wh, bi, bh),
                 [_a(2, 3), _a(2, 4), _a(12, 3), _a(12, 4), _a(12), _a(12)], {}),
    "triplet_margin_loss": (
        lambda T, a, p, n: T.triplet_margin_loss(a, p, n, 1.0, 2, 1e-6, True, 2),
        [_a(4, 5), _a(4, 5), _a(4, 5)],
        {},
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, dtype):
    fn, arrays, _ = CASES[name]
    outs = []
    for lib in (torch, ferrum):
        ts = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
        out = fn(lib, *ts)
        out.backward(
            lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)), dtype=getattr(lib, dtype))
        )
        outs.append((out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in ts]))
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-11}
    np.testing.assert_allclose(outs[1][0], outs[0][0], **tol)
    assert outs[1][0].dtype == outs[0][0].dtype
    for i, (gf, gt) in enumerate(zip(outs[1][1], outs[0][1])):
        assert (gf is None) == (gt is None), i
        if gt is not None:
            np.testing.assert_allclose(gf, gt, err_msg=f"grad {i}", **tol)


def test_every_name_is_torchs_and_reachable(torch):
    from ferrum import _nn_top

    for name in _nn_top.__all__:
        assert hasattr(torch, name), name
        assert getattr(ferrum, name) is getattr(_nn_top, name), name
    assert {k for k, v in ferrum._LAZY.items() if v == "._nn_top"} == set(_nn_top.__all__)


def test_index_outputs_match(torch):
    x = _a(2, 3, 9)
    for name, call in (
        ("max_pool1d_with_indices", lambda T, t: T.max_pool1d_with_indices(t, 3, [], 1)),
        ("adaptive_max_pool1d", lambda T, t: T.adaptive_max_pool1d(t, 4)),
    ):
        (tv, ti), (fv, fi) = call(torch, torch.tensor(x)), call(ferrum, ferrum.tensor(x))
        np.testing.assert_allclose(fv.numpy(), tv.numpy())
        assert (fi.numpy() == ti.numpy()).all(), name
    # torch has no derivative for native_channel_shuffle: forward only (ferrum's is differentiable)
    np.testing.assert_array_equal(
        ferrum.native_channel_shuffle(ferrum.tensor(x), 3).numpy(),
        torch.native_channel_shuffle(torch.tensor(x), 3).numpy(),
    )


def test_batch_norm_running_stats_in_kernel_order(torch):
    x = _a(6, 3, 4).astype(np.float32)
    res = []
    for lib in (torch, ferrum):
        rm, rv = lib.zeros(3), lib.ones(3)
        lib.batch_norm(lib.tensor(x), None, None, rm, rv, True, 0.3, 1e-5, True)
        y = lib.batch_norm(lib.tensor(x), lib.ones(3) * 2, lib.zeros(3), rm, rv, False, 0.3, 1e-5, True)
        res.append((rm.numpy(), rv.numpy(), y.numpy()))
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_dropout_family_kernel_signature(torch):
    x = ferrum.ones(4, 6, 3)
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout", "feature_dropout"):
        fn = getattr(ferrum, name)
        assert ferrum.equal(fn(x, 0.5, False), x), name  # train=False: identity, as torch
        with pytest.raises(TypeError):
            fn(x, p=0.5, training=True)  # torch's keyword is `train`
        assert tuple(fn(x, 0.3, True).shape) == (4, 6, 3)
    y = ferrum.feature_dropout(x, 0.5, True).numpy()
    # whole channels are zero or 2: one value per (n, c)
    assert set(np.unique(y)) <= {0.0, 2.0} and (y == y[:, :, :1]).all()
    z = ferrum.ones(3, 4)
    assert ferrum.dropout_(z, 0.5, True) is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    with pytest.raises(ValueError):
        ferrum.feature_dropout(x, 1.5, True)


def test_bad_input_raises_as_torch(torch):
    for lib in (torch, ferrum):
        with pytest.raises(TypeError):
            lib.kl_div(lib.zeros(2), lib.zeros(2), reduction="sum")
        with pytest.raises(RuntimeError):
            lib.channel_shuffle(lib.zeros(1, 5, 2), 2)
        with pytest.raises(RuntimeError):
            lib.channel_shuffle(lib.zeros(5, 2), 1)
        with pytest.raises(TypeError):
            lib.batch_norm(lib.zeros(2, 3), None, None, None, None, True)  # all arguments are required


def test_ctc_loss_kernel_signature(torch):
    """torch.ctc_loss: lengths as lists or tensors, reduction as an int (1 = mean by default)."""
    lp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=(6, 2))).astype(np.float32)
    targets = [[1, 2, 3], [2, 2, 0]]
    for red in (0, 1, 2):
        f = ferrum.ctc_loss(ferrum.tensor(lp), ferrum.tensor(targets), [6, 5], [3, 2], 0, red, False)
        t = torch.ctc_loss(torch.tensor(lp), torch.tensor(targets), [6, 5], [3, 2], 0, red, False)
        np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=1e-5)
    with pytest.raises(TypeError):
        ferrum.ctc_loss(ferrum.tensor(lp), ferrum.tensor(targets), [6, 5], [3, 2], 0, "mean")
