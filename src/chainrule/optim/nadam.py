"""NAdam: Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_betas
from ._torch_options import check_options, scalar_dtype
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants, _l2_grad


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``.

    Per step ``t``: the momentum coefficient ``mu_t = b1 * (1 - 0.5 * 0.96**(t*momentum_decay))``
    and its running product ``P = mu_1 * ... * mu_t``; ``m`` and ``v`` are Adam's moments, and
    with ``d = sqrt(v/(1-b2**t)) + eps``:
    ``p -= lr*(1-mu_t)/(1-P) * g/d + lr*mu_{t+1}/(1-P*mu_{t+1}) * m/d``, a Nesterov look-ahead
    on the first moment. ``weight_decay`` adds ``weight_decay * p`` to ``g``, or with
    ``decoupled_weight_decay=True`` shrinks ``p *= 1 - lr*weight_decay`` first (NAdamW).

    Like PyTorch, the product ``P`` is kept in float32 unless the default dtype is float64
    (``cr.set_default_dtype``), whatever the parameters' dtype; its rounding is part of the
    results.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.NAdam([w], lr=0.1)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.8944
    """

    _scalar_state = ("mu_product",)
    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p unless decoupled",
        "decayed": "p * (1 - lr * weight_decay) with decoupled weight decay",
        "mu_t": "this step's momentum coefficient b1 * (1 - 0.5 * 0.96**(t * momentum_decay))",
        "mu_next": "the next step's momentum coefficient",
        "mu_product": "the product of the momentum coefficients so far, this step's included",
        "m": "the first moment b1 * m + (1 - b1) * g",
        "v": "the second moment b2 * v + (1 - b2) * g * g",
        "denom": "sqrt(v / (1 - b2**t)) + eps",
    }

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, capturable=capturable,
                      differentiable=differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        check_betas(group)
        _check_nonneg(group, "momentum_decay")

    def _hyper(self, group: dict[str, Any]) -> tuple:
        b1, b2 = group["betas"]
        return (group["lr"], b1, b2, group["eps"], group["weight_decay"],
                group["momentum_decay"], group["decoupled_weight_decay"], group["maximize"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, b1, b2, eps, wd, momentum_decay, decoupled, maximize, memo = h
        if not state:
            state["step"] = 0
            state["mu_product"] = np.ones((), scalar_dtype())
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        step = state["step"] = state["step"] + 1
        m, v, product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        product *= mu  # in the product's own dtype (mu rounded to it first), as PyTorch does
        p = float(product)
        bias2 = 1.0 - b2 ** step
        k = memo.get((w.dtype, step, p))
        if k is None:
            k = memo[w.dtype, step, p] = _constants(
                w.dtype, wd, 1.0 - lr * wd, 1.0 - b1, b2, 1.0 - b2, bias2, eps,
                -lr * (1.0 - mu) / (1.0 - p), (-lr * mu_next) / (1.0 - p * mu_next))
        k_wd, k_shrink, k_1mb1, k_b2, k_1mb2, k_bias2, k_eps, k_g, k_m = k
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
        denom = np.divide(v, k_bias2, out=np.empty_like(w))  # a third buffer (0-d safe)
        np.sqrt(denom, out=denom)
        denom += k_eps
        if terms is not None:
            terms.update(t=step, g=g.copy(), mu_t=mu, mu_next=mu_next, mu_product=p,
                         m=m.copy(), v=v.copy(), denom=denom.copy())
            if wd and decoupled:
                terms["decayed"] = w.copy()
        np.divide(g, denom, out=t)
        t *= k_g
        w += t
        np.divide(m, denom, out=t)
        t *= k_m
        w += t
