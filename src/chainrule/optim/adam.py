"""Adam: bias-corrected first and second moment estimates (optionally AMSGrad)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_betas
from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _buffer, _check_nonneg, _constants, _l2_grad


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``.

    Per step ``t``: ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g*g`` (``vmax = max(vmax, v)``
    with ``amsgrad``), then ``p -= lr/(1-b1**t) * m / (sqrt(v)/sqrt(1-b2**t) + eps)``.
    ``weight_decay`` adds ``weight_decay * p`` to ``g`` (L2), or with
    ``decoupled_weight_decay=True`` (AdamW) shrinks ``p *= 1 - lr*weight_decay`` first.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.Adam([w], lr=0.1)
        >>> (w * 2).sum().backward(); opt.step()
        >>> w
        tensor([0.9], requires_grad=True)
    """

    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p unless decoupled",
        "decayed": "p * (1 - lr * weight_decay) with decoupled weight decay (AdamW)",
        "m": "the first moment b1 * m + (1 - b1) * g",
        "v": "the second moment b2 * v + (1 - b2) * g * g",
        "vmax": "the largest second moment so far (amsgrad)",
        "m_hat": "m / (1 - b1**t), the bias-corrected first moment",
        "v_hat": "v (vmax with amsgrad) / (1 - b2**t), the bias-corrected second moment",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, capturable=capturable,
                      differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        check_betas(group)

    def _hyper(self, group: dict[str, Any]) -> tuple:
        b1, b2 = group["betas"]
        return (group["lr"], b1, b2, group["eps"], group["weight_decay"], group["amsgrad"],
                group["maximize"], group["decoupled_weight_decay"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, b1, b2, eps, wd, amsgrad, maximize, decoupled, memo = h
        step = _advance(state, w)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        bias1, bias2 = 1.0 - b1 ** step, 1.0 - b2 ** step
        k = memo.get((w.dtype, step))
        if k is None:
            k = memo[w.dtype, step] = _constants(w.dtype, 1.0 - b1, b2, 1.0 - b2, wd,
                                                 1.0 - lr * wd, eps, bias2 ** 0.5, -lr / bias1)
        k_1mb1, k_b2, k_1mb2, k_wd, k_shrink, k_eps, k_bias2, k_neg_size = k
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd and not decoupled else None, t, u)
        if wd and decoupled:
            w *= k_shrink
        # m.lerp_(g, 1 - b1) as PyTorch writes it, rounding included
        np.subtract(g, m, out=t)
        t *= k_1mb1
        m += t
        v *= k_b2
        np.multiply(g, g, out=t)
        t *= k_1mb2
        v += t
        if terms is not None:
            terms.update(t=step, g=g.copy(), m=m.copy(), v=v.copy())
            if wd and decoupled:
                terms["decayed"] = w.copy()
        if amsgrad:
            vmax = _buffer(state, "max_exp_avg_sq", w)
            np.maximum(vmax, v, out=vmax)
            v = vmax
            if terms is not None:
                terms["vmax"] = vmax.copy()
        if terms is not None:  # the bias-corrected moments, which the update folds into k_*
            terms["m_hat"] = m / bias1
            terms["v_hat"] = v / bias2
        np.sqrt(v, out=t)
        t /= k_bias2
        t += k_eps
        np.divide(m, t, out=t)
        t *= k_neg_size
        w += t

    def _update_one(self, h, w, g, state):
        lr, b1, b2, eps, wd, amsgrad, maximize, decoupled, _ = h
        step = _advance(state, w)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        gv, wv = (-g.item() if maximize else g.item()), w.item()
        if wd:
            if decoupled:
                wv = wv * (1.0 - lr * wd)
            else:
                gv = gv + wd * wv
        mv = m.item()
        mv = mv + (1.0 - b1) * (gv - mv)
        vv = v.item() * b2 + (1.0 - b2) * gv * gv
        m.flat[0], v.flat[0] = mv, vv
        if amsgrad:
            vmax = _buffer(state, "max_exp_avg_sq", w)
            vv = max(vmax.item(), vv)
            vmax.flat[0] = vv
        bias2_sqrt = (1.0 - b2 ** step) ** 0.5
        w.flat[0] = wv - lr / (1.0 - b1 ** step) * (mv / (vv ** 0.5 / bias2_sqrt + eps))


def _advance(state: dict[str, Any], w: np.ndarray) -> int:
    """Count the step in ``state`` (creating the moments on the first) and return it."""
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(w)
        state["exp_avg_sq"] = np.zeros_like(w)
    step = state["step"] = state["step"] + 1
    return step
