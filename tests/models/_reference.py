"""torchvision-equivalent model definitions in plain ``torch.nn``: the oracle for ferrum.models.

torchvision cannot be installed next to torch 2.13 in this environment, so these rebuild its
module trees (names, shapes, forward) from its documented architecture; the parameter counts that
torchvision publishes (resnet18 11,689,512, resnet50 25,557,032, vgg16 138,357,544, mobilenet_v2
3,504,872, ...) are checked against these definitions in the tests, which pins them to
torchvision's. Everything is built inside ``load(torch)`` so that importing this module needs no
torch (tests without the ``torch`` fixture still collect where torch is missing). ``check_parity``
below is the comparison every model test runs: same state, same input, outputs, every gradient and
every buffer.
"""

from __future__ import annotations

import functools
import types

import numpy as np


def make_divisible(v, divisor, min_value=None):
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


VGG_CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


@functools.cache
def load(torch) -> types.SimpleNamespace:
    """The reference builders: lenet5, resnet18/34/50 (and resnext50_32x4d, wide_resnet50_2),
    vgg11/13/16/19 with and without batch norm, mobilenet_v2; same keywords as ferrum's."""
    nn = torch.nn

    # ------------------------------------------------------------------ LeNet-5 (ferrum's layout)
    class LeNet5(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                            nn.Linear(84, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    # ------------------------------------------------------------------ ResNet
    def conv3x3(i, o, stride=1, groups=1, dilation=1):
        return nn.Conv2d(i, o, 3, stride=stride, padding=dilation, groups=groups, bias=False,
                         dilation=dilation)

    def conv1x1(i, o, stride=1):
        return nn.Conv2d(i, o, 1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                     norm_layer=nn.BatchNorm2d):
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = norm_layer(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = norm_layer(planes)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(out + idt)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                     norm_layer=nn.BatchNorm2d):
            super().__init__()
            width = int(planes * (base_width / 64.0)) * groups
            self.conv1 = conv1x1(inplanes, width)
            self.bn1 = norm_layer(width)
            self.conv2 = conv3x3(width, width, stride, groups, dilation)
            self.bn2 = norm_layer(width)
            self.conv3 = conv1x1(width, planes * 4)
            self.bn3 = norm_layer(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(out + idt)

    class ResNet(nn.Module):
        def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                     width_per_group=64, replace_stride_with_dilation=None, norm_layer=nn.BatchNorm2d):
            super().__init__()
            self.inplanes, self.dilation, self.groups, self.base_width = 64, 1, groups, width_per_group
            self.norm_layer = norm_layer
            rswd = replace_stride_with_dilation or [False, False, False]
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = norm_layer(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], 2, rswd[0])
            self.layer3 = self._make_layer(block, 256, layers[2], 2, rswd[1])
            self.layer4 = self._make_layer(block, 512, layers[3], 2, rswd[2])
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
            if zero_init_residual:
                for m in self.modules():
                    if isinstance(m, Bottleneck):
                        nn.init.constant_(m.bn3.weight, 0)
                    elif isinstance(m, BasicBlock):
                        nn.init.constant_(m.bn2.weight, 0)

        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            downsample, previous_dilation = None, self.dilation
            if dilate:
                self.dilation *= stride
                stride = 1
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                           self.norm_layer(planes * block.expansion))
            layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                            previous_dilation, self.norm_layer)]
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                    dilation=self.dilation, norm_layer=self.norm_layer))
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    # ------------------------------------------------------------------ VGG
    class VGG(nn.Module):
        def __init__(self, cfg, batch_norm, num_classes=1000, init_weights=True, dropout=0.5):
            super().__init__()
            layers, c = [], 3
            for v in VGG_CFGS[cfg]:
                if v == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(c, v, 3, padding=1)] + ([nn.BatchNorm2d(v)] if batch_norm else [])
                    layers.append(nn.ReLU(inplace=True))
                    c = v
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(True), nn.Dropout(dropout),
                                            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout),
                                            nn.Linear(4096, num_classes))
            if init_weights:
                for m in self.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                        nn.init.constant_(m.bias, 0)
                    elif isinstance(m, nn.BatchNorm2d):
                        nn.init.constant_(m.weight, 1)
                        nn.init.constant_(m.bias, 0)
                    elif isinstance(m, nn.Linear):
                        nn.init.normal_(m.weight, 0, 0.01)
                        nn.init.constant_(m.bias, 0)

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    # ------------------------------------------------------------------ MobileNetV2
    class ConvBNAct(nn.Sequential):
        def __init__(self, i, o, kernel_size=3, stride=1, groups=1, norm_layer=nn.BatchNorm2d):
            pad = (kernel_size - 1) // 2
            super().__init__(nn.Conv2d(i, o, kernel_size, stride, pad, groups=groups, bias=False),
                             norm_layer(o), nn.ReLU6(inplace=True))

    class InvertedResidual(nn.Module):
        def __init__(self, inp, oup, stride, expand_ratio, norm_layer=nn.BatchNorm2d):
            super().__init__()
            hidden = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = [] if expand_ratio == 1 else [ConvBNAct(inp, hidden, 1, norm_layer=norm_layer)]
            layers += [ConvBNAct(hidden, hidden, 3, stride, hidden, norm_layer=norm_layer),
                       nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), norm_layer(oup)]
            self.conv = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class MobileNetV2(nn.Module):
        def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                     dropout=0.2):
            super().__init__()
            setting = inverted_residual_setting or [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2],
                                                    [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                                                    [6, 320, 1, 1]]
            c_in = make_divisible(32 * width_mult, round_nearest)
            last = make_divisible(1280 * max(1.0, width_mult), round_nearest)
            feats = [ConvBNAct(3, c_in, stride=2)]
            for t, c, n, s in setting:
                c_out = make_divisible(c * width_mult, round_nearest)
                for i in range(n):
                    feats.append(InvertedResidual(c_in, c_out, s if i == 0 else 1, t))
                    c_in = c_out
            feats.append(ConvBNAct(c_in, last, 1))
            self.features = nn.Sequential(*feats)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    def vgg(cfg, bn):
        return lambda **kw: VGG(cfg, bn, **kw)

    return types.SimpleNamespace(
        lenet5=lambda num_classes=10: LeNet5(num_classes),
        resnet18=lambda **kw: ResNet(BasicBlock, [2, 2, 2, 2], **kw),
        resnet34=lambda **kw: ResNet(BasicBlock, [3, 4, 6, 3], **kw),
        resnet50=lambda **kw: ResNet(Bottleneck, [3, 4, 6, 3], **kw),
        resnext50_32x4d=lambda **kw: ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **kw),
        wide_resnet50_2=lambda **kw: ResNet(Bottleneck, [3, 4, 6, 3], width_per_group=128, **kw),
        vgg11=vgg("A", False), vgg11_bn=vgg("A", True), vgg13=vgg("B", False), vgg13_bn=vgg("B", True),
        vgg16=vgg("D", False), vgg16_bn=vgg("D", True), vgg19=vgg("E", False), vgg19_bn=vgg("E", True),
        mobilenet_v2=lambda **kw: MobileNetV2(**kw),
    )


