"""Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._torch_options import check_options
from .optimizer import Optimizer, ParamsT, _check_nonneg, _constants, _l2_grad


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

    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "sum": "the sum of squared gradients, this step's included",
        "clr": "the decayed learning rate lr / (1 + (t - 1) * lr_decay)",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_options(type(self).__name__, foreach=foreach, differentiable=differentiable,
                      fused=fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        # Like PyTorch, the state exists from the start (so a fresh state_dict already has it).
        for group in self.param_groups:
            for p in group["params"]:
                _start(self.state[p], p._data, group["initial_accumulator_value"])

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lr_decay", "eps", "initial_accumulator_value"):
            _check_nonneg(group, key)

    def _hyper(self, group: dict[str, Any]) -> tuple:
        return (group["lr"], group["lr_decay"], group["eps"], group["weight_decay"],
                group["maximize"], group["initial_accumulator_value"], {})

    def _update(self, h, w, g, state, terms=None):
        lr, lr_decay, eps, wd, maximize, init, memo = h
        step, clr, s = _advance(state, w, lr, lr_decay, init)
        k = memo.get((w.dtype, step))
        if k is None:
            k = memo[w.dtype, step] = _constants(w.dtype, wd, eps, -clr)
        k_wd, k_eps, k_neg_clr = k
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd else None, t, u)
        np.multiply(g, g, out=t)
        s += t
        if terms is not None:
            terms.update(t=step, g=g.copy(), sum=s.copy(), clr=clr)
        np.sqrt(s, out=t)
        t += k_eps
        np.divide(g, t, out=t)
        t *= k_neg_clr
        w += t

    def _update_one(self, h, w, g, state):
        lr, lr_decay, eps, wd, maximize, init, _ = h
        _, clr, s = _advance(state, w, lr, lr_decay, init)
        gv, wv = (-g.item() if maximize else g.item()), w.item()
        if wd:
            gv = gv + wd * wv
        sv = s.item() + gv * gv
        s.flat[0] = sv
        w.flat[0] = wv - clr * (gv / (sv ** 0.5 + eps))


def _start(state: dict[str, Any], w: np.ndarray, init: float) -> None:
    state["step"] = 0
    state["sum"] = np.full_like(w, init)


def _advance(state: dict[str, Any], w: np.ndarray, lr: float, lr_decay: float,
             init: float) -> tuple[int, float, np.ndarray]:
    """Count the step in ``state``; returns it, the decayed learning rate and the sum."""
    if not state:  # a parameter added by add_param_group, or state cleared by hand
        _start(state, w, init)
    step = state["step"] = state["step"] + 1
    return step, lr / (1.0 + (step - 1) * lr_decay), state["sum"]
