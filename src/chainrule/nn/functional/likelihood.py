"""Likelihood losses of count and real-valued targets: Poisson and Gaussian NLL."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ...ops.elementwise import exp, log
from ...tensor import Tensor, _wrap
from ._checks import check_reduction, loss_pair, tensor_arg


def _reduce(t: Tensor, red: str) -> Tensor:
    if red == "none":
        return t
    return t.sum() if red == "sum" else t.mean()


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of counts under Poisson(rate): ``exp(x) - t x`` with log rates
    (``log_input``), else ``x - t log(x + eps)``; ``full`` adds Stirling's term.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.poisson_nll_loss(cr.tensor([0.0]), cr.tensor([1.0])).item()
        1.0
    """
    loss = "poisson_nll_loss"
    red = check_reduction(reduction, loss)
    x, t = loss_pair(input, target, loss, input_kinds="fiub", target_kinds="fiub")
    eps = check.number(eps, loss, "eps")
    out = exp(x) - t * x if log_input else x - t * log(x + eps)
    if full:
        td = t._data
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = td * np.log(td) - td + 0.5 * np.log(2 * math.pi * td)
        out = out + _wrap(np.where(td > 1, stirling, 0.0).astype(x.dtype))
    return _reduce(out, red)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var):
    ``0.5 (log var + (input - target)^2 / var)`` (+ 0.5 log 2 pi with ``full``).

    ``var`` has the input's shape, or one fewer (trailing) dim, or a trailing dim of 1; it is
    clamped at ``eps`` for stability without blocking its gradient (as in PyTorch).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.gaussian_nll_loss(cr.tensor([1.0]), cr.tensor([1.0]), cr.tensor([1.0])).item()
        0.0
    """
    loss = "gaussian_nll_loss"
    red = check_reduction(reduction, loss)
    x, t = loss_pair(input, target, loss, input_kinds="fiu", target_kinds="fiu")
    eps = check.number(eps, loss, "eps", low=0.0)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        v = _wrap(np.full(x.shape, var, dtype=x.dtype))
    else:
        v = tensor_arg(var, loss, "var")
        if v._data.dtype.kind != "f":  # PyTorch writes the clamped var back into its dtype
            check.floating(v, loss, "var")
        if v._data.dtype != x._data.dtype:
            v = v.to(np.promote_types(v._data.dtype, x._data.dtype))
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (v.shape[:-1] == x.shape[:-1] and v.shape[-1:] == (1,)):
            raise ValueError(f"{loss}: var of shape {v.shape} does not fit input {x.shape}")
    if (v._data < 0).any():
        raise ValueError(f"{loss}: var has negative entries")
    if v._data.dtype != x._data.dtype:  # a float64 var: the loss in float64, as PyTorch's
        x, t = x.to(v._data.dtype), t.to(v._data.dtype)
    # Clamp by adding a constant: the value is clamped, the gradient still flows (PyTorch).
    v = v + _wrap(np.maximum(eps - v._data, 0).astype(v.dtype))
    out = 0.5 * (log(v) + (x - t) * (x - t) / v)
    if full:
        out = out + 0.5 * math.log(2 * math.pi)
    return _reduce(out, red)
