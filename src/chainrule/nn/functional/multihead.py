"""Multi-head attention as a function (``F.multi_head_attention_forward``): the computation
behind ``nn.MultiheadAttention``, on (L, N, E) inputs and explicit weights."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ...ops.linalg import linear
from ...tensor import Tensor, _wrap
from .activation import softmax
from .attention import scaled_dot_product_attention
from .dropout import dropout


def _mask_array(mask, name: str, where: str) -> np.ndarray:
    """A mask as an additive float array: booleans mark the positions NOT to attend."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, -np.inf, 0.0)
    if m.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must be bool or float, got {m.dtype}")
    return m


def _additive_mask(attn_mask, key_padding_mask, is_causal, n, heads, tgt, src, dtype, where):
    add = None
    if attn_mask is None and is_causal:
        attn_mask = ~np.tril(np.ones((tgt, src), dtype=bool))
    if attn_mask is not None:
        add = _mask_array(attn_mask, "attn_mask", where).astype(dtype)
        if add.shape not in ((tgt, src), (n * heads, tgt, src)):
            raise ValueError(f"{where}: attn_mask of shape {add.shape} must be ({tgt}, {src}) "
                             f"or ({n * heads}, {tgt}, {src})")
    if key_padding_mask is not None:
        kpm = _mask_array(key_padding_mask, "key_padding_mask", where).astype(dtype)
        if kpm.shape != (n, src):
            raise ValueError(f"{where}: key_padding_mask of shape {kpm.shape} must be "
                             f"({n}, {src})")
        kpm = np.broadcast_to(kpm[:, None, None, :], (n, heads, 1, src))
        kpm = kpm.reshape(n * heads, 1, src)
        add = kpm if add is None else add + kpm
    return add


def _attention(query, key, value, heads, ws, bs, out_w, out_b, dropout_p, training,
               key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal,
               where):
    """The core on batched (L, N, E) tensors: returns (output, weights or None)."""
    tgt, n, e = query.shape
    src = key.shape[0]
    if tgt == 0 or n == 0:  # no queries: an empty result, as PyTorch's
        out = _wrap(np.zeros((tgt, n, out_w.shape[0]), dtype=query._data.dtype))
        w = _wrap(np.zeros((n, tgt, src) if average_attn_weights else (n, heads, tgt, src),
                           dtype=query._data.dtype)) if need_weights else None
        return out, w
    if src == 0:  # nothing to attend to: each head's weighted sum is 0, as in PyTorch
        y = _wrap(np.zeros((tgt, n, e), dtype=query._data.dtype))
        w = _wrap(np.zeros((n, tgt, 0) if average_attn_weights else (n, heads, tgt, 0),
                           dtype=query._data.dtype)) if need_weights else None
        return linear(y, out_w, out_b), w
    hd = e // heads
    (wq, wk, wv), (bq, bk, bv) = ws, bs
    q = linear(query, wq, bq).reshape(tgt, n * heads, hd).transpose(0, 1)
    k = linear(key, wk, bk).reshape(src, n * heads, hd).transpose(0, 1)
    v = linear(value, wv, bv).reshape(src, n * heads, hd).transpose(0, 1)
    if not need_weights:  # one fused node (see nn.functional.fused_attention)
        add = _additive_mask(attn_mask, key_padding_mask, is_causal, n, heads, tgt, src,
                             q.dtype, where)
        y = scaled_dot_product_attention(q, k, v, None if add is None else _wrap(add),
                                         dropout_p=dropout_p if training else 0.0,
                                         scale=1.0 / math.sqrt(hd))
        return linear(y.transpose(0, 1).reshape(tgt, n, e), out_w, out_b), None
    scores = q @ k.transpose(1, 2) * (1.0 / math.sqrt(hd))  # (N*H, L, S)
    add = _additive_mask(attn_mask, key_padding_mask, is_causal, n, heads, tgt, src,
                         scores.dtype, where)
    if add is not None:
        scores = scores + _wrap(add)
    weights = softmax(scores, -1)
    if dropout_p and training:
        weights = dropout(weights, dropout_p)
    out = linear((weights @ v).transpose(0, 1).reshape(tgt, n, e), out_w, out_b)
    if not need_weights:
        return out, None
    w = weights.reshape(n, heads, tgt, src)
    return out, (w.mean(dim=1) if average_attn_weights else w)


