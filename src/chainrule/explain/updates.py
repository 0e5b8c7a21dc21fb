"""Sentences for one parameter's update, from the terms the optimizer itself recorded.

``Optimizer.update_terms(p)`` runs the optimizer's own update on copies and returns its named
terms (``UpdateTerms``); the functions here only put those numbers into words, one per
optimizer family. No update formula lives here: every value shown is one ``step()`` computes,
one of its operands (a previous buffer, ``g²``), or a hyper-parameter.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(1.0, requires_grad=True, name="w")
    >>> opt = cr.optim.Adagrad([w], lr=0.5)
    >>> (w * 2.0).backward()
    >>> for line in render(opt, "w", opt.update_terms(w), "en"):
    ...     print(line)
    step t = 1
    sum of squared gradients: s = s + g² = 0.0000 + 4.0000 = 4.0000
    w_new = w_old - clr × g / (√s + ε) = 1.0000 - 0.5000 × 2.0000 / (√4.0000 + 1e-10) = 0.5000
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..messages import say
from ..optim import SGD, Adagrad, Adam, RMSprop
from ..optim.optimizer import Optimizer
from ..optim.terms import UpdateTerms
from . import fmt


def supported(optimizer) -> bool:
    """Whether ``render`` can put this optimizer's updates into words."""
    return isinstance(optimizer, Optimizer) and _renderer(optimizer) is not None


def render(optimizer: Optimizer, name: str, u: UpdateTerms | None, lang: str) -> list[str]:
    """The sentences of one parameter's update (``u`` is None: it has no gradient)."""
    if u is None:
        return [say(lang, "upd_nograd", name=name)]
    return _renderer(optimizer)(name, u, lang)


def _renderer(optimizer) -> Callable[[str, UpdateTerms, str], list[str]] | None:
    # By class, so a subclass (AdamW is an Adam) is explained like its base.
    for cls, fn in ((SGD, _sgd), (Adam, _adam), (RMSprop, _rmsprop), (Adagrad, _adagrad)):
        if isinstance(optimizer, cls):
            return fn
    return None


def _gradient_lines(name: str, u: UpdateTerms, lang: str, l2: bool = True) -> list[str]:
    """maximize and L2 weight decay, the two ways the gradient becomes ``g``."""
    lines, grad = [], u.grad
    if u.group.get("maximize"):
        grad = -grad
        lines.append(say(lang, "upd_maximize"))
    wd = u.group.get("weight_decay", 0.0)
    if wd and l2:
        lines.append(say(lang, "upd_sgd_wd", name=name, grad=fmt.arr(grad), wd=fmt.const(wd),
                         old=fmt.arr(u.old), g=fmt.arr(u["g"])))
    return lines


def _sgd(name: str, u: UpdateTerms, lang: str) -> list[str]:
    hp = u.group
    lr, mom = hp["lr"], hp["momentum"]
    if not (mom or hp["weight_decay"] or hp["maximize"]):
        return [say(lang, "upd_plain", name=name, old=fmt.arr(u.old), lr=fmt.num(lr),
                    grad=_p(fmt.arr(u.grad)), new=fmt.arr(u.new))]
    lines = _gradient_lines(name, u, lang)
    label = "g"
    if mom:
        prev = u.before.get("momentum_buffer")
        if prev is None:
            lines.append(say(lang, "upd_momentum_first", buf=fmt.arr(u["buf"])))
        else:
            lines.append(say(lang, "upd_momentum", m=fmt.const(mom), prev=_p(fmt.arr(prev)),
                             damp=fmt.const(1 - hp["dampening"]), g=_p(fmt.arr(u["g"])),
                             buf=fmt.arr(u["buf"])))
        if hp["nesterov"]:
            lines.append(say(lang, "upd_nesterov", g=fmt.arr(u["d"])))
        else:
            label = "buf"
    lines.append(say(lang, "upd_sgd_step", name=name, d=label, old=fmt.arr(u.old),
                     lr=fmt.num(lr), dval=_p(fmt.arr(u["d"])), new=fmt.arr(u.new)))
    return lines


