"""Folding an eval-mode batch norm into the convolution or linear layer before it."""

from __future__ import annotations

import copy

import numpy as np

from ...tensor import Tensor
from ..parameter import Parameter


def _arr(t, like=None):
    if t is None:
        return None
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias of one convolution that computes conv then eval-mode batch norm.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import fuse_conv_bn_weights
        >>> w, b = fuse_conv_bn_weights(cr.ones(2, 1, 1, 1), None, cr.zeros(2), cr.ones(2),
        ...                             0.0, cr.full((2,), 3.0), cr.ones(2))
        >>> w.flatten().tolist(), b.tolist()
        ([3.0, 3.0], [1.0, 1.0])
    """
    w, rm, rv = _arr(conv_w), _arr(bn_rm), _arr(bn_rv)
    b = np.zeros_like(rm) if conv_b is None else _arr(conv_b)
    gamma = np.ones_like(rm) if bn_w is None else _arr(bn_w)
    beta = np.zeros_like(rm) if bn_b is None else _arr(bn_b)
    rsqrt = 1.0 / np.sqrt(rv + bn_eps)
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (w.ndim - 2)
    fused_w = (w * (gamma * rsqrt).reshape(shape)).astype(w.dtype)
    fused_b = ((b - rm) * rsqrt * gamma + beta).astype(b.dtype if conv_b is not None
                                                      else w.dtype)
    return (Parameter(fused_w, getattr(conv_w, "requires_grad", True)),
            Parameter(fused_b, getattr(conv_b, "requires_grad", True)))


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` whose output equals ``bn(conv(x))`` (both in eval mode).

    Example:
        >>> import chainrule as cr
        >>> conv, bn = cr.nn.Conv2d(1, 2, 3).eval(), cr.nn.BatchNorm2d(2).eval()
        >>> fused = cr.nn.utils.fuse_conv_bn_eval(conv, bn)
        >>> x = cr.randn(1, 1, 5, 5)
        >>> bool(((fused(x) - bn(conv(x))).abs() < 1e-5).all())
        True
    """
    if conv.training or bn.training:
        raise ValueError("fuse_conv_bn_eval: fusion is only for eval mode; call .eval() on "
                         "both modules first")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fuse_conv_bn_eval: the batch norm has no running statistics "
                         "(track_running_stats=False)")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean,
                                                    bn.running_var, bn.eps, bn.weight, bn.bias,
                                                    transpose)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor,
                           bn_b: Tensor) -> tuple[Parameter, Parameter]:
    """The weight and bias of one linear layer that computes linear then eval-mode batch norm.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils import fuse_linear_bn_weights
        >>> w, b = fuse_linear_bn_weights(cr.ones(2, 3), None, cr.zeros(2), cr.ones(2), 0.0,
        ...                               cr.full((2,), 2.0), cr.zeros(2))
        >>> w.tolist()[0], b.tolist()
        ([2.0, 2.0, 2.0], [0.0, 0.0])
    """
    w, rm, rv = _arr(linear_w), _arr(bn_rm), _arr(bn_rv)
    b = np.zeros_like(rm) if linear_b is None else _arr(linear_b)
    scale = _arr(bn_w) / np.sqrt(rv + bn_eps)
    fused_w = (w * scale[:, None].astype(w.dtype)).astype(w.dtype)
    fused_b = ((b - rm) * scale + _arr(bn_b)).astype(b.dtype if linear_b is not None
                                                     else w.dtype)
    return (Parameter(fused_w, getattr(linear_w, "requires_grad", True)),
            Parameter(fused_b, getattr(linear_b, "requires_grad", True)))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose output equals ``bn(linear(x))`` (both in eval mode).

    Example:
        >>> import chainrule as cr
        >>> lin, bn = cr.nn.Linear(3, 2).eval(), cr.nn.BatchNorm1d(2).eval()
        >>> fused = cr.nn.utils.fuse_linear_bn_eval(lin, bn)
        >>> x = cr.randn(4, 3)
        >>> bool(((fused(x) - bn(lin(x))).abs() < 1e-5).all())
        True
    """
    if linear.training or bn.training:
        raise ValueError("fuse_linear_bn_eval: fusion is only for eval mode; call .eval() on "
                         "both modules first")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ValueError(f"fuse_linear_bn_eval: the linear layer's {linear.out_features} "
                         f"outputs do not match the batch norm's {bn.num_features} features")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fuse_linear_bn_eval: the batch norm has no running statistics "
                         "(track_running_stats=False)")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias,
                                                      bn.running_mean, bn.running_var, bn.eps,
                                                      bn.weight, bn.bias)
    return fused
