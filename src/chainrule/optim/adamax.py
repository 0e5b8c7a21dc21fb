"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_betas
from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants, _l2_grad


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    Per step ``t``: ``m = b1*m + (1-b1)*g``, ``u = max(b2*u, |g| + eps)``, then
    ``p -= lr/(1-b1**t) * m/u``. The infinity norm ``u`` needs no bias correction and no
    square root; ``eps`` sits inside the maximum.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.Adamax([w], lr=0.1)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.9
    """

    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "m": "the first moment b1 * m + (1 - b1) * g",
        "exp_inf": "the infinity norm max(b2 * u, |g| + eps)",
        "clr": "lr / (1 - b1**t), the bias-corrected step size",
    }

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, differentiable=differentiable,
                      capturable=capturable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        check_betas(group)

    def _hyper(self, group: dict[str, Any]) -> tuple:
        b1, b2 = group["betas"]
        return group["lr"], b1, b2, group["eps"], group["weight_decay"], group["maximize"], {}

    def _update(self, h, w, g, state, terms=None):
        lr, b1, b2, eps, wd, maximize, memo = h
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(w)
            state["exp_inf"] = np.zeros_like(w)
        step = state["step"] = state["step"] + 1
        m, norm = state["exp_avg"], state["exp_inf"]
        clr = lr / (1.0 - b1 ** step)
        k = memo.get((w.dtype, step))
        if k is None:
            k = memo[w.dtype, step] = _constants(w.dtype, wd, 1.0 - b1, b2, eps, -clr)
        k_wd, k_1mb1, k_b2, k_eps, k_neg_clr = k
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd else None, t, u)
        np.subtract(g, m, out=t)  # m.lerp_(g, 1 - b1)
        t *= k_1mb1
        m += t
        norm *= k_b2
        np.abs(g, out=t)
        t += k_eps
        np.maximum(norm, t, out=norm)
        if terms is not None:
            terms.update(t=step, g=g.copy(), m=m.copy(), exp_inf=norm.copy(), clr=clr)
        np.divide(m, norm, out=t)
        t *= k_neg_clr
        w += t
