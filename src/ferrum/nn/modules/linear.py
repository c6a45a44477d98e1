"""Identity, Linear, Bilinear."""

from __future__ import annotations

import math

from ... import _factory
from ..._tensor import Tensor
from ...ops.linear import bilinear, linear
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear"]


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x W^T + b``. Input (*, in_features) -> output (*, out_features).

    weight (out_features, in_features) and bias (out_features) start from
    U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_factory.empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_factory.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        d = self.__dict__["_parameters"]
        w = d.get("weight")
        if w is None:  # reparameterised (weight_norm, spectral_norm): a plain attribute set by a hook
            w = self.weight
        try:
            return linear(input, w, d["bias"] if "bias" in d else self.bias)
        except RuntimeError as e:
            if isinstance(input, Tensor) and (input.ndim == 0 or input.shape[-1] != w.shape[-1]):
                raise RuntimeError(f"{self!r}: expected input with {w.shape[-1]} features in its last "
                                   f"dimension, got input of shape {list(input.shape)} "
                                   f"(weight shape {list(w.shape)}); {e}") from None
            raise

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose in_features is taken from the first input."""

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self._factory_kwargs = {"device": device, "dtype": dtype}
        self.weight = Parameter(_factory.empty((0,), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_factory.empty((0,), device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        if self.in_features == 0:
            self.in_features = input.shape[-1]
            kw = self._factory_kwargs
            self.weight._data = _factory.empty((self.out_features, self.in_features), **kw)._data
            if self.bias is not None:
                self.bias._data = _factory.empty(self.out_features, **kw)._data
            self.reset_parameters()
            self.__class__ = Linear
        return Linear.forward(self, input)


class Bilinear(Module):
    """``y = x1^T A x2 + b``: input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features).
    weight (out_features, in1_features, in2_features), initialised U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_factory.empty((out_features, in1_features, in2_features), device=device,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(_factory.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
