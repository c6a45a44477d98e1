"""Symbolics of ``nn.functional``: linear, activations, dropout, convolution, padding, pooling,
normalization, embedding and attention.

Where ONNX has the op at the chosen opset it is used (Gemm, Conv, ConvTranspose, MaxPool,
AveragePool, BatchNormalization, LayerNormalization, HardSwish, Gelu from opset 20...); otherwise
the op is composed of primitive nodes with PyTorch's formula (group norm through a (N, G, -1)
reshape, GELU through Erf or Tanh below opset 20, attention through MatMul/Softmax, which every
opset and onnxruntime run). Training-mode behaviour (dropout with p > 0, batch statistics) is not
an inference graph and raises ``UnsupportedOperatorError``.
"""

from __future__ import annotations

import math

import numpy as np

from ._graph import dtype_of as _dt
from ._graph import int_list as _tup
from ._graph import register
from .errors import UnsupportedOperatorError


# ------------------------------------------------------------------------------------------ linear
@register("linear")
def _linear(g, y, input, weight, bias=None):
    x, w = g.name_of(input), g.name_of(weight)
    if input.dim() == 2 and weight.dim() == 2:
        return g.op("Gemm", x, w, None if bias is None else g.name_of(bias), transB=1)
    r = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]) if weight.dim() == 2 else w)
    return r if bias is None else g.op("Add", r, g.name_of(bias))


# ------------------------------------------------------------------------------------- activations
def _simple(op_type: str, **attrs):
    def sym(g, y, input, *args, **kw):
        return g.op(op_type, g.name_of(input), **attrs)
    return sym


register("relu", "relu_")(_simple("Relu"))
register("softsign")(_simple("Softsign"))
register("hardswish")(_simple("HardSwish"))


@register("hardsigmoid")
def _hardsigmoid(g, y, input, inplace=False):
    return g.op("HardSigmoid", g.name_of(input), alpha=1.0 / 6, beta=0.5)


@register("hardtanh", "hardtanh_")
def _hardtanh(g, y, input, min_val=-1.0, max_val=1.0, inplace=False):
    dt = _dt(y)
    return g.op("Clip", g.name_of(input), g.scalar(min_val, dt), g.scalar(max_val, dt))


@register("relu6")
def _relu6(g, y, input, inplace=False):
    return _hardtanh(g, y, input, 0.0, 6.0)


@register("leaky_relu", "leaky_relu_")
def _leaky(g, y, input, negative_slope=0.01, inplace=False):
    return g.op("LeakyRelu", g.name_of(input), alpha=float(negative_slope))


@register("elu", "elu_")
def _elu(g, y, input, alpha=1.0, inplace=False):
    return g.op("Elu", g.name_of(input), alpha=float(alpha))


@register("celu", "celu_")
def _celu(g, y, input, alpha=1.0, inplace=False):
    return g.op("Celu", g.name_of(input), alpha=float(alpha))


@register("selu", "selu_")
def _selu(g, y, input, inplace=False):
    return g.op("Selu", g.name_of(input), alpha=1.6732632423543772, gamma=1.0507009873554805)


@register("gelu")
def _gelu(g, y, input, approximate="none"):
    x = g.name_of(input)
    if g.opset >= 20:
        return g.op("Gelu", x, approximate=approximate)
    dt = _dt(y)
    half = g.op("Mul", x, g.scalar(0.5, dt))
    if approximate == "tanh":   # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, g.op("Mul", cube, g.scalar(0.044715, dt)))
        t = g.op("Tanh", g.op("Mul", inner, g.scalar(math.sqrt(2 / math.pi), dt)))
    else:                       # 0.5 x (1 + erf(x / sqrt 2))
        t = g.op("Erf", g.op("Mul", x, g.scalar(1 / math.sqrt(2), dt)))
    return g.op("Mul", half, g.op("Add", t, g.scalar(1.0, dt)))


@register("silu", "silu_")
def _silu(g, y, input, inplace=False):
    x = g.name_of(input)
    return g.op("Mul", x, g.op("Sigmoid", x))


@register("mish")
def _mish(g, y, input, inplace=False):
    x = g.name_of(input)
    return g.op("Mul", x, g.op("Tanh", g.op("Softplus", x)))


