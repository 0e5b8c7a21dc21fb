"""Tensor factories: zeros, ones, full, arange, linspace, eye, rand, randn, ..."""

from __future__ import annotations

import numpy as np

from . import dtypes
from .random import _gen
from .tensor import Tensor, _wrap


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if int(s) < 0:
            raise ValueError(f"negative dimension {s} in size {tuple(size)}")
    return tuple(int(s) for s in size)


def _make(array, requires_grad) -> Tensor:
    t = _wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype):
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros. Example: ``cr.zeros(2, 3)``."""
    return _make(np.zeros(_shape(size), dtype=_dt(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones. Example: ``cr.ones(2, 3)``."""
    return _make(np.ones(_shape(size), dtype=_dt(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (contents arbitrary)."""
    return _make(np.empty(_shape(size), dtype=_dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``. Example: ``cr.full((2,), 7.0)``."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind  # NumPy scalars count like Python numbers
        dtype = (np.bool_ if kind == "b" else np.int64 if kind in "iu" else
                 dtypes.get_default_dtype() if kind == "f" else np.asarray(fill_value).dtype)
    return _make(np.full(_shape((size,)), fill_value, dtype=dtypes.as_dtype(dtype)),
                 requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(t.shape, dtype=dtypes.as_dtype(dtype) or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(t.shape, dtype=dtypes.as_dtype(dtype) or t.dtype), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(np.full(t.shape, fill_value, dtype=dtypes.as_dtype(dtype) or t.dtype),
                 requires_grad)


def empty_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(np.empty(t.shape, dtype=dtypes.as_dtype(dtype) or t.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, end). Integer arguments give int64.

    Example:
        >>> import chainrule as cr
        >>> cr.arange(3).tolist()
        [0, 1, 2]
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    return _make(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n x m)."""
    return _make(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def rand(*size, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dt = _dt(dtype)
    return _make(_gen(generator).random(_shape(size)).astype(dt), requires_grad)


def randn(*size, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    dt = _dt(dtype)
    return _make(_gen(generator).standard_normal(_shape(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), dtype=None, generator=None) -> Tensor:
    """Random integers in [low, high); ``randint(high, size)`` as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.randint(10, (2, 3)).shape
        (2, 3)
    """
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _wrap(_gen(generator).integers(low, high, size=tuple(size)).astype(
        dtypes.as_dtype(dtype) or np.int64))


def randperm(n: int, generator=None) -> Tensor:
    """A random permutation of 0..n-1."""
    return _wrap(_gen(generator).permutation(n).astype(np.int64))


def rand_like(t: Tensor, generator=None) -> Tensor:
    return rand(*t.shape, dtype=t.dtype, generator=generator)


def randn_like(t: Tensor, generator=None) -> Tensor:
    return randn(*t.shape, dtype=t.dtype, generator=generator)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy)."""
    return _wrap(np.asarray(array))


def as_tensor(data, dtype=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array when the dtype allows."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return _wrap(data)
    return Tensor(data, dtype=dtype)
