"""Margin and embedding losses: ranking, hinge, cosine, triplet and soft-margin losses."""

from __future__ import annotations

from ... import _validate as check
from ...ops.binary import minimum, where
from ...ops.elementwise import clamp
from ...tensor import Tensor
from ._checks import check_reduction, float_group, loss_pair, tensor_arg
from .activation import logsigmoid
from .distance import pairwise_distance


def _hinge(z: Tensor) -> Tensor:
    """max(z, 0) as PyTorch's ``clamp_min``: no gradient where z is NaN."""
    return clamp(z, min=0.0)


def _reduce(t: Tensor, red: str) -> Tensor:
    if red == "none":
        return t
    return t.sum() if red == "sum" else t.mean()


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: x1 should rank above x2 where y = 1, below where -1.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.margin_ranking_loss(cr.tensor([2.0]), cr.tensor([1.0]), cr.tensor([-1.0])).item()
        1.0
    """
    loss = "margin_ranking_loss"
    red = check_reduction(reduction, loss)
    margin = check.number(margin, loss, "margin")
    x1, x2 = loss_pair(input1, input2, loss, input_kinds="fiu", target_kinds="fiu")
    x1, y = loss_pair(x1, target, loss, input_kinds="f", target_kinds="fiu")
    x2 = x2.to(x1.dtype) if x2.dtype != x1.dtype else x2
    return _reduce(_hinge(-y * (x1 - x2) + margin), red)


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
    loss = "hinge_embedding_loss"
    red = check_reduction(reduction, loss)
    margin = check.number(margin, loss, "margin")
    x, y = loss_pair(input, target, loss, input_kinds="f", result="input")
    hinge = where(y != 1, _hinge(margin - x), 0.0)
    return _reduce(hinge + where(y != -1, x, 0.0), red)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """``log(1 + exp(-y x))`` for labels y in {-1, 1}, computed stably.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.soft_margin_loss(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
        0.6931
    """
    red = check_reduction(reduction, "soft_margin_loss")
    x, y = loss_pair(input, target, "soft_margin_loss", input_kinds="f", result="input")
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
    loss = "multilabel_soft_margin_loss"
    red = check_reduction(reduction, loss)
    x, y = loss_pair(input, target, loss, input_kinds="f", target_kinds="fiu")
    if x.ndim not in (1, 2):
        raise ValueError(f"{loss}: input {x.shape} and target {y.shape} must both be (N, C) or "
                         "(C,)")
    if weight is not None:
        weight = tensor_arg(weight, loss, "weight")
        check.broadcast(loss, input=x, weight=weight)
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
    loss = "cosine_embedding_loss"
    red = check_reduction(reduction, loss)
    margin = check.number(margin, loss, "margin")
    x1, x2 = float_group(loss, ("input1", "input2"), input1, input2, kinds="fiub")
    y = tensor_arg(target, loss, "target")
    if y._data.dtype.kind not in "fiub":
        check.real(y, loss, "target")
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or y.shape != x1.shape[:-1]:
        raise ValueError(f"cosine_embedding_loss: inputs {x1.shape}, {x2.shape} and target "
                         f"{y.shape} must be (N, D), (N, D), (N) or (D), (D), ()")
    eps = 1e-12  # PyTorch's: keeps the norms away from zero
    dot = (x1 * x2).sum(dim=-1)
    cos = dot / (((x1 * x1).sum(dim=-1) + eps) * ((x2 * x2).sum(dim=-1) + eps)).sqrt()
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, _hinge(cos - margin), 0.0)
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
    loss = "triplet_margin_loss"
    red = check_reduction(reduction, loss)
    margin = check.number(margin, loss, "margin", low=0.0, low_open=True)  # as PyTorch checks
    p, eps = check.number(p, loss, "p"), check.number(eps, loss, "eps")
    a, pos, neg = float_group(loss, ("anchor", "positive", "negative"), anchor, positive,
                              negative, kinds="fiu")
    if not a.shape == pos.shape == neg.shape:
        raise ValueError(f"triplet_margin_loss: anchor {a.shape}, positive {pos.shape} and "
                         f"negative {neg.shape} must have the same shape")
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_an = minimum(d_an, pairwise_distance(pos, neg, p, eps))
    return _reduce(_hinge(margin + d_ap - d_an), red)
