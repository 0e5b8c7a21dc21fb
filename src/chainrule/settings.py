"""Process-wide switches PyTorch programs set at start-up, kept so the programs run unchanged.

- ``set_float32_matmul_precision`` / ``get_float32_matmul_precision``: PyTorch lets float32
  matrix products use TF32 or bfloat16 internally ('high', 'medium'). chainrule's products are
  NumPy's float32 BLAS calls, always full float32 precision ('highest'); the setting is kept and
  reported (and tied to ``cr.backends.cuda.matmul.allow_tf32``, as in PyTorch), but changes no
  result.
- ``use_deterministic_algorithms`` / ``are_deterministic_algorithms_enabled``: chainrule's ops
  are deterministic already (no atomics, no nondeterministic kernels: the same inputs and the
  same thread count give the same bits), so the switch is kept and reported only.

Example:
    >>> import chainrule as cr
    >>> cr.set_float32_matmul_precision("high"); cr.get_float32_matmul_precision()
    'high'
    >>> cr.set_float32_matmul_precision("highest")
"""

from __future__ import annotations

import warnings

_PRECISIONS = ("highest", "high", "medium")
_STATE = {"matmul_precision": "highest", "deterministic": False, "warn_only": False}


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision ('highest', 'high' or 'medium'); results are always
    full float32 here. An unknown value warns and changes nothing, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.set_float32_matmul_precision("medium"); cr.get_float32_matmul_precision()
        'medium'
        >>> cr.set_float32_matmul_precision("highest")
    """
    if not isinstance(precision, str):
        raise TypeError(f"set_float32_matmul_precision(): precision must be a str, got "
                        f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"set_float32_matmul_precision(): {precision!r} is not one of 'highest', "
                      "'high' or 'medium'; the call has no effect", UserWarning, stacklevel=2)
        return
    _STATE["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The recorded float32 matmul precision ('highest' unless set).

    Example:
        >>> import chainrule as cr
        >>> cr.get_float32_matmul_precision()
        'highest'
    """
    return _STATE["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the switch; chainrule's ops are deterministic whatever it says.

    Example:
        >>> import chainrule as cr
        >>> cr.use_deterministic_algorithms(True); cr.are_deterministic_algorithms_enabled()
        True
        >>> cr.use_deterministic_algorithms(False)
    """
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"use_deterministic_algorithms(): {name} must be a bool, got "
                            f"{type(value).__name__}")
    _STATE["deterministic"], _STATE["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` was called last."""
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` of the last ``use_deterministic_algorithms`` call."""
    return _STATE["warn_only"]
