"""Module full backward hooks: identity Functions around a module's inputs and outputs catch
the gradients flowing through them and hand them to the hooks.

What the hooks see follows PyTorch: ``grad_input`` has one entry per positional argument of the
call (None for non-Tensor arguments, zeros for Tensor arguments that do not require grad while
another one does), ``grad_output`` one entry per output (None for outputs that do not require
grad or that received no gradient).
"""

from __future__ import annotations

import warnings

from ..._tensor import Tensor, _wrap
from ...autograd.function import Function


def _same(t: Tensor) -> Tensor:
    return t


def _fresh_views(ctx, tensors: tuple) -> tuple:
    """New tensors sharing each input's memory (viewing it, for in-place ops), so that
    the ones whose input needs no grad can be marked non-differentiable."""
    outs = []
    for t in tensors:
        v = _wrap(t._data, t._version)
        v._view = (t, _same)
        outs.append(v)
    ctx.mark_non_differentiable(*(v for v, t in zip(outs, tensors) if not t.requires_grad))
    return tuple(outs)


class _InputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return _fresh_views(ctx, tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_inputs(grads)


class _OutputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        ctx.set_materialize_grads(False)  # an output that got no gradient shows as None
        return _fresh_views(ctx, tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_outputs(grads)


def _as_tuple(res) -> tuple:
    return tuple(res) if isinstance(res, (tuple, list)) else (res,)


class BackwardHookState:
    """One forward call of a module with full backward (pre-)hooks."""

    def __init__(self, module, hooks: list, pre_hooks: list):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_args = 0
        self.input_pos: list = []
        self.inputs_need_grad = False
        self.n_outputs = 0
        self.output_pos: list = []
        self.grad_outputs = None

    def wrap_inputs(self, args: tuple) -> tuple:
        self.n_args = len(args)
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.input_pos = pos
        from ...autograd.grad_mode import is_grad_enabled
        if not self.hooks or not is_grad_enabled() or not any(args[i].requires_grad for i in pos):
            return args
        self.inputs_need_grad = True
        new = _InputsIdentity.apply(self, *(args[i] for i in pos))
        if not isinstance(new, tuple):
            new = (new,)
        args = list(args)
        for i, t in zip(pos, new):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, result):
        single = isinstance(result, Tensor)
        outs = (result,) if single else result
        if not isinstance(outs, tuple):
            return result
        pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not pos:
            return result
        self.n_outputs = len(outs)
        self.output_pos = pos
        new = _OutputsIdentity.apply(self, *(outs[i] for i in pos))
        if not isinstance(new, tuple):
            new = (new,)
        outs = list(outs)
        for i, t in zip(pos, new):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def on_grad_outputs(self, grads: tuple) -> tuple:
        full = [None] * self.n_outputs
        for i, g in zip(self.output_pos, grads):
            full[i] = g
        full = tuple(full)
        for hook in self.pre_hooks:
            res = hook(self.module, full)
            if res is not None:
                res = _as_tuple(res)
                if len(res) != len(full):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, "
                                       f"got {len(res)}, but expected {len(full)}")
                full = res
        self.grad_outputs = full
        if self.hooks and not self.inputs_need_grad:
            # no gradient will reach the inputs: the hooks fire now and see None for them
            warnings.warn("Full backward hook is firing when gradients are computed with respect to "
                          "module outputs since no inputs require gradients. See the documentation "
                          "of nn.Module.register_full_backward_hook for more details.", stacklevel=2)
            for hook in self.hooks:
                hook(self.module, (None,) * self.n_args, full)
        return tuple(full[i] for i in self.output_pos)

    def on_grad_inputs(self, grads: tuple) -> tuple:
        full = [None] * self.n_args
        for i, g in zip(self.input_pos, grads):
            full[i] = g
        full = tuple(full)
        grad_outputs = self.grad_outputs
        if grad_outputs is None:  # the module's outputs were not wrapped (none required grad)
            grad_outputs = (None,) * max(self.n_outputs, 1)
        for hook in self.hooks:
            res = hook(self.module, full, grad_outputs)
            if res is not None:
                res = _as_tuple(res)
                if len(res) != len(full):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(res)}, but expected {len(full)}")
                full = res
        return tuple(full[i] for i in self.input_pos)
