"""``ferrum.amp``: torch.amp's names: ``autocast`` (also ``ferrum.autocast``) and ``GradScaler``.

Mixed-precision training loops (``with torch.autocast(device.type, enabled=amp):`` ...
``scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()``) run unchanged. Inside
an enabled autocast region the ops of PyTorch's lists run in bfloat16/float16 or float32
(autocast_mode.py; the lists are ops/_autocast.py); the scaler is dynamic loss scaling with inf/nan
checks, skipped steps, growth and backoff, and state_dict.
"""

from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype, is_autocast_available,  # noqa: F401
                            is_autocast_enabled)
from .grad_scaler import GradScaler, OptState  # noqa: F401

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "OptState", "get_autocast_dtype",
           "is_autocast_available", "is_autocast_enabled"]
