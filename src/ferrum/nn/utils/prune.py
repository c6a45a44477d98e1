"""``torch.nn.utils.prune``: masking a module's tensor to zero chosen entries (pruning tutorials and
compression programs use it).

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores the 0/1 mask as the buffer
``<name>_mask`` and sets the plain attribute ``module.<name> = <name>_orig * <name>_mask``; the pruning
method itself is registered as a forward pre-hook that recomputes that product before each call, so
gradients reach ``<name>_orig`` (zero where masked). Names and state-dict keys are torch's, so pruned
checkpoints move between the two.

A second pruning of the same tensor wraps the methods in a ``PruningContainer``: the new method sees
only the part the current mask keeps (the unpruned entries for "unstructured" methods, the unpruned
channels along ``dim`` for "structured" ones, the whole tensor for "global" ones) and its mask is
written back into that part. Random methods draw through ``ferrum.rand_like`` / ``ferrum.rand`` from
the default generator in torch's order (rand, then topk / kthvalue), so with the same seed the masks
are torch's.

Differences from PyTorch: a pruning call that fails (a bad ``amount``, an ``amount`` larger than what is
left, a bad ``dim``) leaves the module exactly as it was; torch by then has already dropped the
module's existing pruning hook (and appended the new method to its container). ``global_unstructured``
accepts a one-shot iterable (a generator) of ``(module, name)`` pairs, which torch walks three times and
so fails on; a list, the documented argument, gives torch's result.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from ..._tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
           "custom_from_mask", "remove", "is_pruned"]


def _ferrum():
    # ferrum's top level imports nn, so the ops are reached late.
    import ferrum
    return ferrum


def _refresh_hooks(module) -> None:
    # ferrum's Module caches "has hooks" to skip the hook path; deleting from the dict must refresh it.
    upd = getattr(module, "_update_hook_flag", None)
    if upd is not None:
        upd()


class BasePruningMethod(ABC):
    """Base of the pruning methods: ``compute_mask`` decides the mask; ``apply`` prunes a module's
    tensor (and registers the method as the forward pre-hook that keeps ``module.<name>`` masked)."""

    _tensor_name: str
    PRUNING_TYPE: str

    def __call__(self, module, inputs) -> None:
        """The forward pre-hook: recomputes ``module.<name> = <name>_orig * <name>_mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask (shape of ``t``) for ``t``, given the mask already in place ``default_mask``."""

    def apply_mask(self, module) -> Tensor:
        """``<name>_orig`` times ``<name>_mask`` (the mask cast to the parameter's dtype)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores: Tensor | None = None, **kwargs):
        """Prunes ``module.<name>`` with ``cls(*args, **kwargs)``, iteratively if it is already pruned
        (the methods then form a ``PruningContainer``); returns the method registered as the hook."""
        found = [(k, h) for k, h in module._forward_pre_hooks.items()
                 if isinstance(h, BasePruningMethod) and h._tensor_name == name]
        if len(found) > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of "
                                 f"module {module}. Use a PruningContainer.")
        new = cls(*args, **kwargs)
        new._tensor_name = name
        old = found[0][1] if found else None

        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                     f"{module}, got {importance_scores.shape} vs {orig.shape}")
        else:
            importance_scores = orig

        fm = _ferrum()
        if old is None:
            mask = new.compute_mask(importance_scores, default_mask=fm.ones_like(orig))
        else:
            default_mask = getattr(module, name + "_mask").detach().clone(memory_format=fm.contiguous_format)
            mask = _combine_masks(new, importance_scores, default_mask)

        # The mask is known: only now is the module changed, so a failure above leaves it untouched.
        if old is None:
            method = new
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
        elif isinstance(old, PruningContainer):
            old.add_pruning_method(new)
            method = old
        else:
            method = PruningContainer(old)
            method.add_pruning_method(new)
        if old is not None:
            del module._forward_pre_hooks[found[0][0]]
            _refresh_hooks(module)
        try:
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old is None:
                orig = module._parameters.pop(name + "_orig")
                module.__dict__.pop(name, None)
                module._buffers.pop(name + "_mask", None)
                module.register_parameter(name, orig)
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times the mask computed from ``importance_scores`` (default ``t``); no module involved."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError("importance_scores should have the same shape as tensor t, "
                                     f"got {importance_scores.shape} vs {t.shape}")
        else:
            importance_scores = t
        if default_mask is None:
            default_mask = _ferrum().ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module) -> None:
        """Makes the pruning permanent: ``<name>`` becomes a parameter again holding the masked values;
        ``<name>_orig`` and ``<name>_mask`` are removed (the hook is removed by ``prune.remove``)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _combine_masks(method: BasePruningMethod, t: Tensor, mask: Tensor) -> Tensor:
    """Runs ``method`` on the part of ``t`` the existing ``mask`` keeps and writes its mask back there."""
    new_mask = mask.to(dtype=t.dtype)
    kind = method.PRUNING_TYPE
    if kind == "unstructured":
        slc: Any = mask == 1
    elif kind == "structured":
        if not hasattr(method, "dim"):
            raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have the attribute '
                                 "`dim` defined.")
        nd = t.dim()
        dim = method.dim
        if dim < 0:
            dim += nd
        if dim < 0:
            raise IndexError(f"Index is out of bounds for tensor with dimensions {nd}")
        keep = mask.sum(dim=[d for d in range(nd) if d != dim]) != 0
        slc = tuple(keep if d == dim else slice(None) for d in range(nd))
    elif kind == "global":
        slc = (slice(None),) * len(t.shape)
    else:
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
    part = method.compute_mask(t[slc], default_mask=mask[slc])
    new_mask[slc] = part.to(dtype=new_mask.dtype)
    return new_mask


class PruningContainer(BasePruningMethod):
    """The sequence of methods applied, in turn, to one tensor (iterative pruning); its mask is the last
    method's, computed on what the earlier ones left."""

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for m in args:
                self.add_pruning_method(m)

    def add_pruning_method(self, method) -> None:
        """Appends ``method`` (which must act on this container's tensor)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. "
                             f"Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask on the part of ``t`` that ``default_mask`` keeps."""
        return _combine_masks(self._pruning_methods[-1], t, default_mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (reparametrizes ``<name>`` as torch does)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module, name: str):  # type: ignore[override]
        return super().apply(module, name)


