"""Autocast's op policy: which ops run in the lower-precision dtype, which in float32, which in the
widest dtype of their inputs, per device type, exactly as PyTorch 2.13's lists
(aten/src/ATen/autocast_mode.cpp: AutocastCPU's registrations; CUDA uses the shared
AT_FORALL_* lists of autocast_mode.h).

An op takes part by carrying ``@autocast_op("torch_name")`` (one decorator line above its
definition). Outside any enabled region the wrapper costs one module-global read
(``_state.autocast``, True while any thread has an enabled region: about 0.1 us per call, measured
on a 16x16 linear with grad). Inside a region, the thread-local state says which device types are
enabled and with which dtype; the op's floating-point tensor arguments of that device type
(float64 excepted, as PyTorch) are cast with the differentiable cast, so gradients flow back in each
tensor's own dtype, and the op runs with autocast excluded, so the ops it is made of are not cast
again (PyTorch's ExcludeDispatchKeyGuard). The casts of float32 leaf tensors that require grad
(the parameters) to the lower-precision dtype are cached until the outermost region exits.

Policies (PyTorch's CastPolicy): LOWER casts to the region's dtype; FP32 casts to float32;
FP32_SET_OPT_DTYPE passes ``dtype=float32`` unless the caller gave a dtype (softmax, sum on CUDA);
PROMOTE casts to the widest floating dtype among the arguments (cat, stack); BANNED raises
(binary_cross_entropy on CUDA). How a lower-precision op computes on the CPU (NumPy has no bfloat16
GEMM) is said where it happens: matmul/linear/conv round their inputs to the dtype, multiply in
float32 and round the result once.
"""

from __future__ import annotations

import functools
import threading

from .. import _state
from .._tensor import Tensor

LOWER, FP32, FP32_SET_OPT_DTYPE, PROMOTE, BANNED = "lower", "fp32", "fp32_set_opt_dtype", "promote", "banned"

_CPU_LOWER = """conv1d conv2d conv3d bmm mm linalg_vecdot baddbmm addmm addbmm linear matmul conv_tbc
mkldnn_rnn_layer conv_transpose1d conv_transpose2d conv_transpose3d prelu scaled_dot_product_attention
_native_multi_head_attention"""
_CPU_FP32 = """avg_pool3d binary_cross_entropy grid_sampler polar prod quantile nanquantile stft cdist trace
view_as_complex cholesky cholesky_inverse cholesky_solve inverse lu_solve orgqr ormqr pinverse max_pool3d
max_unpool2d max_unpool3d adaptive_avg_pool3d reflection_pad1d reflection_pad2d replication_pad1d
replication_pad2d replication_pad3d mse_loss cosine_embedding_loss nll_loss nll_loss2d hinge_embedding_loss
poisson_nll_loss smooth_l1_loss cross_entropy_loss l1_loss huber_loss margin_ranking_loss soft_margin_loss
triplet_margin_loss multi_margin_loss ctc_loss kl_div multilabel_margin_loss binary_cross_entropy_with_logits
fft_fft fft_ifft fft_fft2 fft_ifft2 fft_fftn fft_ifftn fft_rfft fft_irfft fft_rfft2 fft_irfft2 fft_rfftn
fft_irfftn fft_hfft fft_ihfft linalg_cond linalg_matrix_rank linalg_solve linalg_cholesky linalg_svdvals
linalg_eigvals linalg_eigvalsh linalg_inv linalg_householder_product linalg_tensorinv linalg_tensorsolve
fake_quantize_per_tensor_affine geqrf _lu_with_info qr svd triangular_solve fractional_max_pool2d
fractional_max_pool3d adaptive_max_pool3d linalg_qr linalg_cholesky_ex linalg_svd linalg_eig linalg_eigh
linalg_lstsq linalg_inv_ex"""
_CPU_PROMOTE = "stack cat index_copy"
# ops PyTorch composes of listed ones (einsum and tensordot of bmm/mm) where ferrum's are one node:
# their results take the listed ops' dtype
_CPU_COMPOSED_LOWER = "einsum tensordot"

