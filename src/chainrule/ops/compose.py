"""PyTorch functions built from the primitives (no rule of their own: autograd composes them)."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor
from ._util import as_tensor, to_float
from .binary import div, mul, where
from .elementwise import clamp
from .op import public
from .shape import reshape


@public(method=True, kind="elementwise")
def reciprocal(x) -> Tensor:
    """1 / x, elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.reciprocal(cr.tensor([2.0, 4.0])).tolist()
        [0.5, 0.25]
    """
    x = check.real(as_tensor(x, "reciprocal"), "reciprocal")
    return div(1.0, x) if x._data.dtype.kind == "f" else div(1.0, to_float(x))


@public(method=True, kind="elementwise")
def clamp_min(x, min) -> Tensor:  # noqa: A002
    """max(x, min), elementwise (``clamp(x, min=min)``).

    Example:
        >>> import chainrule as cr
        >>> cr.clamp_min(cr.tensor([-1.0, 2.0]), 0.0).tolist()
        [0.0, 2.0]
    """
    x, min = check.elementwise("clamp_min", ("input", "min"), as_tensor(x, "clamp_min"),  # noqa: A001
                               _bound(min, "clamp_min", "min"))
    return clamp(x, min=min)


@public(method=True, kind="elementwise")
def clamp_max(x, max) -> Tensor:  # noqa: A002
    """min(x, max), elementwise (``clamp(x, max=max)``).

    Example:
        >>> import chainrule as cr
        >>> cr.clamp_max(cr.tensor([-1.0, 2.0]), 0.0).tolist()
        [-1.0, 0.0]
    """
    x, max = check.elementwise("clamp_max", ("input", "max"), as_tensor(x, "clamp_max"),  # noqa: A001
                               _bound(max, "clamp_max", "max"))
    return clamp(x, max=max)


def _bound(v, fn: str, arg: str):
    """A clamp bound: a number or a tensor (None is refused: PyTorch needs one)."""
    if v is None or isinstance(v, (str, bytes)):
        raise TypeError(check.say("not_values", op=fn, arg=arg, got=repr(v)))
    return v


@public(method=True, kind="elementwise")
def masked_fill(x, mask, value) -> Tensor:
    """``x`` with ``value`` where ``mask`` (a boolean tensor broadcasting to x) is true.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0, 3.0])
        >>> x.masked_fill(x > 1.5, 0.0).tolist()
        [1.0, 0.0, 0.0]
    """
    x = check.tensor(x, "masked_fill")
    mask = check.tensor(mask, "masked_fill", "mask")
    if mask._data.dtype != np.bool_:
        raise TypeError(check.say("dtype_mask", op="masked_fill", arg="mask", dtype=mask.dtype))
    check.broadcast("masked_fill", input=x, mask=mask)  # the result broadcasts both, as PyTorch's
    if isinstance(value, Tensor):
        if value.ndim:
            raise OpError(f"masked_fill(): value must be a number or a 0-d tensor, got shape "
                          f"{value.shape}")
    else:
        check.number(value, "masked_fill", "value")
    if x._data.dtype.kind == "c":
        check.real(x, "masked_fill")
    out = where(mask, value, x)
    return out if out.dtype == x.dtype else out.to(x.dtype)


def _broadcasts_to(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


@public(method=True, kind="indexing")
def index_select(x, dim: int, index) -> Tensor:
    """The entries of ``x`` at positions ``index`` (1-D integer tensor) along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> cr.arange(6).reshape(2, 3).index_select(1, cr.tensor([2, 0])).tolist()
        [[2, 0], [5, 3]]
    """
    x = check.tensor(x, "index_select")
    index = check.index_tensor(index, "index_select")
    if index.ndim > 1:
        raise OpError(f"index_select(): index must be a 1-D integer tensor, got shape "
                      f"{index.shape}")
    d = check.dim(dim, x.ndim, "index_select")
    size = x.shape[d] if x.ndim else 1
    # NumPy would wrap a negative index around to the end; PyTorch refuses it
    idx = check.indices_in_range(index._data.reshape(-1), size, "index_select", "index", d)
    if x.ndim == 0:
        from .shape import reshape as _reshape

        return _reshape(_reshape(x, (1,))[idx], (idx.size,) if index.ndim else ())
    return x[(slice(None),) * d + (idx,)]


@public(method=True, kind="indexing")
def gather(x, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` (and so on): PyTorch's ``gather``.

    Repeated positions in ``index`` add up in the gradient. Indices must lie in
    ``[0, x.size(dim))`` (an ``IndexError`` otherwise, as in PyTorch: no wrap-around).
    ``sparse_grad`` is accepted for PyTorch's signature; the gradient is always dense.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> x.gather(1, cr.tensor([[0, 0], [1, 0]])).tolist()
        [[1.0, 1.0], [4.0, 3.0]]
    """
    x = check.tensor(x, "gather")
    index = check.index_tensor(index, "gather")
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise OpError(f"gather(): index of shape {index.shape} must have as many dims as the "
                      f"tensor's shape {x.shape}")
    d = check.dim(dim, x.ndim, "gather")
    if x.ndim == 0:
        from .shape import reshape as _reshape

        check.indices_in_range(index._data, 1, "gather", "index", 0)
        return _reshape(_reshape(x, (1,))[index._data.reshape(-1)], index.shape)
    if any(index.shape[k] > x.shape[k] for k in range(x.ndim) if k != d):
        raise OpError(f"gather(): index of shape {index.shape} is larger than the tensor's "
                      f"shape {x.shape} outside dim {d}")
    a = check.indices_in_range(index._data, x.shape[d], "gather", "index", d)
    grid = list(np.indices(index.shape, sparse=True))
    grid[d] = a
    return x[tuple(grid)]


@public(method=True, kind="linalg")
def outer(a, b) -> Tensor:
    """Outer product of two 1-D tensors.

    Example:
        >>> import chainrule as cr
        >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).tolist()
        [[3.0, 4.0], [6.0, 8.0]]
    """
    a = check.real(check.tensor(a, "outer"), "outer")
    b = check.real(check.tensor(b, "outer", "vec2"), "outer", "vec2")
    if a.ndim != 1 or b.ndim != 1:
        raise OpError(f"outer(): expects two 1-D tensors, got {a.shape} and {b.shape}")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))
