"""Writing along a dim at given positions: ``scatter``, ``scatter_add``, ``scatter_reduce``.

For ``dim=0``, ``scatter`` writes ``out[index[i][j]][j] = src[i][j]``: the adjoint of
``gather``. The gradient of ``src`` is the upstream gradient gathered at ``index`` (every
entry of ``src`` that took part gets one, even one overwritten by a repeated position, as in
PyTorch); the input's gradient is the upstream one where nothing was written. Which of several
values written to one position wins is the last one (PyTorch leaves it unspecified).

The in-place forms ``Tensor.scatter_`` and friends compute the same values and are bound in
``chainrule.methods``.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import zeros_like_grad
from .op import Op, public

_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
          "amin": np.minimum}


def _positions(fn: str, x: Tensor, dim, index, src_shape=None) -> tuple:
    """Validated ``(dim, grid)``: ``grid`` indexes ``x`` at the entries ``index`` names (a tuple
    of broadcasting index arrays, the shape of ``index``)."""
    if x.ndim == 0:
        raise OpError(f"{fn}(): needs a tensor with at least 1 dim, got a 0-d tensor")
    d = check.dim(dim, x.ndim, fn)
    idx = check.index_tensor(index, fn)
    if idx.ndim != x.ndim:
        raise OpError(f"{fn}(): index of shape {idx.shape} must have as many dims as the "
                      f"tensor's shape {x.shape}")
    if any(idx.shape[k] > x.shape[k] for k in range(x.ndim) if k != d):
        raise OpError(f"{fn}(): index of shape {idx.shape} is larger than the tensor's shape "
                      f"{x.shape} outside dim {d}")
    if src_shape is not None and (len(src_shape) != idx.ndim or
                                  any(i > s for i, s in zip(idx.shape, src_shape))):
        raise OpError(f"{fn}(): index of shape {idx.shape} is larger than src's shape "
                      f"{tuple(src_shape)}")
    a = check.indices_in_range(idx._data, x.shape[d], fn, "index", d)
    grid = list(np.indices(a.shape, sparse=True))
    grid[d] = a.astype(np.intp, copy=False)
    return d, tuple(grid)


def _used(src_shape, grid) -> tuple:
    """The slices of ``src`` that the index covers (``src`` may be larger than ``index``)."""
    return tuple(slice(0, n) for n in np.broadcast_shapes(*(g.shape for g in grid)))


def _src_grad(F, g_at, src_shape):
    """A gradient gathered at the index, padded with zeros to ``src``'s shape."""
    if tuple(g_at.shape) == tuple(src_shape):
        return g_at
    return F.pad(g_at, [(0, s - n) for s, n in zip(src_shape, g_at.shape)])


def _hit(shape, grid) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[grid] = True
    return mask


def _src_tensor(fn: str, x: Tensor, src, value, shape) -> Tensor:
    if src is not None and value is not None:
        raise TypeError(f"{fn}(): give src or value, not both")
    if src is None and value is None:
        raise TypeError(f"{fn}(): needs src (a tensor) or value (a number)")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None  # scatter(x, dim, index, 2.0): PyTorch's value form
    if src is None:
        if isinstance(value, Tensor):
            if value.ndim:
                raise OpError(f"{fn}(): value must be a number or a 0-d tensor, got shape "
                              f"{value.shape}")
            value = value.item()
        else:
            check.number(value, fn, "value")
        return _wrap(np.full(shape, value, dtype=x._data.dtype))
    if src._data.dtype != x._data.dtype:
        raise TypeError(f"{fn}(): src is {src.dtype} but the tensor is {x.dtype}; convert one "
                        "of them (PyTorch refuses mixed dtypes too)")
    return check.real(src, fn, "src")


def scatter_array(x: np.ndarray, grid, s: np.ndarray) -> np.ndarray:
    out = x.copy()
    out[grid] = s
    return out