_CUDA_LOWER = """_convolution conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d
convolution prelu addmm addmv addr matmul einsum mm mv linalg_vecdot linear addbmm baddbmm bmm chain_matmul
linalg_multi_dot _thnn_fused_lstm_cell _thnn_fused_gru_cell lstm_cell gru_cell rnn_tanh_cell rnn_relu_cell
_scaled_dot_product_flash_attention scaled_dot_product_attention"""
_CUDA_FP32 = """acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow softplus
layer_norm native_layer_norm group_norm frobenius_norm nuclear_norm cosine_similarity poisson_nll_loss
cosine_embedding_loss nll_loss nll_loss2d hinge_embedding_loss kl_div l1_loss smooth_l1_loss huber_loss
mse_loss margin_ranking_loss multilabel_margin_loss soft_margin_loss triplet_margin_loss multi_margin_loss
binary_cross_entropy_with_logits dist pdist cdist renorm logsumexp upsample_nearest1d
_upsample_nearest_exact1d upsample_nearest2d _upsample_nearest_exact2d upsample_nearest3d
_upsample_nearest_exact3d upsample_linear1d upsample_bilinear2d _upsample_bilinear2d_aa
upsample_trilinear3d upsample_bicubic2d _upsample_bicubic2d_aa"""
# norm (PyTorch's fp32_append_dtype) behaves as set-opt-dtype for ferrum's norm, which takes dtype=
_CUDA_FP32_SET_OPT_DTYPE = """prod softmax log_softmax cumprod cumsum linalg_vector_norm linalg_matrix_norm
sum norm"""
# composed in PyTorch of log_softmax (float32 on CUDA) and nll_loss (float32)
_CUDA_COMPOSED_FP32 = "cross_entropy_loss"
_CUDA_PROMOTE = "addcdiv addcmul atan2 bilinear cross dot vdot grid_sampler index_put tensordot scatter_add"


def _table(**lists: str) -> dict:
    return {name: policy for policy, names in lists.items() for name in names.split()}


POLICY = {
    "cpu": _table(lower=_CPU_LOWER + " " + _CPU_COMPOSED_LOWER, fp32=_CPU_FP32, promote=_CPU_PROMOTE),
    "cuda": {**_table(lower=_CUDA_LOWER, fp32=_CUDA_FP32 + " " + _CUDA_COMPOSED_FP32,
                      fp32_set_opt_dtype=_CUDA_FP32_SET_OPT_DTYPE, promote=_CUDA_PROMOTE),
             "binary_cross_entropy": BANNED},
}

_BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")


class _Local(threading.local):
    """Per-thread autocast state (PyTorch's is thread-local too)."""

    def __init__(self) -> None:
        self.enabled: dict = {}  # device type -> True for the enabled ones
        self.dtype: dict = {}  # device type -> ferrum dtype (set even while disabled, as torch)
        self.nesting = 0
        self.cache_enabled = True
        self.cache: dict = {}  # id(tensor) -> (tensor, cast) for parameters cast to the lower dtype
        self.excluded = 0  # > 0 while a policy op runs (its inner ops are not cast again)


local = _Local()
_lock = threading.Lock()
_active_threads = 0
# the device type a tensor counts as for autocast; tests map "cpu" to "cuda" to walk CUDA's list
eligible_device = {"cpu": "cpu", "cuda": "cuda"}


def set_enabled(device_type: str, enabled: bool) -> None:
    """Turn the thread's autocast for ``device_type`` on or off (``_state.autocast`` follows)."""
    global _active_threads
    was = bool(local.enabled)
    if enabled:
        local.enabled[device_type] = True
    else:
        local.enabled.pop(device_type, None)
    now = bool(local.enabled)
    if was != now:
        with _lock:
            _active_threads += 1 if now else -1
            _state.autocast = _active_threads > 0


def clear_cache() -> None:
    local.cache.clear()