def _shape(t: Tensor, want: tuple, name: str, where: str) -> None:
    if tuple(t.shape) != want:
        raise ValueError(check.say("shape", op=where, arg=name, want=want, shape=tuple(t.shape)))


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True, key_padding_mask=None,
        need_weights: bool = True, attn_mask=None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k=None, static_v=None,
        average_attn_weights: bool = True, is_causal: bool = False):
    """Multi-head attention of (L, N, E) ``query`` over (S, N, E_k) ``key`` and
    (S, N, E_v) ``value`` (or unbatched (L, E)...), with PyTorch's argument list; returns
    ``(output, weights)`` (weights None when ``need_weights`` is False). Boolean masks mark
    positions that may NOT be attended; float masks are added to the scores.
    ``bias_k``/``bias_v``, ``add_zero_attn`` and ``static_k``/``static_v`` are not supported.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.randn(5, 2, 4)
        >>> out, w = F.multi_head_attention_forward(
        ...     x, x, x, 4, 2, cr.randn(12, 4), cr.zeros(12), None, None, False, 0.0,
        ...     cr.randn(4, 4), cr.zeros(4))
        >>> out.shape, w.shape
        ((5, 2, 4), (2, 5, 5))
    """
    where = "multi_head_attention_forward"
    names = ("query", "key", "value", "in_proj_weight", "in_proj_bias", "out_proj_weight",
             "out_proj_bias", "q_proj_weight", "k_proj_weight", "v_proj_weight")
    (query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias,
     q_proj_weight, k_proj_weight, v_proj_weight) = check.same_dtype_operands(
        where, names, query, key, value, in_proj_weight, in_proj_bias, out_proj_weight,
        out_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight, optional=names[3:])
    check.floating(query, where, "query")
    num_heads = check.integer(num_heads, where, "num_heads", low=1)
    embed_dim_to_check = check.integer(embed_dim_to_check, where, "embed_dim_to_check", low=1)
    if training:  # PyTorch reads dropout_p only when training
        dropout_p = check.number(dropout_p, where, "dropout_p", low=0.0, high=1.0)
    else:
        dropout_p = 0.0
    if out_proj_weight is None:
        raise TypeError(f"{where}: argument 'out_proj_weight' must be a Tensor, got None")
    if not use_separate_proj_weight and in_proj_weight is None:
        raise TypeError(f"{where}: argument 'in_proj_weight' must be a Tensor, got None "
                        "(or pass use_separate_proj_weight=True and the three weights)")
    if bias_k is not None or bias_v is not None or add_zero_attn:
        raise ValueError(f"{where}: bias_k, bias_v and add_zero_attn are not supported")
    if static_k is not None or static_v is not None:
        raise ValueError(f"{where}: static_k and static_v are not supported")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{where}: query, key and value must all be 3-D (batched) or 2-D "
                         f"(unbatched); got {query.shape}, {key.shape}, {value.shape}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = (key_padding_mask._data if isinstance(key_padding_mask, Tensor)
                                else np.asarray(key_padding_mask))[None]
    e = query.shape[2]
    if e != embed_dim_to_check or e % num_heads or key.shape[:2] != value.shape[:2] or \
            key.shape[1] != query.shape[1]:
        raise ValueError(f"{where}: query {query.shape}, key {key.shape} and value "
                         f"{value.shape} (as (L, N, E)) do not fit embed_dim={embed_dim_to_check}"
                         f" and num_heads={num_heads}")
    if use_separate_proj_weight:
        ws = (q_proj_weight, k_proj_weight, v_proj_weight)
        if any(w is None for w in ws):
            raise ValueError(f"{where}: use_separate_proj_weight needs q_, k_ and "
                             "v_proj_weight")
        for name, w, feats in (("q_proj_weight", ws[0], e), ("k_proj_weight", ws[1], key.shape[2]),
                               ("v_proj_weight", ws[2], value.shape[2])):
            _shape(w, (e, feats), name, where)
    else:
        _shape(in_proj_weight, (3 * e, e), "in_proj_weight", where)
        if key.shape[2] != e or value.shape[2] != e:
            raise ValueError(f"{where}: key {key.shape} and value {value.shape} need embed_dim="
                             f"{e} features with the packed in_proj_weight")
        ws = (in_proj_weight[:e], in_proj_weight[e:2 * e], in_proj_weight[2 * e:])
    if in_proj_bias is not None:
        _shape(in_proj_bias, (3 * e,), "in_proj_bias", where)
    _shape(out_proj_weight, (e, e), "out_proj_weight", where)
    if out_proj_bias is not None:  # any bias that broadcasts to the output, as linear's
        check.broadcast(where, out_proj_bias=out_proj_bias, output=(e,))
    b = in_proj_bias
    bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
    out, w = _attention(query, key, value, num_heads, ws, bs, out_proj_weight, out_proj_bias,
                        dropout_p, training, key_padding_mask, need_weights, attn_mask,
                        average_attn_weights, is_causal, where)
    if not batched:
        out = out.squeeze(1)
        w = None if w is None else w.squeeze(0)
    return out, w