def scatter_reduce_array(x: np.ndarray, grid, s: np.ndarray, reduce: str,
                         include_self: bool) -> np.ndarray:
    out = x.copy()
    if not include_self:
        out[grid] = _identity(reduce, x.dtype)
    _UFUNC[reduce].at(out, grid, s)
    if reduce == "mean":
        count = _counts(x.shape, grid, include_self)
        if out.dtype.kind in "iu":
            np.floor_divide(out, np.maximum(count, 1), out=out)  # PyTorch floors integer means
        else:
            out = np.where(count > 0, out / np.maximum(count, 1), out).astype(x.dtype)
    return out


def _identity(reduce: str, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _counts(shape, grid, include_self: bool) -> np.ndarray:
    """How many values each position of the result reduces over (1 where nothing hit it when
    include_self, 0 otherwise)."""
    count = np.full(shape, 1 if include_self else 0, dtype=np.int64)
    np.add.at(count, grid, 1)
    return count


class Scatter(Op):
    """``input`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``.

    For ``dim=1``: ``out[i][index[i][j]] = src[i][j]``. ``reduce="add"`` / ``"multiply"``
    (PyTorch's older form) combine instead of overwriting: see ``scatter_reduce``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.zeros(2, 3)
        >>> cr.scatter(x, 1, cr.tensor([[2], [0]]), cr.tensor([[5.0], [7.0]])).tolist()
        [[0.0, 0.0, 5.0], [7.0, 0.0, 0.0]]
        >>> x.scatter(0, cr.tensor([[1, 0, 1]]), 9.0).tolist()
        [[0.0, 9.0, 0.0], [9.0, 0.0, 9.0]]
    """

    kind, method = "indexing", True
    formula = "d scatter/d input = 1 where nothing is written; d/d src = gather at index"

    def call(input, dim: int, index, src=None, value=None, *, reduce=None):  # noqa: A002
        x = check.real(check.tensor(input, "scatter"), "scatter")
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got "
                                 f"{reduce!r}; scatter_reduce has more")
            idx = check.index_tensor(index, "scatter")
            s = _src_tensor("scatter", x, src, value, idx.shape)
            return _scatter_reduce(x, dim, idx, s, "sum" if reduce == "add" else "prod", True,
                                   "scatter")
        idx = check.index_tensor(index, "scatter")
        s = _src_tensor("scatter", x, src, value, idx.shape)
        _, grid = _positions("scatter", x, dim, idx, s.shape)
        return Scatter.record(x, s, grid=grid)

    def forward(x, src, grid):
        return scatter_array(x, grid, src[_used(src.shape, grid)])

    def backward(F, g, out, x, src, grid):
        gx = F.where(_hit(x.shape, grid), zeros_like_grad(F, g), g)
        return gx, _src_grad(F, F.getitem(g, grid), src.shape)


class ScatterReduce(Op):
    """``input`` with the values of ``src`` reduced into the positions ``index`` names along
    ``dim``: ``reduce`` is ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``;
    ``include_self=False`` leaves the input's own value out of the positions written to.

    Gradients as PyTorch's: ``amax`` / ``amin`` share it evenly between tied values, ``mean``
    divides it by the count. ``prod``'s second derivative is not available where a reduced
    group holds a zero.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([3.0, 4.0, 10.0])
        >>> i, s = cr.tensor([0, 1, 0, 1]), cr.tensor([1.0, 5.0, 2.0, 7.0])
        >>> cr.scatter_reduce(x, 0, i, s, "sum").tolist()
        [6.0, 16.0, 10.0]
        >>> x.scatter_reduce(0, i, s, "amax", include_self=False).tolist()
        [2.0, 7.0, 10.0]
    """

    kind, method = "indexing", True
    quiet = True  # prod's rule divides by the values, which may be 0 where it is not used
    formula = "d scatter_reduce: the reduction's derivative, gathered at index"

    def call(input, dim: int, index, src, reduce: str, *,  # noqa: A002
             include_self: bool = True):
        return _scatter_reduce(input, dim, index, src, reduce, include_self, "scatter_reduce")

    def forward(x, src, grid, reduce, include_self):
        return scatter_reduce_array(x, grid, src[_used(src.shape, grid)], reduce, include_self)

    def backward(F, g, out, x, src, grid, reduce, include_self):
        hit = _hit(x.shape, grid)
        used = _used(src.shape, grid)
        xd, sd, od = (x._data, src._data, out._data) if F.differentiable else (x, src, out)
        s_used = sd[used]
        if reduce in ("sum", "mean"):
            if reduce == "sum":
                scale_x = np.where(hit, 1.0 if include_self else 0.0, 1.0)
                scale_s = 1.0
            else:
                count = _counts(x.shape, grid, include_self)
                inv = 1.0 / np.maximum(count, 1)
                scale_x = np.where(hit, inv if include_self else 0.0, 1.0)
                scale_s = inv[grid]
            gx = g * scale_x.astype(g.dtype)
            gs = F.getitem(g, grid) * np.asarray(scale_s, dtype=g.dtype)
            return gx, _src_grad(F, gs, src.shape)
        if reduce in ("amax", "amin"):
            x_in = np.where(hit, (xd == od) & include_self, True)
            s_in = s_used == od[grid]
            ties = x_in.astype(np.int64)
            np.add.at(ties, grid, s_in.astype(np.int64))
            share = 1.0 / np.maximum(ties, 1)
            gx = g * (x_in * share).astype(g.dtype)
            gs = F.getitem(g, grid) * (s_in * share[grid]).astype(g.dtype)
            return gx, _src_grad(F, gs, src.shape)
        return _prod_grads(F, g, out, x, src, grid, hit, used, include_self, xd, s_used)


