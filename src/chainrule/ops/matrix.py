"""Matrix structure: ``tril``, ``triu``, ``diag``, ``diagonal``, ``trace``, ``kron``.

Built from the primitives (``where``, indexing, ``reshape``, ``mul``), so autograd composes
their gradients: a triangle passes the gradient of the entries it keeps, a diagonal scatters its
gradient back onto the diagonal.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import as_tensor, norm_dim
from .binary import mul, where
from .op import public
from .shape import getitem, index_add, permute, reshape


def _offset(diagonal, fn: str, arg: str = "diagonal") -> int:
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise TypeError(f"{fn}(): {arg} must be an int, got {diagonal!r}")
    return int(diagonal)


def _triangle(input, diagonal, lower: bool, fn: str) -> Tensor:  # noqa: A002
    x = as_tensor(input, fn)
    k = _offset(diagonal, fn)
    if x.ndim < 2:
        raise OpError(f"{fn}(): needs a tensor with at least 2 dims, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    if not x.requires_grad:
        return _wrap(np.where(keep, x._data, np.zeros((), x._data.dtype)))
    return where(_wrap(keep), x, 0)  # exact zeros, also where x holds inf or NaN


@public(method=True, kind="shape")
def tril(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims (entries with ``col - row <= diagonal``), the
    rest zero.

    Example:
        >>> import chainrule as cr
        >>> cr.tril(cr.ones(3, 3)).tolist()
        [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    return _triangle(input, diagonal, True, "tril")


@public(method=True, kind="shape")
def triu(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims (entries with ``col - row >= diagonal``), the
    rest zero.

    Example:
        >>> import chainrule as cr
        >>> cr.triu(cr.ones(2, 3), diagonal=1).tolist()
        [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _triangle(input, diagonal, False, "triu")


def _diag_index(rows: int, cols: int, offset: int) -> tuple:
    """Row and column indices of the ``offset`` diagonal of a rows x cols matrix."""
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_r, cols - start_c))
    r = np.arange(start_r, start_r + n)
    return r, r + (start_c - start_r)


@public(method=True, kind="indexing")
def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The ``offset`` diagonal of the matrices spanned by ``dim1`` and ``dim2``; it becomes the
    last dim of the result (PyTorch's layout). The gradient goes back onto that diagonal.

    Example:
        >>> import chainrule as cr
        >>> x = cr.arange(6.0).reshape(2, 3)
        >>> cr.diagonal(x).tolist(), x.diagonal(1).tolist()
        ([0.0, 4.0], [1.0, 5.0])
    """
    x = as_tensor(input, "diagonal")
    k = _offset(offset, "diagonal", "offset")
    if x.ndim < 2:
        raise OpError(f"diagonal(): needs a tensor with at least 2 dims, got shape {x.shape}")
    d1, d2 = norm_dim(dim1, x.ndim, "diagonal"), norm_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise OpError(f"diagonal(): dim1 and dim2 are the same dim ({d1})")
    rest = tuple(d for d in range(x.ndim) if d not in (d1, d2))
    moved = permute(x, rest + (d1, d2))
    r, c = _diag_index(x.shape[d1], x.shape[d2], k)
    return getitem(moved, (Ellipsis, r, c))


@public(method=True, kind="indexing")
def diag(input, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D tensor: the square matrix with it on the ``diagonal``-th diagonal. A 2-D tensor:
    its ``diagonal``-th diagonal (as ``diagonal``).

    Example:
        >>> import chainrule as cr
        >>> cr.diag(cr.tensor([1.0, 2.0])).tolist()
        [[1.0, 0.0], [0.0, 2.0]]
        >>> cr.diag(cr.tensor([[1, 2], [3, 4]])).tolist()
        [1, 4]
    """
    x = as_tensor(input, "diag")
    k = _offset(diagonal, "diag")
    if x.ndim == 2:
        return _diagonal_2d(x, k)
    if x.ndim != 1:
        raise OpError(f"diag(): needs a 1-D or 2-D tensor, got shape {x.shape}")
    n = x.shape[0] + abs(k)
    return index_add((n, n), _diag_index(n, n, k), x)


def _diagonal_2d(x: Tensor, k: int) -> Tensor:
    return diagonal(x, k, 0, 1)


@public(method=True, kind="reduction")
def trace(input) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor (integers sum as int64).

    Example:
        >>> import chainrule as cr
        >>> cr.trace(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
        5.0
    """
    x = check.numeric(input, "trace")  # PyTorch refuses bool and complex here
    if x.ndim != 2:
        raise OpError(f"trace(): expects a matrix (2-D tensor), got shape {x.shape}")
    return _diagonal_2d(x, 0).sum()


@public(method=True, kind="linalg")
def kron(input, other) -> Tensor:  # noqa: A002
    """The Kronecker product: every entry of ``input`` times the whole of ``other``, tiled.

    Example:
        >>> import chainrule as cr
        >>> cr.kron(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0])).tolist()
        [1.0, 10.0, 2.0, 20.0]
    """
    a = check.real(as_tensor(input, "kron"), "kron", "input")
    b = check.real(as_tensor(other, "kron", "other"), "kron", "other")
    n = max(a.ndim, b.ndim)
    sa, sb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
    # a's dims interleaved with b's: (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...)
    wide_a = reshape(a, tuple(v for s in sa for v in (s, 1)))
    wide_b = reshape(b, tuple(v for s in sb for v in (1, s)))
    return reshape(mul(wide_a, wide_b), tuple(p * q for p, q in zip(sa, sb)))
