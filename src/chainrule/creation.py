"""Tensor factories: zeros, ones, full, arange, linspace, eye, rand, randn, ...

Each takes PyTorch's keywords: ``dtype``, ``device``, ``requires_grad``, and where PyTorch has
them ``layout`` and ``pin_memory``. ``device`` (or, when None, the default device) must name the
CPU; ``layout`` must be ``cr.strided`` and ``pin_memory`` False (see ``devices.py``).
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate as check
from . import devices, dtypes
from .devices import strided
from .random import _gen
from .tensor import Tensor, _to_array, _wrap

_DEVICES = devices._STATE  # read on every call: is a default device set?


def _place(device, layout, pin_memory, where: str) -> None:
    """Check a factory's placement arguments; the usual call (none given) costs one lookup."""
    if (device is not None or pin_memory or _DEVICES.current is not None
            or (layout is not strided and layout is not None)):
        devices.check_factory(device, layout, pin_memory, where)


def _shape(size, where: str, dtype=np.float64):
    """A factory's ``size`` (ints, or one sequence of them) as a shape whose array fits in
    memory; a clear error naming ``where`` otherwise."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Tensor)):
        size = size[0]
    shape = check.shape(size, where, "size")
    check.alloc(shape, dtype, where)
    return shape


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
    dt = _dt(dtype)
    return _make(np.zeros(_shape(size, "zeros", dt), dtype=dt), requires_grad)


def ones(*size, dtype=None, layout=strided, device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor of ones. Example: ``cr.ones(2, 3)``."""
    _place(device, layout, pin_memory, "ones()")
    dt = _dt(dtype)
    return _make(np.ones(_shape(size, "ones", dt), dtype=dt), requires_grad)


def empty(*size, dtype=None, layout=strided, device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor (contents arbitrary)."""
    _place(device, layout, pin_memory, "empty()")
    dt = _dt(dtype)
    return _make(np.empty(_shape(size, "empty", dt), dtype=dt), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False, *, layout=strided,
         device=None, pin_memory: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``. Example: ``cr.full((2,), 7.0)``."""
    _place(device, layout, pin_memory, "full()")
    fill_value = _fill(fill_value, "full")
    if dtype is None:
        kind = np.asarray(fill_value).dtype.kind  # NumPy scalars count like Python numbers
        dtype = (np.bool_ if kind == "b" else np.int64 if kind in "iu" else
                 dtypes.get_default_dtype() if kind == "f" else np.asarray(fill_value).dtype)
    dt = dtypes.as_dtype(dtype)
    return _make(np.full(_shape((size,), "full", dt), fill_value, dtype=dt), requires_grad)


def _fill(value, where: str):
    """A fill value: a number (bools included) or a one-element tensor; never a string, whose
    array would hold text."""
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise ValueError(f"{where}(): argument 'fill_value' must be a number or a "
                             f"one-element tensor, got a tensor of shape {value.shape}")
        return value.item()
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return value
    raise TypeError(check.say("not_number", op=where, arg="fill_value", got=check._got(value)))


def _like(t: Tensor, dtype, device, layout, pin_memory, where: str) -> np.dtype:
    check.strict_tensor(t, where.rstrip("()"), "input")
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
    fill_value = _fill(fill_value, "full_like")
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
    start, end, step = (_bound(v, "arange", n) for v, n in ((start, "start"), (end, "end"),
                                                             (step, "step")))
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    if step == 0:
        raise ValueError("arange(): argument 'step' must be nonzero, got 0")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ValueError(f"arange(): unsupported range {start} -> {end} (step {step}): the "
                         "bounds and the step must be finite")
    if (end - start) * step < 0:  # PyTorch refuses a range the step never reaches
        raise ValueError(f"arange(): the range {start} -> {end} goes against the sign of step "
                         f"{step}")
    dt = dtypes.as_dtype(dtype)
    check.alloc((max(math.ceil((end - start) / step), 0),), dt, "arange")
    return _make(np.arange(start, end, step, dtype=dt), requires_grad)


def _bound(v, where: str, arg: str):
    """A range bound or step: an int or float (a one-element tensor is read)."""
    if isinstance(v, Tensor):
        v = check.number(v, where, arg)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                               np.floating)):
        raise TypeError(check.say("not_number", op=where, arg=arg, got=check._got(v)))
    return v


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, *,
             layout=strided, device=None, pin_memory: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    _place(device, layout, pin_memory, "linspace()")
    dt = _dt(dtype)
    return _make(_linspace(start, end, steps, dt, "linspace"), requires_grad)


