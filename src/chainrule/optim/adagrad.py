"""Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    At step ``t``: ``s += g*g`` and ``p -= lr/(1 + (t-1)*lr_decay) * g/(sqrt(s) + eps)``, with
    ``s`` starting at ``initial_accumulator_value``.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.Adagrad([w], lr=0.5)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.5
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        # Like PyTorch, the state exists from the start (so a fresh state_dict already has it).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = 0
        state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        return state

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lr_decay", "eps", "initial_accumulator_value"):
            _check_nonneg(group, key)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._begin_step(closure)
        state_of = self.state
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            kdtype = kstep = None
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                d, g = p.data, grad.data
                p._version += 1
                state = state_of[p]
                if not state:
                    state = self._init_state(p, group)
                step = state["step"] = state["step"] + 1
                clr = lr / (1.0 + (step - 1) * lr_decay)
                s = state["sum"]
                if d.size == 1:
                    # One element: Python floats are several times cheaper than NumPy calls.
                    gv, dv = (-g.item() if maximize else g.item()), d.item()
                    if wd:
                        gv = gv + wd * dv
                    sv = s.item() + gv * gv
                    s.flat[0] = sv
                    d.flat[0] = dv - clr * (gv / (sv ** 0.5 + eps))
                    continue
                if d.dtype is not kdtype or step != kstep:
                    kdtype, kstep = d.dtype, step
                    k_wd, k_eps, k_neg_clr = _constants(kdtype, wd, eps, -clr)
                t, u = self._tmps(d)
                if maximize:
                    g = np.negative(g, out=u)
                if wd:
                    np.multiply(d, k_wd, out=t)
                    g = np.add(g, t, out=u)
                np.multiply(g, g, out=t)
                s += t
                np.sqrt(s, out=t)
                t += k_eps
                np.divide(g, t, out=t)
                t *= k_neg_clr
                d += t
        return loss
