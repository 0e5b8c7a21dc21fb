"""Dropout: zero each element with probability p in training, scale the rest by 1/(1-p)."""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops.op import Op
from ...random import _gen
from ...tensor import Tensor


class Dropout(Op):
    """x * mask / (1 - p);  d/dx = mask / (1 - p)"""

    public, kind = None, "dropout"
    fresh_grads = True
    formula = "d dropout(x)/dx = mask / (1 - p)"

    def forward(x, mask):
        return x * mask

    def backward(F, g, out, x, mask):
        return (g * mask,)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False, generator=None) -> Tensor:
    """Randomly zero elements with probability ``p`` (training only), scaling the kept ones by
    ``1/(1-p)`` so the expectation is unchanged. Draws from the global generator unless
    ``generator`` is given.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y = F.dropout(cr.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    return _masked(input, input.shape, p, generator)


def _masked(input: Tensor, mask_shape, p: float, generator) -> Tensor:  # noqa: A002
    """x times a scaled keep-mask of ``mask_shape`` (broadcast over the remaining dims)."""
    dt = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=dt)
    else:
        u = _gen(generator).random(mask_shape,
                                   dtype=np.float32 if dt == np.float32 else np.float64)
        mask = (u >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    return apply(Dropout, (input,), {"mask": mask})


def _channel_dropout(input, p, training, generator, spatial: int, name: str):  # noqa: A002
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability p must be in [0, 1], got {p}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expected a {spatial + 2}-D (batched) or {spatial + 1}-D "
                         f"input, got shape {input.shape}")
    if not training or p == 0.0:
        return input
    lead = input.shape[:input.ndim - spatial]
    return _masked(input, lead + (1,) * spatial, p, generator)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator=None) -> Tensor:
    """Zero whole channels of (N, C, L) / (C, L) inputs with probability ``p`` (training only).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y = F.dropout1d(cr.ones(2, 500, 3))
        >>> bool(((y == 0).all(dim=-1) | (y == 2).all(dim=-1)).all())
        True
    """
    return _channel_dropout(input, p, training, generator, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator=None) -> Tensor:
    """Zero whole feature maps of (N, C, H, W) / (C, H, W) inputs with probability ``p``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.dropout2d(cr.ones(2, 3, 4, 4), training=False).shape
        (2, 3, 4, 4)
    """
    return _channel_dropout(input, p, training, generator, 2, "dropout2d")
