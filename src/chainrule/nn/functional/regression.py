"""Regression losses: mean squared error (a fused primitive), L1, Huber and smooth L1."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ...autograd.graph import apply
from ...ops._util import like_one
from ...ops.op import Op
from ...tensor import Tensor
from ._checks import check_reduction, loss_pair


class MseLoss(Op):
    """(x - t)^2, reduced;  d/dx = 2(x - t), d/dt = -2(x - t) (times the reduction's scale)"""

    public, kind = None, "loss"
    formula = "d (x-t)^2/dx = 2(x-t)"
    saves = True
    pass_needs_input_grad = True

    def forward(x, t, red):
        d = x - t
        if d.size == 1 and red != "none":
            v = d.item()  # one element: Python floats beat three NumPy calls
            return np.array(v * v, dtype=x.dtype), d
        sq = d * d
        if red == "none":
            return sq, d
        if red == "sum":
            return np.asarray(sq.sum(), dtype=x.dtype), d
        # sum / n is np.mean for float32/64, without its Python wrapper (microseconds per call)
        m = np.add.reduce(sq, axis=None) / sq.size if sq.dtype.itemsize >= 4 else sq.mean()
        return np.asarray(m, dtype=x.dtype), d

    def backward(F, g, out, x, t, red, saved, needs_input_grad=(True, True)):
        d = (x - t) if F.differentiable else saved
        scale = 2.0 / math.prod(x.shape) if red == "mean" else 2.0
        if red != "none" and not F.differentiable:
            # g is the loss's 0-d gradient: one NumPy call, or none for a one-element input
            gx = like_one(d, d.item() * (float(g) * scale)) if d.size == 1 else d * (
                float(g) * scale)
        else:
            gx = d * (g * scale)
        return gx, (-gx if needs_input_grad[1] else None)


class PointwiseLoss(Op):
    """The elementwise L1, smooth L1 and Huber losses of d = x - t (unreduced), with PyTorch's
    derivatives: sign(d) for L1 (0 where d is NaN), and the clipped line for smooth L1 and
    Huber (NaN where d is NaN)."""

    public, kind = None, "loss"
    formula = "d |d|/dx = sign(d); smooth L1 / Huber: d clipped to [-beta, beta] (scaled)"
    fresh_grads, quiet = True, True

    def forward(x, t, mode, k):
        d = x - t
        ad = np.abs(d)
        if mode == "l1":
            return ad
        if mode == "smooth_l1":
            return np.where(ad < k, d * d * (0.5 / k), ad - 0.5 * k)
        return np.where(ad < k, d * d * 0.5, (ad - 0.5 * k) * k)  # huber

    def backward(F, g, out, x, t, mode, k):
        d = x - t
        if mode == "l1":
            # sign(d) with 0 at NaN, as PyTorch's sgn
            slope = F.where(d > 0, 1.0, F.where(d < 0, -1.0, 0.0))
        else:
            inner = d * (1.0 / k) if mode == "smooth_l1" else d
            top = 1.0 if mode == "smooth_l1" else k
            slope = F.where(d < -k, -top, F.where(d > k, top, inner))  # NaN: the inner line
        gx = g * slope
        return gx, -gx


def _pointwise(input, target, mode, k, red):  # noqa: A002
    return _reduce(apply(PointwiseLoss, (input, target), {"mode": mode, "k": k}), red)


def _pair(input, target, loss, kinds="fiub"):  # noqa: A002
    # PyTorch's dtypes: integers and bools promote to the default float, the wider float wins
    return loss_pair(input, target, loss, input_kinds=kinds, target_kinds=kinds)


def _reduce(t: Tensor, red: str) -> Tensor:
    if red == "none":
        return t
    return t.sum() if red == "sum" else t.mean()


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2`` (one fused node).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
        5.0
    """
    input, target = _pair(input, target, "mse_loss")
    return apply(MseLoss, (input, target), {"red": check_reduction(reduction, "mse_loss")})


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|`` (gradient 0 where they are equal).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.l1_loss(cr.tensor([1.0, -3.0]), cr.tensor([0.0, 0.0])).item()
        2.0
    """
    red = check_reduction(reduction, "l1_loss")
    input, target = _pair(input, target, "l1_loss", "fiu")  # PyTorch subtracts: no bools
    return _pointwise(input, target, "l1", 0.0, red)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta/2`` (d = input - target).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none")
        tensor([0.125, 2.5  ])
    """
    red = check_reduction(reduction, "smooth_l1_loss")
    beta = check.number(beta, "smooth_l1_loss", "beta", low=0.0)
    input, target = _pair(input, target, "smooth_l1_loss")
    return _pointwise(input, target, "l1" if beta == 0 else "smooth_l1", beta, red)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| <= delta``, else ``delta (|d| - delta/2)`` (d = input - target).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none")
        tensor([0.125, 2.5  ])
    """
    red = check_reduction(reduction, "huber_loss")
    delta = check.number(delta, "huber_loss", "delta", low=0.0, low_open=True)
    input, target = loss_pair(input, target, "huber_loss", result="input")
    return _pointwise(input, target, "huber", delta, red)
