"""BatchNorm1d/2d/3d (``torch.nn.modules.batchnorm``), on ops/batch_norm.py's fused node.

``_NormBase`` holds what batch and instance norm share, with PyTorch's attribute names:
``num_features, eps, momentum, affine, track_running_stats``, the parameters ``weight``/``bias``
(None without ``affine``) and the buffers ``running_mean``, ``running_var`` and
``num_batches_tracked`` (None without ``track_running_stats``).

``SyncBatchNorm`` normalises with the statistics of the batch of all ranks of a process group in
training (ops/sync_batch_norm.py) and is a BatchNorm of any rank otherwise.

Differences from PyTorch: a forward that raises (a wrong rank, one value per channel in training, a
wrong channel count) leaves ``num_batches_tracked`` and the running statistics as they were;
PyTorch's module counts the batch before the functional call fails. SyncBatchNorm also runs on CPU
tensors (PyTorch's raises ValueError unless the input is on a GPU): the processes of
``ferrum.distributed`` synchronise CPU arrays as well as cuda ones.
"""

from __future__ import annotations

from typing import Any

from ... import _factory
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.batch_norm import batch_norm
from ...ops.sync_batch_norm import sync_batch_norm
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


def affine_params(module: Module, affine: bool, bias: bool, shape, kw: dict) -> None:
    """Registers ``weight`` and ``bias`` Parameters of ``shape`` (None without ``affine``, the bias
    None without ``bias``), as torch's normalization layers do; values come from reset_affine."""
    if affine:
        module.weight = Parameter(_factory.empty(shape, **kw))
        if bias:
            module.bias = Parameter(_factory.empty(shape, **kw))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine(module: Module) -> None:
    """weight to ones, bias (when there is one) to zeros."""
    init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Common base of batch and instance norm: parameters, running-statistics buffers, state-dict
    compatibility (a state dict saved before ``num_batches_tracked`` existed still loads)."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        affine_params(self, affine, bias, num_features, kw)
        if track_running_stats:
            self.register_buffer("running_mean", _factory.zeros(num_features, **kw))
            self.register_buffer("running_var", _factory.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 _factory.tensor(0, dtype=_factory.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # state dicts of version 1 had no num_batches_tracked: keep the module's own count
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else _factory.tensor(0, dtype=_factory.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        count = self.training and self.track_running_stats and self.num_batches_tracked is not None
        if count and self.momentum is None:  # a cumulative moving average
            factor = 1.0 / float(int(self.num_batches_tracked.item()) + 1)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        out = batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                         self.weight, self.bias, use_batch, factor, self.eps)
        if count:  # only once the call has succeeded
            with no_grad():
                self.num_batches_tracked.add_(1)
        return out


def _rank_error(input, ranks: tuple):
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    d = input.dim()
    if d not in ranks:
        want = " or ".join(f"{r}D" for r in ranks)
        raise ValueError(f"expected {want} input (got {d}D input)")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        _rank_error(input, (2, 3))


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        _rank_error(input, (4,))


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input, per channel C."""

    def _check_input_dim(self, input: Tensor) -> None:
        _rank_error(input, (5,))


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) input whose training statistics are those of the batch of every
    rank of ``process_group`` (default: the whole world) together: the same outputs, gradients and
    running statistics as ``BatchNorm`` on the concatenation of the ranks' batches. In eval mode,
    or when no process group is initialized (or it has one rank), it is a plain batch norm.

    Every rank must call it in the same order (it runs two all-reduces in the forward and two in
    the backward). Convert a model's BatchNorm layers with :meth:`convert_sync_batchnorm` before
    wrapping it in DistributedDataParallel.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group: Any = None,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device,
                         dtype=dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            _rank_error(input, ())
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        factor = 0.0 if self.momentum is None else self.momentum
        count = self.training and self.track_running_stats and self.num_batches_tracked is not None
        if count and self.momentum is None:
            factor = 1.0 / float(int(self.num_batches_tracked.item()) + 1)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        rm = self.running_mean if track else None
        rv = self.running_var if track else None
        group = self.process_group
        if use_batch and self.training and _distributed_world(group) > 1:
            out = sync_batch_norm(input, self.weight, self.bias, rm, rv, factor, self.eps, group)
        else:
            out = batch_norm(input, rm, rv, self.weight, self.bias, use_batch, factor, self.eps)
        if count:
            with no_grad():
                self.num_batches_tracked.add_(1)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """Replaces every ``BatchNorm*d`` in ``module`` by a SyncBatchNorm sharing its parameters
        and buffers (in place for submodules; a BatchNorm ``module`` itself comes back as a new
        SyncBatchNorm); returns the converted module."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                out.weight = module.weight
                out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _distributed_world(group: Any) -> int:
    """The size of ``group`` (the default group when None); 1 when no process group exists."""
    from ... import distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)
