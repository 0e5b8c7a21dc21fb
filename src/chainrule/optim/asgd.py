"""ASGD: SGD with a decaying step size and a running average of the iterates."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_number
from ._torch_options import check_options, scalar_dtype
from .optimizer import Optimizer, ParamsT, _l2_grad


class ASGD(Optimizer):
    """Averaged SGD, as ``torch.optim.ASGD``.

    Each step uses the step size ``eta`` computed by the step before (``lr`` on the first):
    ``p *= 1 - lambd*eta``, ``p -= eta*g``. The average ``ax`` copies ``p`` until step ``t0``,
    then averages the iterates: ``ax += mu*(p - ax)`` with ``mu = 1/max(1, t - t0)``. The next
    step size is ``eta = lr / (1 + lambd*lr*t)**alpha``. ``ax`` is the averaged solution, read
    from ``optimizer.state[p]["ax"]``; the parameters themselves follow plain SGD.

    Like PyTorch, ``eta`` and ``mu`` are kept in float32 unless the default dtype is float64
    (``cr.set_default_dtype``); their rounding is part of the results.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.ASGD([w], lr=0.1, lambd=0.0)
        >>> (w * 2).sum().backward(); opt.step()
        >>> round(w.item(), 6)
        0.8
    """

    _scalar_state = ("eta", "mu")
    terms = {
        "t": "the step number, counting this one",
        "g": "the gradient, negated by maximize, plus weight_decay * p",
        "eta": "the step size used by this step (computed by the previous one)",
        "ax": "the averaged parameter after this step",
        "mu": "the averaging weight used by this step (1 copies p into ax)",
    }

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_options(type(self).__name__, foreach=foreach, differentiable=differentiable,
                      capturable=capturable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        check_number(group, "lambd", "alpha", "t0")

    def _hyper(self, group: dict[str, Any]) -> tuple:
        # No cache of constants: eta and mu differ from step to step and parameter to parameter.
        return (group["lr"], group["lambd"], group["alpha"], group["t0"],
                group["weight_decay"], group["maximize"])

    def _update(self, h, w, g, state, terms=None):
        lr, lambd, alpha, t0, wd, maximize = h
        if not state:
            state["step"] = 0
            state["eta"] = np.array(lr, scalar_dtype())
            state["mu"] = np.ones((), scalar_dtype())
            state["ax"] = np.zeros_like(w)
        step = state["step"] = state["step"] + 1
        eta, mu, ax = float(state["eta"]), float(state["mu"]), state["ax"]
        # Scalars of the parameters' dtype: mu is rounded to it before it multiplies them, as
        # in PyTorch (a float64 mu would not be, by NumPy's promotion rules).
        dt = w.dtype.type
        k_wd, k_shrink, k_neg_eta, k_mu = dt(wd), dt(1.0 - lambd * eta), dt(-eta), dt(mu)
        t, u = self._tmps(w)
        g = _l2_grad(g, w, maximize, k_wd if wd else None, t, u)
        w *= k_shrink
        np.multiply(g, k_neg_eta, out=t)
        w += t
        if mu != 1:
            np.subtract(w, ax, out=t)
            t *= k_mu
            ax += t
        else:
            ax[...] = w
        if terms is not None:
            terms.update(t=step, g=g.copy(), eta=eta, ax=ax.copy(), mu=mu)
        state["eta"][...] = lr / ((1 + lambd * lr * step) ** alpha)
        state["mu"][...] = 1 / max(1, step - t0)
