"""Hyper-parameter checks shared by several optimizers (each raises ValueError, as PyTorch does).

``Optimizer`` prefixes every message with the optimizer's name, so a message here names only
the argument and the range it must be in.
"""

from __future__ import annotations

from typing import Any


def check_betas(group: dict[str, Any]) -> None:
    """``betas`` is a pair, each in [0, 1).

    Example:
        >>> check_betas({"betas": (0.9, 1.0)})
        Traceback (most recent call last):
        ...
        ValueError: invalid betas[1]: 1.0 (must be in [0, 1))
    """
    if "betas" not in group:
        return
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"invalid betas[{i}]: {b} (must be in [0, 1))")


def check_range(group: dict[str, Any], key: str, low: float, high: float) -> None:
    """``group[key]``, when present, lies in the closed interval [low, high].

    Example:
        >>> check_range({"rho": 1.5}, "rho", 0.0, 1.0)
        Traceback (most recent call last):
        ...
        ValueError: invalid rho: 1.5 (must be in [0.0, 1.0])
    """
    if key in group and not low <= group[key] <= high:
        raise ValueError(f"invalid {key}: {group[key]} (must be in [{low}, {high}])")


def check_number(group: dict[str, Any], *keys: str) -> None:
    """Each ``group[key]`` present is a real number (not a bool), so that a string or None is
    refused when the optimizer is made, not in the middle of ``step()``.

    Example:
        >>> check_number({"t0": None}, "t0")
        Traceback (most recent call last):
        ...
        TypeError: t0 must be a number, got NoneType
    """
    import numbers
    for key in keys:
        if key in group:
            v = group[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{key} must be a number, got {type(v).__name__}")
