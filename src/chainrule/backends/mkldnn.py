"""``cr.backends.mkldnn``: oneDNN (MKL-DNN), which chainrule does not use (its BLAS is the
OpenBLAS NumPy ships), so ``is_available()`` is False where PyTorch's CPU build says True.
The switches are kept with PyTorch's defaults and change nothing.

Example:
    >>> import chainrule as cr
    >>> cr.backends.mkldnn.is_available(), cr.backends.mkldnn.enabled
    (False, True)
"""

from __future__ import annotations

from typing import Any

from . import _flags

_FLAGS: dict[str, Any] = {"enabled": True, "deterministic": False}


def is_available() -> bool:
    """False: chainrule does not use oneDNN."""
    return False


def flags(enabled: bool = False, deterministic: bool = False):
    """A block with these switches, restored after."""
    import sys

    return _flags.setting(sys.modules[__name__], enabled=enabled, deterministic=deterministic)


_flags.install(__name__, _FLAGS)
