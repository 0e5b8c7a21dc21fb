"""Scaled dot-product attention, composed from the engine's matmul and softmax."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ...ops.linalg import matmul
from ...ops.reduce import softmax
from ...tensor import Tensor, _wrap
from .dropout import dropout
from .fused_attention import attention


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
    where = "scaled_dot_product_attention"
    query, key, value = check.same_dtype_operands(where, ("query", "key", "value"), query, key,
                                                  value)
    check.floating(query, where, "query")
    dropout_p = check.number(dropout_p, where, "dropout_p", low=0.0, high=1.0)
    if scale is not None:
        scale = check.number(scale, where, "scale")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: query, key and value need (..., L, E); "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} "
                         f"and value {value.shape} do not fit (query/key feature dims and "
                         "key/value lengths must match)")
    check.broadcast(where, query=query.shape[:-2], key=key.shape[:-2], value=value.shape[:-2])
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal")
    if attn_mask is not None:
        attn_mask = check.real(check.tensor(attn_mask, where, "attn_mask"), where, "attn_mask")
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    fused = _fused(query, key, value, attn_mask, dropout_p, is_causal, s)
    if fused is not None:
        return fused
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


def _fused(query, key, value, attn_mask, dropout_p, is_causal, scale):
    """The one-node ``Attention`` when the operands allow it (same batch dims, float, a mask
    that broadcasts to the scores), else None (the composed path handles the rest)."""
    q, k, v = query._data, key._data, value._data
    if q.shape[:-2] != k.shape[:-2] or k.shape[:-2] != v.shape[:-2] or q.dtype.kind != "f" or \
            not (q.dtype == k.dtype == v.dtype):
        return None
    mask = None
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, q.dtype)
        scores_shape = q.shape[:-1] + (k.shape[-2],)
        if mask._data.dtype != q.dtype or mask.ndim > len(scores_shape) or any(
                m not in (1, t) for m, t in zip(mask.shape[::-1], scores_shape[::-1])):
            return None
    keep = None
    if dropout_p:
        from ...random import _gen
        from .dropout import _keep

        shape = q.shape[:-1] + (k.shape[-2],)
        if dropout_p >= 1.0:
            keep = np.zeros(shape, q.dtype)
        else:
            keep = _keep(_gen(None), shape, dropout_p).astype(q.dtype)
            keep *= q.dtype.type(1.0 / (1.0 - dropout_p))
    return attention(query, key, value, mask, scale=scale, causal=is_causal, keep=keep)
