"""The compatibility page: which of torch's (and torchvision's) public API ferrum has, from the code.

Each area (``torch``, ``torch.Tensor``, ``torch.nn.functional``, ...) lists torch's public names:
``__all__`` where the module defines one, otherwise its public functions and the classes it
defines (a few dispatch helpers left out). The names come from the installed torch when there is
one (and it is not ferrum under the import hook), else from ``_torch_api.SNAPSHOT``, taken from torch
2.13 by ``python -m ferrum.compat._coverage --snapshot`` (a test checks the snapshot against the
installed torch). torchvision cannot be installed next to torch 2.13 here, so its lists are written
out below from torchvision's documented API. A name is covered when the ferrum module the import
hook maps the area to (``ferrum.nn.functional`` for ``torch.nn.functional``; ``ferrum.Tensor``) has
the attribute.

``coverage_markdown()`` returns the page; ``ferrum compat coverage -o docs/compat.md`` writes it.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings

from ferrum.compat._hook import ferrum_name, is_installed

#: torch areas, in page order
TORCH_AREAS = ("torch", "torch.Tensor", "torch.nn", "torch.nn.functional", "torch.nn.init",
               "torch.nn.utils", "torch.nn.utils.rnn", "torch.optim", "torch.optim.lr_scheduler",
               "torch.utils.data", "torch.autograd", "torch.func", "torch.linalg", "torch.fft",
               "torch.special", "torch.amp", "torch.cuda", "torch.distributed")

# dispatch and typing helpers that modules without __all__ import at top level (not API)
_INTERNAL = frozenset({"boolean_dispatch", "handle_torch_function", "has_torch_function",
                       "has_torch_function_unary", "has_torch_function_variadic", "assert_int_or_pair",
                       "factory_kwargs"})

TORCHVISION_API = {
    "torchvision.transforms": (
        "AugMix AutoAugment AutoAugmentPolicy CenterCrop ColorJitter Compose ConvertImageDtype "
        "ElasticTransform FiveCrop GaussianBlur Grayscale InterpolationMode Lambda LinearTransformation "
        "Normalize PILToTensor Pad RandAugment RandomAdjustSharpness RandomAffine RandomApply "
        "RandomAutocontrast RandomChoice RandomCrop RandomEqualize RandomErasing RandomGrayscale "
        "RandomHorizontalFlip RandomInvert RandomOrder RandomPerspective RandomPosterize "
        "RandomResizedCrop RandomRotation RandomSolarize RandomVerticalFlip Resize TenCrop ToPILImage "
        "ToTensor TrivialAugmentWide").split(),
    "torchvision.datasets": (
        "CIFAR10 CIFAR100 CLEVRClassification Caltech101 Caltech256 CelebA Cityscapes CocoCaptions "
        "CocoDetection Country211 DTD DatasetFolder EMNIST EuroSAT FGVCAircraft FakeData FashionMNIST "
        "Flowers102 Food101 GTSRB HMDB51 INaturalist ImageFolder ImageNet Imagenette KMNIST Kinetics "
        "LFWPairs LFWPeople LSUN MNIST MovingMNIST Omniglot OxfordIIITPet PCAM Places365 QMNIST "
        "RenderedSST2 SBU SEMEION STL10 SUN397 SVHN StanfordCars UCF101 USPS VOCDetection "
        "VOCSegmentation VisionDataset WIDERFace").split(),
    "torchvision.models": (
        "alexnet convnext_base convnext_large convnext_small convnext_tiny densenet121 densenet161 "
        "densenet169 densenet201 efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 "
        "efficientnet_b4 efficientnet_b5 efficientnet_b6 efficientnet_b7 efficientnet_v2_l "
        "efficientnet_v2_m efficientnet_v2_s get_model get_model_weights get_weight googlenet "
        "inception_v3 list_models maxvit_t mnasnet0_5 mnasnet0_75 mnasnet1_0 mnasnet1_3 mobilenet_v2 "
        "mobilenet_v3_large mobilenet_v3_small regnet_x_400mf regnet_x_800mf regnet_y_400mf "
        "regnet_y_800mf resnet101 resnet152 resnet18 resnet34 resnet50 resnext101_32x8d "
        "resnext101_64x4d resnext50_32x4d shufflenet_v2_x0_5 shufflenet_v2_x1_0 shufflenet_v2_x1_5 "
        "shufflenet_v2_x2_0 squeezenet1_0 squeezenet1_1 swin_b swin_s swin_t swin_v2_b swin_v2_s "
        "swin_v2_t vgg11 vgg11_bn vgg13 vgg13_bn vgg16 vgg16_bn vgg19 vgg19_bn vit_b_16 vit_b_32 "
        "vit_h_14 vit_l_16 vit_l_32 wide_resnet101_2 wide_resnet50_2").split(),
    "torchvision.utils": "draw_bounding_boxes draw_keypoints draw_segmentation_masks flow_to_image "
                         "make_grid save_image".split(),
}


def _public(mod: types.ModuleType) -> list[str]:
    """Public API of a module without ``__all__``: its public functions and its own classes."""
    out = []
    for n in dir(mod):
        if n.startswith("_") or n in _INTERNAL:
            continue
        v = getattr(mod, n, None)
        if isinstance(v, types.ModuleType) or not callable(v):
            continue
        owner = getattr(v, "__module__", None) or ""
        if owner.startswith("typing") or (isinstance(v, type) and not owner.startswith(mod.__name__)):
            continue
        out.append(n)
    return out


def _real_torch():
    """The installed torch, or None (absent, or ferrum under the import hook)."""
    if is_installed() or getattr(sys.modules.get("torch"), "__name__", "torch") != "torch":
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def live_torch_api() -> dict[str, tuple[str, ...]] | None:
    """Each area's public names, read from the installed torch; None without one."""
    torch = _real_torch()
    if torch is None:
        return None
    api = {}
    with warnings.catch_warnings():  # _public touches deprecated aliases (torch.distributed.reduce_op)
        warnings.simplefilter("ignore")
        for area in TORCH_AREAS:
            api[area] = _live_area(torch, area)
    return api


