"""Scaled dot-product attention, composed from the engine's matmul and softmax."""

from __future__ import annotations

import math

import numpy as np

from ...ops.binary import where
from ...ops.linalg import matmul
from ...ops.reduce import softmax
from ...tensor import Tensor, _wrap
from .dropout import dropout


def _additive_mask(mask, dtype) -> Tensor:
    """A boolean 'may attend' mask or a float additive mask as an additive float tensor."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return _wrap(np.where(m, 0.0, -np.inf).astype(dtype))
    return mask if isinstance(mask, Tensor) else _wrap(m.astype(dtype))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims, as PyTorch's function.

    A boolean ``attn_mask`` marks the positions that MAY be attended (True); a float one is
    added to the scores. ``is_causal`` hides future positions. ``scale`` defaults to
    1/sqrt(head dim).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> q = k = v = cr.randn(2, 4, 8)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 8)
    """
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need (..., L, E); "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} "
                         f"and value {value.shape} do not fit (query/key feature dims and "
                         "key/value lengths must match)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal")
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * s
    if is_causal:
        lq, lk = query.shape[-2], key.shape[-2]
        allowed = np.tril(np.ones((lq, lk), dtype=bool))
        scores = where(_wrap(allowed), scores, -np.inf)
    elif attn_mask is not None:
        scores = scores + _additive_mask(attn_mask, scores.dtype)
    weights = softmax(scores, -1)
    if dropout_p:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)
