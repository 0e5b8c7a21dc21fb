"""Ordering: ``sort``, ``argsort``, ``topk``, ``unique``.

Sorted values are a gather of the input at the sorting indices, so their gradient flows back
to the entries they came from (``gather``'s rule). Indices are int64. NaN sorts above every
number (last ascending, first descending), as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor, _wrap
from ._util import as_tensor, norm_dim
from .compose import gather
from .op import public
from .reduce import _ValuesIndices


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sorting indices along ``axis``; descending keeps ties in their input order."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # Sort the reversed array ascending (ties then come latest-first) and reverse the result:
    # descending values, ties earliest-first, NaN first; works for every dtype (no negation).
    n = a.shape[axis]
    rev = np.flip(a, axis)
    return (n - 1) - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)


def _values_at(x: Tensor, dim: int, idx: np.ndarray) -> Tensor:
    if x.requires_grad:
        return gather(x, dim, _wrap(idx))
    return _wrap(np.take_along_axis(x._data, idx, axis=dim))


def _dim_of(x: Tensor, dim, fn: str) -> int:
    return norm_dim(dim, x.ndim or 1, fn)


@public(method=True, kind="indexing")
def sort(input, dim: int = -1, descending: bool = False, *,  # noqa: A002
         stable: bool = False) -> tuple:
    """``(values, indices)`` of ``input`` sorted along ``dim``; ``.values`` / ``.indices``.

    The sort is always stable here (ties keep their order, also descending), which is one of
    the orders PyTorch may return when ``stable=False``.

    Example:
        >>> import chainrule as cr
        >>> v, i = cr.sort(cr.tensor([3.0, 1.0, 2.0]), descending=True)
        >>> v.tolist(), i.tolist()
        ([3.0, 2.0, 1.0], [0, 2, 1])
    """
    x = check.real(as_tensor(input, "sort"), "sort")
    d = _dim_of(x, dim, "sort")
    if x.ndim == 0:
        return _ValuesIndices((x * 1 if x.requires_grad else _wrap(x._data.copy()),
                               _wrap(np.zeros((), np.int64))))
    idx = _order(x._data, d, bool(descending))
    return _ValuesIndices((_values_at(x, d, idx), _wrap(idx.astype(np.int64, copy=False))))


@public(method=True, kind="indexing")
def argsort(input, dim: int = -1, descending: bool = False, *,  # noqa: A002
            stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (stable, as ``sort``).

    Example:
        >>> import chainrule as cr
        >>> cr.argsort(cr.tensor([[3, 1, 2]]), dim=1).tolist()
        [[1, 2, 0]]
    """
    x = check.real(as_tensor(input, "argsort"), "argsort")
    d = _dim_of(x, dim, "argsort")
    if x.ndim == 0:
        return _wrap(np.zeros((), np.int64))
    return _wrap(_order(x._data, d, bool(descending)).astype(np.int64, copy=False))


@public(method=True, kind="indexing")
def topk(input, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> tuple:  # noqa: A002
    """The ``k`` largest (or smallest) entries along ``dim``: ``(values, indices)``.

    Values come largest first (smallest first for ``largest=False``); chainrule always sorts
    them, which ``sorted=False`` allows. Ties keep their input order.

    Example:
        >>> import chainrule as cr
        >>> r = cr.topk(cr.tensor([1.0, 5.0, 3.0, 4.0]), 2)
        >>> r.values.tolist(), r.indices.tolist()
        ([5.0, 4.0], [1, 3])
    """
    x = check.numeric(input, "topk")  # PyTorch's topk refuses bool and complex tensors
    d = _dim_of(x, dim, "topk")
    n = x.shape[d] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk(): k must be an int, got {k!r}")
    if not 0 <= k <= n:
        raise IndexError(f"topk(): k={k} is out of range for dim {d} of size {n} "
                         f"(tensor shape {x.shape})")
    if x.ndim == 0:
        return sort(x) if k else _ValuesIndices((_wrap(x._data.reshape(0)[:0]),
                                                 _wrap(np.zeros(0, np.int64))))
    lead = (slice(None),) * d
    idx = _order(x._data, d, bool(largest))[lead + (slice(0, k),)]
    return _ValuesIndices((_values_at(x, d, idx), _wrap(idx.astype(np.int64, copy=False))))


@public(method=True, kind="indexing")
def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    """The distinct values of ``input`` (flattened unless ``dim`` is given), ascending.

    With ``return_inverse``, also where each input entry went (int64, the input's shape; along
    ``dim`` one index per slice); with ``return_counts``, how often each value occurs. The
    result is always sorted (``sorted=False`` allows any order). NaNs are all kept, as in
    PyTorch (NaN is not equal to itself). Not differentiable.

    Example:
        >>> import chainrule as cr
        >>> u, inv, cnt = cr.unique(cr.tensor([3, 1, 3]), return_inverse=True, return_counts=True)
        >>> u.tolist(), inv.tolist(), cnt.tolist()
        ([1, 3], [1, 0, 1], [1, 2])
    """
    x = check.real(as_tensor(input, "unique"), "unique")
    a = x._data
    if dim is None:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                   equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
        d = norm_dim(dim, a.ndim or 1, "unique")
        if a.ndim == 0:
            raise IndexError("unique(): a 0-d tensor has no dim to take slices along")
        vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d,
                                   equal_nan=False)
        inv = inv.reshape(-1)
    out = [_wrap(vals)]
    if return_inverse:
        out.append(_wrap(inv.astype(np.int64, copy=False)))
    if return_counts:
        out.append(_wrap(cnt.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)
