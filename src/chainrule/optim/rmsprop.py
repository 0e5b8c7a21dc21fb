"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _buffer, _check_nonneg, _constants, _l2_grad


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    ``v = alpha*v + (1-alpha)*g*g``; with ``centered`` also ``gm = alpha*gm + (1-alpha)*g`` and
    ``v`` is replaced by ``v - gm*gm`` (a variance estimate). Then with ``d = sqrt(v) + eps``:
    ``p -= lr * g/d``, or with momentum ``b = momentum*b + g/d; p -= lr*b``.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.RMSprop([w], lr=0.01, alpha=0.75)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.98
    """

    terms = {
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "square_avg": "the running mean of squared gradients alpha * v + (1 - alpha) * g * g",
        "grad_avg": "the running mean of gradients (centered)",
        "avg": "the denominator sqrt(square_avg - grad_avg**2) + eps (sqrt(square_avg) + eps)",
        "buf": "the momentum buffer momentum * buf + g / avg",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_options(type(self).__name__, capturable=capturable, foreach=foreach,
                      differentiable=differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        _check_nonneg(group, "momentum")
        if "alpha" in group and not 0.0 <= group["alpha"] <= 1.0:
            raise ValueError(f"invalid alpha value: {group['alpha']} (must be in [0, 1])")

    def _hyper(self, group: dict[str, Any]) -> tuple:
        return (group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                group["momentum"], group["centered"], group["maximize"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, alpha, eps, wd, mom, centered, maximize, memo = h
        sq = _advance(state, w)
        k = memo.get(w.dtype)
        if k is None:
            k = memo[w.dtype] = _constants(w.dtype, alpha, 1.0 - alpha, wd, eps, mom, -lr)
        k_alpha, k_keep, k_wd, k_eps, k_mom, k_neg_lr = k
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd else None, t, u)
        sq *= k_alpha
        np.multiply(g, g, out=t)
        t *= k_keep
        sq += t
        if centered:
            gm = _buffer(state, "grad_avg", w)
            np.subtract(g, gm, out=t)  # gm.lerp_(g, 1 - alpha)
            t *= k_keep
            gm += t
            np.multiply(gm, gm, out=t)
            np.subtract(sq, t, out=t)
            np.sqrt(t, out=t)
        else:
            np.sqrt(sq, out=t)
        t += k_eps
        if terms is not None:
            terms.update(g=g.copy(), square_avg=sq.copy(), avg=t.copy())
            if centered:
                terms["grad_avg"] = gm.copy()
        np.divide(g, t, out=t)
        if mom > 0:
            buf = _buffer(state, "momentum_buffer", w)
            buf *= k_mom
            buf += t
            if terms is not None:
                terms["buf"] = buf.copy()
            np.multiply(buf, k_neg_lr, out=t)
        else:
            t *= k_neg_lr
        w += t

    def _update_one(self, h, w, g, state):
        lr, alpha, eps, wd, mom, centered, maximize, _ = h
        sq = _advance(state, w)
        gv, wv = (-g.item() if maximize else g.item()), w.item()
        if wd:
            gv = gv + wd * wv
        sv = sq.item() * alpha + (1.0 - alpha) * gv * gv
        sq.flat[0] = sv
        if centered:
            gm = _buffer(state, "grad_avg", w)
            mv = gm.item()
            mv = mv + (1.0 - alpha) * (gv - mv)
            gm.flat[0] = mv
            sv = sv - mv * mv
        step = gv / (sv ** 0.5 + eps)
        if mom > 0:
            buf = _buffer(state, "momentum_buffer", w)
            step = buf.item() * mom + step
            buf.flat[0] = step
        w.flat[0] = wv - lr * step


def _advance(state: dict[str, Any], w: np.ndarray) -> np.ndarray:
    """Count the step in ``state`` (creating it on the first) and return the square average."""
    if not state:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(w)
    state["step"] += 1
    return state["square_avg"]