@register("softplus")
def _softplus(g, y, input, beta=1.0, threshold=20.0):
    dt = _dt(y)
    x = g.name_of(input)
    bx = x if beta == 1 else g.op("Mul", x, g.scalar(beta, dt))
    sp = g.op("Softplus", bx)
    if beta != 1:
        sp = g.op("Div", sp, g.scalar(beta, dt))
    return g.op("Where", g.op("Greater", bx, g.scalar(threshold, dt)), x, sp)


@register("logsigmoid")
def _logsigmoid(g, y, input):
    return g.op("Neg", g.op("Softplus", g.op("Neg", g.name_of(input))))


@register("tanhshrink")
def _tanhshrink(g, y, input):
    x = g.name_of(input)
    return g.op("Sub", x, g.op("Tanh", x))


@register("hardshrink")
def _hardshrink(g, y, input, lambd=0.5):
    return g.op("Shrink", g.name_of(input), lambd=float(lambd), bias=0.0)


@register("softshrink")
def _softshrink(g, y, input, lambd=0.5):
    return g.op("Shrink", g.name_of(input), lambd=float(lambd), bias=float(lambd))


@register("threshold", "threshold_")
def _threshold(g, y, input, threshold, value, inplace=False):
    dt = _dt(y)
    x = g.name_of(input)
    return g.op("Where", g.op("Greater", x, g.scalar(threshold, dt)), x, g.scalar(value, dt))


@register("prelu")
def _prelu(g, y, input, weight):
    w = g.name_of(weight)
    if input.dim() >= 2 and weight.numel() > 1:   # (C,) slopes over the channel dim 1
        w = g.op("Reshape", w, g.ints([-1] + [1] * (input.dim() - 2)))
    return g.op("PRelu", g.name_of(input), w)


@register("glu")
def _glu(g, y, input, dim=-1):
    d = dim % input.dim()
    h = input.shape[d] // 2
    a, b = g.op("Split", g.name_of(input), g.ints([h, h]), axis=d, n_out=2)
    return g.op("Mul", a, g.op("Sigmoid", b))


# ------------------------------------------------------------------------------------------ dropout
def _dropout(name: str):
    def sym(g, y, input, p=0.5, training=True, inplace=False):
        if training and p > 0:
            raise UnsupportedOperatorError(name, "in training mode (export the model in eval mode, or "
                                           "with training=TrainingMode.EVAL)")
        return g.op("Identity", g.name_of(input))
    return sym


for _n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "dropout_", "alpha_dropout_", "feature_alpha_dropout_"):
    register(_n)(_dropout(_n))


