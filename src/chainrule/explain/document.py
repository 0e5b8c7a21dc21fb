"""A ``Trace`` as a document in one language: headings, tables, formulas and sentences.

All four renderers draw these same blocks, so text, Markdown, LaTeX and HTML never disagree.
"""

from __future__ import annotations

from ..messages import say
from ..ops import all_ops
from . import fmt
from .blocks import Formula, Heading, Items, Para, Table


def expression(f) -> str:
    """``z1 = w1 * x`` style text of one forward op."""
    return f"{f.name} = {operation(f.op, f.inputs, f.attrs)}"


def operation(op, a, attrs) -> str:
    """``w1 * x`` style text of ``op`` (an op, or an op's name) applied to the inputs named ``a``.

    Infix where the op declares a ``symbol`` in the registry: ``a + b``, ``x ^ 2``, ``-x``.
    """
    if isinstance(op, str):
        op = next((o for o in all_ops() if o.name == op), op)
    name = getattr(op, "name", op)
    symbol = getattr(op, "symbol", "")
    if symbol and len(a) == 2:
        return f"{a[0]} {symbol} {a[1]}"
    if symbol and len(a) == 1 and len(attrs) == 1:  # x ^ 2
        return f"{a[0]} {symbol} {fmt.const(next(iter(attrs.values())))}"
    if symbol and len(a) == 1 and getattr(getattr(op, "forward", None), "nin", 0) == 1:  # -x
        return f"{symbol}{a[0]}"
    extra = [f"{k}={v}" for k, v in attrs.items() if _short(v) and v is not False]
    return f"{name}({', '.join(list(a) + extra)})"


def _short(v) -> bool:
    return isinstance(v, (int, float, str, bool, tuple)) and len(str(v)) <= 20


def formula(op) -> str:
    if op.formula:
        return op.formula
    doc = (op.__doc__ or "").split(";")
    return doc[1].strip() if len(doc) > 1 else op.name


def latex_formula(op) -> str:
    """The op's LaTeX rule, or "" when it has only the plain-text one."""
    return op.latex or ""


def latex_escape(s: str) -> str:
    out = []
    for ch in s:
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "\\":
            out.append(r"\textbackslash{}")
        elif ch == "^":
            out.append(r"\^{}")
        elif ch == "~":
            out.append(r"\~{}")
        else:
            out.append(ch)
    return "".join(out)


def trace_blocks(trace, lang: str) -> list:
    """The document of one trace."""
    root = trace.root_name
    out = [Heading(2, say(lang, "leaves"))]
    rows = []
    for lf in trace.leaves:
        role = say(lang, lf.role, src=lf.source) if lf.role == "detached" else say(lang, lf.role)
        rows.append([f"`{lf.name}`", role, fmt.arr(lf.value)])
    out.append(Table([say(lang, "col_name"), say(lang, "col_role"), say(lang, "col_value")], rows))
    out.append(Heading(2, say(lang, "forward")))
    out.append(Para(say(lang, "forward_intro")))
    out.append(Table([say(lang, "col_op"), say(lang, "col_value")],
                     [[f"`{expression(f)}`", fmt.arr(f.value)] for f in trace.forward]))
    out.append(Heading(2, say(lang, "backward")))
    out.append(Para(say(lang, "backward_intro", root=root)))
    exprs = {f.name: expression(f) for f in trace.forward}
    for st in trace.steps:
        out.extend(step_blocks(st, root, exprs.get(st.name, st.name), lang))
    out.append(Heading(2, say(lang, "grads")))
    items = [say(lang, "leaf_grad", root=root, name=g.name, value=fmt.arr(g.grad))
             for g in trace.grads]
    for g in trace.grads:
        items.extend(event_text(e, lang) for e in g.events)
    out.append(Items(items))
    out.append(Para(say(lang, "written" if trace.accumulated else "not_written")))
    return out


def step_blocks(st, root, expr, lang) -> list:
    out = [Heading(3, say(lang, "step", i=st.index, expr=f"`{expr}`"))]
    out.append(Formula(formula(st.op), latex_formula(st.op), say(lang, "rule_label")))
    items = [say(lang, "upstream", root=root, name=st.name, value=fmt.arr(st.upstream))]
    has_local = any(s.local is not None for s in st.sends)
    if not has_local and any(s.skipped is None for s in st.sends):
        items.append(say(lang, "vjp"))
    for s in st.sends:
        if s.local is not None and s.skipped is None:
            items.append(say(lang, "local", out=st.name, inp=s.to, value=fmt.arr(s.local)))
        if s.skipped == "constant":
            items.append(say(lang, "skip_constant", inp=s.to))
        elif s.skipped == "detached":
            items.append(say(lang, "skip_detached", inp=s.to, src=s.source))
        elif s.skipped == "none":
            items.append(say(lang, "skip_none", inp=s.to))
        elif (s.local is not None and fmt.is_scalar(st.upstream) and fmt.is_scalar(s.local)
              and fmt.is_scalar(s.grad)):
            items.append(say(lang, "send_product", root=root, inp=s.to, out=st.name,
                             up=fmt.arr(st.upstream), loc=_paren(fmt.arr(s.local)),
                             value=fmt.arr(s.grad)))
        else:
            items.append(say(lang, "send", root=root, inp=s.to, value=fmt.arr(s.grad)))
    items.extend(event_text(e, lang) for e in st.events)
    out.append(Items(items))
    return out


def event_text(e, lang: str) -> str:
    a = dict(e.args)
    if e.code == "ev_sum":
        a["parts"] = " + ".join(_paren(fmt.arr(p)) for p in a["parts"])
        a["total"] = fmt.arr(a["total"])
    elif e.code == "ev_broadcast":
        a["small"] = str(tuple(a["small"]))
        a["big"] = str(tuple(a["big"]))
        a["axes"] = str(tuple(a["axes"]))
    elif e.code in ("ev_dead", "ev_saturated"):
        a["pct"] = f"{a['pct']:g}"
        if e.code == "ev_dead" and a["when"] is None:
            a["when"] = say(lang, "dead_when_default")
    return say(lang, e.code, **a)


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") or " " in s else s
