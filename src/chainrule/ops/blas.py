"""The BLAS-style products: ``bmm``, and ``addmm`` / ``addmv`` / ``baddbmm``
(``beta * input + alpha * product``), built from ``matmul`` and the elementwise primitives."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from .binary import add, mul, where
from .linalg import matmul
from .op import public


def _dims(t: Tensor, n: int, fn: str, arg: str) -> None:
    if t.ndim != n:
        raise OpError(f"{fn}(): {arg} must be a {n}-D tensor, got shape {t.shape}")


@public(method=True, kind="linalg")
def bmm(input, mat2) -> Tensor:  # noqa: A002
    """Batched matrix product of two 3-D tensors: (b, n, m) @ (b, m, p) -> (b, n, p); no
    broadcasting (use ``matmul`` for that).

    Example:
        >>> import chainrule as cr
        >>> cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape
        (2, 3, 5)
    """
    return _bmm(input, mat2, "bmm", ("input", "mat2"))


def _bmm(input, mat2, fn: str, names) -> Tensor:  # noqa: A002
    a, b = check.same_dtype_operands(fn, names, input, mat2)
    _dims(a, 3, fn, names[0])
    _dims(b, 3, fn, names[1])
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise OpError(f"{fn}(): {names[0]} of shape {a.shape} and {names[1]} of shape {b.shape} "
                      f"do not fit (expected {names[1]} of shape ({a.shape[0]}, {a.shape[2]}, "
                      "p))")
    return matmul(a, b)


def _scaled_sum(input, product: Tensor, beta, alpha, fn: str) -> Tensor:  # noqa: A002
    """beta * input + alpha * product; ``input`` must broadcast to the product's shape, and
    with ``beta == 0`` it is ignored (its NaN and inf do not propagate), as in PyTorch."""
    x = check.tensor(input, fn, "input")
    check.number(beta, fn, "beta"), check.number(alpha, fn, "alpha")  # kept: ints stay ints
    if x._data.dtype != product._data.dtype:
        check.same_dtype_operands(fn, ("input", "product"), x, product)
    try:
        fits = np.broadcast_shapes(x.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise OpError(f"{fn}(): input of shape {x.shape} does not broadcast to the product's "
                      f"shape {product.shape}")
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:
        if not x.requires_grad:
            return product
        # zeros of input's shape that still give input a (zero) gradient, as in PyTorch
        return add(product, where(_wrap(np.asarray(False)), x, 0))
    return add(product, x if beta == 1 else mul(x, beta))


@public(method=True, kind="linalg")
def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1`` and ``mat2``.

    Example:
        >>> import chainrule as cr
        >>> cr.addmm(cr.ones(2, 2), cr.ones(2, 3), cr.ones(3, 2), beta=0.5, alpha=2).tolist()
        [[6.5, 6.5], [6.5, 6.5]]
    """
    m1, m2 = check.same_dtype_operands("addmm", ("mat1", "mat2"), mat1, mat2)
    _dims(m1, 2, "addmm", "mat1")
    _dims(m2, 2, "addmm", "mat2")
    if m1.shape[1] != m2.shape[0]:
        raise OpError(f"addmm(): mat1 of shape {m1.shape} and mat2 of shape {m2.shape} do not "
                      "align")
    return _scaled_sum(input, matmul(m1, m2), beta, alpha, "addmm")


@public(method=True, kind="linalg")
def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat @ vec)`` for a 2-D ``mat`` and a 1-D ``vec``.

    Example:
        >>> import chainrule as cr
        >>> cr.addmv(cr.ones(2), cr.ones(2, 3), cr.ones(3), alpha=2).tolist()
        [7.0, 7.0]
    """
    m, v = check.same_dtype_operands("addmv", ("mat", "vec"), mat, vec)
    _dims(m, 2, "addmv", "mat")
    _dims(v, 1, "addmv", "vec")
    if m.shape[1] != v.shape[0]:
        raise OpError(f"addmv(): mat of shape {m.shape} and vec of shape {v.shape} do not align")
    return _scaled_sum(input, matmul(m, v), beta, alpha, "addmv")


@public(method=True, kind="linalg")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)`` for 3-D batches.

    Example:
        >>> import chainrule as cr
        >>> cr.baddbmm(cr.zeros(3, 5), cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape
        (2, 3, 5)
    """
    product = _bmm(batch1, batch2, "baddbmm", ("batch1", "batch2"))
    return _scaled_sum(input, product, beta, alpha, "baddbmm")
