"""A torchvision-style checkpoint written by ``torch.save`` (zip and legacy formats) loads with
``ferrum.load`` (weights_only, no torch needed to read it) straight into ``ferrum.models``, with the
same outputs: issue 12's ``ferrum.load("resnet18.pth")``."""

from __future__ import annotations

import numpy as np
import pytest

import ferrum
from tests.models import _reference


@pytest.mark.parametrize("zipfile", [True, False])
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_torch_saved_state_dict_loads_into_ferrum_models(torch, tmp_path, name, zipfile):
    torch.manual_seed(0)
    tmodel = getattr(_reference.load(torch), name)(num_classes=10).eval()
    with torch.no_grad():  # running statistics away from their 0/1 start, so eval mode is tested
        for m in tmodel.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / f"{name}.pth"
    torch.save(tmodel.state_dict(), str(path), _use_new_zipfile_serialization=zipfile)

    sd = ferrum.load(str(path))                              # weights_only=True by default
    fmodel = getattr(ferrum.models, name)(num_classes=10).eval()
    fmodel.load_state_dict(sd)
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want = tmodel(torch.from_numpy(x)).numpy()
    with ferrum.no_grad():
        got = fmodel(ferrum.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
