"""Scaled dot-product attention as one primitive: softmax(Q K^T s + M) V and its backward.

Composed from ops, attention records a product, a scale, a mask, a softmax, maybe a dropout and
a second product, each with its own full-size (..., L, S) result and gradient. As one node the
scores are scaled, masked and normalised in place in one array, and the backward is

    dV = P'^T G,  dP' = G V^T,  dP = dP' * keep (dropout),  dS = P * (dP - rowsum(dP * P)),
    dQ = s dS K,  dK = s dS^T Q,  dM = dS

(P the softmax, P' = P * keep the weights after dropout), again in place where it can be.
Under ``create_graph=True`` the rule runs the same formulas with differentiable ops, so the
gradient has a graph of its own.
"""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops._rows import rowsum
from ...ops.op import Op

_CAUSAL: dict = {}  # (L, S, dtype) -> read-only additive mask: 0 on and below the diagonal


def causal_mask(lq: int, lk: int, dtype) -> np.ndarray:
    """0 where key j <= query i, -inf above: PyTorch's ``is_causal`` (upper-left aligned)."""
    key = (lq, lk, np.dtype(dtype))
    m = _CAUSAL.get(key)
    if m is None:
        m = np.where(np.tril(np.ones((lq, lk), dtype=bool)), 0.0, -np.inf).astype(dtype)
        m.flags.writeable = False
        if len(_CAUSAL) < 16:
            _CAUSAL[key] = m
    return m


def _softmax_rows_(s):
    """Softmax over the last axis, in place."""
    s -= np.maximum.reduce(s, -1, None, None, True)
    np.exp(s, out=s)
    s /= rowsum(s)
    return s


class Attention(Op):
    """softmax(Q K^T scale + mask) V over the last two dims, dropout on the weights;
    dS = P (dP - rowsum(dP P)), dQ = scale dS K, dK = scale dS^T Q, dV = P^T G"""

    public, kind = None, "other"
    formula = ("dV = P^T G, dP = G V^T, dS = P (dP - rowsum(dP P)), dQ = s dS K, "
               "dK = s dS^T Q")
    saves = True
    fresh_grads = True
    pass_needs_input_grad = True

    def forward(q, k, v, mask=None, *, scale, causal, keep):
        s = np.matmul(q, k.swapaxes(-1, -2))
        s *= s.dtype.type(scale)
        if causal:
            s += causal_mask(s.shape[-2], s.shape[-1], s.dtype)
        if mask is not None:
            s += mask
        p = _softmax_rows_(s)
        pd = p if keep is None else p * keep
        return np.matmul(pd, v), (p, pd)

    def backward(F, g, out, q, k, v, mask=None, *, scale, causal, keep, saved,
                 needs_input_grad=(True, True, True, True)):
        if F.differentiable:
            return _backward_tensors(F, g, q, k, v, mask, scale, causal, keep, needs_input_grad)
        p, pd = saved
        dv = np.matmul(pd.swapaxes(-1, -2), g) if needs_input_grad[2] else None
        ds = np.matmul(g, v.swapaxes(-1, -2))  # d loss / d weights (after dropout)
        if keep is not None:
            ds *= keep
        t = np.multiply(ds, p)
        ds -= rowsum(t)
        ds *= p  # d loss / d scores
        dq = np.matmul(ds, k) if needs_input_grad[0] else None
        dk = np.matmul(ds.swapaxes(-1, -2), q) if needs_input_grad[1] else None
        sc = q.dtype.type(scale)
        if dq is not None:
            dq *= sc
        if dk is not None:
            dk *= sc
        grads = (dq, dk, dv)
        if mask is not None:
            grads += (ds if needs_input_grad[3] else None,)
        return grads


def _backward_tensors(F, g, q, k, v, mask, scale, causal, keep, needs):
    """The same rule with differentiable ops (create_graph): recompute P, then the formulas."""
    s = F.matmul(q, F.mT(k)) * scale
    if causal:
        from ...tensor import _wrap

        s = s + _wrap(causal_mask(s.shape[-2], s.shape[-1], s._data.dtype))
    if mask is not None:
        s = s + mask
    p = F.softmax(s, -1)
    pd = p if keep is None else p * keep
    dv = F.matmul(F.mT(pd), g) if needs[2] else None
    dpd = F.matmul(g, F.mT(v))
    dp = dpd if keep is None else dpd * keep
    ds = p * (dp - F.sum(dp * p, axis=-1, keepdims=True))
    dq = F.matmul(ds, k) * scale if needs[0] else None
    dk = F.matmul(F.mT(ds), q) * scale if needs[1] else None
    grads = (dq, dk, dv)
    if mask is not None:
        grads += (ds if needs[3] else None,)
    return grads


def attention(q, k, v, mask=None, scale: float = 1.0, causal: bool = False,
              keep: np.ndarray | None = None):
    """One ``Attention`` node: q, k, v tensors with the same batch dims, ``mask`` an additive
    float tensor broadcasting to the scores (or None), ``keep`` the dropout mask already scaled
    by 1/(1-p) (or None).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.functional.fused_attention import attention
        >>> q = k = v = cr.randn(2, 4, 8)
        >>> attention(q, k, v, scale=8 ** -0.5, causal=True).shape
        (2, 4, 8)
    """
    inputs = (q, k, v) if mask is None else (q, k, v, mask)
    return apply(Attention, inputs, {"scale": float(scale), "causal": bool(causal), "keep": keep})
