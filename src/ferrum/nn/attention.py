"""``ferrum.nn.attention``: torch.nn.attention's backend selection for scaled dot-product attention.

torch has several SDPA kernels (math, FlashAttention, memory-efficient, cuDNN, an overrideable hook)
and ``sdpa_kernel(backends)`` restricts, for the duration of a ``with`` block or a decorated call,
which ones ``F.scaled_dot_product_attention`` may pick. ferrum has one SDPA implementation
(``ops/attention.py``: one fused node whose forward and backward are the math kernel's formulas),
so the selection cannot change which kernel runs: ``sdpa_kernel`` checks its argument as torch
does (an ``SDPBackend`` or a list of them, else AssertionError), records the enabled set (read back
with ``_cur_sdpa_kernel_backends``, as torch's helper of that name) and restores the previous set on
exit, and the one implementation computes the result every kernel computes (up to rounding).

Differences from PyTorch: with every CPU kernel disabled (``sdpa_kernel([])``, or only
``EFFICIENT_ATTENTION``/``CUDNN_ATTENTION``), torch's CPU SDPA raises "No viable backend for
scaled_dot_product_attention was found"; ferrum's computes the attention. A program that runs under
torch gives the same results here. The enabled set is not reflected by
``ferrum.backends.cuda.flash_sdp_enabled()`` and its siblings.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

__all__ = ["SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "sdpa_kernel"]

# torch's flag: warn why a fused kernel could not run; ferrum has no fused kernel to fall back from
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """torch.nn.attention.SDPBackend: the SDPA kernels, with torch's values (``int(b)``)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value

    __index__ = __int__


# the kernels that can be switched (ERROR is a sentinel), in torch's default priority order
_SWITCHABLE = (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH,
               SDPBackend.CUDNN_ATTENTION, SDPBackend.OVERRIDEABLE)
# the order torch lists enabled backends in (its _backend_names dict)
_LISTED = (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION,
           SDPBackend.MATH, SDPBackend.OVERRIDEABLE)
_enabled: set[SDPBackend] = set(_SWITCHABLE)
_priority: list[SDPBackend] = list(_SWITCHABLE)


def _cur_sdpa_kernel_backends(with_priority: bool = False) -> list[SDPBackend]:
    """The enabled backends (in torch's listing order, or in priority order with ``with_priority``)."""
    out = [b for b in _LISTED if b in _enabled]
    if with_priority:
        out.sort(key=_priority.index)
    return out


def _sdpa_kernel(backends: list, set_priority: bool = False) -> None:
    # as torch: each switch is on exactly when its backend is in the list (other entries ignored)
    global _enabled, _priority
    _enabled = {b for b in _SWITCHABLE if b in backends}
    if set_priority:
        for b in backends:
            int(b)      # torch converts each entry to its value: ValueError/TypeError on a non-backend
        chosen = [b for b in backends if b in _SWITCHABLE]
        _priority = chosen + [b for b in _priority if b not in chosen]


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend, set_priority: bool = False) -> Iterator[dict]:
    """Within the block (or decorated call) only ``backends`` are enabled for SDPA; the previous set is
    restored on exit. ``backends``: one ``SDPBackend`` or a list (AssertionError otherwise, as torch);
    ``set_priority``: the list's order is the priority order. ferrum's one SDPA implementation runs
    whatever is enabled (module docstring). Yields ``{}`` as torch does."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
                             f"got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)