def _adam(name: str, u: UpdateTerms, lang: str) -> list[str]:
    hp = u.group
    lr, (b1, b2), eps = hp["lr"], hp["betas"], hp["eps"]
    decoupled = bool(hp["weight_decay"]) and hp["decoupled_weight_decay"]
    lines = _gradient_lines(name, u, lang, l2=not decoupled)
    base = u.old
    if decoupled:
        base = u["decayed"]
        lines.append(say(lang, "upd_adamw", name=name, val=fmt.arr(base)))
    zeros = np.zeros_like(u.old)
    mprev, vprev = u.before.get("exp_avg", zeros), u.before.get("exp_avg_sq", zeros)
    g = u["g"]
    lines.append(say(lang, "upd_adam_t", t=u["t"]))
    lines.append(say(lang, "upd_adam_m", b1=fmt.const(b1), mprev=_p(fmt.arr(mprev)),
                     c1=fmt.const(round(1 - b1, 12)), g=_p(fmt.arr(g)), m=fmt.arr(u["m"])))
    lines.append(say(lang, "upd_adam_v", b2=fmt.const(b2), vprev=_p(fmt.arr(vprev)),
                     c2=fmt.const(round(1 - b2, 12)), g2=_p(fmt.arr(g * g)), v=fmt.arr(u["v"])))
    hat = "upd_adam_hat"
    if "vmax" in u:
        prev = u.before.get("max_exp_avg_sq", zeros)
        lines.append(say(lang, "upd_amsgrad", prev=_p(fmt.arr(prev)), v=fmt.arr(u["v"]),
                         vmax=fmt.arr(u["vmax"])))
        hat = "upd_adam_hat_ams"
    lines.append(say(lang, hat, mhat=fmt.arr(u["m_hat"]), vhat=fmt.arr(u["v_hat"])))
    lines.append(say(lang, "upd_adam_step", name=name, old=fmt.arr(base), lr=fmt.num(lr),
                     mhat=_p(fmt.arr(u["m_hat"])), vhat=fmt.arr(u["v_hat"]),
                     eps=fmt.const(eps), new=fmt.arr(u.new)))
    return lines


def _rmsprop(name: str, u: UpdateTerms, lang: str) -> list[str]:
    hp = u.group
    lr, alpha, eps, mom = hp["lr"], hp["alpha"], hp["eps"], hp["momentum"]
    zeros = np.zeros_like(u.old)
    g = u["g"]
    lines = _gradient_lines(name, u, lang)
    c = fmt.const(round(1 - alpha, 12))
    lines.append(say(lang, "upd_rms_v", a=fmt.const(alpha),
                     vprev=_p(fmt.arr(u.before.get("square_avg", zeros))), c=c,
                     g2=_p(fmt.arr(g * g)), v=fmt.arr(u["square_avg"])))
    if "grad_avg" in u:
        lines.append(say(lang, "upd_rms_gavg", a=fmt.const(alpha),
                         prev=_p(fmt.arr(u.before.get("grad_avg", zeros))), c=c,
                         g=_p(fmt.arr(g)), gavg=fmt.arr(u["grad_avg"])))
        lines.append(say(lang, "upd_rms_avg_centered", eps=fmt.const(eps),
                         avg=fmt.arr(u["avg"])))
    else:
        lines.append(say(lang, "upd_rms_avg", eps=fmt.const(eps), avg=fmt.arr(u["avg"])))
    if mom > 0:
        lines.append(say(lang, "upd_rms_momentum", m=fmt.const(mom),
                         prev=_p(fmt.arr(u.before.get("momentum_buffer", zeros))),
                         g=_p(fmt.arr(g)), avg=fmt.arr(u["avg"]), buf=fmt.arr(u["buf"])))
        lines.append(say(lang, "upd_sgd_step", name=name, d="buf", old=fmt.arr(u.old),
                         lr=fmt.num(lr), dval=_p(fmt.arr(u["buf"])), new=fmt.arr(u.new)))
    else:
        lines.append(say(lang, "upd_rms_step", name=name, old=fmt.arr(u.old), lr=fmt.num(lr),
                         g=_p(fmt.arr(g)), avg=fmt.arr(u["avg"]), new=fmt.arr(u.new)))
    return lines


def _adagrad(name: str, u: UpdateTerms, lang: str) -> list[str]:
    hp = u.group
    g, t = u["g"], u["t"]
    lines = _gradient_lines(name, u, lang)
    lines.append(say(lang, "upd_adam_t", t=t))
    prev = u.before.get("sum")  # absent for a parameter added after the optimizer was built
    if prev is None:
        prev = np.full_like(u.old, hp["initial_accumulator_value"])
    lines.append(say(lang, "upd_adagrad_sum", prev=_p(fmt.arr(prev)),
                     g2=_p(fmt.arr(g * g)), s=fmt.arr(u["sum"])))
    if hp["lr_decay"]:
        lines.append(say(lang, "upd_adagrad_clr", lr=fmt.num(hp["lr"]), tm1=t - 1,
                         decay=fmt.const(hp["lr_decay"]), clr=fmt.num(u["clr"])))
    lines.append(say(lang, "upd_adagrad_step", name=name, old=fmt.arr(u.old),
                     clr=fmt.num(u["clr"]), g=_p(fmt.arr(g)), s=fmt.arr(u["sum"]),
                     eps=fmt.const(hp["eps"]), new=fmt.arr(u.new)))
    return lines


def _p(s: str) -> str:
    return f"({s})" if s.startswith("-") else s
