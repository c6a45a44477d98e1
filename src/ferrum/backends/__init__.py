"""Backend flags PyTorch programs set or read (``ferrum.backends.cuda.matmul.allow_tf32`` ...).

They are accepted and stored; on the CPU they change nothing, as in PyTorch. ``backends.cpu`` is
a module with the one switch that does act: ``tune_allocator()`` (glibc malloc thresholds).
"""

from __future__ import annotations

import types

from . import cpu  # noqa: F401  (a module: tune_allocator, get_cpu_capability)
from . import cudnn, mps  # noqa: F401  (modules: cudnn's checked flags and flags(), mps's queries)

__all__ = ["cpu", "cuda", "cudnn", "mps", "mkldnn", "openmp", "opt_einsum"]


def _ns(name: str, **attrs):
    m = types.SimpleNamespace(**attrs)
    m.__name__ = name
    return m


def _cuda_available() -> bool:
    from .. import cuda as _c
    return _c.is_available()


cuda = _ns("ferrum.backends.cuda",
           matmul=_ns("matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                      allow_bf16_reduced_precision_reduction=True),
           is_built=_cuda_available,
           preferred_linalg_library=lambda backend=None: "default",
           enable_flash_sdp=lambda enabled: None, enable_mem_efficient_sdp=lambda enabled: None,
           enable_math_sdp=lambda enabled: None, flash_sdp_enabled=lambda: False,
           mem_efficient_sdp_enabled=lambda: False, math_sdp_enabled=lambda: True)
mkldnn = _ns("ferrum.backends.mkldnn", enabled=True, is_available=lambda: False)
openmp = _ns("ferrum.backends.openmp", is_available=lambda: False)
opt_einsum = _ns("ferrum.backends.opt_einsum", enabled=True, strategy="auto", is_available=lambda: True)
