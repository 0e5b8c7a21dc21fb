"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _buffer, _check_nonneg, _constants


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

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        _check_nonneg(group, "momentum")
        if "alpha" in group and not 0.0 <= group["alpha"] <= 1.0:
            raise ValueError(f"invalid alpha value: {group['alpha']} (must be in [0, 1])")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._begin_step(closure)
        state_of = self.state
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, mom, centered = group["weight_decay"], group["momentum"], group["centered"]
            maximize, one_m_alpha = group["maximize"], 1.0 - alpha
            kdtype = None
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                d, g = p.data, grad.data
                p._version += 1
                state = state_of[p]
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(d)
                state["step"] += 1
                sq = state["square_avg"]
                if d.size == 1:
                    # One element: Python floats are several times cheaper than NumPy calls.
                    gv, dv = (-g.item() if maximize else g.item()), d.item()
                    if wd:
                        gv = gv + wd * dv
                    sv = sq.item() * alpha + one_m_alpha * gv * gv
                    sq.flat[0] = sv
                    if centered:
                        gm = _buffer(state, "grad_avg", d)
                        mv = gm.item()
                        mv = mv + one_m_alpha * (gv - mv)
                        gm.flat[0] = mv
                        sv = sv - mv * mv
                    step = gv / (sv ** 0.5 + eps)
                    if mom > 0:
                        buf = _buffer(state, "momentum_buffer", d)
                        step = buf.item() * mom + step
                        buf.flat[0] = step
                    d.flat[0] = dv - lr * step
                    continue
                if d.dtype is not kdtype:
                    kdtype = d.dtype
                    k_alpha, k_keep, k_wd, k_eps, k_mom, k_neg_lr = _constants(
                        kdtype, alpha, one_m_alpha, wd, eps, mom, -lr)
                t, u = self._tmps(d)
                if maximize:
                    g = np.negative(g, out=u)
                if wd:
                    np.multiply(d, k_wd, out=t)
                    g = np.add(g, t, out=u)
                sq *= k_alpha
                np.multiply(g, g, out=t)
                t *= k_keep
                sq += t
                if centered:
                    gm = _buffer(state, "grad_avg", d)
                    np.subtract(g, gm, out=t)  # gm.lerp_(g, 1 - alpha)
                    t *= k_keep
                    gm += t
                    np.multiply(gm, gm, out=t)
                    np.subtract(sq, t, out=t)
                    np.sqrt(t, out=t)
                else:
                    np.sqrt(sq, out=t)
                t += k_eps
                np.divide(g, t, out=t)
                if mom > 0:
                    buf = _buffer(state, "momentum_buffer", d)
                    buf *= k_mom
                    buf += t
                    np.multiply(buf, k_neg_lr, out=t)
                else:
                    t *= k_neg_lr
                d += t
        return loss
