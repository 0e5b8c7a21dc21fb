"""Argument checks shared by every public function: one helper per kind of argument.

Each helper takes the value, the public function's name (``op``) and the argument's name
(``arg``), returns the value in the form the function computes with, and otherwise raises a
``TypeError`` (wrong kind of thing), ``ValueError`` (right kind, wrong value) or ``IndexError``
(an index or dim out of range) whose message, from the catalogue ``chainrule.messages.errors``,
names both. Functions check their arguments with these before any work, so bad input never
reaches NumPy (no raw NumPy traceback), never wraps silently (negative indices) and never
starts an allocation the machine cannot hold.

The fast path of every helper is one ``type`` test: a Tensor, an int or a float that is fine
costs a few tens of nanoseconds.

Example:
    >>> from chainrule import _validate as check
    >>> check.integer(3, "arange", "step", low=1)
    3
    >>> check.integer(0, "arange", "step", low=1)
    Traceback (most recent call last):
    ...
    ValueError: arange(): argument 'step' must be an int >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Sequence

import numpy as np

from .autograd.graph import OutOfMemoryError
from .messages.errors import say  # noqa: F401  (re-exported for the ops)
from .tensor import Tensor, _to_array, _wrap


class IntegerDivisionError(RuntimeError, ZeroDivisionError):
    """Integer division by zero (PyTorch: ``RuntimeError: ZeroDivisionError``)."""


class IndexOutOfRangeError(IndexError, RuntimeError):
    """An index tensor holds an entry outside its dimension: an ``IndexError``, and a
    ``RuntimeError`` as PyTorch's gather, index_select and scatter raise."""


def _got(v) -> str:
    """How a bad value is shown: its type, and the value itself when short."""
    if isinstance(v, Tensor):
        return f"a {v.dtype} tensor of shape {tuple(v.shape)}"
    if isinstance(v, np.ndarray):
        return f"a NumPy array of {v.dtype}"
    if v is None:
        return "None (NoneType)"
    if isinstance(v, (bool, numbers.Number, str)):
        text = repr(v)
        return f"{type(v).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    return type(v).__name__


# ---- tensors -----------------------------------------------------------------------------------


def tensor(x, op: str, arg: str = "input") -> Tensor:
    """``x`` as a Tensor: a Tensor itself, or numbers, nested lists of numbers or a numeric
    NumPy array converted (chainrule accepts them where PyTorch wants a Tensor). Anything else
    (None, strings, ragged lists, object arrays) is a ``TypeError``.

    Example:
        >>> tensor([1.0, 2.0], "exp", "input").tolist()
        [1.0, 2.0]
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.generic, np.ndarray, list, tuple)) and \
            not isinstance(x, str):
        try:
            return _wrap(_to_array(x))
        except (TypeError, ValueError, OverflowError):
            pass
        raise TypeError(say("not_values", op=op, arg=arg, got=_got(x)))
    raise TypeError(say("not_tensor", op=op, arg=arg, got=_got(x)))


def strict_tensor(x, op: str, arg: str = "input") -> Tensor:
    """``x`` when it is a Tensor; a ``TypeError`` naming ``op`` and ``arg`` otherwise."""
    if isinstance(x, Tensor):
        return x
    raise TypeError(say("not_tensor", op=op, arg=arg, got=_got(x)))


def real(x: Tensor, op: str, arg: str = "input") -> Tensor:
    """``x`` unless it is complex (chainrule computes with real dtypes only)."""
    if x._data.dtype.kind == "c":
        from ._refused import NotSupportedError

        raise NotSupportedError(say("complex", op=op, arg=arg, dtype=x.dtype))
    return x


def floating(x, op: str, arg: str = "input") -> Tensor:
    """``x`` as a floating-point Tensor; integer, bool and complex tensors are refused, as
    PyTorch's float-only kernels refuse them ("not implemented for 'Long'").

    Example:
        >>> import chainrule as cr
        >>> floating(cr.tensor([1, 2]), "gelu", "input")
        Traceback (most recent call last):
        ...
        TypeError: gelu(): argument 'input' must be a floating-point tensor, got int64 \
