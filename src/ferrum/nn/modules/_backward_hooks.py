"""Module full backward hooks: identity Functions around a module's inputs and outputs catch
the gradients flowing through them and hand them to the hooks."""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Function


class _InputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_inputs(grads)


class _OutputsIdentity(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_outputs(grads)


class BackwardHookState:
    """One forward call of a module with full backward (pre-)hooks."""

    def __init__(self, module, hooks: list, pre_hooks: list):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.inputs_need_grad = False
        self.grad_outputs = None

    def wrap_inputs(self, args: tuple) -> tuple:
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(pos)
        if not any(args[i].requires_grad for i in pos):
            return args
        self.inputs_need_grad = True
        new = _InputsIdentity.apply(self, *(args[i] for i in pos))
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
        new = _OutputsIdentity.apply(self, *(outs[i] for i in pos))
        outs = list(outs)
        for i, t in zip(pos, new):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def on_grad_outputs(self, grads: tuple) -> tuple:
        for hook in self.pre_hooks:
            res = hook(self.module, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_outputs = grads
        if not self.inputs_need_grad:  # no input gradient will come: the hooks see None
            for hook in self.hooks:
                hook(self.module, (None,) * max(self.n_inputs, 1), grads)
        return grads

    def on_grad_inputs(self, grads: tuple) -> tuple:
        for hook in self.hooks:
            res = hook(self.module, grads, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grads):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(res)}, but expected {len(grads)}")
                grads = res
        return grads
