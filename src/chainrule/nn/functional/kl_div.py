"""Kullback-Leibler divergence loss (input given as log-probabilities)."""

from __future__ import annotations

from ... import _validate as check
from ...ops.binary import where
from ...ops.elementwise import exp, log
from ...tensor import Tensor
from ._checks import loss_pair

_REDUCTIONS = ("none", "mean", "sum", "batchmean")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Pointwise ``target * (log target - input)`` with ``input`` as log-probabilities.

    ``reduction="batchmean"`` (sum / batch size) is the mathematically correct KL divergence;
    ``"mean"`` averages over every element, as in PyTorch. ``log_target=True`` takes the target
    as log-probabilities too.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> p = cr.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean").item()
        0.0
    """
    loss = "kl_div"
    check.choice(reduction, _REDUCTIONS, loss, "reduction")
    # PyTorch: "kl_div: Integral inputs not supported"; the wider float wins
    input, target = loss_pair(input, target, loss, input_kinds="f", target_kinds="f")  # noqa: A001
    if log_target:
        pointwise = exp(target) * (target - input)
    else:
        pos = target > 0
        # xlogy(t, t): 0 where t == 0; the inner where keeps log away from 0 (and its gradient
        # finite) on the masked-out entries.
        tlogt = where(pos, target * log(where(pos, target, 1.0)), 0.0)
        pointwise = tlogt - target * input
    if reduction == "none":
        return pointwise
    if reduction == "sum":
        return pointwise.sum()
    if reduction == "batchmean":
        n = input.shape[0] if input.ndim else 1
        return pointwise.sum() / n
    return pointwise.mean()
