"""RAdam: Adam whose adaptive step is switched on, and rectified, once its variance is known."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_betas
from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants, _l2_grad


class RAdam(Optimizer):
    """RAdam (rectified Adam), as ``torch.optim.RAdam``.

    ``m`` and ``v`` are Adam's moments and ``m_hat = m/(1-b1**t)``. The length of the
    approximated simple moving average, ``rho_t = rho_inf - 2*t*b2**t/(1-b2**t)`` with
    ``rho_inf = 2/(1-b2) - 1``, says whether ``v`` is yet a usable variance estimate: while
    ``rho_t <= 5`` the step is SGD with momentum, ``p -= lr*m_hat``; after it,
    ``p -= lr * m_hat * sqrt(1-b2**t)/(sqrt(v) + eps) * r_t`` with the rectification
    ``r_t = sqrt((rho_t-4)(rho_t-2)rho_inf / ((rho_inf-4)(rho_inf-2)rho_t))``.
    ``weight_decay`` adds ``weight_decay * p`` to ``g``, or with
    ``decoupled_weight_decay=True`` shrinks ``p *= 1 - lr*weight_decay`` first.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.RAdam([w], lr=0.1)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.8
    """

    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p unless decoupled",
        "decayed": "p * (1 - lr * weight_decay) with decoupled weight decay",
        "m": "the first moment b1 * m + (1 - b1) * g",
        "v": "the second moment b2 * v + (1 - b2) * g * g",
        "m_hat": "m / (1 - b1**t), the bias-corrected first moment",
        "rho_t": "the length of the approximated simple moving average; above 5 the adaptive "
                 "step is used",
        "rect": "the variance rectification r_t (None while rho_t <= 5)",
        "adaptive_lr": "sqrt(1 - b2**t) / (sqrt(v) + eps) (only when rho_t > 5)",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, capturable=capturable,
                      differentiable=differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        check_betas(group)

    def _hyper(self, group: dict[str, Any]) -> tuple:
        b1, b2 = group["betas"]
        return (group["lr"], b1, b2, group["eps"], group["weight_decay"],
                group["decoupled_weight_decay"], group["maximize"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, b1, b2, eps, wd, decoupled, maximize, memo = h
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        step = state["step"] = state["step"] + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        bias1, bias2 = 1.0 - b1 ** step, 1.0 - b2 ** step
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * step * (b2 ** step) / bias2
        rect = None
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        k = memo.get((w.dtype, step))
        if k is None:
            k = memo[w.dtype, step] = _constants(
                w.dtype, wd, 1.0 - lr * wd, 1.0 - b1, b2, 1.0 - b2, bias1, lr, eps,
                bias2 ** 0.5, 1.0 if rect is None else rect)
        k_wd, k_shrink, k_1mb1, k_b2, k_1mb2, k_bias1, k_lr, k_eps, k_sqrt_bias2, k_rect = k
        t, u = self._tmps(w)
        if wd and decoupled:
            w *= k_shrink
        g = _l2_grad(g, w, maximize, k_wd if wd and not decoupled else None, t, u)
        np.subtract(g, m, out=t)  # m.lerp_(g, 1 - b1)
        t *= k_1mb1
        m += t
        v *= k_b2
        np.multiply(g, k_1mb2, out=t)
        t *= g
        v += t
        if terms is not None:
            terms.update(t=step, g=g.copy(), m=m.copy(), v=v.copy(), rho_t=rho_t, rect=rect)
            if wd and decoupled:
                terms["decayed"] = w.copy()
        # PyTorch's order: ((m / bias1) * lr) * adaptive_lr * rect
        np.divide(m, k_bias1, out=t)
        if terms is not None:
            terms["m_hat"] = t.copy()
        t *= k_lr
        if rect is not None:
            np.sqrt(v, out=u)
            u += k_eps
            np.divide(k_sqrt_bias2, u, out=u)
            if terms is not None:
                terms["adaptive_lr"] = u.copy()
            t *= u
            t *= k_rect
        w -= t
