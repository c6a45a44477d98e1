"""What every model builder shares: the ``weights=`` check, the model registry behind
``get_model``/``list_models``, and torchvision's ``_make_divisible``/``_ovewrite_named_param``.

Pretrained weights cannot be fetched: the machines ferrum is built on have no route to download
servers, so there is no ``ResNet18_Weights`` enum with URLs to resolve. ``weights=None`` (the
default, as in torchvision) builds a randomly initialised model; any other value (an enum member
name such as ``"IMAGENET1K_V1"``, ``"DEFAULT"``, a torchvision enum object, ``pretrained=True``)
raises ValueError with the way to load a state dict instead. The parameter names and shapes are
torchvision's, so a torchvision checkpoint loads once its tensors are ferrum tensors.
"""

from __future__ import annotations

import textwrap
import warnings
from typing import Any, Callable

__all__ = ["get_model", "list_models"]

_LOAD_HINT = (
    "build the model with weights=None and load a state dict instead, e.g. from a torchvision "
    "checkpoint: sd = torch.load(path, map_location='cpu'); "
    "model.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in sd.items()}) "
    "(parameter names and shapes are torchvision's), or from a NumPy .npz archive of the same names: "
    "model.load_state_dict({k: ferrum.tensor(v) for k, v in numpy.load(path).items()})")


def _handle_weights(builder: str, weights: Any, kwargs: dict) -> None:
    """Raises ValueError unless no pretrained weights are asked for; pops torchvision's legacy
    ``pretrained=`` keyword from ``kwargs`` (False warns as torchvision does, True raises)."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        if pretrained:
            weights = "DEFAULT" if weights is None else weights
        else:
            warnings.warn("The parameter 'pretrained' is deprecated since torchvision 0.13, please use "
                          "'weights' instead.", UserWarning, stacklevel=3)
    if weights is not None:
        raise ValueError(f"{builder}(weights={weights!r}): pretrained weights cannot be downloaded here "
                         f"(no network access to the weight servers); {_LOAD_HINT}")


_WEIGHTS_DOC = """

    ``weights``: only None (the default). Pretrained weights cannot be downloaded here (no network
    access); any other value, or ``pretrained=True``, raises ValueError. To use trained weights, load
    a state dict: parameter names and shapes are torchvision's, so a torchvision checkpoint loads
    after converting each tensor::

        model.load_state_dict({k: ferrum.tensor(v.numpy()) for k, v in torch.load(path).items()})

    ``progress`` is accepted for torchvision's signature and unused.
"""


def _weights_doc(cls: str, kwargs: str) -> Callable:
    """Decorator appending the ``weights``/``progress``/``**kwargs`` paragraphs, the same for every
    builder, to a builder's one-line docstring."""
    def deco(fn: Callable) -> Callable:
        tail = textwrap.fill(f"``**kwargs`` go to ``{cls}``: {kwargs}.", width=100, initial_indent="    ",
                             subsequent_indent="    ", break_on_hyphens=False, break_long_words=False)
        fn.__doc__ = fn.__doc__.rstrip() + _WEIGHTS_DOC + tail + "\n    "
        return fn
    return deco


def _ovewrite_named_param(kwargs: dict, param: str, new_value: Any) -> None:
    """torchvision's helper (its spelling): sets ``kwargs[param]``, refusing a different value."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} "
                             "instead.")
    else:
        kwargs[param] = new_value


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """The nearest multiple of ``divisor`` to ``v`` (at least ``min_value``), never more than 10%
    below ``v``: how MobileNet rounds channel counts scaled by ``width_mult``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


BUILTIN_MODELS: dict[str, Callable[..., Any]] = {}


def register_model(name: str | None = None) -> Callable:
    """Decorator adding a model builder to the registry behind ``get_model``/``list_models``."""
    def wrapper(fn: Callable) -> Callable:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module: Any = None, include: Any = None, exclude: Any = None) -> list[str]:
    """The sorted names of the registered model builders (all of them, or those defined in
    ``module``); ``include``/``exclude`` are fnmatch patterns (a string or a list of them)."""
    import fnmatch

    names = sorted(k for k, v in BUILTIN_MODELS.items()
                   if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__
                   or v.__module__ == module.__name__)
    if include:
        pats = [include] if isinstance(include, str) else include
        names = sorted({n for p in pats for n in fnmatch.filter(names, p)})
    if exclude:
        pats = [exclude] if isinstance(exclude, str) else exclude
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)]
    return names


def get_model(name: str, **config: Any):
    """The model built by the registered builder ``name`` with ``config`` as its keywords:
    ``get_model("resnet18", num_classes=10)``."""
    name = name.lower()
    try:
        fn = BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None
    return fn(**config)
