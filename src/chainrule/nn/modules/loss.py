"""Loss modules: each holds its options and calls the function in ``nn.functional``."""

from __future__ import annotations

import warnings

import numpy as np

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from ..functional._checks import check_reduction
from .module import Module


def _legacy(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(_legacy(size_average, reduce, reduction),
                                         type(self).__name__)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(np.asarray(weight))
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MSELoss()(cr.tensor([1.0, 3.0]), cr.tensor([1.0, 1.0])).item()
        2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.L1Loss()(cr.tensor([1.0, -1.0]), cr.zeros(2)).item()
        1.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """Quadratic for |error| <= delta, linear beyond (slope delta).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.HuberLoss(delta=1.0)(cr.tensor([3.0]), cr.zeros(1)).item()
        2.5
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        delta = check.number(delta, "HuberLoss", "delta", low=0.0, low_open=True)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """Quadratic (scaled by 1/beta) for |error| < beta, |error| - beta/2 beyond.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.SmoothL1Loss(beta=1.0)(cr.tensor([3.0]), cr.zeros(1)).item()
        2.5
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities (apply a sigmoid first, or use BCEWithLogitsLoss).

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.BCELoss()(cr.tensor([0.5]), cr.tensor([1.0])).item(), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross entropy, fused and stable; ``pos_weight`` weighs positives.

    Example:
        >>> import chainrule as cr
        >>> loss = cr.nn.BCEWithLogitsLoss()(cr.tensor([0.0]), cr.tensor([1.0]))
        >>> round(loss.item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        for name, v in (("weight", weight), ("pos_weight", pos_weight)):
            if v is not None and not isinstance(v, Tensor):
                v = Tensor(np.asarray(v))
            self.register_buffer(name, v)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross entropy of logits against class indices or class probabilities.

    One fused, stable primitive. Supports ``weight`` (PyTorch's weighted mean),
    ``ignore_index``, ``label_smoothing`` and (N, C, d1, ...) inputs.

    Example:
        >>> import chainrule as cr
        >>> crit = cr.nn.CrossEntropyLoss()
        >>> logits = cr.zeros(2, 4, requires_grad=True)
        >>> round(crit(logits, cr.tensor([1, 3])).item(), 4)
        1.3863
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        label_smoothing = check.number(label_smoothing, "CrossEntropyLoss", "label_smoothing",
                                       low=0.0, high=1.0)
        ignore_index = check.integer(ignore_index, "CrossEntropyLoss", "ignore_index")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after LogSoftmax).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.NLLLoss()(cr.tensor([[-1.0, -2.0]]), cr.tensor([1])).item()
        2.0
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = check.integer(ignore_index, type(self).__name__, "ignore_index")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(Module):
    """KL divergence of log-probability ``input`` from ``target``; prefer reduction='batchmean'.

    Example:
        >>> import chainrule as cr
        >>> p = cr.tensor([[0.25, 0.75]])
        >>> cr.nn.KLDivLoss(reduction='batchmean')(p.log(), p).item()
        0.0
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__()
        reduction = _legacy(size_average, reduce, reduction)
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"KLDivLoss: reduction must be 'none', 'mean', 'sum' or "
                             f"'batchmean', got {reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``max(0, -y (x1 - x2) + margin)``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MarginRankingLoss()(cr.tensor([1.0]), cr.tensor([2.0]), cr.tensor([1.0])).item()
        1.0
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.HingeEmbeddingLoss()(cr.tensor([0.25]), cr.tensor([-1.0])).item()
        0.75
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-y x))``.

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.SoftMarginLoss()(cr.zeros(2), cr.ones(2)).item(), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.soft_margin_loss(input, target, self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class binary log-loss averaged over classes.

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.MultiLabelSoftMarginLoss()(cr.zeros(1, 3), cr.ones(1, 3)).item(), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for similar pairs (y = 1), ``max(0, cos - margin)`` for dissimilar ones.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 0.0]])
        >>> cr.nn.CosineEmbeddingLoss()(x, -x, cr.tensor([1.0])).item()
        2.0
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, d(a, p) - d(a, n) + margin)``.

    Example:
        >>> import chainrule as cr
        >>> a = cr.zeros(1, 2)
        >>> round(cr.nn.TripletMarginLoss()(a, a, a).item(), 4)
        1.0
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        margin = check.number(margin, "TripletMarginLoss", "margin", low=0.0, low_open=True)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                     self.swap, self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.PoissonNLLLoss()(cr.zeros(2), cr.ones(2)).item()
        1.0
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.GaussianNLLLoss()(cr.zeros(2), cr.zeros(2), cr.ones(2)).item()
        0.0
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var) -> Tensor:  # noqa: A002
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class NLLLoss2d(NLLLoss):
    """PyTorch's old name for ``NLLLoss`` on (N, C, H, W) inputs (deprecated there too: it
    warns the same way).

    Example:
        >>> import warnings
        >>> import chainrule as cr
        >>> x = cr.zeros(1, 2, 2, 2).log_softmax(dim=1)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     loss = cr.nn.NLLLoss2d()
        >>> round(loss(x, cr.zeros(1, 2, 2, dtype=cr.int64)).item(), 4)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (``F.multi_margin_loss``).

    Example:
        >>> import chainrule as cr
        >>> loss = cr.nn.MultiMarginLoss()(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))
        >>> round(loss.item(), 4)
        0.325
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p = 1 or 2 are supported, got {p!r}")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss (``F.multilabel_margin_loss``): targets are class indices ended
    by -1.

    Example:
        >>> import chainrule as cr
        >>> x, y = cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([[3, 0, -1, 1]])
        >>> round(cr.nn.MultiLabelMarginLoss()(x, y).item(), 4)
        0.85
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (pairwise Euclidean by default).

    Example:
        >>> import chainrule as cr
        >>> a = cr.zeros(1, 2)
        >>> cr.nn.TripletMarginWithDistanceLoss()(a, a, a).item()
        1.0
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, "
                             f"got {margin}")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (``F.ctc_loss``): the negative log-likelihood
    of the targets summed over every alignment of them to the (longer) input sequence.

    Example:
        >>> import chainrule as cr
        >>> lp = cr.zeros(3, 1, 2).log_softmax(dim=-1)
        >>> round(cr.nn.CTCLoss(reduction="sum")(lp, cr.tensor([[1]]), [3], [1]).item(), 4)
        0.2877
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths,
                target_lengths) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