def _check_amount(amount) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if isinstance(amount, numbers.Integral):
        bad = amount < 0
    else:
        bad = float(amount) > 1.0 or float(amount) < 0.0
    if bad:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _n_to_prune(amount, size: int) -> int:
    """An int ``amount`` is a count (at most ``size``); a float is a fraction, rounded half to even."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                             f"prune={size}")
        return amount
    return round(amount * size)


def _check_structured(t: Tensor, dim: int) -> None:
    if len(t.shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. Found "
                         f"tensor of shape {t.shape} with {len(t.shape)} dims")
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _zero_k(amount, t: Tensor, default_mask: Tensor, pick) -> Tensor:
    """The unstructured methods' mask: ``default_mask`` with the ``amount`` entries that
    ``pick(ferrum, k)`` (a topk result over t's flattened entries) chooses set to 0."""
    fm = _ferrum()
    k = _n_to_prune(amount, t.numel())
    mask = default_mask.clone(memory_format=fm.contiguous_format)
    if k != 0:
        mask.view(-1)[pick(fm, k).indices] = 0
    return mask


class RandomUnstructured(BasePruningMethod):
    """Zeroes ``amount`` entries (int: a count, float: a fraction) chosen uniformly at random."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        # torch's draw: one uniform per entry (t's dtype), the k largest are pruned
        return _zero_k(self.amount, t, default_mask, lambda fm, k: fm.topk(fm.rand_like(t).view(-1), k=k))

    @classmethod
    def apply(cls, module, name: str, amount):  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zeroes the ``amount`` entries of smallest absolute value."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _zero_k(self.amount, t, default_mask,
                       lambda fm, k: fm.topk(fm.abs(t).view(-1), k=k, largest=False))

    @classmethod
    def apply(cls, module, name: str, amount, importance_scores=None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t: Tensor, dim: int, keep) -> Tensor:
    """Zeros shaped like ``t`` with ones in the channels ``keep`` (indices or booleans) along ``dim``."""
    mask = _ferrum().zeros_like(t)
    slc = [slice(None)] * t.dim()
    slc[dim] = keep
    mask[tuple(slc)] = 1
    return mask


class RandomStructured(BasePruningMethod):
    """Zeroes ``amount`` whole channels along ``dim``, chosen uniformly at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        fm = _ferrum()
        _check_structured(t, self.dim)
        nch = t.shape[self.dim]
        k = _n_to_prune(self.amount, nch)
        if k == 0:
            return default_mask
        # torch's draw: one float32 uniform per channel; those above the k-th smallest are kept.
        prob = fm.rand(nch)
        thr = fm.kthvalue(prob, k=k).values
        mask = _channel_mask(t, self.dim, prob > thr)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name: str, amount, dim: int = -1):  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Zeroes the ``amount`` channels along ``dim`` of smallest ``n``-norm (``n`` as ``torch.norm``'s
    ``p``: a number, ``inf``, ``-inf``, ``'fro'`` or ``'nuc'``)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        fm = _ferrum()
        _check_structured(t, self.dim)
        nch = t.shape[self.dim]
        k = _n_to_prune(self.amount, nch)
        dims = list(range(t.dim()))
        dims.remove(dims[self.dim])
        norm = fm.norm(t, p=self.n, dim=dims)
        keep = fm.topk(norm, k=nch - k, largest=True).indices
        if k == 0:
            return default_mask
        mask = _channel_mask(t, self.dim, keep)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name: str, amount, n, dim: int, importance_scores=None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes with a given mask (multiplied into the mask already in place)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name: str, mask: Tensor):  # type: ignore[override]
        return super().apply(module, name, mask=mask)


