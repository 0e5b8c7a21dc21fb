"""Binary classification losses: BCE on probabilities and the fused, stable BCE with logits."""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops.op import Op
from ...tensor import Tensor
from ._checks import check_reduction, float_input, tensor_arg

_EPS = 1e-12


def _reduce_arr(a, red, dtype):
    if red == "none":
        return a
    return np.asarray(a.sum() if red == "sum" else a.mean(), dtype=dtype)


def _scale(F, g, red, n):
    return g * (1.0 / n) if red == "mean" else g


def _clamped_logs(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), -100.0), np.maximum(np.log1p(-x), -100.0)


class BinaryCrossEntropy(Op):
    """-w (t log x + (1-t) log(1-x)), logs clamped at -100;
    d/dx = w (x - t) / max(x (1-x), 1e-12),  d/dt = w (log(1-x) - log x)"""

    public, kind = None, "loss"
    formula = "d BCE/dx = (x - t) / (x (1 - x))"

    def forward(x, t, weight, red):
        lx, l1x = _clamped_logs(x)
        loss = -(t * lx + (1 - t) * l1x)
        if weight is not None:
            loss = loss * weight
        return _reduce_arr(loss, red, x.dtype)

    def backward(F, g, out, x, t, weight, red):
        n = np.broadcast_shapes(x.shape, t.shape, () if weight is None else weight.shape)
        s = _scale(F, g, red, int(np.prod(n)))
        den = x * (1 - x)
        if F.differentiable:
            den = F.where(den > _EPS, den, _EPS)
            lx, l1x = F.log(x), F.log(1 - x)
            lx = F.where(lx > -100.0, lx, -100.0)
            l1x = F.where(l1x > -100.0, l1x, -100.0)
        else:
            den = np.maximum(den, _EPS)
            lx, l1x = _clamped_logs(x)
        w = s if weight is None else s * weight
        return w * (x - t) / den, w * (l1x - lx)


def _softplus_neg(F, x):
    """softplus(-x) = log(1 + e^-x), stable."""
    if F.differentiable:
        return -F.log(F.sigmoid(x))
    return np.logaddexp(0, -x)


class BceWithLogits(Op):
    """(1-t) x + (1 + (p-1) t) softplus(-x), times w;
    d/dx = w ((1-t) - (1 + (p-1) t) sigmoid(-x)),  d/dt = w (-x + (p-1) softplus(-x))"""

    public, kind = None, "loss"
    formula = "d BCEWithLogits/dx = sigmoid(x) - t  (no pos_weight)"
    latex = r"\frac{\partial L}{\partial x} = \sigma(x) - t"

    def forward(x, t, weight, pos_weight, red):
        sp = np.logaddexp(0, -x)
        if pos_weight is None:
            loss = (1 - t) * x + sp
        else:
            loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * sp
        if weight is not None:
            loss = loss * weight
        return _reduce_arr(loss, red, x.dtype)

    def backward(F, g, out, x, t, weight, pos_weight, red):
        shapes = [x.shape, t.shape] + [a.shape for a in (weight, pos_weight) if a is not None]
        s = _scale(F, g, red, int(np.prod(np.broadcast_shapes(*shapes))))
        w = s if weight is None else s * weight
        sig = F.sigmoid(-x)
        if pos_weight is None:
            return w * ((1 - t) - sig), w * (-x)
        lw = 1 + (pos_weight - 1) * t
        return w * ((1 - t) - lw * sig), w * ((pos_weight - 1) * _softplus_neg(F, x) - x)


def _args(input, target, weight, loss):
    input = tensor_arg(input, loss, "input")
    target = tensor_arg(target, loss, "target")
    float_input(input, loss)
    if input.shape != target.shape:
        raise ValueError(f"{loss}: target shape {target.shape} differs from input shape "
                         f"{input.shape}; they must match")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    w = None
    if weight is not None:
        w = np.asarray(weight._data if isinstance(weight, Tensor) else weight,
                       dtype=input._data.dtype)
        try:
            if np.broadcast_shapes(w.shape, input.shape) != input.shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"{loss}: weight of shape {w.shape} does not broadcast to the "
                             f"input shape {input.shape}") from None
    return input, target, w


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities ``input`` in [0, 1] (logs clamped at -100).

    Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is stable.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.binary_cross_entropy(cr.tensor([0.9]), cr.tensor([1.0])).item(), 4)
        0.1054
    """
    loss = "binary_cross_entropy"
    red = check_reduction(reduction, loss)
    input, target, w = _args(input, target, weight, loss)
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1 or np.isnan(x).any()):
        raise ValueError(f"{loss}: all elements of input must be probabilities in [0, 1] (got "
                         f"min {x.min():.4g}, max {x.max():.4g}); for raw scores use "
                         "binary_cross_entropy_with_logits")
    return apply(BinaryCrossEntropy, (input, target), {"weight": w, "red": red})


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Sigmoid + binary cross entropy in one stable primitive (no overflow for any logit).

    ``pos_weight`` multiplies the positive term (one value per class, broadcast over the last
    dim); ``weight`` rescales each element.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.tensor([0.0, 100.0])
        >>> round(F.binary_cross_entropy_with_logits(x, cr.tensor([1.0, 1.0])).item(), 4)
        0.3466
    """
    loss = "binary_cross_entropy_with_logits"
    red = check_reduction(reduction, loss)
    input, target, w = _args(input, target, weight, loss)
    pw = None
    if pos_weight is not None:
        pw = np.asarray(pos_weight._data if isinstance(pos_weight, Tensor) else pos_weight,
                        dtype=input._data.dtype)
        try:
            np.broadcast_shapes(pw.shape, input.shape)
        except ValueError:
            raise ValueError(f"{loss}: pos_weight of shape {pw.shape} does not broadcast with "
                             f"the input shape {input.shape}") from None
    return apply(BceWithLogits, (input, target), {"weight": w, "pos_weight": pw, "red": red})
