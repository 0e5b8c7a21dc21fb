"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._blas import axpy_
from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With gradient ``g`` (negated by ``maximize``, plus ``weight_decay * p``) and momentum buffer
    ``b`` (``b = g`` on the first step, then ``b = momentum * b + (1 - dampening) * g``), the
    update is ``p -= lr * b``, or ``p -= lr * (g + momentum * b)`` with ``nesterov``.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * 2).sum().backward(); opt.step()
        >>> w
        tensor([0.42], requires_grad=True)
    """

    terms = {
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "buf": "the momentum buffer after this step",
        "d": "the direction p moves against: g, buf, or g + momentum * buf (Nesterov)",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_options(type(self).__name__, foreach=foreach, differentiable=differentiable,
                      fused=fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "momentum")
        if group.get("nesterov") and (group.get("momentum", 0) <= 0
                                      or group.get("dampening", 0) != 0):
            raise ValueError("nesterov=True requires a momentum > 0 and zero dampening")

    def _hyper(self, group: dict[str, Any]) -> tuple:
        return (group["lr"], group["weight_decay"], group["momentum"], 1.0 - group["dampening"],
                group["nesterov"], group["maximize"], {})

    def _keeps_state(self, group: dict[str, Any]) -> bool:
        return bool(group["momentum"])

    def _update(self, h, w, g, state, terms=None):
        lr, wd, mom, damp_keep, nesterov, maximize, memo = h
        k = memo.get(w.dtype)
        if k is None:
            k = memo[w.dtype] = _constants(w.dtype, wd, mom, damp_keep, -lr)
        k_wd, k_mom, k_damp, k_neg_lr = k
        if not (wd or maximize or mom):
            if terms is not None:
                terms["g"] = terms["d"] = g.copy()
            axpy_(w, g, k_neg_lr)  # plain SGD: one pass, no scratch buffers
            return
        t, u = self._tmps(w)
        if wd:
            np.multiply(w, k_wd, out=t)
            (np.subtract if maximize else np.add)(t, g, out=t)
            g = t
        elif maximize:
            g = np.negative(g, out=t)
        if terms is not None:
            terms["g"] = g.copy()
        d = g
        if mom:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = g.copy()
            else:
                buf *= k_mom
                if damp_keep != 1.0:
                    np.multiply(g, k_damp, out=u)
                    buf += u
                else:
                    buf += g
            if terms is not None:
                terms["buf"] = buf.copy()
            if nesterov:
                np.multiply(buf, k_mom, out=u)
                d = np.add(g, u, out=u)
            else:
                d = buf
        if terms is not None:
            terms["d"] = d.copy()
        axpy_(w, d, k_neg_lr, t if d is u else u)  # d may be u itself (Nesterov)

    def _update_one(self, h, w, g, state):
        lr, wd, mom, damp_keep, nesterov, maximize, _ = h
        gv = -g.item() if maximize else g.item()
        if wd:
            gv = gv + wd * w.item()
        if mom:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = np.full_like(w, gv)
                bv = gv
            else:
                bv = buf.item() * mom + damp_keep * gv
                buf.flat[0] = bv
            gv = gv + mom * bv if nesterov else bv
        w.flat[0] = w.item() - lr * gv
