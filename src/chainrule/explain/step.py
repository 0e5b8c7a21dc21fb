"""``explain_step(optimizer)``: each parameter's update in numbers (SGD, momentum, Adam).

By default nothing changes: the update is computed from the optimizer's hyper-parameters and
state *before* ``step()``, with the same formulas as ``cr.optim``. With ``step=True`` the
optimizer's own ``step()`` runs too, the report shows before/after, and every predicted value is
checked against what ``step()`` produced (``report.checked``).

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(0.5, requires_grad=True, name="w")
    >>> opt = cr.optim.SGD([w], lr=0.1)
    >>> (w * 2.0).backward()
    >>> print(cr.explain_step(opt).lines("w")[0])
    w_new = w_old - lr × grad = 0.5000 - 0.1000 × 2.0000 = 0.3000
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..messages import LANGS, check, say
from . import fmt
from .blocks import Heading, Items, Para
from .naming import param_names


@dataclass
class ParamUpdate:
    name: str
    old: np.ndarray
    new: np.ndarray  # predicted by the formulas
    texts: dict[str, list[str]]  # the explanation in each language
    actual: np.ndarray | None = None  # what step() produced (step=True)


@dataclass
class StepReport:
    """The update of every parameter of one optimizer step; ``str()`` prints it."""

    optimizer: str
    params: list[ParamUpdate]
    lang: str
    stepped: bool = False
    checked: bool | None = None
    notes: list[tuple[str, dict]] = field(default_factory=list)  # (sentence key, values)

    def lines(self, name: str, lang: str | None = None) -> list[str]:
        """The explanation of one parameter's update."""
        for p in self.params:
            if p.name == name:
                return p.texts[check(lang or self.lang)]
        raise KeyError(name)

    def new_value(self, name: str):
        for p in self.params:
            if p.name == name:
                return p.new.item() if p.new.size == 1 else p.new
        raise KeyError(name)

    def blocks(self, lang: str | None = None) -> list:
        lang = check(lang or self.lang)
        out = [Heading(2, say(lang, "update_title", opt=self.optimizer))]
        out.append(Items([line for p in self.params for line in p.texts[lang]]))
        out.append(Para(say(lang, "upd_done" if self.stepped else "upd_predicted")))
        notes = [say(lang, code, **args) for code, args in self.notes]
        if notes:
            out.append(Items(notes))
        return out

    def to_text(self, lang: str | None = None) -> str:
        from .render import to_text

        return to_text(self.blocks(lang))

    def to_markdown(self, lang: str | None = None) -> str:
        from .render import to_markdown

        return to_markdown(self.blocks(lang))

    def to_latex(self, lang: str | None = None) -> str:
        from .render import to_latex

        return to_latex(self.blocks(lang))

    def to_html(self, lang: str | None = None) -> str:
        from .render import to_html

        return to_html(self.blocks(lang), lang=lang or self.lang)

    def __str__(self) -> str:
        return self.to_text()


def explain_step(optimizer, lr: float | None = None, *, lang: str = "en", names=None,
                 model=None, step: bool = False) -> StepReport:
    """Explain the next ``optimizer.step()`` parameter by parameter.

    ``lr`` shows the update with another learning rate (a what-if; not with ``step=True``).
    ``step=True`` also performs the step and checks the predicted values against it.
    """
    lang = check(lang)
    if step and lr is not None:
        raise ValueError("explain_step(): lr= shows a what-if update; it cannot be combined "
                         "with step=True, which runs the optimizer's own step()")
    given = param_names(model)
    given.update(param_names(names))
    kind = type(optimizer).__name__
    updates, count = [], 0
    for group in optimizer.param_groups:
        hp = dict(group)
        if lr is not None:
            hp["lr"] = lr
        for p in group["params"]:
            count += 1
            name = given.get(id(p)) or p.name or f"p{count}"
            state = optimizer.state.get(p, {}) if hasattr(optimizer.state, "get") else {}
            rule = _rule_for(optimizer)
            texts = {}
            for lg in LANGS:
                old, new, texts[lg] = rule(name, p, hp, state, lg)
            updates.append(ParamUpdate(name, old, new, texts))
    report = StepReport(kind, updates, lang)
    if step:
        optimizer.step()
        report.stepped = True
        ok = True
        tracked = [p for g in optimizer.param_groups for p in g["params"]]
        for upd, p in zip(updates, tracked):
            upd.actual = np.array(p.data, copy=True)
            tol = 1e-5 if upd.actual.dtype == np.float32 else 1e-10
            if not np.allclose(upd.actual, upd.new, rtol=tol, atol=tol):
                ok = False
                report.notes.append(("upd_mismatch", dict(
                    name=upd.name, actual=fmt.arr(upd.actual), pred=fmt.arr(upd.new))))
        report.checked = ok
        if ok:
            report.notes.append(("upd_checked", {}))
    return report


def _rule_for(optimizer):
    """SGD or Adam formulas, chosen by class (AdamW is an Adam); others are refused."""
    bases = {c.__name__ for c in type(optimizer).__mro__}
    if "Adam" in bases:
        return _adam
    if "SGD" in bases:
        return _sgd
    raise TypeError(f"explain_step(): {type(optimizer).__name__} is not supported "
                    "(SGD, Adam and AdamW are)")