def _live_area(torch, area: str) -> tuple[str, ...]:
    if area == "torch.Tensor":
        names = [n for n in dir(torch.Tensor) if not n.startswith("_")]
    else:
        mod = importlib.import_module(area)
        all_ = getattr(mod, "__all__", None)
        # torch.nn has no __all__: _public gives nn.modules' classes plus Parameter, Buffer and kin
        names = [n for n in all_ if not n.startswith("_")] if all_ is not None else _public(mod)
    return tuple(sorted(set(names)))


def torch_api() -> tuple[dict[str, tuple[str, ...]], str]:
    """(area -> torch's public names, where they came from)."""
    live = live_torch_api()
    if live is not None:
        return live, f"the installed torch {_real_torch().__version__}"
    from ferrum.compat._torch_api import SNAPSHOT, VERSION

    return dict(SNAPSHOT), f"a list taken from torch {VERSION} (shipped with ferrum)"


def torch_names(area: str) -> frozenset[str] | None:
    """torch's public names in ``area`` from the shipped snapshot (never imports torch), or None."""
    from ferrum.compat._torch_api import SNAPSHOT

    names = SNAPSHOT.get(area, TORCHVISION_API.get(area))
    return None if names is None else frozenset(names)


def _ferrum_obj(area: str):
    if area == "torch.Tensor":
        import ferrum

        return ferrum.Tensor
    try:
        return importlib.import_module(ferrum_name(area) or "")
    except ImportError:
        return None


def _has(obj, name: str) -> bool:
    try:
        return obj is not None and hasattr(obj, name)
    except Exception:  # a lazy attribute that fails to load is not available
        return False


def coverage() -> tuple[list[dict], str]:
    """Per area: {'area', 'ferrum', 'covered': [...], 'missing': [...]}, and the source of torch's lists."""
    api, source = torch_api()
    api.update({k: tuple(v) for k, v in TORCHVISION_API.items()})
    rows = []
    for area, names in api.items():
        obj = _ferrum_obj(area)
        covered = [n for n in names if _has(obj, n)]
        rows.append({"area": area, "ferrum": "ferrum.Tensor" if area == "torch.Tensor" else ferrum_name(area),
                     "covered": covered, "missing": [n for n in names if n not in set(covered)]})
    return rows, source


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "(none)"


def coverage_markdown() -> str:
    """The compatibility page, in Markdown: a summary table and each area's covered/missing names."""
    import ferrum

    rows, source = coverage()
    total_c = sum(len(r["covered"]) for r in rows)
    total = total_c + sum(len(r["missing"]) for r in rows)
    out = [
        "# PyTorch compatibility",
        "",
        f"Generated from the code by `ferrum compat coverage` (ferrum {ferrum.__version__}); torch's "
        f"names come from {source}, torchvision's from its documented API.",
        "",
        "Run an unmodified PyTorch program with ferrum in torch's place:",
        "",
        "```",
        "ferrum compat run train.py --epochs 3      # or: python -m ferrum.compat train.py --epochs 3",
        "```",
        "",
        "`import torch` (and every `torch.*` submodule) gives the ferrum module itself, and "
        "`torchvision.datasets`, `torchvision.transforms`, `torchvision.models` and `torchvision.utils` "
        "give ferrum's. A program that reaches an API listed below as not available stops with an "
        "error naming it (`torch.nn.functional.fractional_max_pool2d is not available in ferrum`).",
        "",
        f"Overall: {total_c} of {total} names ({100 * total_c / max(total, 1):.0f}%).",
        "",
        "| torch API | ferrum module | available | of | % |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        n = len(r["covered"]) + len(r["missing"])
        out.append(f"| `{r['area']}` | `{r['ferrum']}` | {len(r['covered'])} | {n} | "
                   f"{100 * len(r['covered']) / max(n, 1):.0f}% |")
    for r in rows:
        out += ["", f"## `{r['area']}`", "", f"Available ({len(r['covered'])}): {_names(r['covered'])}", "",
                f"Not available ({len(r['missing'])}): {_names(r['missing'])}"]
    return "\n".join(out) + "\n"


def _write_snapshot(path: str) -> None:
    """Writes ``_torch_api.py`` from the installed torch (run when ferrum moves to a new torch)."""
    import textwrap

    api = live_torch_api()
    if api is None:
        raise SystemExit("the snapshot needs the real torch installed")
    torch = _real_torch()
    lines = ['"""torch\'s public API names per area, taken from the installed torch by',
             "``python -m ferrum.compat._coverage --snapshot`` (generated: do not edit). The",
             "compatibility page uses it where torch is not installed; the runner uses it to tell a",
             'missing API from a typo."""',
             "", f"VERSION = {torch.__version__.split('+')[0]!r}", "", "SNAPSHOT = {"]
    for area, names in api.items():
        body = textwrap.fill(" ".join(names), width=96, break_long_words=False, break_on_hyphens=False)
        chunks = body.split("\n")
        lines.append(f"    {area!r}: tuple((")
        lines += [f"        {c + ' '!r}" for c in chunks[:-1]] + [f"        {chunks[-1]!r}"]
        lines.append("    ).split()),")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--snapshot"]:
        import os

        _write_snapshot(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_torch_api.py"))
    else:
        sys.stdout.write(coverage_markdown())
