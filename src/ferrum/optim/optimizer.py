"""``Optimizer``: the base class of every optimizer, following ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (a list of dicts: ``'params'`` plus that group's
hyperparameters) and ``state`` (a ``defaultdict(dict)`` keyed by parameter). Subclasses implement
``step``; the base class wraps every subclass's ``step`` once, at class creation, so that step
pre/post hooks (per optimizer and global) run around it, as PyTorch's do.

Updates work on the raw arrays (``p._data``) with in-place ufuncs: no autograd graph is built and
no temporaries are allocated per step (see ``_Scratch``).
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import numpy as np

from .. import _state
from .._dtype import get_default_dtype, to_np
from .._tensor import Tensor, _wrap
from ..ops._common import xp_of
from ..utils.hooks import RemovableHandle
from . import _lowp

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
           "required"]

# module-level ufunc aliases shared by the optimizers' in-place kernels
_mul = np.multiply
_sub = np.subtract
_div = np.divide
_sqrt = np.sqrt
_max = np.maximum


class _RequiredParameter:
    """Marks a hyperparameter that every param group must give (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)``, called before
    the ``step`` of every optimizer."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Registers ``hook(optimizer, args, kwargs) -> None``, called after the ``step`` of every
    optimizer."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _hooked(step: Callable) -> Callable:
    """Wraps a subclass's ``step`` so that the step hooks run around it. As in PyTorch, hooks see
    ``args`` with the optimizer first."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _global_optimizer_pre_hooks or self._optimizer_step_pre_hooks:
            args = (self, *args)
            for hook in (*_global_optimizer_pre_hooks.values(),
                         *self._optimizer_step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {result}.")
            args = args[1:]
        out = step(self, *args, **kwargs)
        if self._optimizer_step_post_hooks or _global_optimizer_post_hooks:
            hargs = (self, *args)
            for hook in (*self._optimizer_step_post_hooks.values(),
                         *_global_optimizer_post_hooks.values()):
                hook(self, hargs, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class _Scratch:
    """Reusable temporaries, one flat buffer per (array type, dtype, slot), grown to the largest
    parameter seen. Optimizer updates need a temporary or two per parameter; allocating them per
    step costs page faults for large arrays (glibc returns big blocks to the OS)."""

    __slots__ = ("bufs", "views")

    def __init__(self):
        self.bufs = {}
        self.views = {}  # (shape, dtype, slot, class) -> a view of the slot's buffer

    def __call__(self, a, slot: int):
        v = self.views.get((a.shape, a.dtype, slot, a.__class__))
        if v is None:
            v = self._view(a, slot)
        return v

    def _view(self, a, slot: int):
        key = (a.__class__, a.dtype, slot)
        buf = self.bufs.get(key)
        n = a.size
        if buf is None or buf.size < n:
            buf = xp_of(a).empty(n, dtype=a.dtype)
            self.bufs[key] = buf
            # views of the old buffer would keep it alive: drop them
            self.views = {k: v for k, v in self.views.items() if k[1:] != (a.dtype, slot, a.__class__)}
        v = buf[:n].reshape(a.shape)
        self.views[(a.shape, a.dtype, slot, a.__class__)] = v
        return v


def _scalar(x):
    """A Python number from a number or a one-element Tensor (Tensor lr / betas)."""
    return x.item() if isinstance(x, Tensor) else x


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas) -> None:
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


_HPARAM_LABELS = {"eps": "epsilon"}


def _check_hparams(**hparams) -> None:
    """Validates hyperparameters in the order given (PyTorch checks in a per-optimizer order,
    which decides the error raised first), with PyTorch's ValueError messages: ``lr`` a number or
    1-element Tensor >= 0, each of ``betas`` in [0, 1), ``rho`` in [0, 1], any other >= 0."""
    for name, v in hparams.items():
        if name == "lr":
            _check_lr(v)
        elif name == "betas":
            _check_betas(v)
        elif not 0.0 <= v or (name == "rho" and v > 1.0):
            raise ValueError(f"Invalid {_HPARAM_LABELS.get(name, name)} value: {v}")


def _check_fused(fused, differentiable, foreach) -> None:
    """The flag combinations PyTorch rejects for ``fused=True`` (checked after the param groups)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _scalar_np_dtype():
    """dtype of the ``'step'`` state entries: float32, or float64 when that is the default dtype
    (as PyTorch's ``_get_scalar_dtype``)."""
    return np.float64 if to_np(get_default_dtype()) == np.float64 else np.float32


