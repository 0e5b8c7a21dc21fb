"""``explain_step(optimizer)``: each parameter's update in numbers (SGD, Adam, AdamW, RMSprop,
Adagrad).

By default nothing changes: each parameter's update is computed by the optimizer's own update
code, run on copies of the parameter and its state (``Optimizer.update_terms``), which records
the update's named terms for the sentences. With ``step=True`` the optimizer's ``step()`` runs
too, the report shows before/after, and every predicted value is checked against what ``step()``
produced (``report.checked``).

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
from .updates import render, supported


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
    kind = type(optimizer).__name__
    if not supported(optimizer):
        hint = ""
        if getattr(optimizer, "terms", None):
            hint = f"; {kind}.update_terms(p) gives the named values of its next update"
        raise TypeError(f"explain_step(): {kind} is not supported "
                        f"(SGD, Adam, AdamW, RMSprop and Adagrad are){hint}")
    given = param_names(model)
    given.update(param_names(names))
    updates, count = [], 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            count += 1
            name = given.get(id(p)) or p.name or f"p{count}"
            u = optimizer.update_terms(p, lr=lr)
            old = np.array(p._data, copy=True)
            texts = {lg: render(optimizer, name, u, lg) for lg in LANGS}
            updates.append(ParamUpdate(name, old, old if u is None else u.new, texts))
    report = StepReport(kind, updates, lang)
    if step:
        optimizer.step()
        report.stepped = True
        ok = True
        tracked = [p for g in optimizer.param_groups for p in g["params"]]
        for upd, p in zip(updates, tracked):
            upd.actual = np.array(p._data, copy=True)
            tol = 1e-5 if upd.actual.dtype == np.float32 else 1e-10
            if not np.allclose(upd.actual, upd.new, rtol=tol, atol=tol):
                ok = False
                report.notes.append(("upd_mismatch", dict(
                    name=upd.name, actual=fmt.arr(upd.actual), pred=fmt.arr(upd.new))))
        report.checked = ok
        if ok:
            report.notes.append(("upd_checked", {}))
    return report
