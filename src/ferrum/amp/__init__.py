"""``ferrum.amp``: torch.amp's names: ``autocast`` (also ``ferrum.autocast``) and ``GradScaler``.

Mixed-precision training loops (``with torch.autocast(device.type, enabled=amp):`` ...
``scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()``) run unchanged. The
scaler is complete (dynamic loss scaling with inf/nan checks, skipped steps, growth and backoff,
state_dict); autocast keeps torch's state API but runs its region in the inputs' own precision
(see autocast_mode.py for why and what that means).
"""

from .autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled  # noqa: F401
from .grad_scaler import GradScaler, OptState  # noqa: F401

__all__ = ["autocast", "GradScaler", "OptState", "get_autocast_dtype", "is_autocast_available",
           "is_autocast_enabled"]
