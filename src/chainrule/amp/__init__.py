"""``cr.amp``: PyTorch's automatic-mixed-precision API, so AMP training loops run unchanged.

- ``cr.amp.GradScaler('cpu')`` scales the loss for real, as PyTorch's CPU scaler does; a
  scaler for any other device (the default, ``'cuda'``) warns and disables itself, as on a
  CPU-only PyTorch, and then passes everything through.
- ``cr.amp.autocast`` / ``cr.autocast`` are accepted and always disabled: chainrule has no
  mixed-precision execution, so every op runs in its own dtype (see ``autocast_mode``).

Example:
    >>> import chainrule as cr
    >>> scaler = cr.amp.GradScaler(enabled=False)
    >>> loss = cr.tensor(2.0)
    >>> scaler.scale(loss) is loss, scaler.get_scale()
    (True, 1.0)
"""

from .autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from .grad_scaler import GradScaler, OptState

__all__ = ["GradScaler", "OptState", "autocast", "custom_bwd", "custom_fwd",
           "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled"]
