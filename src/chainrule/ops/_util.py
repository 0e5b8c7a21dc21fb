"""Argument handling shared by the op wrappers: operand conversion and axis normalisation."""

from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _to_array, _wrap

_NUMERIC = "biufc"
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def result_dtype(a: Tensor, b: Tensor) -> np.dtype:
    """PyTorch's type promotion for two tensors.

    The higher category (bool < integer < floating < complex) wins outright, so an int64 tensor
    plus a float32 tensor is float32 (NumPy would give float64). Within a category a 0-d tensor
    does not widen a tensor with dims; otherwise the wider type wins.
    """
    da, db = a._data.dtype, b._data.dtype
    if _CATEGORY.get(da.kind, 4) == _CATEGORY.get(db.kind, 4):
        if a._data.ndim == 0 and b._data.ndim:
            return db
        if b._data.ndim == 0 and a._data.ndim:
            return da
    return promote_dtypes(da, db)


def promote_dtypes(da: np.dtype, db: np.dtype) -> np.dtype:
    """The common dtype of two tensors with dims: the higher category wins, else the wider."""
    ca, cb = _CATEGORY.get(da.kind, 4), _CATEGORY.get(db.kind, 4)
    if ca != cb:
        return da if ca > cb else db
    return np.promote_types(da, db)


def promote(a: Tensor, b: Tensor) -> tuple:
    """Both operands converted to their common dtype (differentiably between float types)."""
    dt = result_dtype(a, b)
    from .elementwise import cast

    return (a if a._data.dtype == dt else cast(a, dt)), (b if b._data.dtype == dt else cast(b, dt))


def to_float(x: Tensor) -> Tensor:
    """``x`` in the default float dtype (ops such as ``exp`` compute integers as floats)."""
    from .elementwise import cast

    return cast(x, dtypes.get_default_dtype())


def const(v, like: Tensor | None, op: str, arg: str = "other") -> Tensor:
    """Turn a non-tensor operand into a constant tensor, PyTorch's type-promotion style."""
    if isinstance(v, Tensor):
        return v
    tv = type(v)
    if (tv is float or tv is int) and like is not None and like._data.dtype.kind in "fc":
        # The common case (``x * 0.5``, ``lr * grad``): the tensor's dtype, no ABC checks.
        return _wrap(np.asarray(v, dtype=like._data.dtype))
    if isinstance(v, (numbers.Number, np.generic)) and not isinstance(v, np.ndarray):
        if like is None:
            return _wrap(_to_array(v))
        kind = like._data.dtype.kind
        if isinstance(v, (bool, np.bool_)):
            dt = like._data.dtype
        elif kind in "fc":
            dt = like._data.dtype
        elif isinstance(v, (float, np.floating)):
            dt = dtypes.get_default_dtype()
        elif kind == "b":
            dt = np.dtype(np.int64)
        else:
            dt = like._data.dtype
        return _wrap(np.asarray(v, dtype=dt))
    if isinstance(v, (np.ndarray, list, tuple)):
        try:
            arr = v if isinstance(v, np.ndarray) else _to_array(v)
        except TypeError:
            arr = None
        if arr is not None and arr.dtype.kind in _NUMERIC:
            return _wrap(arr)
    other = type(like).__name__ if like is not None else "Tensor"
    what = type(v).__name__ + (f" of {v.dtype}" if isinstance(v, np.ndarray) else "")
    raise TypeError(
        f"{op}(): unsupported operand types {other} and {what}: argument '{arg}' must be a "
        "chainrule Tensor, a NumPy array of numbers or a number.")


def as_tensor(x, op: str, arg: str = "input") -> Tensor:
    if type(x) is Tensor:
        return x
    if isinstance(x, Tensor):
        return x
    return const(x, None, op, arg)


def pair(a, b, op: str, names: tuple = ("input", "other")):
    """Two operands as tensors of one dtype, PyTorch's promotion rules (see ``result_dtype``)."""
    if type(a) is Tensor:
        if type(b) is not Tensor:
            b = const(b, a, op, names[1])
    elif isinstance(b, Tensor):
        a = const(a, b, op, names[0])
    else:
        a, b = as_tensor(a, op, names[0]), as_tensor(b, op, names[1])
    if a._data.dtype != b._data.dtype:
        return promote(a, b)
    return a, b


def real_only(x: Tensor, op: str, arg: str = "input") -> Tensor:
    """``x`` unless it is complex: chainrule computes with real dtypes only."""
    if x._data.dtype.kind == "c":
        from .._validate import real

        real(x, op, arg)
    return x


def zeros_like_grad(F, g):
    """Exact zeros shaped like the gradient ``g`` (``g * 0`` would turn an inf into NaN)."""
    if F.differentiable:
        return _wrap(np.zeros(g.shape, dtype=g.dtype))
    return np.zeros(g.shape, dtype=g.dtype)


def norm_axis(dim, ndim: int, op: str):
    """``dim`` (int, tuple or None) as a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in dim):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}(): dim must be an int or a tuple of ints, got {dim!r}")
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
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): dim must be an int, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}(): dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % ndim


def like_one(x, value: float):
    """A one-element array shaped and typed like ``x`` holding ``value`` (rounded once).

    On one element NumPy's per-call cost (about a microsecond per ufunc) is ten times the
    arithmetic, so ops with a one-element fast path compute in Python floats (double precision)
    and round once at the end, which is at least as accurate as the float32 ufunc chain.
    """
    if type(x) is not np.ndarray:  # a NumPy scalar (a reduction's gradient may be one)
        return np.asarray(value, dtype=x.dtype)
    out = x.copy()
    if x.ndim < len(_FIRST):
        out[_FIRST[x.ndim]] = value  # a full integer index is the cheapest element write
    else:
        out[...] = value
    return out


_FIRST = tuple((0,) * n for n in range(6))


def dense_order(x: np.ndarray):
    """The axis order in which ``x`` is C-contiguous (``x.transpose(order)`` is), or None.

    Ops may return arrays stored in another axis order (a convolution's output is stored batch
    innermost); fast paths that need one flat run over the memory use this to find it.
    """
    strides = x.strides
    order = tuple(sorted(range(x.ndim), key=lambda i: -abs(strides[i])))
    if x.transpose(order).flags.c_contiguous:
        return order
    return None


def inverse_order(order) -> tuple:
    """The permutation that undoes ``transpose(order)``."""
    inv = [0] * len(order)
    for i, axis in enumerate(order):
        inv[axis] = i
    return tuple(inv)


def in_layout_of(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``a`` (shaped like ``ref``) stored in ``ref``'s axis order: ``a`` itself when it already
    is, else one copy. Elementwise loops over two arrays stored in different orders run
    several times slower than over two in the same order (strided inner loops)."""
    if ref.flags.c_contiguous or a.size < 1024:
        return a
    order = dense_order(ref)
    if order is None or dense_order(a) == order:
        return a
    out = np.empty(tuple(ref.shape[i] for i in order), a.dtype).transpose(inverse_order(order))
    out[...] = a
    return out
