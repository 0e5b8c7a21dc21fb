"""Vector and matrix norms: ``cr.norm``, and the primitive behind ``cr.linalg``'s norms.

``VectorNorm`` is the one primitive; matrix norms are sums and extrema of absolute values
(``1``, ``inf``, ...) or a vector norm over two dims (``'fro'``). The norms that need singular
values (``2``, ``-2``, ``'nuc'`` of a matrix) are not provided: chainrule has no differentiable
SVD, and asking for them raises an error that says so.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as check
from ..tensor import Tensor
from ._util import as_tensor, norm_axis, zeros_like_grad
from .op import Op, public
from .reduce import _expand, _keep, amax, amin
from .reduce import sum as _sum


def _as_ord(ord, fn: str) -> float:  # noqa: A002
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}(): ord must be a number (inf allowed), got {ord!r}")
    return float(ord)


class VectorNorm(Op):
    """(sum |x|^p)^(1/p) over ``axis``; p = inf / -inf: the largest / smallest |x|; p = 0: the
    number of nonzero entries. The public functions are ``cr.linalg.vector_norm`` and ``cr.norm``.
    """

    public, kind = None, "reduction"
    fresh_grads, quiet = True, True
    formula = "d ||x||_p/dx_i = sign(x_i) |x_i|^(p-1) / ||x||_p^(p-1)"
    nan_grad_hint = "the norm's derivative is 0/0 where the norm is 0"

    def forward(x, p, axis, keepdims):
        a = np.abs(x)
        if p == math.inf:
            return np.max(a, axis=axis, keepdims=keepdims)
        if p == -math.inf:
            return np.min(a, axis=axis, keepdims=keepdims)
        if p == 0:
            return np.sum(a != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
        if p == 1:
            return np.sum(a, axis=axis, keepdims=keepdims)
        if p == 2:
            return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
        return np.sum(a ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)

    def backward(F, g, out, x, p, axis, keepdims):
        ge = _expand(F, g, x.shape, axis, keepdims)
        norm = _keep(F, out, axis, keepdims)
        if p == 0:
            return (zeros_like_grad(F, ge),)  # a count: zero gradient, as in PyTorch
        if p == 1:
            return (ge * F.sign(x),)
        # Where the norm is 0 the gradient is 0 (PyTorch's choice), not 0/0.
        zero_norm = norm == 0
        safe = F.where(zero_norm, 1.0, norm)
        if p == 2:
            return (F.where(zero_norm, 0.0, ge * x / safe),)
        if abs(p) == math.inf:
            a = F.abs(x)
            hit = a == norm  # the entries at the max (or min): they share the gradient
            hd = hit._data if F.differentiable else hit
            share = hd / np.sum(hd, axis=axis, keepdims=True)
            return (ge * F.sign(x) * share.astype(out.dtype),)
        a = F.abs(x)
        # sign(x) |x|^(p-1), with 0 at x = 0 (|x|^(p-1) is inf there when p < 1)
        scaled = F.where(x == 0, 0.0, F.sign(x) * F.where(x == 0, 1.0, a) ** (p - 1))
        return (F.where(zero_norm, 0.0, ge * scaled / safe ** (p - 1)),)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The vector ``ord``-norm of ``x`` over ``dim`` (all dims by default): PyTorch's
    ``torch.linalg.vector_norm``. ``ord`` is any number, ``inf`` or ``-inf``.

    Example:
        >>> import chainrule as cr
        >>> cr.linalg.vector_norm(cr.tensor([3.0, -4.0])).item()
        5.0
    """
    x = as_tensor(x, "vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        check.floating(x, "vector_norm")
    p = _as_ord(ord, "vector_norm")
    axis = norm_axis(dim, x.ndim, "vector_norm")
    if axis == ():
        axis = None
    if x._data.size == 0 and p < 0:
        raise ValueError(f"vector_norm(): the {ord}-norm of an empty tensor is not defined")
    return VectorNorm.record(x, p=p, axis=axis, keepdims=bool(keepdim))


_MATRIX_ORDS = ("fro", 1, -1, math.inf, -math.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *,  # noqa: A002
                dtype=None) -> Tensor:
    """A matrix norm over the two dims ``dim``: ``'fro'`` (the default), ``1`` / ``-1`` (the
    largest / smallest column sum of |A|), ``inf`` / ``-inf`` (row sums): PyTorch's
    ``torch.linalg.matrix_norm``. ``2``, ``-2`` and ``'nuc'`` need singular values, which
    chainrule does not differentiate: they raise ``NotImplementedError``.

    Example:
        >>> import chainrule as cr
        >>> A = cr.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> cr.linalg.matrix_norm(A, ord=1).item(), cr.linalg.matrix_norm(A, ord=-1).item()
        (6.0, 4.0)
    """
    A = as_tensor(A, "matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    if A._data.dtype.kind != "f":
        check.floating(A, "matrix_norm")
    if A.ndim < 2:
        raise ValueError(f"matrix_norm(): needs a tensor with at least 2 dims, got shape "
                         f"{A.shape}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise TypeError(f"matrix_norm(): dim must be a pair of dims, got {dim!r}")
    d0, d1 = norm_axis(dim[0], A.ndim, "matrix_norm")[0], norm_axis(dim[1], A.ndim,
                                                                    "matrix_norm")[0]
    if d0 == d1:
        raise ValueError(f"matrix_norm(): dim {tuple(dim)} names the same dim twice")
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"matrix_norm(): ord={ord!r} needs the singular values, and chainrule has no "
            "differentiable SVD; use 'fro', 1, -1, inf or -inf")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if isinstance(ord, str) or ord not in _MATRIX_ORDS:
        raise ValueError(f"matrix_norm(): ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, "
                         f"-inf, got {ord!r}")
    # ord = +-1: sum over rows (d0), extreme over columns (d1); +-inf the other way round
    inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = _sum(A.abs(), dim=inner, keepdim=True)
    out = (amax if ord > 0 else amin)(sums, dim=outer, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def linalg_norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ``A`` is 1-D), a matrix
    norm when ``dim`` is a pair (or ``A`` is 2-D); with neither ``ord`` nor ``dim``, the 2-norm
    of all entries.

    Example:
        >>> import chainrule as cr
        >>> A = cr.tensor([[3.0, -4.0], [0.0, 0.0]])
        >>> cr.linalg.norm(A).item(), cr.linalg.norm(A, dim=1).tolist()
        (5.0, [5.0, 0.0])
    """
    A = as_tensor(A, "norm")
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        dim = (int(dim),)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise ValueError(f"norm(): with ord and no dim the input must be 1-D or 2-D, got "
                             f"shape {A.shape}")
        dim = tuple(range(A.ndim))
    dim = tuple(dim)
    if len(dim) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm(): ord={ord!r} is a matrix norm; a vector norm (one dim) "
                             "takes a number")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    raise ValueError(f"norm(): dim must be an int or a pair of ints, got {dim!r}")


@public(method=True, kind="reduction")
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A002
    """The ``p``-norm of ``input`` over ``dim`` (all dims by default): PyTorch's ``torch.norm``.

    ``p`` is a number (a vector norm over ``dim``, which may be several dims) or ``'fro'``
    (the 2-norm over ``dim``). ``'nuc'`` needs singular values and raises
    ``NotImplementedError``. ``cr.linalg.norm`` is the newer interface.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[3.0, -4.0], [1.0, 2.0]])
        >>> x.norm(dim=1).tolist(), cr.norm(x, p=1).item()
        ([5.0, 2.2360680103302], 10.0)
    """
    if p == "nuc":
        raise NotImplementedError("norm(): p='nuc' needs the singular values, and chainrule has "
                                  "no differentiable SVD")
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise ValueError(f"norm(): p must be a number, 'fro' or 'nuc', got {p!r}")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
