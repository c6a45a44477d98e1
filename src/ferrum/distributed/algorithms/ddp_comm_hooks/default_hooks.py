"""DistributedDataParallel's stock communication hooks (torch's ``default_hooks``).

A hook ``hook(process_group, bucket) -> Future[Tensor]`` is registered with
``ddp.register_comm_hook(process_group, hook)`` (``None`` for the default group) and replaces DDP's
all-reduce of each gradient bucket:

- :func:`allreduce_hook`: what DDP does without a hook (divide by the world size, all-reduce);
- :func:`fp16_compress_hook` / :func:`bf16_compress_hook`: the bucket travels as float16 /
  bfloat16 (half the bytes of float32), divided by the world size before the sum so that it
  cannot overflow, and is decompressed into the bucket afterwards;
- :func:`fp16_compress_wrapper` / :func:`bf16_compress_wrapper`: the same compression around any
  other hook.

Difference from PyTorch: ``bf16_compress_hook`` runs on CPU process groups too (PyTorch requires
CUDA with NCCL 2.10+ and raises TypeError at registration otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import _grad_bucket
from ....futures import Future

__all__ = ["allreduce_hook", "fp16_compress_hook", "bf16_compress_hook", "fp16_compress_wrapper",
           "bf16_compress_wrapper"]

GradBucket = _grad_bucket.GradBucket


def _dist():
    from .... import distributed
    return distributed


def _world_size(process_group: Any) -> int:
    return _dist().get_world_size(process_group)


def _allreduce_fut(process_group: Any, tensor: Any) -> Future:
    """Divides ``tensor`` by the world size and all-reduces it; the Future's value is ``tensor``."""
    tensor.div_(_world_size(process_group))
    work = _dist().all_reduce(tensor, group=process_group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def allreduce_hook(process_group: Any, bucket: GradBucket) -> Future:
    """Averages the bucket across ranks with one all-reduce: the same result as DDP without a hook."""
    return _allreduce_fut(process_group, bucket.buffer())


def _compress_hook(dtype: Any, process_group: Any, bucket: GradBucket) -> Future:
    buffer = bucket.buffer()
    compressed = buffer.to(dtype).div_(_world_size(process_group))

    def decompress(fut: Future) -> Any:
        buffer.copy_(fut.value()[0])  # in place: no second bucket-sized array
        return buffer

    work = _dist().all_reduce(compressed, group=process_group, async_op=True)
    return work.get_future().then(decompress)


def fp16_compress_hook(process_group: Any, bucket: GradBucket) -> Future:
    """Averages the bucket as float16: cast, divide by the world size, all-reduce, cast back into
    the bucket."""
    from .... import float16
    return _compress_hook(float16, process_group, bucket)


def bf16_compress_hook(process_group: Any, bucket: GradBucket) -> Future:
    """Averages the bucket as bfloat16 (float32's range, 8 bits of mantissa)."""
    from .... import bfloat16
    return _compress_hook(bfloat16, process_group, bucket)


def _compress_wrapper(dtype: Any, hook: Callable, name: str) -> Callable:
    def wrapper_hook(hook_state: Any, bucket: GradBucket) -> Future:
        bucket.set_buffer(bucket.buffer().to(dtype))
        fut = hook(hook_state, bucket)

        def decompress(fut: Future) -> Any:
            out = bucket.buffer()
            out.copy_(fut.value())
            return out

        return fut.then(decompress)

    wrapper_hook.__name__ = wrapper_hook.__qualname__ = name
    return wrapper_hook


def fp16_compress_wrapper(hook: Callable) -> Callable:
    """``hook`` run on a float16 copy of the bucket; its result is cast back by DDP
    (``fp16_compress_hook`` is ``fp16_compress_wrapper(allreduce_hook)``)."""
    from .... import float16
    return _compress_wrapper(float16, hook, "fp16_compress_wrapper_hook")


def bf16_compress_wrapper(hook: Callable) -> Callable:
    """``hook`` run on a bfloat16 copy of the bucket."""
    from .... import bfloat16
    return _compress_wrapper(bfloat16, hook, "bf16_compress_wrapper_hook")
