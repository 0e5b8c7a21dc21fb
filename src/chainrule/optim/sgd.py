"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._blas import axpy_
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

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        _check_nonneg(group, "momentum")
        if group.get("nesterov") and (group.get("momentum", 0) <= 0
                                      or group.get("dampening", 0) != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._begin_step(closure)
        state_of = self.state
        for group in self.param_groups:
            lr, wd, mom = group["lr"], group["weight_decay"], group["momentum"]
            damp_keep, nesterov = 1.0 - group["dampening"], group["nesterov"]
            maximize = group["maximize"]
            kdtype = None
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                d, g = p.data, grad.data
                p._version += 1
                if d.size == 1:
                    # One element: Python floats are several times cheaper than NumPy calls.
                    gv = -g.item() if maximize else g.item()
                    if wd:
                        gv = gv + wd * d.item()
                    if mom:
                        state = state_of[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            state["momentum_buffer"] = np.full_like(d, gv)
                            bv = gv
                        else:
                            bv = buf.item() * mom + damp_keep * gv
                            buf.flat[0] = bv
                        gv = gv + mom * bv if nesterov else bv
                    d.flat[0] = d.item() - lr * gv
                    continue
                if d.dtype is not kdtype:
                    kdtype = d.dtype
                    k_wd, k_mom, k_damp, k_neg_lr = _constants(kdtype, wd, mom, damp_keep, -lr)
                if not (wd or maximize or mom):
                    axpy_(d, g, k_neg_lr)  # plain SGD: one pass, no scratch buffers
                    continue
                t, u = self._tmps(d)
                if wd:
                    np.multiply(d, k_wd, out=t)
                    (np.subtract if maximize else np.add)(t, g, out=t)
                    g = t
                elif maximize:
                    g = np.negative(g, out=t)
                if mom:
                    state = state_of[p]
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
                    if nesterov:
                        np.multiply(buf, k_mom, out=u)
                        g = np.add(g, u, out=u)
                    else:
                        g = buf
                axpy_(d, g, k_neg_lr, t if g is u else u)  # g may be u itself (Nesterov)
        return loss