# -------------------------------------------------------------------------------------- convolution
def _conv(nd: int):
    def sym(g, y, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        x = g.name_of(input)
        batched = input.dim() == nd + 2
        if not batched:
            x = g.unsqueeze(x, [0])
        k = list(weight.shape[2:])
        dil = _tup(dilation, nd)
        if isinstance(padding, str):
            if padding == "valid":
                pads = [0] * (2 * nd)
            else:  # "same": torch puts the odd extra padding at the end
                tot = [d * (kk - 1) for d, kk in zip(dil, k)]
                pads = [t // 2 for t in tot] + [t - t // 2 for t in tot]
        else:
            p = _tup(padding, nd)
            pads = p + p
        r = g.op("Conv", x, g.name_of(weight), None if bias is None else g.name_of(bias), kernel_shape=k,
                 strides=_tup(stride, nd), pads=pads, dilations=dil, group=int(groups))
        return r if batched else g.squeeze(r, [0])
    return sym


def _conv_t(nd: int):
    def sym(g, y, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        x = g.name_of(input)
        batched = input.dim() == nd + 2
        if not batched:
            x = g.unsqueeze(x, [0])
        p = _tup(padding, nd)
        r = g.op("ConvTranspose", x, g.name_of(weight), None if bias is None else g.name_of(bias),
                 kernel_shape=list(weight.shape[2:]), strides=_tup(stride, nd), pads=p + p,
                 output_padding=_tup(output_padding, nd), dilations=_tup(dilation, nd), group=int(groups))
        return r if batched else g.squeeze(r, [0])
    return sym


for _i in (1, 2, 3):
    register(f"conv{_i}d")(_conv(_i))
    register(f"conv_transpose{_i}d")(_conv_t(_i))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@register("pad")
def _pad(g, y, input, pad, mode="constant", value=None):
    if mode not in _PAD_MODES:
        raise UnsupportedOperatorError("pad", f"mode {mode!r}")
    n = input.dim()
    begins, ends = [0] * n, [0] * n
    for i in range(len(pad) // 2):   # pairs from the last dim backwards
        begins[n - 1 - i], ends[n - 1 - i] = int(pad[2 * i]), int(pad[2 * i + 1])
    x = g.name_of(input)
    if mode == "circular" and g.opset < 19:
        from ._ops_vision import circular_pad
        return circular_pad(g, x, begins, ends)
    if mode == "constant" and min(begins + ends) < 0:
        raise UnsupportedOperatorError("pad", "negative padding")
    cv = g.scalar(0.0 if value is None else value, _dt(y)) if mode == "constant" else None
    return g.op("Pad", x, g.ints(begins + ends), cv, mode=_PAD_MODES[mode])


# ------------------------------------------------------------------------------------------ pooling
def _batched(g, input, nd: int):
    x = g.name_of(input)
    return (x, True) if input.dim() == nd + 2 else (g.unsqueeze(x, [0]), False)


def _max_pool(nd: int):
    def sym(g, y, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
            return_indices=False):
        if return_indices:
            raise UnsupportedOperatorError(f"max_pool{nd}d", "return_indices=True")
        x, b = _batched(g, input, nd)
        k = _tup(kernel_size, nd)
        s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _tup(stride, nd)
        p = _tup(padding, nd)
        r = g.op("MaxPool", x, kernel_shape=k, strides=s, pads=p + p, dilations=_tup(dilation, nd),
                 ceil_mode=int(bool(ceil_mode)))
        return r if b else g.squeeze(r, [0])
    return sym


def _avg_pool(nd: int):
    def sym(g, y, input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None):
        if divisor_override is not None:
            raise UnsupportedOperatorError(f"avg_pool{nd}d", "divisor_override")
        x, b = _batched(g, input, nd)
        k = _tup(kernel_size, nd)
        s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _tup(stride, nd)
        p = _tup(padding, nd)
        r = g.op("AveragePool", x, kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(bool(ceil_mode)),
                 count_include_pad=int(bool(count_include_pad)))
        return r if b else g.squeeze(r, [0])
    return sym


def _adaptive(nd: int, kind: str):
    name = f"adaptive_{kind}_pool{nd}d"

    def sym(g, y, input, output_size, return_indices=False):
        if return_indices:
            raise UnsupportedOperatorError(name, "return_indices=True")
        x, b = _batched(g, input, nd)
        ins = list(input.shape[-nd:])
        outs = list(y.shape[-nd:])
        if all(o == 1 for o in outs):
            r = g.op("GlobalAveragePool" if kind == "avg" else "GlobalMaxPool", x)
        elif all(i % o == 0 for i, o in zip(ins, outs)):
            k = [i // o for i, o in zip(ins, outs)]
            r = g.op("AveragePool" if kind == "avg" else "MaxPool", x, kernel_shape=k, strides=k)
        else:
            raise UnsupportedOperatorError(name, f"an input size {tuple(ins)} that is not a multiple of the "
                                           f"output size {tuple(outs)}")
        return r if b else g.squeeze(r, [0])
    return sym


for _i in (1, 2, 3):
    register(f"max_pool{_i}d")(_max_pool(_i))
    register(f"avg_pool{_i}d")(_avg_pool(_i))
    register(f"adaptive_avg_pool{_i}d")(_adaptive(_i, "avg"))
    register(f"adaptive_max_pool{_i}d")(_adaptive(_i, "max"))


# ------------------------------------------------------------------------------------ normalization
def _param_or(g, t, n: int, fill: float, dtype) -> str:
    return g.name_of(t) if t is not None else g.const(np.full(n, fill, dtype=dtype), "fill")


@register("batch_norm")
def _batch_norm(g, y, input, running_mean, running_var, weight=None, bias=None, training=False,
                momentum=0.1, eps=1e-5):
    c = input.shape[1]
    dt = _dt(y)
    x = g.name_of(input)
    if running_mean is None and running_var is None:
        # no running statistics (track_running_stats=False): the batch's own, a function of the input
        axes = [0] + list(range(2, input.dim()))
        d = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
        var = g.reduce("ReduceMean", g.op("Mul", d, d), axes, True)
        r = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dt))))
        return _affine_channels(g, r, input, weight, bias)
    if training or running_mean is None or running_var is None:
        raise UnsupportedOperatorError("batch_norm", "in training mode (it updates the running statistics): "
                                       "export in eval mode")
    r = g.op("BatchNormalization", x, _param_or(g, weight, c, 1.0, dt), _param_or(g, bias, c, 0.0, dt),
             g.name_of(running_mean), g.name_of(running_var), epsilon=float(eps))
    return r


@register("instance_norm")
def _instance_norm(g, y, input, running_mean=None, running_var=None, weight=None, bias=None,
                   use_input_stats=True, momentum=0.1, eps=1e-5):
    if not use_input_stats:
        return _batch_norm(g, y, input, running_mean, running_var, weight, bias, False, momentum, eps)
    c = input.shape[1]
    dt = _dt(y)
    return g.op("InstanceNormalization", g.name_of(input), _param_or(g, weight, c, 1.0, dt),
                _param_or(g, bias, c, 0.0, dt), epsilon=float(eps))


@register("layer_norm")
def _layer_norm(g, y, input, normalized_shape, weight=None, bias=None, eps=1e-5):
    ns = _tup(normalized_shape, 1)
    dt = _dt(y)
    shape = tuple(ns)
    scale = g.name_of(weight) if weight is not None else g.const(np.ones(shape, dt), "ones")
    return g.op("LayerNormalization", g.name_of(input), scale, None if bias is None else g.name_of(bias),
                axis=-len(ns), epsilon=float(eps))


def _affine_channels(g, r: str, input, weight, bias) -> str:
    """``r * weight + bias`` with per-channel (dim 1) parameters."""
    tail = [1] * (input.dim() - 2)
    if weight is not None:
        r = g.op("Mul", r, g.op("Reshape", g.name_of(weight), g.ints([-1] + tail)))
    if bias is not None:
        r = g.op("Add", r, g.op("Reshape", g.name_of(bias), g.ints([-1] + tail)))
    return r


@register("group_norm")
def _group_norm(g, y, input, num_groups, weight=None, bias=None, eps=1e-5):
    dt = _dt(y)
    x = g.name_of(input)
    grouped = g.op("Reshape", x, g.ints([0, int(num_groups), -1]))
    mean = g.reduce("ReduceMean", grouped, [2], True)
    d = g.op("Sub", grouped, mean)
    var = g.reduce("ReduceMean", g.op("Mul", d, d), [2], True)
    normed = g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, dt))))
    r = g.op("Reshape", normed, g.op("Shape", x))
    return _affine_channels(g, r, input, weight, bias)


