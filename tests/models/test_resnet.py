"""ferrum.models.resnet against a torchvision-equivalent torch definition (tests/models/_reference.py):
state-dict names, shapes and dtypes, parameter counts torchvision publishes, torchvision's
initialisation, outputs, every gradient and the running statistics with the same weights (train and
eval, float32 and float64), the builders' keywords and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from ferrum import models
from ferrum.models import resnet as R

from ._reference import check_parity, load, state_signature

# published by torchvision for num_classes=1000
PARAMS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032}


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50"])
def test_state_dict_and_parameter_count_match_torchvision(name, torch):
    m = getattr(models, name)()
    with torch.device("meta"):
        ref = getattr(load(torch), name)()
    assert state_signature(m) == state_signature(ref)
    assert sum(p.numel() for p in m.parameters()) == PARAMS[name]
    assert isinstance(m, models.ResNet)


@pytest.mark.parametrize("name,kwargs", [("resnext50_32x4d", {}), ("wide_resnet50_2", {}),
                                         ("resnet50", {"replace_stride_with_dilation": [False, True, True]}),
                                         ("resnet18", {"num_classes": 7})])
def test_variants_state_dict_match(name, kwargs, torch):
    m = getattr(models, name)(**kwargs)
    with torch.device("meta"):
        ref = getattr(load(torch), name)(**kwargs)
    assert state_signature(m) == state_signature(ref)


def test_repr_matches_torch(torch):
    assert repr(models.resnet18(num_classes=10)) == repr(load(torch).resnet18(num_classes=10))


# Parity: torch's state loaded into ferrum's model. float64 pins the arithmetic (train mode: batch
# statistics, the in-place ReLU/add of the blocks, every gradient). float32 compares outputs and
# running statistics against torch's float64 result (check_parity) but not gradients: among the
# ~10^5 activations of these networks some lie within float32 rounding of a ReLU's kink, and which
# side each framework's rounding puts them on changes single gradient entries by up to 10% (seen
# with mobilenet_v2); float64 has no such ties. Small inputs, but 64x64 at least: smaller ones leave
# layer4 with 1x1 maps, where training-mode batch norm over 2 values divides by their difference.
CASES = [
    ("resnet18", {}, (2, 3, 64, 64)),
    ("resnet34", {}, (2, 3, 64, 64)),
    ("resnet50", {}, (2, 3, 64, 64)),
    ("resnet18", {"zero_init_residual": True}, (2, 3, 64, 64)),
    ("resnet50", {"replace_stride_with_dilation": [False, False, True]}, (1, 3, 64, 64)),
    ("resnext50_32x4d", {}, (1, 3, 64, 64)),
]


def _pair(torch, name, kwargs, dtype, train):
    torch.manual_seed(0)
    tm = getattr(load(torch), name)(num_classes=10, **kwargs)
    fm = getattr(models, name)(num_classes=10, **kwargs)
    if dtype == np.float64:
        tm, fm = tm.double(), fm.double()
    if not train:  # non-trivial running statistics, so that eval does not just use 0 and 1
        with torch.no_grad():
            for n, b in tm.named_buffers():
                if n.endswith("running_mean"):
                    b.copy_(torch.randn_like(b) * 0.1)
                elif n.endswith("running_var"):
                    b.copy_(torch.rand_like(b) + 0.5)
    return tm, fm


@pytest.mark.parametrize("name,kwargs,shape", CASES)
def test_parity_float64_train(name, kwargs, shape, torch):
    tm, fm = _pair(torch, name, kwargs, np.float64, True)
    check_parity(torch, tm, fm, _x(shape, np.float64), train=True, rtol=1e-9)


@pytest.mark.parametrize("name,kwargs,shape", [CASES[0], CASES[2]])
def test_parity_float64_eval(name, kwargs, shape, torch):
    tm, fm = _pair(torch, name, kwargs, np.float64, False)
    check_parity(torch, tm, fm, _x(shape, np.float64), train=False, rtol=1e-9)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,kwargs,shape", CASES)
def test_parity_float32(name, kwargs, shape, train, torch):
    tm, fm = _pair(torch, name, kwargs, np.float32, train)
    check_parity(torch, tm, fm, _x(shape, np.float32), train=train, rtol=1e-4, backward=False)


def test_group_norm_layer_parity_float64(torch):
    """``norm_layer`` as torchvision users pass it for small batches: GroupNorm(8, c), initialised
    to weight 1 and bias 0 like BatchNorm2d."""
    torch.manual_seed(0)
    tm = load(torch).resnet18(num_classes=10, norm_layer=lambda c: torch.nn.GroupNorm(8, c)).double()
    fm = models.resnet18(num_classes=10, norm_layer=lambda c: ferrum.nn.GroupNorm(8, c)).double()
    assert state_signature(fm) == state_signature(tm)
    assert (fm.layer1[0].bn1.weight.detach().numpy() == 1).all()
    check_parity(torch, tm, fm, _x((1, 3, 32, 32), np.float64), train=True, rtol=1e-9)


def test_eval_float32_and_state_back_to_torch(torch):
    """ferrum's own (randomly initialised) state loads into torch's model and gives ferrum's outputs."""
    fm = models.resnet18(num_classes=5).eval()
    tm = load(torch).resnet18(num_classes=5).eval()
    tm.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in fm.state_dict().items()})
    x = _x((2, 3, 40, 48), np.float32)
    with ferrum.no_grad():
        fo = fm(ferrum.tensor(x)).numpy()
    with torch.no_grad():
        to = tm(torch.tensor(x)).numpy()
    assert fo.shape == (2, 5)
    np.testing.assert_allclose(fo, to, rtol=1e-4, atol=1e-4 * np.abs(to).max())