def _prod_grads(F, g, out, x, src, grid, hit, used, include_self, xd, s_used):
    """d prod/d v = the product of the other values in v's group, exact with zeros."""
    zeros = np.where(hit & include_self, (xd == 0).astype(np.int64), 0)
    np.add.at(zeros, grid, (s_used == 0).astype(np.int64))
    if not zeros.any():
        gx = F.where(hit, (g * out / x) if include_self else zeros_like_grad(F, g), g)
        return gx, _src_grad(F, F.getitem(g * out, grid) / F.getitem(src, used), src.shape)
    if F.differentiable:
        raise NotImplementedError(
            "scatter_reduce(reduce='prod'): second derivatives where a reduced group holds a "
            "zero are not supported")
    nonzero = np.where(hit & ~include_self, 1, np.where(xd == 0, 1, xd)).astype(xd.dtype)
    np.multiply.at(nonzero, grid, np.where(s_used == 0, 1, s_used))

    def others(v, z, p):  # the product of the rest of a group with z zeros, product p of nonzero
        return np.where(z == 0, out_over(v, p), np.where((z == 1) & (v == 0), p, 0))

    def out_over(v, p):
        with np.errstate(all="ignore"):
            return np.where(v == 0, 0, p / np.where(v == 0, 1, v))

    gx = np.where(hit, others(xd, zeros, nonzero) if include_self else 0, 1) * g
    gs = g[grid] * others(s_used, zeros[grid], nonzero[grid])
    return gx.astype(g.dtype), _src_grad(F, gs.astype(g.dtype), src.shape)


scatter, scatter_reduce = Scatter.call, ScatterReduce.call


@public(method=True, kind="indexing")
def scatter_add(input, dim: int, index, src) -> Tensor:  # noqa: A002
    """``input`` with the values of ``src`` added at the positions ``index`` names along
    ``dim`` (repeated positions add up): ``scatter_reduce(..., "sum")``.

    Example:
        >>> import chainrule as cr
        >>> src = cr.tensor([1.0, 2.0, 3.0])
        >>> cr.scatter_add(cr.zeros(3), 0, cr.tensor([0, 2, 0]), src).tolist()
        [4.0, 0.0, 2.0]
    """
    return _scatter_reduce(input, dim, index, src, "sum", True, "scatter_add")


def _scatter_reduce(input, dim, index, src, reduce, include_self, fn: str) -> Tensor:  # noqa: A002
    x = check.real(check.tensor(input, fn), fn)
    check.choice(reduce, _REDUCES, fn, "reduce")
    s = check.tensor(src, fn, "src")
    s = _src_tensor(fn, x, s, None, None)
    _, grid = _positions(fn, x, dim, index, s.shape)
    return ScatterReduce.record(x, s, grid=grid, reduce=reduce,
                                include_self=check.flag(include_self, fn, "include_self"))
