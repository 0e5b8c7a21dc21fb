"""Argument handling shared by the op wrappers: operand conversion and axis normalisation."""

from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _to_array, _wrap


def const(v, like: Tensor | None, op: str) -> Tensor:
    """Turn a non-tensor operand into a constant tensor, PyTorch's type-promotion style."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (numbers.Number, np.generic)) and not isinstance(v, np.ndarray):
        if like is None:
            return _wrap(_to_array(v))
        kind = like.data.dtype.kind
        if isinstance(v, (bool, np.bool_)):
            dt = like.data.dtype
        elif kind in "fc":
            dt = like.data.dtype
        elif isinstance(v, (float, np.floating)):
            dt = dtypes.get_default_dtype()
        elif kind == "b":
            dt = np.dtype(np.int64)
        else:
            dt = like.data.dtype
        return _wrap(np.asarray(v, dtype=dt))
    if isinstance(v, np.ndarray):
        return _wrap(v)
    if isinstance(v, (list, tuple)):
        return _wrap(_to_array(v))
    other = type(like).__name__ if like is not None else "Tensor"
    raise TypeError(
        f"{op}(): unsupported operand types {other} and {type(v).__name__}; pass a "
        "chainrule Tensor, a NumPy array or a number.")


def as_tensor(x, op: str) -> Tensor:
    if type(x) is Tensor:
        return x
    if isinstance(x, Tensor):
        return x
    return const(x, None, op)


def pair(a, b, op: str):
    if type(a) is Tensor:
        if type(b) is Tensor:
            return a, b
        return a, const(b, a, op)
    if isinstance(b, Tensor):
        return const(a, b, op), b
    return as_tensor(a, op), as_tensor(b, op)


def norm_axis(dim, ndim: int, op: str):
    """``dim`` (int, tuple or None) as a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}(): dim {d} is out of range for a tensor with {ndim} dims")
        out.append(d % max(ndim, 1) if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}(): dim {dim} repeats an axis")
    return tuple(sorted(out)) if ndim else ()


def norm_dim(dim: int, ndim: int, op: str) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}(): dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % ndim
