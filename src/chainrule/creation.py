"""Tensor factories: zeros, ones, full, arange, linspace, eye, rand, randn, ...

Each takes PyTorch's keywords: ``dtype``, ``device``, ``requires_grad``, and where PyTorch has
them ``layout`` and ``pin_memory``. ``device`` (or, when None, the default device) must name the
CPU; ``layout`` must be ``cr.strided`` and ``pin_memory`` False (see ``devices.py``).
"""

from __future__ import annotations

import numpy as np

from . import devices, dtypes
from .devices import strided
from .random import _gen
from .tensor import Tensor, _wrap

_DEVICES = devices._STATE  # read on every call: is a default device set?


def _place(device, layout, pin_memory, where: str) -> None:
    """Check a factory's placement arguments; the usual call (none given) costs one lookup."""
    if (device is not None or pin_memory or _DEVICES.current is not None
            or (layout is not strided and layout is not None)):
        devices.check_factory(device, layout, pin_memory, where)


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


def zeros(*size, dtype=None, layout=strided, device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """A tensor of zeros. Example: ``cr.zeros(2, 3)``."""
    _place(device, layout, pin_memory, "zeros()")
    return _make(np.zeros(_shape(size), dtype=_dt(dtype)), requires_grad)


def ones(*size, dtype=None, layout=strided, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor of ones. Example: ``cr.ones(2, 3)``."""
    _place(device, layout, pin_memory, "ones()")
    return _make(np.ones(_shape(size), dtype=_dt(dtype)), requires_grad)


def empty(*size, dtype=None, layout=strided, device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor (contents arbitrary)."""
    _place(device, layout, pin_memory, "empty()")
    return _make(np.empty(_shape(size), dtype=_dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False, *, layout=strided,
         device=None, pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``. Example: ``cr.full((2,), 7.0)``."""
    _place(device, layout, pin_memory, "full()")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind  # NumPy scalars count like Python numbers
        dtype = (np.bool_ if kind == "b" else np.int64 if kind in "iu" else
                 dtypes.get_default_dtype() if kind == "f" else np.asarray(fill_value).dtype)
    return _make(np.full(_shape((size,)), fill_value, dtype=dtypes.as_dtype(dtype)),
                 requires_grad)


def _like(t: Tensor, dtype, device, layout, pin_memory, where: str) -> np.dtype:
    _place(device, layout, pin_memory, where)
    return dtypes.as_dtype(dtype) or t.dtype


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False, *,  # noqa: A002
               layout=None, device=None, pin_memory: bool = False) -> Tensor:
    """Zeros shaped like ``input`` (its dtype unless ``dtype``). Example: ``cr.zeros_like(x)``."""
    dt = _like(input, dtype, device, layout, pin_memory, "zeros_like()")
    return _make(np.zeros(input.shape, dtype=dt), requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False, *,  # noqa: A002
              layout=None, device=None, pin_memory: bool = False) -> Tensor:
    """Ones shaped like ``input``. Example: ``cr.ones_like(x)``."""
    dt = _like(input, dtype, device, layout, pin_memory, "ones_like()")
    return _make(np.ones(input.shape, dtype=dt), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False,  # noqa: A002
              *, layout=None, device=None, pin_memory: bool = False) -> Tensor:
    """``fill_value`` shaped like ``input``. Example: ``cr.full_like(x, 7.0)``."""
    dt = _like(input, dtype, device, layout, pin_memory, "full_like()")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _make(np.full(input.shape, fill_value, dtype=dt), requires_grad)


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False, *,  # noqa: A002
               layout=None, device=None, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor shaped like ``input``."""
    dt = _like(input, dtype, device, layout, pin_memory, "empty_like()")
    return _make(np.empty(input.shape, dtype=dt), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, *,
           layout=strided, device=None, pin_memory: bool = False) -> Tensor:
    """Evenly spaced values in [start, end). Integer arguments give int64.

    Example:
        >>> import chainrule as cr
        >>> cr.arange(3).tolist()
        [0, 1, 2]
    """
    _place(device, layout, pin_memory, "arange()")
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, *,
             layout=strided, device=None, pin_memory: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    _place(device, layout, pin_memory, "linspace()")
    return _make(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None,
             requires_grad: bool = False, *, layout=strided, device=None,
             pin_memory: bool = False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from start to end inclusive.

    Example:
        >>> import chainrule as cr
        >>> cr.logspace(0, 2, 3).tolist()
        [1.0, 10.0, 100.0]
    """
    _place(device, layout, pin_memory, "logspace()")
    dt = _dt(dtype)
    # computed in float64 and rounded once, so integer dtypes get exact powers
    values = np.power(np.float64(base), np.linspace(start, end, steps, dtype=np.float64))
    if dt.kind in "iu":
        values = np.rint(values)
    return _make(values.astype(dt), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, *,
        layout=strided, device=None, pin_memory: bool = False) -> Tensor:
    """The identity matrix (n x m)."""
    _place(device, layout, pin_memory, "eye()")
    return _make(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, layout=strided, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    _place(device, layout, pin_memory, "rand()")
    dt = _dt(dtype)
    return _make(_gen(generator).random(_shape(size)).astype(dt), requires_grad)


def randn(*size, generator=None, dtype=None, layout=strided, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples."""
    _place(device, layout, pin_memory, "randn()")
    dt = _dt(dtype)
    return _make(_gen(generator).standard_normal(_shape(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), dtype=None, generator=None, *, layout=strided,
            device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Random integers in [low, high); ``randint(high, size)`` as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.randint(10, (2, 3)).shape
        (2, 3)
    """
    _place(device, layout, pin_memory, "randint()")
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    return _make(_gen(generator).integers(low, high, size=tuple(size)).astype(
        dtypes.as_dtype(dtype) or np.int64), requires_grad)


def randperm(n: int, generator=None, *, dtype=None, layout=strided, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype``)."""
    _place(device, layout, pin_memory, "randperm()")
    return _make(_gen(generator).permutation(n).astype(dtypes.as_dtype(dtype) or np.int64),
                 requires_grad)


def rand_like(input: Tensor, generator=None, *, dtype=None, layout=None,  # noqa: A002
              device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1) shaped like ``input``."""
    dt = _like(input, dtype, device, layout, pin_memory, "rand_like()")
    return rand(*input.shape, dtype=dt, generator=generator, requires_grad=requires_grad)


def randn_like(input: Tensor, generator=None, *, dtype=None, layout=None,  # noqa: A002
               device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples shaped like ``input``."""
    dt = _like(input, dtype, device, layout, pin_memory, "randn_like()")
    return randn(*input.shape, dtype=dt, generator=generator, requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None,  # noqa: A002
                 dtype=None, layout=None, device=None, requires_grad: bool = False,
                 pin_memory: bool = False) -> Tensor:
    """Random integers in [low, high) shaped like ``input`` (its dtype unless ``dtype``);
    ``randint_like(input, high)`` as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.randint_like(cr.zeros(2, 3), 5).shape
        (2, 3)
    """
    dt = _like(input, dtype, device, layout, pin_memory, "randint_like()")
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dt,
                   requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy)."""
    return _wrap(np.asarray(array))


def as_tensor(data, dtype=None, device=None) -> Tensor:  # PyTorch's signature
    """Like ``tensor`` but shares memory with a NumPy array when the dtype allows."""
    if device is not None or _DEVICES.current is not None:
        devices.check(device, "as_tensor()")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or np.dtype(dtype) == data.dtype):
        return _wrap(data)
    return Tensor(data, dtype=dtype)