def _new_step(value: float = 0.0) -> Tensor:
    """A 0-d CPU tensor for ``state['step']`` (PyTorch keeps it a CPU tensor too, so reading it
    never synchronises a GPU)."""
    return _wrap(np.array(value, dtype=_scalar_np_dtype()))


def _as_real(a):
    """A real view of a complex array (last axis doubled), as ``torch.view_as_real`` flattened
    into the last dimension; real arrays pass through."""
    if a.dtype.kind == "c":
        return a.view(a.real.dtype)
    return a


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param groups,
            each with a ``'params'`` entry and optional per-group hyperparameters).
        defaults: the default hyperparameters, filled into every group that does not set them.
    """

    # (key, value) pairs that ``__setstate__`` fills into groups saved before the key existed
    _group_defaults: tuple[tuple[str, Any], ...] = ()
    # per-parameter state entries that old checkpoints stored as numbers, not 0-d tensors
    _step_keys: tuple[str, ...] = ()
    # set by fused optimizers: GradScaler hands them grad_scale/found_inf (``_amp_skip``)
    _step_supports_amp_scaling = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked(step)

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._scratch = _Scratch()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ pickling, printing
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        if "_scratch" not in self.__dict__:
            self._scratch = _Scratch()
        self.defaults.setdefault("differentiable", False)
        if self._group_defaults:
            for group in self.param_groups:
                for key, value in self._group_defaults:
                    group.setdefault(key, value)
        if self._step_keys:
            _steps_to_tensors(self, self._step_keys)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ------------------------------------------------------------------ param groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Adds a param group (a dict with ``'params'`` and optional hyperparameters) to
        ``param_groups``; missing hyperparameters come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but "
                            "the ordering of tensors in sets will change between runs. Please use a "
                            "list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization "
                                 f"parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/issues/"
                          "40967 for more information", stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients, step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all optimized tensors: to None (default), or to zeros in place
        when ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad = False
                    g._data[...] = 0
                    g._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None):
        """Performs one optimization step. ``closure`` re-evaluates the model and returns the
        loss (optional for most optimizers)."""
        raise NotImplementedError

    def _with_grads(self, group: dict[str, Any]):
        """``(p, a, gt, st)`` for each parameter of ``group`` that has a gradient: the parameter,
        its array, its gradient tensor and its state dict (for optimizers whose state is not a set
        of zero-filled buffers, which use :meth:`_grads`)."""
        state_of = self.state
        for p in group["params"]:
            gt = p._grad
            if gt is not None:
                yield p, p._data, gt, state_of[p]

    def _init_state(self, st: dict, a, names: tuple[str, ...]) -> None:
        """Creates a parameter's state on its first step: ``'step'`` and zero-filled ``names``."""
        st["step"] = _new_step()
        for name in names:
            st[name] = _zeros_like(a)

    def _grads(self, group: dict[str, Any], names: tuple[str, ...]):
        """The per-parameter loop of a step: yields ``(a, g, step, bufs, r)`` for each parameter
        of ``group`` that has a gradient. ``a`` is the parameter's array, ``g`` the working
        gradient (``_work_grad``; with ``decoupled_weight_decay`` the decay scales ``a`` instead),
        ``step`` ``state['step']`` after its increment, ``bufs`` the arrays of the state entries
        ``names``; complex arrays come as real views. State is created on first use
        (``_init_state``), and the parameter's version is bumped once the caller's update is done.

        ``r`` is None for float32/float64 parameters. For float16/bfloat16 ones, ``a``, ``g`` and
        ``bufs`` (but ``_step_keys`` entries) are float32 working copies, ``r`` rounds a float32
        array in place to the parameter's precision, and the caller runs its ``_lowp`` kernel
        (torch's op sequence, rounded after every op); the copies are stored back after the
        caller's update."""
        scratch = self._scratch
        state_of = self.state
        wd = group["weight_decay"]
        maximize = group["maximize"]
        decay = None
        if wd != 0 and group.get("decoupled_weight_decay", False):
            decay = 1 - _scalar(group["lr"]) * wd
            wd = 0
        plain = not maximize and wd == 0  # the gradient is used as it is
        fused = bool(group.get("fused"))
        for p in group["params"]:
            gt = p._grad
            if gt is None:
                continue
            a = p._data
            st = state_of[p]
            if len(st) == 0:
                self._init_state(st, a, names)
            step_arr = st["step"]._data
            step_arr += 1
            if _lowp.is_low(a):
                yield from _low_grads(a, gt._data, [st[name]._data for name in names],
                                      [name in self._step_keys for name in names],
                                      float(step_arr), decay, maximize, wd, fused)
                p._version[0] += 1
                continue
            if decay is not None:
                a *= decay
            g = gt._data if plain else _work_grad(a, gt._data, maximize, wd, scratch)
            bufs = [st[name]._data for name in names]
            if a.dtype.kind == "c":
                a = _as_real(a)
                g = _as_real(g)
                bufs = [_as_real(b) for b in bufs]
            yield a, g, float(step_arr), bufs, None
            p._version[0] += 1

    def _amp_skip(self, names: tuple[str, ...] | None = None) -> bool:
        """GradScaler's protocol for fused optimizers (``_step_supports_amp_scaling``): the
        scaler sets ``found_inf`` and ``grad_scale`` (None once ``unscale_`` ran) for the step.
        Returns True when the step must be skipped (an inf/nan was found; parameters with a
        gradient get their initial state, ``names`` zero-filled, as torch's fused step creates it
        before skipping); otherwise divides the gradients by ``grad_scale`` in place (in float32
        for half gradients, rounded once, as torch's fused kernels) and returns False."""
        found = getattr(self, "found_inf", None)
        scale = getattr(self, "grad_scale", None)
        if found is not None and float(found.item() if isinstance(found, Tensor) else found) != 0:
            if names is not None:
                for group in self.param_groups:
                    for p in group["params"]:
                        st = self.state[p]
                        if p._grad is not None and len(st) == 0:
                            self._init_state(st, p._data, names)
            return True
        if scale is not None:
            s = float(scale.item())
            for group in self.param_groups:
                for p in group["params"]:
                    gt = p._grad
                    if gt is None:
                        continue
                    g = gt._data
                    if _lowp.is_low(g):
                        r = _lowp.rounder(g.dtype)
                        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                            g32 = _lowp.load(g)
                            g32 /= np.float32(s)
                            _lowp.store(g, r(g32))
                    else:
                        g /= g.dtype.type(s) if g.dtype.kind == "f" else s
                    gt._version[0] += 1
        return False

    @staticmethod
    def _eval_closure(closure):
        """Calls ``closure`` with grad mode on (as PyTorch's ``enable_grad``); returns its loss."""
        if closure is None:
            return None
        prev = _state.grad_enabled
        _state.grad_enabled = True
        try:
            return closure()
        finally:
            _state.grad_enabled = prev

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` to run
        before this optimizer's ``step``."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Registers ``hook(optimizer, args, kwargs) -> None`` to run after this optimizer's
        ``step``."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    @staticmethod
    def _add(hooks: OrderedDict, hook, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer)``, called before ``state_dict`` builds its result."""
        return self._add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict) -> None | state_dict``, called after
        ``state_dict``."""
        return self._add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer, state_dict) -> None | state_dict``, called before
        ``load_state_dict``."""
        return self._add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """Registers ``hook(optimizer)``, called after ``load_state_dict``."""
        return self._add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params':
        [indices]}]}``; parameters are numbered in group order, as in PyTorch. State tensors are
        the live ones (not copies)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, sd)
            if result is not None:
                sd = result
        return sd

    @staticmethod
    def _cast_state(param: Tensor, value, key=None, fused_or_capturable: bool = False):
        """A state value moved to ``param``'s device, and to its dtype for floating-point params
        (except ``'step'``), recursively through dicts and sequences (PyTorch's rule)."""
        if isinstance(value, Tensor):
            if key == "step":
                if fused_or_capturable:
                    return value.to(dtype=_float32(), device=param.device)
                return value
            if param.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(param, v, k, fused_or_capturable)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast_state(param, v, None, fused_or_capturable)
                               for v in value)
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Loads a state from ``state_dict()``: parameters are matched by position in the groups.
        Raises ValueError when the number of groups or the sizes of the groups differ."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                             "size of optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        flags = {}
        for g in state_dict["param_groups"]:
            fc = bool(g.get("fused", False) or g.get("capturable", False))
            for i in g["params"]:
                flags.setdefault(i, fc)
        state: defaultdict = defaultdict(dict)
        prev = _state.grad_enabled
        _state.grad_enabled = False
        try:
            for k, v in state_dict["state"].items():
                if k in id_map:
                    param = id_map[k]
                    state[param] = self._cast_state(param, v, None, flags.get(k, False))
                else:
                    state[k] = v
        finally:
            _state.grad_enabled = prev
        new_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _float32():
    from .._dtype import float32
    return float32


def _low_grads(a, g, bufs, scalar: list, step: float, decay, maximize: bool, wd, fused: bool):
    """``Optimizer._grads``'s half-precision branch: yields float32 working copies (torch's
    ``param.mul_(decay)``, ``-grad`` and ``grad.add(param, alpha=wd)`` applied, each rounded, or
    unrounded for ``fused``, whose kernel rounds only what it stores) and stores the parameter and
    state back once the caller's update is done."""
    r = _lowp.rounder(a.dtype)
    rp = _lowp.noop if fused else r
    # torch never warns here; the float16 rounding cast warns on overflow to inf
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a32 = _lowp.load(a)
        if decay is not None:
            _lowp.mul_(a32, decay, rp)
        g32 = _lowp.load(g)
        if maximize:
            np.negative(g32, out=g32)
        if wd != 0:
            _lowp.add_(g32, a32, wd, rp)
        # scalar entries (NAdam's mu_product: float32, or the parameter's dtype once loaded from
        # a state dict, as in torch) are used in place
        bufs32 = [b if s else _lowp.load(b) for b, s in zip(bufs, scalar)]
        yield a32, g32, step, bufs32, r
    _lowp.store(a, a32)
    for b, b32 in zip(bufs, bufs32):
        if b32 is not b:
            _lowp.store(b, b32)


def _work_grad(a, g, maximize: bool, wd, scratch: _Scratch):
    """The gradient an update uses: ``-g`` when maximizing, plus ``wd * a`` (L2 weight decay),
    built in scratch slot 0 so that ``p.grad`` is never modified."""
    if maximize:
        g = np.negative(g, out=scratch(a, 0))
        if wd != 0:
            g += np.multiply(a, wd, out=scratch(a, 1))
    elif wd != 0:
        t = scratch(a, 0)
        np.multiply(a, wd, out=t)
        t += g
        g = t
    return g


def _lerp_(m, x, w, t) -> None:
    """``m += w * (x - m)`` in place (``t``: a scratch array)."""
    _sub(x, m, out=t)
    t *= w
    m += t


def _ema_sq_(v, x, beta, w, t) -> None:
    """``v = beta * v + w * x * x`` in place (``t``: a scratch array)."""
    v *= beta
    _mul(x, w, out=t)
    t *= x
    v += t


def _adam_moments_(m, v, g, w1, beta2, w2, t) -> None:
    """Adam's moment updates in place: ``m = lerp(m, g, w1)``, ``v = beta2 * v + w2 * g * g``
    (``_lerp_`` then ``_ema_sq_``, written out to save two calls per parameter)."""
    _sub(g, m, out=t)
    t *= w1
    m += t
    v *= beta2
    _mul(g, w2, out=t)
    t *= g
    v += t


def _addcdiv_(a, x, c, denom, t) -> None:
    """``a += c * x / denom`` in place, rounded as ``((x * c) / denom)`` (``t``: a scratch array,
    which may be ``x`` itself)."""
    _mul(x, c, out=t)
    t /= denom
    a += t


def _zeros_like(a):
    return _wrap(xp_of(a).zeros_like(a))


def _steps_to_tensors(opt: Optimizer, keys: tuple = ("step",)) -> None:
    """Old checkpoints stored ``'step'`` as a number: make it a 0-d tensor again."""
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p)
            if not st:
                continue
            for k in keys:
                if k in st and not isinstance(st[k], Tensor):
                    st[k] = _new_step(float(st[k]))