def _arr(x):
    if x is None:
        return None
    return np.asarray(getattr(x, "data", x), dtype=np.float64)


def _sgd(name, p, hp, state, lang):
    old = _arr(p.data)
    if p.grad is None:
        return old, old, [say(lang, "upd_nograd", name=name)]
    grad = _arr(p.grad)
    lr, wd = hp.get("lr", 0.0), hp.get("weight_decay", 0.0)
    mom, damp = hp.get("momentum", 0.0), hp.get("dampening", 0.0)
    lines, g = [], grad
    if hp.get("maximize"):
        g = -g
        lines.append(say(lang, "upd_maximize"))
    if wd:
        g = g + wd * old
        lines.append(say(lang, "upd_sgd_wd", name=name, grad=fmt.arr(grad), wd=fmt.const(wd),
                         old=fmt.arr(old), g=fmt.arr(g)))
    if not mom and not wd and not hp.get("maximize"):
        new = old - lr * g
        lines.append(say(lang, "upd_plain", name=name, old=fmt.arr(old), lr=fmt.num(lr),
                         grad=_p(fmt.arr(grad)), new=fmt.arr(new)))
        return old, new, lines
    d = g
    if mom:
        prev = _arr(state.get("momentum_buffer"))
        if prev is None:
            buf = g
            lines.append(say(lang, "upd_momentum_first", buf=fmt.arr(buf)))
        else:
            buf = mom * prev + (1 - damp) * g
            lines.append(say(lang, "upd_momentum", m=fmt.const(mom), prev=_p(fmt.arr(prev)),
                             damp=fmt.const(1 - damp), g=_p(fmt.arr(g)), buf=fmt.arr(buf)))
        if hp.get("nesterov"):
            d = g + mom * buf
            lines.append(say(lang, "upd_nesterov", g=fmt.arr(d)))
        else:
            d = buf
    new = old - lr * d
    lines.append(say(lang, "upd_sgd_step", name=name, d="g" if d is g else "buf",
                     old=fmt.arr(old), lr=fmt.num(lr), dval=_p(fmt.arr(d)), new=fmt.arr(new)))
    return old, new, lines


def _adam(name, p, hp, state, lang):
    old = _arr(p.data)
    if p.grad is None:
        return old, old, [say(lang, "upd_nograd", name=name)]
    g = _arr(p.grad)
    lr, (b1, b2), eps = hp["lr"], hp["betas"], hp.get("eps", 1e-8)
    wd = hp.get("weight_decay", 0.0)
    lines = []
    if hp.get("maximize"):
        g = -g
        lines.append(say(lang, "upd_maximize"))
    base = old
    if wd and hp.get("decoupled_weight_decay", False):
        base = old * (1 - lr * wd)
        lines.append(say(lang, "upd_adamw", name=name, val=fmt.arr(base)))
    elif wd:
        g = g + wd * old
        lines.append(say(lang, "upd_sgd_wd", name=name, grad=fmt.arr(_arr(p.grad)),
                         wd=fmt.const(wd), old=fmt.arr(old), g=fmt.arr(g)))
    t = int(np.asarray(_arr(state.get("step", 0)))) + 1
    mprev = _arr(state.get("exp_avg"))
    vprev = _arr(state.get("exp_avg_sq"))
    mprev = np.zeros_like(old) if mprev is None else mprev
    vprev = np.zeros_like(old) if vprev is None else vprev
    m = b1 * mprev + (1 - b1) * g
    v = b2 * vprev + (1 - b2) * g * g
    lines.append(say(lang, "upd_adam_t", t=t))
    lines.append(say(lang, "upd_adam_m", b1=fmt.const(b1), mprev=_p(fmt.arr(mprev)),
                     c1=fmt.const(round(1 - b1, 12)), g=_p(fmt.arr(g)), m=fmt.arr(m)))
    lines.append(say(lang, "upd_adam_v", b2=fmt.const(b2), vprev=_p(fmt.arr(vprev)),
                     c2=fmt.const(round(1 - b2, 12)), g2=_p(fmt.arr(g * g)), v=fmt.arr(v)))
    if hp.get("amsgrad"):
        vmax = _arr(state.get("max_exp_avg_sq"))
        v = np.maximum(v, vmax if vmax is not None else 0.0)
    mhat = m / (1 - b1 ** t)
    vhat = v / (1 - b2 ** t)
    lines.append(say(lang, "upd_adam_hat", mhat=fmt.arr(mhat), vhat=fmt.arr(vhat)))
    new = base - lr * mhat / (np.sqrt(vhat) + eps)
    lines.append(say(lang, "upd_adam_step", name=name, old=fmt.arr(base), lr=fmt.num(lr),
                     mhat=_p(fmt.arr(mhat)), vhat=fmt.arr(vhat), eps=fmt.const(eps),
                     new=fmt.arr(new)))
    return old, new, lines


def _p(s: str) -> str:
    return f"({s})" if s.startswith("-") else s
