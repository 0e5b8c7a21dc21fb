"""``cr.cpu``: PyTorch's ``torch.cpu``, the one device chainrule computes on.

Example:
    >>> import chainrule as cr
    >>> cr.cpu.is_available(), cr.cpu.device_count(), cr.cpu.current_device()
    (True, 1, 'cpu')
"""

from __future__ import annotations

from typing import Any

from . import amp  # noqa: F401  (cr.cpu.amp)


def is_available() -> bool:
    """True."""
    return True


def device_count() -> int:
    """1, as in PyTorch."""
    return 1


def current_device() -> str:
    """``'cpu'``, as in PyTorch."""
    return "cpu"


def synchronize(device: Any = None) -> None:
    """No-op: CPU work is done when the call returns."""


def set_device(device: Any) -> None:
    """No-op, as in PyTorch."""