(convert it with .float(), as PyTorch also requires)
    """
    t = x if isinstance(x, Tensor) else tensor(x, op, arg)
    kind = t._data.dtype.kind
    if kind != "f":
        if kind == "c":
            real(t, op, arg)
        raise TypeError(say("dtype_float", op=op, arg=arg, dtype=t.dtype))
    return t


def floating_or_none(x, op: str, arg: str):
    return None if x is None else floating(x, op, arg)


def numeric(x, op: str, arg: str = "input") -> Tensor:
    """``x`` as a real Tensor of numbers (bool refused: PyTorch's arithmetic refuses it)."""
    t = x if isinstance(x, Tensor) else tensor(x, op, arg)
    kind = t._data.dtype.kind
    if kind not in "fiu":
        if kind == "b":
            raise TypeError(say("dtype_bool", op=op, arg=arg))
        real(t, op, arg)
    return t


def index_tensor(x, op: str, arg: str = "index") -> Tensor:
    """``x`` as an integer Tensor (PyTorch's index arguments are int64)."""
    t = x if isinstance(x, Tensor) else tensor(x, op, arg)
    if t._data.dtype.kind not in "iu":
        raise TypeError(say("dtype_index", op=op, arg=arg, dtype=t.dtype))
    return t


def same_dtype(a: Tensor, b: Tensor, op: str, arg: str, other: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise TypeError(say("dtype_same", op=op, arg=arg, dtype=a.dtype, other=other,
                            other_dtype=b.dtype))


def indices_in_range(idx: np.ndarray, size: int, op: str, arg: str = "index",
                     dim: int = 0) -> np.ndarray:
    """``idx`` when every entry is in [0, size): negative entries are refused (NumPy would wrap
    them around to the end, PyTorch refuses them), and so are entries past the end."""
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise IndexOutOfRangeError(say("index_range", op=op, arg=arg, index=bad, dim=dim,
                                           size=size, last=size - 1))
    return idx


def rank(x: Tensor, ranks: Sequence[int], op: str, arg: str = "input") -> Tensor:
    """``x`` when its number of dims is one of ``ranks``."""
    if x._data.ndim not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(say("rank", op=op, arg=arg, want=f"{want}", shape=tuple(x.shape)))
    return x


def broadcast(op: str, **named) -> tuple:
    """The broadcast shape of the named tensors (or shapes); a ``ValueError`` naming them."""
    shapes = [tuple(v.shape) if hasattr(v, "shape") else tuple(v) for v in named.values()]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        names = ", ".join(f"'{n}'" for n in named)
        raise ValueError(say("broadcast", op=op, names=names,
                             shapes=", ".join(map(str, shapes)))) from None


def nonempty(x: Tensor, op: str, arg: str, why: str) -> Tensor:
    if x._data.size == 0:
        raise ValueError(say("empty", op=op, arg=arg, shape=tuple(x.shape), why=why))
    return x


# ---- numbers -----------------------------------------------------------------------------------

_index = operator.index


def integer(v, op: str, arg: str, *, low: int | None = None, high: int | None = None) -> int:
    """``v`` as an int (a Python or NumPy integer, or a one-element integer Tensor), within
    [low, high] when given. Floats, strings and None are a ``TypeError``.

    Example:
        >>> integer(2, "topk", "k", low=0)
        2
    """
    if type(v) is not int:
        if isinstance(v, Tensor) and v._data.dtype.kind in "iub" and v._data.size == 1:
            v = int(v._data.reshape(-1)[0])
        elif isinstance(v, (float, str, bytes)) or v is None or isinstance(v, np.floating):
            raise TypeError(say("not_int", op=op, arg=arg, got=_got(v)))
        else:
            try:
                v = _index(v)
            except TypeError:
                raise TypeError(say("not_int", op=op, arg=arg, got=_got(v))) from None
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(say("range", op=op, arg=arg, want=_range_words(low, high), got=v))
    return v


def optional_integer(v, op: str, arg: str, **bounds) -> int | None:
    return None if v is None else integer(v, op, arg, **bounds)


def _range_words(low, high) -> str:
    if low is not None and high is not None:
        return f"an int in [{low}, {high}]"
    if low is not None:
        return f"an int >= {low}"
    return f"an int <= {high}"


def ints(v, n: int, op: str, arg: str, *, low: int | None = None) -> tuple:
    """``v`` (an int, or a sequence of ``n`` ints; ``n = 0`` allows any length) as a tuple of
    ``n`` ints, each at least ``low``: kernel sizes, strides, paddings, shapes.

    Example:
        >>> ints(2, 2, "max_pool2d", "kernel_size", low=1)
        (2, 2)
    """
    if type(v) is int or isinstance(v, (np.integer, Tensor)) and not isinstance(v, bool):
        one = integer(v, op, arg, low=low)
        return (one,) * max(n, 1)
    if isinstance(v, (list, tuple, Sequence)) and not isinstance(v, (str, bytes)) or \
            isinstance(v, np.ndarray):
        items = list(v)
        if n and len(items) == 1 and n > 1:
            items = items * n
        if n and len(items) != n or any(isinstance(e, (bool, float, str)) or e is None or
                                        isinstance(e, (list, tuple)) for e in items):
            raise TypeError(_not_ints(op, arg, n, _got_seq(v)))
        return tuple(integer(e, op, arg, low=low) for e in items)
    raise TypeError(_not_ints(op, arg, n, _got(v)))


def _not_ints(op: str, arg: str, n: int, got: str) -> str:
    if n:
        return say("not_ints", op=op, arg=arg, n=n, got=got)
    return say("not_int_seq", op=op, arg=arg, got=got)


def _got_seq(v) -> str:
    text = repr(tuple(v)) if not isinstance(v, np.ndarray) else repr(v.tolist())
    return text if len(text) <= 60 else type(v).__name__


def number(v, op: str, arg: str, *, low: float | None = None, high: float | None = None,
           finite: bool = False, low_open: bool = False, high_open: bool = False) -> float:
    """``v`` as a float (a Python or NumPy number, bools included as in PyTorch, or a
    one-element Tensor), within the given bounds; NaN fails any bound.

    Example:
        >>> number(0.5, "dropout", "p", low=0.0, high=1.0)
        0.5
    """
    if type(v) is not float:
        if isinstance(v, Tensor) and v._data.size == 1 and v._data.dtype.kind in "biuf":
            v = float(v._data.reshape(-1)[0])
        elif isinstance(v, (numbers.Real, np.number, np.bool_)) and not isinstance(v, str):
            try:
                v = float(v)
            except OverflowError:
                raise ValueError(say("range", op=op, arg=arg, want="a float",
                                     got=_got(v))) from None
        else:
            raise TypeError(say("not_number", op=op, arg=arg, got=_got(v)))
    bounded = low is not None or high is not None
    if finite and not math.isfinite(v) or bounded and v != v or \
            low is not None and (v < low or low_open and v == low) or \
            high is not None and (v > high or high_open and v == high):
        raise ValueError(say("range", op=op, arg=arg,
                             want=_interval(low, high, finite, low_open, high_open), got=v))
    return v


def _interval(low, high, finite, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "finite" if finite else "a number"


def flag(v, op: str, arg: str) -> bool:
    """``v`` as a bool: Python and NumPy bools and the ints 0 and 1 (PyTorch's C++ arguments
    accept no more)."""
    if v is True or v is False:
        return v
    if isinstance(v, (np.bool_, numbers.Integral)) and v in (0, 1):
        return bool(v)
    raise TypeError(say("not_bool", op=op, arg=arg, got=_got(v)))


def choice(v, choices: Sequence, op: str, arg: str):
    """``v`` when it is one of ``choices`` (a ``ValueError``, or ``TypeError`` for a value of
    another type than the choices)."""
    try:
        ok = v in choices
    except TypeError:
        ok = False
    if ok and (type(v) is type(choices[0]) or v is None):
        return v
    err = ValueError if isinstance(v, type(choices[0])) else TypeError
    raise err(say("not_choice", op=op, arg=arg, choices=", ".join(map(repr, choices)),
                  got=_got(v)))


def dim(d, ndim: int, op: str, arg: str = "dim") -> int:
    """``d`` as a non-negative dim of a tensor with ``ndim`` dims (a 0-d tensor has dims 0 and
    -1, as in PyTorch)."""
    d = integer(d, op, arg)
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(say("dim_range", op=op, arg=arg, dim=d, ndim=ndim, last=n - 1))
    return d % n


# ---- sizes ---------------------------------------------------------------------------------------


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: trust the allocator
        return 1 << 62


MEMORY_BYTES = _memory_bytes()
_LARGE = 1 << 30  # results past this size are also compared with the memory free right now


def _available_bytes() -> int:
    """The memory the kernel could hand out now (Linux's MemAvailable), else the physical."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return MEMORY_BYTES


def alloc(shape, dtype, op: str, what: str = "the result") -> None:
    """Refuse, before any work, a result that cannot fit in this machine's memory: more than
    its physical memory, or (past 1 GiB) more than the memory available now.

    NumPy would try the allocation (and, with overcommit, swap the machine or be killed while
    writing it); PyTorch fails it with a ``RuntimeError``. Sizes are multiplied in Python
    integers, so shapes with products past 2**63 are caught too.
    """
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes > _LARGE:
        mem = min(MEMORY_BYTES, _available_bytes())
        if nbytes > mem:
            raise OutOfMemoryError(say("too_big", op=op, what=what, count=count,
                                       gib=nbytes / 2 ** 30, mem=mem / 2 ** 30))


def shape(v, op: str, arg: str = "size") -> tuple:
    """A tensor shape from ``v`` (an int, a sequence of ints or a 1-D integer Tensor), every
    size >= 0."""
    if isinstance(v, Tensor) and v._data.ndim == 1:
        v = v._data.tolist()
    return ints(v, 0, op, arg, low=0)


def same_dtype_operands(op: str, names: Sequence[str], *values,
                        optional: Sequence[str] = ("bias",)) -> list:
    """The operands of a product (``matmul``, ``linear``, ``conv2d``...) as real tensors of
    one dtype: PyTorch refuses mixed dtypes there ("expected m1 and m2 to have the same
    dtype") and bool operands, and so does chainrule; None passes through (an absent bias)."""
    out = []
    first = None
    for name, v in zip(names, values):
        if v is None and name in optional:
            out.append(None)
            continue
        t = v if isinstance(v, Tensor) else tensor(v, op, name)
        kind = t._data.dtype.kind
        if kind not in "fiu":
            if kind == "b":
                raise TypeError(say("dtype_bool", op=op, arg=name))
            real(t, op, name)
        if first is None:
            first = (name, t)
        elif t._data.dtype != first[1]._data.dtype:
            raise TypeError(say("dtype_same", op=op, arg=first[0], dtype=first[1].dtype,
                                other=name, other_dtype=t.dtype))
        out.append(t)
    return out


def elementwise(op: str, names: Sequence[str], *values) -> list:
    """The operands of an elementwise formula built from several ops (``lerp``, ``addcmul``,
    losses): tensors (lists and arrays converted) that are real and broadcast together, and
    plain numbers passed through; anything else is a ``TypeError`` naming the argument."""
    out = []
    shapes = {}
    for name, v in zip(names, values):
        if isinstance(v, Tensor):
            t = v
        elif isinstance(v, (numbers.Number, np.number, np.bool_)) and not isinstance(v, str):
            if isinstance(v, complex):
                raise TypeError(say("not_number", op=op, arg=name, got=_got(v)))
            out.append(v)
            continue
        else:
            t = tensor(v, op, name)
        if t._data.dtype.kind == "c":
            real(t, op, name)
        shapes[name] = t._data.shape
        out.append(t)
    if len(shapes) > 1:
        first = next(iter(shapes.values()))
        if any(s != first for s in shapes.values()):
            broadcast(op, **shapes)
    return out


def new_array(fill, shape, dtype, op, arg: str = "size") -> np.ndarray:
    """``fill(shape, dtype=dtype)`` (``np.empty``, ``np.zeros``, ``np.ones``) for a layer's
    parameter or buffer, after checking that ``shape`` holds sizes >= 0 that fit in memory:
    a layer built with a size of -1, 1.5 or 2**62 is refused by name, not by NumPy. ``op`` is
    the function's name, or the layer itself (its class names it)."""
    if not isinstance(op, str):
        op = type(op).__name__
    dims = ints(shape, 0, op, arg, low=0)
    alloc(dims, dtype, op, f"its {arg}")
    return fill(dims, dtype=dtype)
