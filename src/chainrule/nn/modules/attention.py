"""``MultiheadAttention``: PyTorch's multi-head attention layer (same parameters and masks)."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...tensor import Tensor
from .. import init
from ..functional.multihead import _attention
from ..parameter import Parameter
from .linear import Linear, _factory_dtype
from .module import Module


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each.

    ``forward(query, key, value)`` takes (L, N, E) tensors ((N, L, E) with ``batch_first``,
    or unbatched (L, E)) and returns ``(output, weights)``, the weights averaged over heads
    unless ``average_attn_weights=False`` (None when ``need_weights=False``). Boolean masks mark
    positions that may NOT be attended; float masks are added to the scores.

    Example:
        >>> import chainrule as cr
        >>> mha = cr.nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = cr.randn(3, 5, 8)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        embed_dim = check.integer(embed_dim, "MultiheadAttention", "embed_dim")
        num_heads = check.integer(num_heads, "MultiheadAttention", "num_heads")
        dropout = check.number(dropout, "MultiheadAttention", "dropout", low=0.0, high=1.0)
        kdim = check.optional_integer(kdim, "MultiheadAttention", "kdim", low=1)
        vdim = check.optional_integer(vdim, "MultiheadAttention", "vdim", low=1)
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                             f"multiple of num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv and add_zero_attn are not "
                             "supported")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.dropout, self.batch_first = float(dropout), batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        dt = _factory_dtype(dtype)
        e = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(check.new_array(np.empty, (3 * e, e), dt, self))
        else:
            self.q_proj_weight = Parameter(check.new_array(np.empty, (e, e), dt, self))
            self.k_proj_weight = Parameter(check.new_array(np.empty, (e, self.kdim), dt, self))
            self.v_proj_weight = Parameter(check.new_array(np.empty, (e, self.vdim), dt, self))
        self.in_proj_bias = Parameter(check.new_array(np.empty, 3 * e, dt, self)) if bias else None
        self.out_proj = Linear(e, e, bias=bias, dtype=dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return ws, bs

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        query, key, value = (check.tensor(t, "MultiheadAttention", n) for t, n in
                             ((query, "query"), (key, "key"), (value, "value")))
        weight = self.out_proj.weight
        for t, n in ((query, "query"), (key, "key"), (value, "value")):
            if t._data.dtype != weight._data.dtype:  # PyTorch refuses mixed dtypes here too
                check.same_dtype_operands("MultiheadAttention", (n, "weight"), t, weight)
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be 3-D "
                             f"(batched) or 2-D (unbatched); got {query.shape}, {key.shape}, "
                             f"{value.shape}")
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = (key_padding_mask._data if isinstance(key_padding_mask, Tensor)
                                    else np.asarray(key_padding_mask))[None]
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        _, n, e = query.shape
        if e != self.embed_dim or key.shape[2] != self.kdim or value.shape[2] != self.vdim or \
                key.shape[:2] != value.shape[:2] or key.shape[1] != n:
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}, kdim={self.kdim}, vdim="
                f"{self.vdim}): query {query.shape}, key {key.shape} and value {value.shape} "
                "(as (L, N, E)) do not fit")
        ws, bs = self._projections()
        out, w = _attention(query, key, value, self.num_heads, ws, bs, self.out_proj.weight,
                            self.out_proj.bias, self.dropout, self.training, key_padding_mask,
                            need_weights, attn_mask, average_attn_weights, is_causal,
                            "MultiheadAttention")
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
            w = None if w is None else w.squeeze(0)
        return out, w

    def extra_repr(self) -> str:
        return ""
