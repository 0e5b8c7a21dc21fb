"""Dropout: zero each element with probability p in training, scale the rest by 1/(1-p)."""

from __future__ import annotations

import numpy as np

from ...autograd.graph import Op, apply
from ...random import _gen
from ...tensor import Tensor


class Dropout(Op):
    """x * mask / (1 - p);  d/dx = mask / (1 - p)"""

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
    x = input.data
    dt = x.dtype if x.dtype.kind == "f" else np.float32
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=dt)
    else:
        u = _gen(generator).random(x.shape, dtype=np.float32 if dt == np.float32 else np.float64)
        mask = (u >= p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    return apply(Dropout, (input,), {"mask": mask})
