"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_range
from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants, _l2_grad


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    ``v = rho*v + (1-rho)*g*g``, ``delta = sqrt(u + eps) / sqrt(v + eps) * g``,
    ``u = rho*u + (1-rho)*delta*delta``, then ``p -= lr * delta``: the ratio of the two running
    root-mean-squares gives each coordinate its step size (``lr`` only scales it; 1.0 is the
    method as published).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.Adadelta([w], rho=0.5, eps=1e-2)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.8589
    """

    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "square_avg": "the running mean of squared gradients rho * v + (1 - rho) * g * g",
        "std": "sqrt(square_avg + eps), the gradients' root mean square",
        "delta": "sqrt(acc_delta + eps) / std * g with the previous acc_delta: the step "
                 "before lr",
        "acc_delta": "the running mean of squared steps rho * u + (1 - rho) * delta * delta",
    }

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, capturable=capturable,
                      differentiable=differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        check_range(group, "rho", 0.0, 1.0)

    def _hyper(self, group: dict[str, Any]) -> tuple:
        return (group["lr"], group["rho"], group["eps"], group["weight_decay"],
                group["maximize"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, rho, eps, wd, maximize, memo = h
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(w)
            state["acc_delta"] = np.zeros_like(w)
        step = state["step"] = state["step"] + 1
        v, acc = state["square_avg"], state["acc_delta"]
        k = memo.get(w.dtype)
        if k is None:
            k = memo[w.dtype] = _constants(w.dtype, wd, rho, 1.0 - rho, eps, -lr)
        k_wd, k_rho, k_1mrho, k_eps, k_neg_lr = k
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd else None, t, u)
        # v.mul_(rho).addcmul_(g, g, value=1 - rho), PyTorch's order of rounding
        v *= k_rho
        np.multiply(g, k_1mrho, out=t)
        t *= g
        v += t
        std = np.add(v, k_eps, out=np.empty_like(w))  # a third buffer (0-d safe)
        np.sqrt(std, out=std)
        if terms is not None:
            terms["std"] = std.copy()
        np.add(acc, k_eps, out=t)
        np.sqrt(t, out=t)
        t /= std
        t *= g  # t is delta from here on
        acc *= k_rho
        np.multiply(t, k_1mrho, out=std)
        std *= t
        acc += std
        if terms is not None:
            terms.update(t=step, g=g.copy(), square_avg=v.copy(), delta=t.copy(),
                         acc_delta=acc.copy())
        t *= k_neg_lr
        w += t