# ---------------------------------------------------------------------------------------- checks
def dtype_name(dtype) -> str:
    """'float32' for torch.float32 and ferrum.float32 alike."""
    return str(dtype).rsplit(".", 1)[-1]


def state_signature(module) -> list[tuple[str, tuple, str]]:
    """(name, shape, dtype name) of every state-dict entry, in order: what a checkpoint relies on."""
    return [(k, tuple(v.shape), dtype_name(v.dtype)) for k, v in module.state_dict().items()]


def torch_to_ferrum_state(tmodel) -> dict:
    """A torch module's state dict as ferrum tensors (``ferrum.tensor(t.detach().numpy())``)."""
    import ferrum

    return {k: ferrum.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()}


def _results(lib, model, x: np.ndarray, train: bool, backward: bool) -> dict:
    """Runs ``model`` (torch's or ferrum's: ``lib`` is the module) on ``x``; returns the output, and
    with ``backward`` the gradients of ``sum(out * r)`` (r fixed random) for the input and every
    parameter, then every buffer, as NumPy arrays by name."""
    model.train(train)
    tx = lib.tensor(x, requires_grad=backward)
    out = model(tx)
    res = {"output": np.array(out.detach().numpy())}
    if backward:
        r = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(x.dtype)
        out.backward(lib.tensor(r))
        res["input gradient"] = np.array(tx.grad.numpy())
        for n, p in model.named_parameters():
            res[n + ".grad"] = None if p.grad is None else np.array(p.grad.numpy())
    for n, b in model.named_buffers():
        res[n] = np.array(b.numpy())
    res["dtype"] = dtype_name(out.dtype)
    return res