def _linspace(start, end, steps, dt, where: str) -> np.ndarray:
    """PyTorch's formula: the first half counts up from ``start``, the second half down from
    ``end`` (so the last value is ``end`` exactly, and non-finite bounds give PyTorch's NaNs)."""
    start = check.number(start, where, "start")
    end = check.number(end, where, "end")
    steps = check.integer(steps, where, "steps", low=0)
    check.alloc((steps,), dt, where)
    i = np.arange(steps, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        half = steps // 2
        out = np.where(i < half, start + i * step, end - (steps - 1 - i) * step)
        if steps == 1:
            out = np.full(1, start)
        return out.astype(dt)


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
    base = check.number(base, "logspace", "base")
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.power(np.float64(base), _linspace(start, end, steps, np.dtype(np.float64),
                                                      "logspace"))
    if dt.kind in "iu":
        values = np.rint(values)
    return _make(values.astype(dt), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, *,
        layout=strided, device=None, pin_memory: bool = False) -> Tensor:
    """The identity matrix (n x m)."""
    _place(device, layout, pin_memory, "eye()")
    n = check.integer(n, "eye", "n", low=0)
    m = n if m is None else check.integer(m, "eye", "m", low=0)
    dt = _dt(dtype)
    check.alloc((n, m), dt, "eye")
    return _make(np.eye(n, m, dtype=dt), requires_grad)


def rand(*size, generator=None, dtype=None, layout=strided, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    _place(device, layout, pin_memory, "rand()")
    dt = _random_float(dtype, "rand")
    return _make(_gen(generator).random(_shape(size, "rand")).astype(dt), requires_grad)


def randn(*size, generator=None, dtype=None, layout=strided, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples."""
    _place(device, layout, pin_memory, "randn()")
    dt = _random_float(dtype, "randn")
    return _make(_gen(generator).standard_normal(_shape(size, "randn")).astype(dt),
                 requires_grad)


def _random_float(dtype, where: str) -> np.dtype:
    """The dtype of uniform or normal samples: a floating one (PyTorch refuses the others)."""
    dt = _dt(dtype)
    if dt.kind == "c":
        check.real(_wrap(np.zeros(0, dt)), where, "dtype")
    if dt.kind != "f":
        raise TypeError(f"{where}(): samples need a floating-point dtype, got {dt}")
    return dt


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
    low, high = check.integer(low, "randint", "low"), check.integer(high, "randint", "high")
    if low >= high:
        raise ValueError(f"randint(): argument 'low' must be less than 'high', got low={low} "
                         f">= high={high}")
    shape = _shape((size,), "randint", np.int64)
    return _make(_gen(generator).integers(low, high, size=shape).astype(
        dtypes.as_dtype(dtype) or np.int64), requires_grad)


def randperm(n: int, generator=None, *, dtype=None, layout=strided, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype``)."""
    _place(device, layout, pin_memory, "randperm()")
    n = check.integer(n, "randperm", "n", low=0)
    check.alloc((n,), np.int64, "randperm")
    return _make(_gen(generator).permutation(n).astype(dtypes.as_dtype(dtype) or np.int64),
                 requires_grad)


def rand_like(input: Tensor, generator=None, *, dtype=None, layout=None,  # noqa: A002
              device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1) shaped like ``input``."""
    dt = _random_float(_like(input, dtype, device, layout, pin_memory, "rand_like()"),
                       "rand_like")
    return rand(*input.shape, dtype=dt, generator=generator, requires_grad=requires_grad)


def randn_like(input: Tensor, generator=None, *, dtype=None, layout=None,  # noqa: A002
               device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples shaped like ``input``."""
    dt = _random_float(_like(input, dtype, device, layout, pin_memory, "randn_like()"),
                       "randn_like")
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
    low = check.integer(low, "randint_like", "low")
    high = check.integer(high, "randint_like", "high")
    if low >= high:
        raise ValueError(f"randint_like(): argument 'low' must be less than 'high', got "
                         f"low={low} >= high={high}")
    if dt.kind == "b" or dt.kind == "c":
        raise TypeError(f"randint_like(): needs an integer or floating dtype, got {dt}")
    return randint(low, high, input.shape, generator=generator, dtype=dt,
                   requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> cr.from_numpy(np.arange(3)).tolist()
        [0, 1, 2]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): argument 'array' must be a NumPy array, got "
                        f"{type(array).__name__}")
    if array.dtype.kind not in "biufc":
        raise TypeError(f"from_numpy(): cannot make a tensor of a NumPy array of {array.dtype}; "
                        "only numbers and booleans")
    return _wrap(array)


def as_tensor(data, dtype=None, device=None) -> Tensor:  # PyTorch's signature
    """Like ``tensor`` but shares memory with a NumPy array when the dtype allows."""
    if device is not None or _DEVICES.current is not None:
        devices.check(device, "as_tensor()")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufc" and (
            dtype is None or np.dtype(dtype) == data.dtype):
        return _wrap(data)
    return _wrap(_to_array(data, dtype, "as_tensor"))