def identity(module, name: str):
    """Reparametrizes ``module.<name>`` with an all-ones mask; returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prunes ``amount`` random entries of ``module.<name>``; returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores: Tensor | None = None):
    """Prunes the ``amount`` entries of ``module.<name>`` with the smallest ``|importance_scores|``
    (default: the tensor itself); returns ``module``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prunes ``amount`` random channels of ``module.<name>`` along ``dim``; returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores: Tensor | None = None):
    """Prunes the ``amount`` channels of ``module.<name>`` along ``dim`` with the smallest ``n``-norm of
    ``importance_scores`` (default: the tensor itself); returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores: dict | None = None,
                        **kwargs) -> None:
    """Prunes the ``(module, name)`` pairs of ``parameters`` together: ``pruning_method(**kwargs)`` (an
    "unstructured" method) runs on all their entries as one vector, then each gets its slice of the
    mask through ``custom_from_mask``. ``importance_scores`` maps ``(module, name)`` to a tensor."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    if importance_scores is None:
        importance_scores = {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    fm = _ferrum()
    from .convert_parameters import parameters_to_vector
    parameters = list(parameters)  # walked three times (torch re-walks the caller's iterable)
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n)) for m, n in parameters])
    default_mask = parameters_to_vector([getattr(m, n + "_mask") if hasattr(m, n + "_mask")
                                         else fm.ones_like(getattr(m, n)) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final = container.compute_mask(scores, default_mask)
    start = 0
    for m, n in parameters:
        p = getattr(m, n)
        custom_from_mask(m, n, mask=final[start:start + p.numel()].view_as(p))
        start += p.numel()


def custom_from_mask(module, name: str, mask: Tensor):
    """Prunes ``module.<name>`` with ``mask`` (same shape, 0 = pruned); returns ``module``."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name: str):
    """Makes the pruning of ``module.<name>`` permanent and removes its hook; returns ``module``."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            _refresh_hooks(module)
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or any submodule carries a pruning hook."""
    return any(isinstance(h, BasePruningMethod)
               for _, sub in module.named_modules() for h in sub._forward_pre_hooks.values())

