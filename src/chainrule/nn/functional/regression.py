"""Regression losses: mean squared error (a fused primitive), L1, Huber and smooth L1."""

from __future__ import annotations

import math

import numpy as np

from ...autograd.graph import apply
from ...ops._util import like_one
from ...ops.binary import where
from ...ops.op import Op
from ...tensor import Tensor
from ._checks import check_reduction, float_input, same_shape, tensor_arg


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


def _pair(input, target, loss):
    if type(input) is Tensor and type(target) is Tensor:
        a, b = input._data, target._data
        if a.dtype is b.dtype and a.dtype.kind == "f" and a.shape == b.shape:
            return input, target  # the usual call: nothing to convert, nothing wrong
    input = tensor_arg(input, loss, "input")
    target = tensor_arg(target, loss, "target")
    float_input(input, loss)
    same_shape(input, target, loss)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


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
    input, target = _pair(input, target, "l1_loss")
    return _reduce((input - target).abs(), red)


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
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _pair(input, target, "smooth_l1_loss")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, red)
    return _reduce(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), red)


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
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    input, target = _pair(input, target, "huber_loss")
    d = input - target
    ad = d.abs()
    return _reduce(where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta), red)
