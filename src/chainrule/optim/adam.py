"""Adam: bias-corrected first and second moment estimates (optionally AMSGrad)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _buffer, _check_nonneg, _constants


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

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "eps")
        if "betas" in group:
            betas = group["betas"]
            if len(betas) != 2:
                raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
            for i, b in enumerate(betas):
                if not 0.0 <= b < 1.0:
                    raise ValueError(f"invalid beta parameter at index {i}: {b} "
                                     "(must be in [0, 1))")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._begin_step(closure)
        state_of = self.state
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            one_m_b1, one_m_b2, shrink = 1.0 - b1, 1.0 - b2, 1.0 - lr * wd
            kdtype = kstep = None
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                d, g = p.data, grad.data
                p._version += 1
                state = state_of[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(d)
                    state["exp_avg_sq"] = np.zeros_like(d)
                step = state["step"] = state["step"] + 1
                m, v = state["exp_avg"], state["exp_avg_sq"]
                bias1 = 1.0 - b1 ** step
                bias2_sqrt = (1.0 - b2 ** step) ** 0.5
                if d.size == 1:
                    # One element: Python floats are several times cheaper than NumPy calls.
                    gv, dv = (-g.item() if maximize else g.item()), d.item()
                    if wd:
                        if decoupled:
                            dv = dv * shrink
                        else:
                            gv = gv + wd * dv
                    mv = m.item()
                    mv = mv + one_m_b1 * (gv - mv)
                    vv = v.item() * b2 + one_m_b2 * gv * gv
                    m.flat[0], v.flat[0] = mv, vv
                    if amsgrad:
                        vmax = _buffer(state, "max_exp_avg_sq", d)
                        vv = max(vmax.item(), vv)
                        vmax.flat[0] = vv
                    d.flat[0] = dv - lr / bias1 * (mv / (vv ** 0.5 / bias2_sqrt + eps))
                    continue
                if d.dtype is not kdtype or step != kstep:
                    kdtype, kstep = d.dtype, step
                    k_1mb1, k_b2, k_1mb2, k_wd, k_shrink, k_eps, k_bias2, k_neg_size = _constants(
                        kdtype, one_m_b1, b2, one_m_b2, wd, shrink, eps, bias2_sqrt, -lr / bias1)
                t, u = self._tmps(d)
                if maximize:
                    g = np.negative(g, out=u)
                if wd:
                    if decoupled:
                        d *= k_shrink
                    else:
                        np.multiply(d, k_wd, out=t)
                        g = np.add(g, t, out=u)
                # m.lerp_(g, 1 - b1) as PyTorch writes it, rounding included
                np.subtract(g, m, out=t)
                t *= k_1mb1
                m += t
                v *= k_b2
                np.multiply(g, g, out=t)
                t *= k_1mb2
                v += t
                if amsgrad:
                    vmax = _buffer(state, "max_exp_avg_sq", d)
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                np.sqrt(v, out=t)
                t /= k_bias2
                t += k_eps
                np.divide(m, t, out=t)
                t *= k_neg_size
                d += t
        return loss
