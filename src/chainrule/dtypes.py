"""Data types: chainrule uses NumPy dtypes directly, with PyTorch-style names."""

from __future__ import annotations

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001

_default_float = float32


def set_default_dtype(dtype) -> None:
    """Set the dtype given to tensors made from Python floats and lists.

    Example:
        >>> import chainrule as cr
        >>> cr.set_default_dtype(cr.float64); cr.tensor(1.0).dtype
        dtype('float64')
        >>> cr.set_default_dtype(cr.float32)
    """
    global _default_float
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def as_dtype(dtype) -> np.dtype | None:
    """Normalise a user dtype (``cr.float32``, ``"float32"``, ``np.float32``, Python types)."""
    if dtype is None:
        return None
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"not a dtype: {dtype!r}") from e


import builtins as _b  # noqa: E402

builtins_float, builtins_int, builtins_bool = _b.float, _b.int, _b.bool
