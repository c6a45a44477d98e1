"""The compatibility page: it generates, its numbers add up, and the shipped snapshot of torch's
API is the installed torch's."""

from __future__ import annotations

import re

from ferrum import cli
from ferrum.compat import _coverage, coverage_markdown
from ferrum.compat._torch_api import SNAPSHOT, VERSION


def test_page_generates_with_sane_numbers():
    page = coverage_markdown()
    assert page.startswith("# PyTorch compatibility")
    rows, _ = _coverage.coverage()
    areas = [r["area"] for r in rows]
    assert areas[:2] == ["torch", "torch.Tensor"] and "torchvision.transforms" in areas
    by_area = {r["area"]: r for r in rows}
    for r in rows:
        assert not set(r["covered"]) & set(r["missing"])
        n = len(r["covered"]) + len(r["missing"])
        assert f"| `{r['area']}` | `{r['ferrum']}` | {len(r['covered'])} | {n} |" in page
    # what every ferrum program uses is there, what ferrum lacks is not claimed
    assert {"Linear", "Conv2d", "Module", "Sequential", "Parameter"} <= set(by_area["torch.nn"]["covered"])
    assert {"relu", "cross_entropy", "conv2d"} <= set(by_area["torch.nn.functional"]["covered"])
    assert {"Adam", "SGD"} <= set(by_area["torch.optim"]["covered"])
    assert {"DataLoader", "TensorDataset"} <= set(by_area["torch.utils.data"]["covered"])
    assert {"ToTensor", "Normalize", "Compose"} <= set(by_area["torchvision.transforms"]["covered"])
    m = re.search(r"Overall: (\d+) of (\d+) names \((\d+)%\)", page)
    covered, total, pct = map(int, m.groups())
    assert 1000 < total < 5000 and 0.3 * total < covered < total
    assert pct == round(100 * covered / total)


def test_snapshot_fallback(monkeypatch):
    monkeypatch.setattr(_coverage, "live_torch_api", lambda: None)
    api, source = _coverage.torch_api()
    assert f"torch {VERSION}" in source and "shipped" in source
    assert api == dict(SNAPSHOT)
    assert "(shipped with ferrum)" in coverage_markdown()


def test_snapshot_is_the_installed_torch(torch):
    if not torch.__version__.startswith(VERSION):
        import pytest

        pytest.skip(f"snapshot is of torch {VERSION}, installed is {torch.__version__}")
    live = _coverage.live_torch_api()
    assert live == dict(SNAPSHOT), "run `python -m ferrum.compat._coverage --snapshot`"


def test_cli_writes_the_page(tmp_path):
    out = tmp_path / "compat.md"
    assert cli.main(["compat", "coverage", "-o", str(out)]) == 0
    assert out.read_text().startswith("# PyTorch compatibility")