class suspended:
    """Runs a block as if outside every autocast region of this thread (the autograd engine runs
    backward so; ``custom_bwd`` re-enters the forward's state itself)."""

    def __enter__(self):
        self.saved = dict(local.enabled), local.excluded
        for d in list(local.enabled):
            set_enabled(d, False)
        local.excluded = 0

    def __exit__(self, *exc) -> None:
        enabled, local.excluded = self.saved
        for d in enabled:
            set_enabled(d, True)


def _device_type(args, kwargs) -> str | None:
    """The autocast device type of the first tensor argument (lists of tensors included)."""
    for a in (*args, *kwargs.values()):
        if a.__class__ is Tensor or isinstance(a, Tensor):
            return eligible_device.get(a.device.type)
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], Tensor):
            return eligible_device.get(a[0].device.type)
    return None


def _eligible(t, device_type: str) -> bool:
    return (isinstance(t, Tensor) and t.is_floating_point() and t.dtype.name != "float64"
            and eligible_device.get(t.device.type) == device_type)


def _cast_to(t, dt, device_type: str):
    if not _eligible(t, device_type) or t.dtype is dt:
        return t
    from ._promote import _cast
    if (local.cache_enabled and _state.grad_enabled and t.requires_grad and t.grad_fn is None
            and t.dtype.name == "float32"
            and dt is local.dtype.get(device_type) and t._base is None):
        hit = local.cache.get(id(t))
        if hit is not None and hit[0] is t and hit[2] == t._version[0]:
            return hit[1]
        r = _cast(t, dt)
        local.cache[id(t)] = (t, r, t._version[0])
        return r
    return _cast(t, dt)


def _cast_arg(a, dt, device_type: str):
    if isinstance(a, (list, tuple)) and a and isinstance(a[0], Tensor):
        return type(a)(_cast_to(t, dt, device_type) for t in a)
    return _cast_to(a, dt, device_type)


def _widest(args, kwargs, device_type: str):
    from .. import _dtype
    best = local.dtype[device_type]
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if _eligible(t, device_type) and t.dtype is _dtype.float32:
                best = _dtype.float32
    return best


def _run(name: str, fn, args, kwargs):
    device_type = _device_type(args, kwargs)
    if device_type is None or device_type not in local.enabled:
        return fn(*args, **kwargs)
    policy = POLICY[device_type].get(name)
    if policy is None:
        return fn(*args, **kwargs)
    from .. import _dtype
    if policy == BANNED:
        raise RuntimeError(_BCE_BANNED)
    if policy == FP32_SET_OPT_DTYPE:
        first = args[0] if args else next(iter(kwargs.values()))
        if kwargs.get("dtype") is None and _eligible(first, device_type):
            kwargs = {**kwargs, "dtype": _dtype.float32}
    else:
        dt = (local.dtype[device_type] if policy == LOWER else _dtype.float32 if policy == FP32
              else _widest(args, kwargs, device_type))
        args = tuple(_cast_arg(a, dt, device_type) for a in args)
        kwargs = {k: _cast_arg(v, dt, device_type) for k, v in kwargs.items()}
    local.excluded += 1
    try:
        return fn(*args, **kwargs)
    finally:
        local.excluded -= 1


def autocast_op(name: str):
    """Decorator: ``fn`` is PyTorch's op ``name`` for autocast's lists (see the module docstring)."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not _state.autocast or local.excluded or not local.enabled:
                return fn(*args, **kwargs)
            return _run(name, fn, args, kwargs)

        wrapper.autocast_name = name
        return wrapper

    return deco


def dispatch(name: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` as PyTorch's op ``name``, for public functions whose PyTorch op
    depends on their arguments (F.pad's mode: reflection_pad2d; F.interpolate's: upsample_*)."""
    if not _state.autocast or local.excluded or not local.enabled:
        return fn(*args, **kwargs)
    return _run(name, fn, args, kwargs)


def in_region(device_type: str) -> bool:
    """Whether ops on ``device_type`` tensors are being cast right now (fast paths check this)."""
    return _state.autocast and device_type in local.enabled and not local.excluded