@register("rms_norm")
def _rms_norm(g, y, input, normalized_shape, weight=None, eps=None):
    dt = _dt(y)
    ns = _tup(normalized_shape, 1)
    x = g.name_of(input)
    e = float(np.finfo(dt).eps) if eps is None else eps
    axes = list(range(input.dim() - len(ns), input.dim()))
    ms = g.reduce("ReduceMean", g.op("Mul", x, x), axes, True)
    r = g.op("Mul", x, g.op("Reciprocal", g.op("Sqrt", g.op("Add", ms, g.scalar(e, dt)))))
    return r if weight is None else g.op("Mul", r, g.name_of(weight))


@register("normalize")
def _normalize(g, y, input, p=2.0, dim=1, eps=1e-12, out=None):
    if p != 2:
        raise UnsupportedOperatorError("normalize", f"p={p}")
    dt = _dt(y)
    x = g.name_of(input)
    n = g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", x, x), [dim % input.dim()], True))
    return g.op("Div", x, g.op("Max", n, g.scalar(eps, dt)))


# ---------------------------------------------------------------------------------------- embedding
@register("embedding")
def _embedding(g, y, input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
               sparse=False):
    if max_norm is not None:
        raise UnsupportedOperatorError("embedding", "max_norm (it renormalises the weight in place)")
    return g.op("Gather", g.name_of(weight), g.operand(input, np.dtype(np.int64)), axis=0)