def _scales(res: dict) -> dict:
    """The magnitude each result is measured against: its own largest value, except that a
    gradient that is zero analytically comes out as rounding noise (a bias feeding a training-mode
    batch norm through a linear layer: the norm removes any constant shift), so each parameter
    gradient is measured against at least 1e-3 of the model's largest one, and a running mean near
    0 against the activations' scale (the square root of the running variance)."""
    grads = [np.abs(v).max() for k, v in res.items() if k.endswith(".grad") and v is not None and v.size]
    floor = 1e-3 * float(max(grads, default=0.0))
    out = {}
    for k, v in res.items():
        if k == "dtype" or v is None:
            continue
        m = float(np.abs(v).max()) if v.size else 0.0
        if k.endswith(".grad"):
            m = max(m, floor)
        elif k.endswith("running_mean"):
            m = float(np.sqrt(np.abs(res[k[:-4] + "var"]).max()))
        out[k] = max(m, 1e-30)
    return out


def check_parity(torch, tmodel, fmodel, x: np.ndarray, *, train: bool, rtol: float,
                 grad_rtol: float | None = None, backward: bool = True, exact64: bool = True) -> None:
    """Loads ``tmodel``'s state into ``fmodel`` (both already in ``x``'s dtype), runs both in train
    or eval mode on ``x`` and compares the output; with ``backward``, the gradients of
    ``sum(out * r)`` for the input and every parameter; then every buffer (the running statistics
    a training forward updates).

    float64: max |ferrum - torch| <= rtol x scale (``_scales``). float32: both are measured against
    torch's float64 result on a float64 copy of the model, and ferrum's error may be up to
    rtol x scale or 4 times torch's own float32 error, whichever is larger: deep networks in
    training mode are ill-conditioned enough (batch norm over few values) that torch's float32
    gradients differ from its float64 ones by far more than any fixed tolerance, and the question
    a float32 test can answer is whether ferrum's float32 is as accurate as torch's. ``exact64``
    False skips the float64 copy (for VGG, whose copy would take 2 GB with its gradients) and
    compares float32 with float32 at rtol."""
    import copy

    import ferrum

    grad_rtol = rtol if grad_rtol is None else grad_rtol
    fmodel.load_state_dict(torch_to_ferrum_state(tmodel))
    exact = None
    if x.dtype == np.float32 and exact64:
        exact = _results(torch, copy.deepcopy(tmodel).double(), x.astype(np.float64), train, backward)
    t = _results(torch, tmodel, x, train, backward)
    f = _results(ferrum, fmodel, x, train, backward)
    assert f["dtype"] == t["dtype"]
    assert list(f) == list(t), "different parameter or buffer names"
    ref = t if exact is None else exact
    scales = _scales(ref)
    for k, scale in scales.items():
        assert f[k] is not None, f"{k}: no gradient"
        assert f[k].shape == ref[k].shape, f"{k}: shape {f[k].shape} != torch's {ref[k].shape}"
        err = float(np.abs(f[k].astype(np.float64) - ref[k]).max()) if ref[k].size else 0.0
        tol = (grad_rtol if k.endswith("gradient") or k.endswith(".grad") else rtol) * scale
        if exact is None:
            assert err <= tol, f"{k}: max error {err:.3g} > {tol:.3g} (max |torch| {scale:.3g})"
        else:
            terr = float(np.abs(t[k].astype(np.float64) - ref[k]).max()) if ref[k].size else 0.0
            assert err <= max(tol, 4 * terr), (
                f"{k}: ferrum float32 is {err:.3g} from torch's float64 result, torch's float32 "
                f"{terr:.3g} (allowed: {max(tol, 4 * terr):.3g}; max |value| {scale:.3g})")
