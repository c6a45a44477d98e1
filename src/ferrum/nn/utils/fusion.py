"""Folding an eval-mode BatchNorm into the convolution or linear layer before it
(``torch.nn.utils.fusion``): ``bn(conv(x)) == fused(x)`` with

    w' = w * (gamma / sqrt(running_var + eps))  (per output channel),
    b' = (b - running_mean) * gamma / sqrt(running_var + eps) + beta.

The fused module is a deep copy; the originals are untouched. The new weight and bias are leaf
Parameters that require grad as the old ones did (a missing conv/linear bias counts as not).
"""

from __future__ import annotations

import copy

from ... import _factory
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A new convolution equal to ``bn(conv(x))``; both modules must be in eval mode and ``bn`` must
    have running statistics. ``transpose`` for transposed convolutions (weight (in, out / groups,
    *k))."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The fused (weight, bias) Parameters of a convolution followed by an eval-mode batch norm:
    conv_w (out, in / groups, *k) (or (in, out / groups, *k) with ``transpose``), the rest (out,)."""
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    b_grad = conv_b.requires_grad if conv_b is not None else False
    with no_grad():
        if conv_b is None:
            conv_b = _factory.zeros_like(bn_rm)
        if bn_w is None:
            bn_w = _factory.ones_like(bn_rm)
        if bn_b is None:
            bn_b = _factory.zeros_like(bn_rm)
        rsqrt = (bn_rv + bn_eps).rsqrt()
        nd = conv_w.ndim
        shape = [1, -1] + [1] * (nd - 2) if transpose else [-1, 1] + [1] * (nd - 2)
        w = (conv_w * (bn_w * rsqrt).reshape(shape)).to(dtype=w_dtype)
        b = ((conv_b - bn_rm) * rsqrt * bn_w + bn_b).to(dtype=b_dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, b_grad)


def fuse_linear_bn_eval(linear, bn):
    """A new Linear equal to ``bn(linear(x))`` (eval mode); ``bn.num_features`` must equal
    ``linear.out_features`` or be 1."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(linear)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
                             f"got linear.out_features={linear.out_features} and "
                             f"bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                      bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor, bn_b: Tensor) -> tuple[Parameter, Parameter]:
    """The fused (weight, bias) Parameters of a Linear (weight (out, in)) followed by an eval-mode
    batch norm of ``out`` (or 1) features."""
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    b_grad = linear_b.requires_grad if linear_b is not None else False
    with no_grad():
        if linear_b is None:
            linear_b = _factory.zeros_like(bn_rm)
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
        b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return Parameter(w, linear_w.requires_grad), Parameter(b, b_grad)
