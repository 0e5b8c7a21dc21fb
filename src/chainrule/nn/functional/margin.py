"""Multi-class and multi-label hinge losses, and the triplet loss with any distance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import _validate as check
from ...ops.binary import minimum, where
from ...ops.elementwise import clamp
from ...tensor import Tensor, _wrap
from ._checks import check_reduction, class_weight, float_group, float_input, tensor_arg
from .distance import pairwise_distance


def _hinge(z: Tensor) -> Tensor:
    """max(z, 0) as PyTorch's ``clamp_min``: no gradient where z is NaN."""
    return clamp(z, min=0.0)


def _reduce(t: Tensor, red: str) -> Tensor:
    if red == "none":
        return t
    return t.sum() if red == "sum" else t.mean()


def _legacy(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated size_average / reduce flags, turned into a reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def _class_scores(input, target, loss: str):
    x = tensor_arg(input, loss, "input")
    float_input(x, loss)
    y = tensor_arg(target, loss, "target")._data
    if x.ndim not in (1, 2):
        raise ValueError(f"{loss}: input must be (N, C) or (C,), got {x.shape}")
    return x, y


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over the wrong classes j of
    max(0, margin - x[y] + x[j])^p, times weight[y], divided by the number of classes.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.multi_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3])).item(), 4)
        0.325
    """
    loss = "multi_margin_loss"
    red = check_reduction(_legacy(size_average, reduce, reduction), loss)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{loss}: only p = 1 or 2 are supported, got {p!r}")
    margin = check.number(margin, loss, "margin")
    x, y = _class_scores(input, target, loss)
    batched = x.ndim == 2
    n, c = (x.shape if batched else (1, x.shape[0]))
    y = y.reshape(-1)
    if y.dtype.kind not in "iu":
        raise TypeError(check.say("dtype_index", op=loss, arg="target", dtype=y.dtype))
    if y.shape != (n,):
        raise ValueError(f"{loss}: target must be {n} class indices, got shape {y.shape}")
    check.indices_in_range(y, c, loss, "target", 1)
    x2 = x if batched else x.reshape(1, c)
    rows = np.arange(n)
    correct = x2[rows, y].unsqueeze(1)  # (N, 1)
    z = x2 - correct + margin
    hinge = where(z > 0, z, 0.0)  # PyTorch's kernel adds z only where z > 0 (not NaN)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones((n, c), dtype=x.dtype)
    others[rows, y] = 0.0  # the target class itself does not count
    w = class_weight(weight, c, x.dtype, loss)
    if w is not None:
        others *= w[y][:, None]
    out = (hinge * _wrap(others)).sum(dim=1) / float(c)
    return _reduce(out if batched else out.reshape(()), red)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None,  # noqa: A002
                           reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss. ``target`` holds each sample's class indices, ended by the first
    -1; the loss sums max(0, 1 - (x[j] - x[i])) over its classes j and the other classes i,
    divided by the number of classes.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x, y = cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([[3, 0, -1, 1]])
        >>> round(F.multilabel_margin_loss(x, y).item(), 4)
        0.85
    """
    loss = "multilabel_margin_loss"
    red = check_reduction(_legacy(size_average, reduce, reduction), loss)
    x, y = _class_scores(input, target, loss)
    batched = x.ndim == 2
    if y.dtype.kind not in "iu":
        raise TypeError(check.say("dtype_index", op=loss, arg="target", dtype=y.dtype))
    if y.shape != x.shape:
        raise ValueError(f"{loss}: target must have the input's shape {x.shape}, got "
                         f"{y.shape}")
    x2, y2 = (x, y) if batched else (x.reshape(1, -1), y.reshape(1, -1))
    n, c = x2.shape
    if y2.size and (y2.min() < -1 or y2.max() >= c):  # -1 ends a row's labels
        bad = int(y2.min()) if y2.min() < -1 else int(y2.max())
        raise IndexError(f"{loss}: target value {bad} is out of range for {c} classes (labels "
                         f"in [0, {c - 1}], -1 ends a row)")
    is_target = np.zeros((n, c), dtype=bool)
    pairs = np.zeros((n, c, c), dtype=x.dtype)  # [sample, target class j, other class i]
    for r in range(n):
        labels = []
        for v in y2[r]:
            if v < 0:
                break
            if v >= c:
                raise IndexError(f"{loss}: target value {v} is out of range for {c} classes")
            labels.append(int(v))
        is_target[r, labels] = True
        for j in set(labels):
            pairs[r, j] = ~is_target[r]
        for j in set(labels):  # a class named twice counts twice, as in PyTorch's kernel
            pairs[r, j] *= labels.count(j)
    diff = x2.unsqueeze(2) - x2.unsqueeze(1)  # x[j] - x[i]
    z = 1.0 - diff
    out = (where(z > 0, z, 0.0) * _wrap(pairs)).sum(dim=(1, 2)) / float(c)
    return _reduce(out if batched else out.reshape(()), red)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``max(0, d(a, p) - d(a, n) + margin)`` with any distance ``d`` (pairwise Euclidean by
    default); ``swap`` uses min(d(a, n), d(p, n)).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> a = cr.zeros(1, 2)
        >>> F.triplet_margin_with_distance_loss(a, a, cr.tensor([[3.0, 4.0]])).item()
        0.0
    """
    loss = "triplet_margin_with_distance_loss"
    red = check_reduction(reduction, loss)
    margin = check.number(margin, loss, "margin", low=0.0, low_open=True)
    if distance_function is None:
        anchor, positive, negative = float_group(loss, ("anchor", "positive", "negative"),
                                                 anchor, positive, negative, kinds="fiu")
        if not anchor.ndim == positive.ndim == negative.ndim:
            raise ValueError(f"{loss}: anchor, positive and negative must have the same number "
                             f"of dims, got {anchor.shape}, {positive.shape} and "
                             f"{negative.shape}")
        check.broadcast(loss, anchor=anchor, positive=positive, negative=negative)
    elif not callable(distance_function):
        raise TypeError(check.say("not_callable", op=loss, arg="distance_function",
                                  got=type(distance_function).__name__))
    d = pairwise_distance if distance_function is None else distance_function
    d_ap, d_an = d(anchor, positive), d(anchor, negative)
    if swap:
        d_an = minimum(d_an, d(positive, negative))
    return _reduce(_hinge(margin + d_ap - d_an), red)
