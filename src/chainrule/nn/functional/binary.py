"""Binary classification losses: BCE on probabilities and the fused, stable BCE with logits."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...autograd.grad_mode import GRAD
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
        # the input's gradient in PyTorch's arrangement (the same NaN for infinite targets)
        sig = F.sigmoid(x)
        if pos_weight is None:
            return w * (sig - t), w * (-x)
        pt = pos_weight * t
        return w * ((pt + 1 - t) * sig - pt), w * ((pos_weight - 1) * _softplus_neg(F, x) - x)


def _args(input, target, weight, loss, same_dtype):  # noqa: A002
    input = tensor_arg(input, loss, "input")  # noqa: A001
    target = tensor_arg(target, loss, "target")
    float_input(input, loss)
    float_input(target, loss, "target")
    if same_dtype:  # PyTorch's BCE kernel: "Found dtype Double but expected Float"
        check.same_dtype(input, target, loss, "input", "target")
    if input.shape != target.shape:
        raise ValueError(f"{loss}: target shape {target.shape} differs from input shape "
                         f"{input.shape}; they must match")
    dt = np.promote_types(input._data.dtype, target._data.dtype)
    if input._data.dtype != dt:
        input = input.to(dt)  # noqa: A001
    if target._data.dtype != dt:
        target = target.to(dt)
    w = _constant_weight(weight, "weight", input, loss, fits="to")
    return input, target, w


def _constant_weight(weight, what: str, input: Tensor, loss: str, fits: str):  # noqa: A002
    """A loss's ``weight`` or ``pos_weight`` as an array of the input's dtype (or None).

    Like PyTorch, a weight that requires grad is refused while gradients are recorded: the loss
    has no derivative for it ("not differentiable with respect to argument 'weight'")."""
    if weight is None:
        return None
    t = tensor_arg(weight, loss, what)
    if t.requires_grad and GRAD.enabled:
        raise RuntimeError(f"{loss}: argument '{what}' requires grad, but the loss is not "
                           f"differentiable with respect to it (as in PyTorch); pass "
                           f"{what}.detach()")
    if what == "pos_weight" and t._data.dtype.kind == "b":  # PyTorch subtracts 1 from it
        raise TypeError(check.say("dtype_bool", op=loss, arg=what))
    w = np.asarray(t._data, dtype=input._data.dtype)
    try:
        full = np.broadcast_shapes(w.shape, input.shape)
        if fits == "to" and full != input.shape:
            raise ValueError
    except ValueError:
        how = "to" if fits == "to" else "with"
        raise ValueError(f"{loss}: {what} of shape {w.shape} does not broadcast {how} the input "
                         f"shape {input.shape}") from None
    return w


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
    input, target, w = _args(input, target, weight, loss, same_dtype=True)  # noqa: A001
    x = input._data
    if x.size and (x.min() < 0 or x.max() > 1 or np.isnan(x).any()):
        raise ValueError(f"{loss}: all elements of input must be probabilities in [0, 1] (got "
                         f"min {x.min():.4g}, max {x.max():.4g}); for raw scores use "
                         "binary_cross_entropy_with_logits")
    t = target._data
    if t.size and (t.min() < 0 or t.max() > 1 or np.isnan(t).any()):  # PyTorch refuses too
        raise ValueError(f"{loss}: all elements of target must be in [0, 1] (got min "
                         f"{t.min():.4g}, max {t.max():.4g})")
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
    target_dtype = tensor_arg(target, loss, "target")._data.dtype
    input, target, w = _args(input, target, weight, loss, same_dtype=False)  # noqa: A001
    pw = _constant_weight(pos_weight, "pos_weight", input, loss, fits="with")
    out = apply(BceWithLogits, (input, target), {"weight": w, "pos_weight": pw, "red": red})
    # PyTorch's result has the target's dtype
    return out if out._data.dtype == target_dtype else out.to(target_dtype)
