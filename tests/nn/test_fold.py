"""nn.Fold / nn.Unfold: torch's module path, attributes, repr, and the functional's values."""

from __future__ import annotations

import numpy as np

import ferrum
import ferrum.nn as fnn
from ferrum.nn.modules.fold import Fold, Unfold


def test_modules_match_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5)).astype(np.float32)
    for fm, tm in ((Unfold(2, padding=1, stride=2), torch.nn.Unfold(2, padding=1, stride=2)),
                   (fnn.Unfold((2, 3), dilation=2), torch.nn.Unfold((2, 3), dilation=2))):
        assert repr(fm) == repr(tm)
        np.testing.assert_allclose(fm(ferrum.tensor(x)).numpy(), tm(torch.tensor(x)).numpy(), rtol=1e-6)
        cols = tm(torch.tensor(x))
        tf = torch.nn.Fold((6, 5), tm.kernel_size, tm.dilation, tm.padding, tm.stride)
        ff = Fold((6, 5), fm.kernel_size, fm.dilation, fm.padding, fm.stride)
        assert repr(ff) == repr(tf)
        np.testing.assert_allclose(ff(ferrum.tensor(cols.numpy())).numpy(), tf(cols).numpy(), rtol=1e-6)
    assert fnn.Fold is Fold and fnn.Unfold is Unfold
