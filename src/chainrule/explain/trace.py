"""``explain(loss)``: run the engine's own backward pass once, with a recorder listening.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(3.0, requires_grad=True, name="w")
    >>> tr = cr.explain(w * w)
    >>> tr.grad("w")
    6.0
    >>> w.grad is None  # explain() leaves .grad alone unless accumulate=True
    True
"""

from __future__ import annotations

import numpy as np

from ..autograd.engine import _seed, run_backward
from ..autograd.saved import Packed
from ..messages import check
from .model import ForwardStep, LeafInfo
from .naming import Namer, ordered_nodes
from .record import Recorder


class Trace:
    """The whole pass: leaves, forward values, backward steps and the final gradients.

    ``str(trace)`` is the terminal text; ``to_markdown``, ``to_latex`` and ``to_html`` give the
    same content for documents. Every renderer takes ``lang="en"|"zh"``.
    """

    def __init__(self, root_name, root_value, leaves, forward, steps, grads, lang, accumulated):
        self.root_name = root_name
        self.root_value = root_value
        self.leaves: list[LeafInfo] = leaves
        self.forward: list[ForwardStep] = forward
        self.steps = steps
        self.grads = grads
        self.lang = lang
        self.accumulated = accumulated

    def grad(self, name: str):
        """The gradient of the output w.r.t. the leaf called ``name`` (a float for scalars)."""
        for lg in self.grads:
            if lg.name == name:
                return lg.grad.item() if lg.grad.size == 1 else lg.grad
        raise KeyError(f"no leaf gradient named {name!r}; known: {[g.name for g in self.grads]}")

    def value(self, name: str):
        """The forward value of the tensor called ``name``."""
        for f in [*self.leaves, *self.forward]:
            if f.name == name:
                return f.value.item() if f.value.size == 1 else f.value
        raise KeyError(f"no value named {name!r}")

    def step(self, name: str):
        """The backward step of the op whose output is called ``name``."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no backward step for {name!r}")

    def blocks(self, lang: str | None = None) -> list:
        from .document import trace_blocks

        return trace_blocks(self, check(lang or self.lang))

    def to_text(self, lang: str | None = None) -> str:
        from .render import to_text

        return to_text(self.blocks(lang))

    def to_markdown(self, lang: str | None = None) -> str:
        from .render import to_markdown

        return to_markdown(self.blocks(lang))

    def to_latex(self, lang: str | None = None, standalone: bool = False) -> str:
        from .render import to_latex

        lang = lang or self.lang
        return to_latex(self.blocks(lang), standalone=standalone, lang=lang)

    def to_html(self, lang: str | None = None) -> str:
        from .render import to_html

        lang = lang or self.lang
        return to_html(self.blocks(lang), lang=lang)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Trace of {self.root_name}: {len(self.forward)} forward ops, "
                f"{len(self.steps)} backward steps>")


def explain(loss, lang: str = "en", *, names=None, model=None, gradient=None,
            accumulate: bool = False) -> Trace:
    """Backpropagate from ``loss`` through the engine and return the ``Trace`` of every step.

    ``names`` maps tensors to names (``{x: "x"}``) or is a Module; ``model`` is a Module whose
    parameter names (``fc1.weight``) label its parameters. The graph is kept (retain_graph), so
    ``loss.backward()`` still works afterwards. ``.grad`` is untouched unless ``accumulate=True``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor(2.0, requires_grad=True, name="x")
        >>> print(cr.explain(x ** 2).steps[0].sends[0].grad)
        4.0
    """
    lang = check(lang)
    if loss._node is None:
        raise ValueError(
            "explain(): this tensor has no recorded graph (it is a leaf, was computed under "
            "no_grad(), or depends on nothing that requires grad); cr.why_no_grad(tensor, "
            "wrt=param) says which.")
    nodes = ordered_nodes(loss)
    if any(n.inputs is None for n in nodes):
        raise RuntimeError(
            "explain(): the graph behind this tensor was freed by an earlier backward(); pass "
            "retain_graph=True to that backward() or recompute the loss before explaining it.")
    if any(type(n.saved) is Packed for n in nodes):
        raise RuntimeError(
            "explain(): the graph was recorded under saved_tensors_hooks (or checkpoint), so its "
            "values were packed by saved_tensors_hooks and come back only inside backward; "
            "explain shows every value: record the loss without those hooks to explain it.")
    namer = Namer(loss, nodes, names=names, model=model)
    root_name = namer.node(loss._node)
    leaves, detached = _leaves(nodes, namer)
    forward = [ForwardStep(namer.node(n), n.op, [namer.tensor(t) for t in n.inputs],
                           dict(n.attrs or {}), np.array(n.out, copy=True), n.seq) for n in nodes]
    rec = Recorder(namer, root_name, detached)
    seed = _seed(loss, gradient, False, "explain()")
    run_backward([loss], [seed], retain_graph=True, create_graph=False, accumulate=accumulate,
                 tracer=rec)
    order = {lf.name: i for i, lf in enumerate(leaves)}
    grads = sorted(rec.leaves, key=lambda g: order.get(g.name, len(order)))
    return Trace(root_name, np.array(loss._data, copy=True), leaves, forward, rec.steps, grads,
                 lang, accumulate)


def _leaves(nodes, namer):
    """Leaf records in order of first use, and which constants are detached copies of what."""
    seen, leaves = set(), []
    for n in nodes:
        for t in n.inputs:
            if t._node is None and id(t) not in seen:
                seen.add(id(t))
                leaves.append(t)
    sources = [(namer.tensor(t), t._data) for t in leaves if t.requires_grad]
    sources += [(namer.node(n), n.out) for n in nodes]
    detached, infos = {}, []
    for t in leaves:
        name = namer.tensor(t)
        if t.requires_grad:
            infos.append(LeafInfo(name, np.array(t._data, copy=True), "parameter"))
            continue
        src = next((s for s, a in sources if np.may_share_memory(t._data, a)), None)
        if src is not None:
            name = namer.rename_detached(t, src)
            detached[id(t)] = src
            infos.append(LeafInfo(name, np.array(t._data, copy=True), "detached", src))
        else:
            infos.append(LeafInfo(name, np.array(t._data, copy=True), "constant"))
    return infos, detached
