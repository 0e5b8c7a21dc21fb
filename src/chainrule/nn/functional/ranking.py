"""Margin and embedding losses: ranking, hinge, cosine, triplet and soft-margin losses."""

from __future__ import annotations

from ...ops.binary import maximum, minimum, where
from ...tensor import Tensor
from ._checks import check_reduction, float_input, tensor_arg
from .activation import logsigmoid
from .distance import pairwise_distance


def _reduce(t: Tensor, red: str) -> Tensor:
    if red == "none":
        return t
    return t.sum() if red == "sum" else t.mean()


def _args(loss: str, reduction: str, *tensors):
    red = check_reduction(reduction, loss)
    ts = [tensor_arg(t, loss, f"argument {i}") for i, t in enumerate(tensors)]
    float_input(ts[0], loss)
    return red, ts


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where -1.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.margin_ranking_loss(cr.tensor([2.0]), cr.tensor([1.0]), cr.tensor([-1.0])).item()
        1.0
    """
    red, (x1, x2, y) = _args("margin_ranking_loss", reduction, input1, input2, target)
    if not x1.shape == x2.shape == y.shape:
        raise ValueError(f"margin_ranking_loss: input1 {x1.shape}, input2 {x2.shape} and target "
                         f"{y.shape} must have the same shape")
    return _reduce(maximum(-y * (x1 - x2) + margin, 0.0), red)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1 (x: a distance).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hinge_embedding_loss(cr.tensor([0.3, 0.2]), cr.tensor([1.0, -1.0]),
        ...                        reduction="none").tolist()
        [0.30000001192092896, 0.800000011920929]
    """
    red, (x, y) = _args("hinge_embedding_loss", reduction, input, target)
    if x.shape != y.shape:
        raise ValueError(f"hinge_embedding_loss: input {x.shape} and target {y.shape} differ")
    hinge = where(y != 1, maximum(margin - x, 0.0), 0.0)
    return _reduce(hinge + where(y != -1, x, 0.0), red)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``log(1 + exp(-y x))`` for labels y in {-1, 1}, computed stably.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.soft_margin_loss(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
        0.6931
    """
    red, (x, y) = _args("soft_margin_loss", reduction, input, target)
    if x.shape != y.shape:
        raise ValueError(f"soft_margin_loss: input {x.shape} and target {y.shape} differ")
    return _reduce(-logsigmoid(y * x), red)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight=None,  # noqa: A002
                                reduction: str = "mean") -> Tensor:
    """Per-class binary log-loss of (N, C) scores against 0/1 targets, averaged over classes.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.multilabel_soft_margin_loss(cr.zeros(1, 2), cr.tensor([[1.0, 0.0]])).item(), 4)
        0.6931
    """
    red, (x, y) = _args("multilabel_soft_margin_loss", reduction, input, target)
    if x.shape != y.shape or x.ndim not in (1, 2):
        raise ValueError(f"multilabel_soft_margin_loss: input {x.shape} and target {y.shape} "
                         "must both be (N, C) or (C,)")
    per = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        per = per * weight
    return _reduce(per.mean(dim=-1), red)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where y = 1, ``max(0, cos(x1, x2) - margin)`` where y = -1.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.tensor([[1.0, 0.0]])
        >>> F.cosine_embedding_loss(x, x, cr.tensor([1.0])).item()
        0.0
    """
    red, (x1, x2, y) = _args("cosine_embedding_loss", reduction, input1, input2, target)
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or y.shape != x1.shape[:-1]:
        raise ValueError(f"cosine_embedding_loss: inputs {x1.shape}, {x2.shape} and target "
                         f"{y.shape} must be (N, D), (N, D), (N) or (D), (D), ()")
    eps = 1e-12  # PyTorch's: keeps the norms away from zero
    dot = (x1 * x2).sum(dim=-1)
    cos = dot / (((x1 * x1).sum(dim=-1) + eps) * ((x2 * x2).sum(dim=-1) + eps)).sqrt()
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, maximum(cos - margin, 0.0), 0.0)
    return _reduce(loss, red)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: str = "mean") -> Tensor:
    """``max(0, d(a, p) - d(a, n) + margin)`` with d the p-norm distance.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> a = cr.zeros(1, 2)
        >>> F.triplet_margin_loss(a, a, cr.tensor([[3.0, 4.0]])).item()
        0.0
    """
    red, (a, pos, neg) = _args("triplet_margin_loss", reduction, anchor, positive, negative)
    if not a.shape == pos.shape == neg.shape:
        raise ValueError(f"triplet_margin_loss: anchor {a.shape}, positive {pos.shape} and "
                         f"negative {neg.shape} must have the same shape")
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(pos, neg, p, eps))
    return _reduce(maximum(margin + d_ap - d_an, 0.0), red)
