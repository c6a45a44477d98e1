"""nn/modules/instancenorm.py: InstanceNorm1d/2d/3d against torch (batched and unbatched input,
affine, track_running_stats, training steps then eval), repr, state dicts and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ferrum

CASES = [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)), ("InstanceNorm2d", (2, 3, 2, 3)),
         ("InstanceNorm2d", (3, 2, 3)), ("InstanceNorm3d", (2, 3, 2, 2, 2)), ("InstanceNorm3d", (3, 2, 2, 2))]


def _run(T, cls, shape, kw, xs, gs):
    m = getattr(T.nn, cls)(3, **kw).double()
    if m.weight is not None:
        with T.no_grad():
            m.weight.copy_(T.tensor([0.5, 1.0, 1.5]))
            m.bias.copy_(T.tensor([-1.0, 0.0, 1.0]))
    res = []
    for x, g in zip(xs, gs):
        xt = T.tensor(x, requires_grad=True)
        y = m(xt)
        y.backward(T.tensor(g))
        res += [y.detach(), xt.grad]
    res += [p.grad for p in m.parameters()] + [b.clone() for b in m.buffers()]
    m.eval()
    res.append(m(T.tensor(xs[0] * 0.5)).detach())
    return [r.double().numpy() for r in res], m


@pytest.mark.parametrize("cls,shape", CASES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_matches_torch(torch, cls, shape, affine, track, momentum):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(shape) * 2 + i for i in range(2)]
    gs = [rng.standard_normal(shape) for _ in range(2)]
    kw = {"affine": affine, "track_running_stats": track, "momentum": momentum, "eps": 1e-4}
    ref, tm = _run(torch, cls, shape, kw, xs, gs)
    got, fm = _run(ferrum, cls, shape, kw, xs, gs)
    assert len(got) == len(ref)
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
    assert repr(fm) == repr(tm)
    assert list(fm.state_dict()) == list(tm.state_dict())


BAD = [("InstanceNorm1d", (2, 3, 4, 5), False), ("InstanceNorm2d", (3, 4), False),
       ("InstanceNorm3d", (2, 3, 4), False), ("InstanceNorm1d", (2, 4, 5), True),
       ("InstanceNorm1d", (2, 3, 1), False)]


@pytest.mark.parametrize("cls,shape,affine", BAD)
def test_bad_input_raises_as_torch(torch, cls, shape, affine):
    errors = []
    for T in (torch, ferrum):
        try:
            getattr(T.nn, cls)(3, affine=affine)(T.randn(*shape))
            errors.append(None)
        except Exception as e:  # noqa: BLE001 - compared with torch's type
            errors.append(e)
    assert errors[0] is not None and type(errors[1]) is type(errors[0])
    assert str(errors[1]).replace("ferrum", "torch") == str(errors[0])


def test_channel_mismatch_without_affine_warns():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = ferrum.nn.InstanceNorm1d(3)(ferrum.randn(2, 4, 5))
    assert y.shape == (2, 4, 5) and any("does not match num_features" in str(x.message) for x in w)


def test_old_state_dict_with_running_stats_is_refused():
    m = ferrum.nn.InstanceNorm2d(3)
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        m.load_state_dict({"running_mean": ferrum.zeros(3), "running_var": ferrum.ones(3)})