@register("one_hot")
def _one_hot(g, y, tensor, num_classes=-1):
    depth = g.const(np.asarray([y.shape[-1]], np.int64), "depth")
    vals = g.const(np.asarray([0, 1], np.int64), "onoff")
    return g.op("OneHot", g.name_of(tensor), depth, vals, axis=-1)


# ------------------------------------------------------------------------------ bilinear, distances
@register("bilinear")
def _bilinear(g, y, input1, input2, weight, bias=None):
    """y_k = x1ᵀ W_k x2 + b_k: x1 @ W laid out (i, k*j), reshaped (..., k, j), times x2 summed over j."""
    k, i, j = weight.shape
    lead = [0] * (input1.dim() - 1)
    w = g.op("Reshape", g.op("Transpose", g.name_of(weight), perm=[1, 0, 2]), g.ints([i, k * j]))
    t = g.op("Reshape", g.op("MatMul", g.name_of(input1), w), g.ints(lead + [k, j]))
    x2 = g.unsqueeze(g.name_of(input2), [input2.dim() - 1])
    r = g.reduce("ReduceSum", g.op("Mul", t, x2), [input1.dim()], False)
    return r if bias is None else g.op("Add", r, g.name_of(bias))


@register("cosine_similarity")
def _cosine_similarity(g, y, x1, x2, dim=1, eps=1e-8):
    dt = _dt(y)
    a, b = g.name_of(x1), g.name_of(x2)
    n = max(x1.dim(), x2.dim())
    d = dim % n
    both = g.op("Shape", g.op("Add", a, b))   # broadcast first, as PyTorch
    a, b = g.op("Expand", a, both), g.op("Expand", b, both)

    def clamped_norm(v):
        norm = g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", v, v), [d], True))
        return g.op("Max", norm, g.scalar(eps, dt))

    prod = g.op("Mul", g.op("Div", a, clamped_norm(a)), g.op("Div", b, clamped_norm(b)))
    return g.reduce("ReduceSum", prod, [d], False)


@register("pairwise_distance")
def _pairwise_distance(g, y, x1, x2, p=2.0, eps=1e-6, keepdim=False):
    dt = _dt(y)
    diff = g.op("Add", g.op("Sub", g.name_of(x1), g.name_of(x2)), g.scalar(eps, dt))
    if max(x1.dim(), x2.dim()) == 0:
        raise UnsupportedOperatorError("pairwise_distance", "0-d inputs")
    last = max(x1.dim(), x2.dim()) - 1
    return _p_norm(g, diff, p, [last], keepdim, dt, "pairwise_distance")


def _p_norm(g, x: str, p, axes, keepdim: bool, dt, name: str) -> str:
    if p in (2, 2.0, "fro"):
        return g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", x, x), axes, keepdim))
    if p == 1:
        return g.reduce("ReduceSum", g.op("Abs", x), axes, keepdim)
    if p == float("inf"):
        return g.reduce("ReduceMax", g.op("Abs", x), axes, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        s = g.reduce("ReduceSum", g.op("Pow", g.op("Abs", x), g.scalar(p, dt)), axes, keepdim)
        return g.op("Pow", s, g.scalar(1.0 / p, dt))
    raise UnsupportedOperatorError(name, f"p={p}")


@register("norm")
def _norm(g, y, input, p="fro", dim=None, keepdim=False, dtype=None):
    if isinstance(p, str) and p != "fro":
        raise UnsupportedOperatorError("norm", f"p={p!r}")
    dims = () if dim is None else (dim if isinstance(dim, (tuple, list)) else (dim,))
    axes = [d % input.dim() for d in dims] or list(range(input.dim()))
    return _p_norm(g, g.operand(input, _dt(y)), p, axes, bool(keepdim), _dt(y), "norm")


@register("rrelu", "rrelu_")
def _rrelu(g, y, input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if training:
        raise UnsupportedOperatorError("rrelu", "in training mode (random slopes)")
    return g.op("LeakyRelu", g.name_of(input), alpha=(lower + upper) / 2.0)
