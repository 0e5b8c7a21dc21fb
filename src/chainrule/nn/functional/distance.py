"""Vector normalisation and similarity/distance between batches of vectors."""

from __future__ import annotations

import numpy as np

from ...ops.binary import maximum
from ...tensor import Tensor


def _norm(x: Tensor, p: float, dim: int, keepdim: bool) -> Tensor:
    if p == 2:
        return (x * x).sum(dim=dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim=dim, keepdim=keepdim)
    return (x.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:  # noqa: A002
    """``x / max(||x||_p, eps)`` along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> [round(v, 4) for v in F.normalize(cr.tensor([[3.0, 4.0]]))[0].tolist()]
        [0.6, 0.8]
    """
    if p <= 0:
        raise ValueError(f"normalize: p must be positive, got {p}")
    return input / maximum(_norm(input, p, dim, True), eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (norms clamped at ``eps``).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]])).item(), 4)
        0.7071
    """
    n1 = maximum(_norm(x1, 2, dim, True), eps)
    n2 = maximum(_norm(x2, 2, dim, True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last dim.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]])).item(), 3)
        5.0
    """
    return _norm(x1 - x2 + eps, p, -1, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """The p-norm distances between every pair of rows i < j of a 2-D ``input``, in row-major
    order (the condensed upper triangle), as ``torch.nn.functional.pdist``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.pdist(cr.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])).tolist()
        [5.0, 1.0, 4.242640495300293]
    """
    if not isinstance(input, Tensor) or input.ndim != 2:
        raise ValueError(f"pdist: input must be a 2-D tensor (N, M), got "
                         f"{getattr(input, 'shape', input)}")
    if p < 0:
        raise ValueError(f"pdist: p must be >= 0, got {p}")
    i, j = np.triu_indices(input.shape[0], 1)
    diff = input[i] - input[j]
    if p == 0:
        return (diff != 0).sum(dim=1).to(input.dtype)
    if np.isinf(p):
        return diff.abs().amax(dim=1)
    return _norm(diff, p, 1, False)