def test_init_is_torchvisions():
    m = models.resnet50(num_classes=10)
    w = m.conv1.weight.detach().numpy()
    std = np.sqrt(2.0 / (64 * 7 * 7))  # kaiming normal, fan_out, gain sqrt(2)
    assert abs(w.mean()) < 0.1 * std and abs(w.std() / std - 1) < 0.05
    w = m.layer4[0].conv2.weight.detach().numpy()
    assert abs(w.std() / np.sqrt(2.0 / (512 * 9)) - 1) < 0.02
    for mod in m.modules():
        if isinstance(mod, ferrum.nn.BatchNorm2d):
            assert (mod.weight.detach().numpy() == 1).all() and (mod.bias.detach().numpy() == 0).all()
    # fc keeps Linear's default: U(-1/sqrt(2048), 1/sqrt(2048))
    assert np.abs(m.fc.weight.detach().numpy()).max() <= 1 / np.sqrt(2048)
    z = models.resnet50(zero_init_residual=True, num_classes=10)
    assert all((b.bn3.weight.detach().numpy() == 0).all() for b in z.modules() if isinstance(b, R.Bottleneck))
    z = models.resnet18(zero_init_residual=True, num_classes=10)
    assert all((b.bn2.weight.detach().numpy() == 0).all() for b in z.modules() if isinstance(b, R.BasicBlock))


def test_num_classes_and_input_sizes():
    m = models.resnet18(num_classes=3)
    for shape in [(2, 3, 32, 32), (3, 3, 45, 37)]:
        out = m(ferrum.randn(*shape))
        assert tuple(out.shape) == (shape[0], 3)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_block_structure():
    m = models.resnet50(num_classes=10)
    assert isinstance(m.layer1[0], R.Bottleneck) and m.layer1[0].downsample is not None
    assert m.layer1[1].downsample is None and m.layer2[0].stride == 2
    assert R.Bottleneck.expansion == 4 and R.BasicBlock.expansion == 1
    d = models.resnet50(replace_stride_with_dilation=[False, True, True], num_classes=10)
    assert d.layer3[1].conv2.dilation == (2, 2) and d.layer4[1].conv2.dilation == (4, 4)
    assert d.layer4[0].conv2.stride == (1, 1)
    assert models.resnet18(norm_layer=ferrum.nn.Identity, num_classes=10).bn1.__class__ is ferrum.nn.Identity


def test_bad_arguments():
    with pytest.raises(ValueError, match="only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="3-element"):
        models.resnet50(replace_stride_with_dilation=[False, True])
    with pytest.raises(ValueError, match="groups"):
        models.resnext50_32x4d(groups=8)
    with pytest.raises(TypeError):
        models.resnet18(no_such_option=1)


@pytest.mark.parametrize("weights", ["DEFAULT", "IMAGENET1K_V1", object()])
def test_pretrained_weights_refused(weights):
    with pytest.raises(ValueError, match="cannot be downloaded") as e:
        models.resnet18(weights=weights)
    assert "load_state_dict" in str(e.value)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        models.resnet50(pretrained=True)
    with pytest.warns(UserWarning, match="deprecated"):
        models.resnet18(pretrained=False, num_classes=2)
    for fn in (models.resnet18, models.resnet34, models.resnet50):
        assert "cannot be downloaded" in fn.__doc__ and "load_state_dict" in fn.__doc__
