"""``cr.backends.cudnn``: PyTorch's cuDNN switches, accepted and kept.

There is no cuDNN here (``is_available()`` is False, ``version()`` None), so the switches change
nothing; they start at PyTorch's defaults (``enabled`` True, ``benchmark`` False,
``deterministic`` False, ``allow_tf32`` True) and, as in PyTorch, take only bools.

Example:
    >>> import chainrule.backends.cudnn as cudnn
    >>> cudnn.benchmark = True
    >>> cudnn.benchmark, cudnn.is_available()
    (True, False)
    >>> cudnn.benchmark = False
"""

from __future__ import annotations

from typing import Any

from . import _flags

_FLAGS: dict[str, Any] = {"enabled": True, "benchmark": False, "deterministic": False,
                          "allow_tf32": True}


def is_available() -> bool:
    """False: chainrule has no cuDNN."""
    return False


def version() -> int | None:
    """None: no cuDNN."""
    return None


def is_acceptable(tensor: Any) -> bool:
    """False: cuDNN accepts no tensor here."""
    return False


def flags(enabled: bool = False, benchmark: bool = False, deterministic: bool = False,
          allow_tf32: bool = True):
    """A block with these switches, restored after (PyTorch's ``cudnn.flags``)."""
    import sys

    return _flags.setting(sys.modules[__name__], enabled=enabled, benchmark=benchmark,
                          deterministic=deterministic, allow_tf32=allow_tf32)


benchmark_limit: int | None = None
_flags.install(__name__, _FLAGS)
