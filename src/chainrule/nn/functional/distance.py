"""Vector normalisation and similarity/distance between batches of vectors."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ... import dtypes
from ...ops.elementwise import clamp
from ...ops.norms import vector_norm
from ...tensor import Tensor, _wrap


def _norm(x: Tensor, p: float, dim, keepdim: bool) -> Tensor:
    """The p-norm along ``dim`` by ``linalg.vector_norm``: its gradient is 0 where the norm is
    0 (a zero row), as PyTorch's, where sqrt(sum x^2) would give 0 * inf = NaN."""
    return vector_norm(x, p, dim, keepdim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """``x / max(||x||_p, eps)`` along ``dim``.

    PyTorch's formula: the clamped norm passes no gradient below ``eps``, so a zero (or
    denormal) row has the finite gradient ``1 / eps``, not NaN.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> [round(v, 4) for v in F.normalize(cr.tensor([[3.0, 4.0]]))[0].tolist()]
        [0.6, 0.8]
    """
    input = check.floating(input, "normalize")  # noqa: A001
    p = check.number(p, "normalize", "p")
    eps = check.number(eps, "normalize", "eps")
    d = check.dim(dim, input.ndim, "normalize")
    return input / clamp(_norm(input, p, d, True), min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (norms clamped at ``eps``).

    PyTorch's algorithm: both are broadcast to one shape first (so ``dim`` names the same dim
    of each), each is divided by its own norm, and the clamp at ``eps`` is applied to the
    norm's value only: the gradient at a zero row is finite.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]])).item(), 4)
        0.7071
    """
    fn = "cosine_similarity"
    a, b = check.tensor(x1, fn, "x1"), check.tensor(x2, fn, "x2")
    for t, arg in ((a, "x1"), (b, "x2")):
        if t._data.dtype.kind not in "fiub":
            check.real(t, fn, arg)
    floats = [t._data.dtype for t in (a, b) if t._data.dtype.kind == "f"]
    if not floats:  # PyTorch: "expected common dtype to be floating point"
        check.floating(a, fn, "x1")
    dt = np.result_type(*floats)
    a, b = (t if t._data.dtype == dt else t.to(dt) for t in (a, b))
    shape = check.broadcast(fn, x1=a, x2=b)
    if a.shape != shape:
        a = a.expand(*shape)
    if b.shape != shape:
        b = b.expand(*shape)
    d = check.dim(dim, len(shape), fn)
    eps = check.number(eps, fn, "eps")
    return ((a / _clamped_value(_norm(a, 2, d, True), eps)) *
            (b / _clamped_value(_norm(b, 2, d, True), eps))).sum(dim=d)


def _clamped_value(n: Tensor, eps: float) -> Tensor:
    """``n`` with its value clamped at ``eps`` and its gradient left as ``n``'s: PyTorch clamps
    the norm in place under ``no_grad``."""
    low = n._data < eps
    if not low.any():
        return n
    return n + _wrap(np.where(low, eps - n._data, 0).astype(n._data.dtype))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dim (``x1`` and ``x2`` broadcast).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]])).item(), 3)
        5.0
    """
    fn = "pairwise_distance"
    a, b = check.tensor(x1, fn, "x1"), check.tensor(x2, fn, "x2")
    for t, arg in ((a, "x1"), (b, "x2")):
        if t._data.dtype.kind not in "fiu":
            check.numeric(t, fn, arg)  # bool: PyTorch subtracts them
    shape = check.broadcast(fn, x1=a, x2=b)
    p, eps = check.number(p, fn, "p", low=0.0), check.number(eps, fn, "eps")
    diff = a - b + eps
    if diff._data.dtype.kind != "f":
        diff = diff.to(dtypes.get_default_dtype())
    if not shape:  # two 0-d tensors: the distance of one number
        return _norm(diff, p, None, keepdim)
    return _norm(diff, p, len(shape) - 1, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """The p-norm distances between every pair of rows i < j of a 2-D ``input``, in row-major
    order (the condensed upper triangle), as ``torch.nn.functional.pdist``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.pdist(cr.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
        [5.0, 1.0, 4.242640495300293]
    """
    input = check.floating(input, "pdist")  # noqa: A001  (PyTorch: floating dtypes only)
    if input.ndim != 2:
        raise ValueError(f"pdist: input must be a 2-D tensor (N, M), got {input.shape}")
    p = check.number(p, "pdist", "p", low=0.0)
    i, j = np.triu_indices(input.shape[0], 1)
    diff = input[i] - input[j]
    return _norm(diff, p, 1, False)
