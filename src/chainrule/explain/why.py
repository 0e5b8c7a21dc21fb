"""``why_no_grad(tensor, wrt=param)``: why d tensor/d param is None or zero, in words.

The checks run from the cheapest to the most expensive: the parameter itself (dtype,
requires_grad), then the output's graph (none, freed, param not in it: cut by a ``.detach()`` or
by a tensor that only shares its data, see ``cuts.py``), then the engine's own gradient and, when
it is zero, whether every path crosses a dead ReLU or a saturated sigmoid/tanh.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor(1.0, name="w")                 # forgot requires_grad=True
    >>> cr.why_no_grad(w * 3.0, wrt=w).reason
    'not_requires_grad'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autograd.grad_mode import is_grad_enabled
from ..messages import check, say
from . import fmt
from .cuts import find_cut
from .naming import Namer, given_name, ordered_nodes

_RANK = {"detached": 0, "shared": 1, "unknown": 2}
REASONS = ("ok", "integer_dtype", "not_requires_grad", "no_grad", "detached", "shared_data",
           "graph_freed", "not_connected", "dead_relu", "saturated", "zero")
VANISHED = 1e-8  # a gradient this small is "zero" for the question being asked
SATURATED = 1e-6  # a local derivative this small blocks the path


@dataclass
class WhyNoGrad:
    """The answer: ``reason`` (one of ``REASONS``), the message, and the gradient if any."""

    reason: str
    message: str
    grad: np.ndarray | None = None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"WhyNoGrad(reason={self.reason!r})"


def why_no_grad(tensor, wrt, *, lang: str = "en", names=None) -> WhyNoGrad:
    """Explain why ``tensor`` has no (or a zero) gradient with respect to ``wrt``.

    ``names`` (``{tensor: name}`` or a Module) names tensors in the message; otherwise
    ``tensor.name`` / ``wrt.name`` or "the output" / "the parameter".
    """
    lang = check(lang)
    out = given_name(tensor, names) or say(lang, "why_the_output")
    w = given_name(wrt, names) or say(lang, "why_the_parameter")
    code = given_name(wrt, names) or "param"  # wrt in code-like text: param.detach()

    # a sentence starts with a capital, but a name keeps its case ("h", "dL/dw")
    keep = tuple(n for n in (given_name(tensor, names), given_name(wrt, names)) if n)
    keep += (f"d{out}",)

    def answer(reason, key=None, grad=None, **kw):
        text = say(lang, key or f"why_{reason}", out=out, wrt=w, **kw)
        if not text.startswith(keep):
            text = text[:1].upper() + text[1:]
        return WhyNoGrad(reason, text, grad)

    if wrt.dtype.kind not in "fc":
        return answer("integer_dtype", dtype=wrt.dtype)
    if not wrt.requires_grad:
        return answer("not_requires_grad")
    if tensor is wrt:
        return answer("ok", value=fmt.num(1.0), grad=np.ones_like(wrt._data))
    if tensor._node is None:
        cut = find_cut(tensor, wrt)
        if cut is not None:
            return _cut_answer(cut, f"{out} = {cut.label(code, names)}", answer, lang, code,
                               names)
        now = "" if is_grad_enabled() else say(lang, "why_no_grad_now")
        return answer("no_grad", key="why_no_graph", now=now)
    freed = _freed(tensor._node)
    if freed is not None:
        return answer("graph_freed", where=freed.name())
    nodes = ordered_nodes(tensor)
    namer = Namer(tensor, nodes, names=names)
    if wrt._node is None and not any(t is wrt for n in nodes for t in n.inputs):
        return _not_connected(tensor, wrt, nodes, namer, answer, lang, names, code)
    g = _grad(tensor, wrt)
    if g is not None and np.max(np.abs(g)) > VANISHED:
        return answer("ok", value=fmt.arr(g), grad=g)
    blocked = _blockers(tensor, wrt, nodes)
    if blocked is None:
        return answer("zero", grad=g)
    where = ", ".join(f"{namer.node(n)} = {n.op.name}(...)" for n in blocked)
    if all(n.op.gate == "dies" for n in blocked):
        return answer("dead_relu", where=where, grad=g)
    return answer("saturated", where=where, grad=g)


def _freed(root):
    """The first node whose saved inputs a backward() already released, if any."""
    stack, seen = [root], set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n.inputs is None:
            return n
        stack.extend(t._node for t in n.inputs if t._node is not None)
    return None


def _cut_answer(cut, where, answer, lang, code, names):
    """The answer for a path cut at ``cut``, shown as ``where``."""
    if cut.kind == "detached" and cut.source is cut.wrt:
        return answer("detached", where=where)
    if cut.kind == "detached":
        return answer("detached", key="why_detached_from", where=where,
                      src=cut.source_text(code, names))
    if cut.kind == "unknown":
        return answer("detached", key="why_detached_unknown", where=where,
                      what=say(lang, "why_what_op", op=cut.op))
    return answer("shared_data", where=where)


def _not_connected(tensor, wrt, nodes, namer, answer, lang, names, code):
    consts = []  # (distance from the output, leaf, consumer)
    cuts = []  # (rank of the kind, order met from the output, cut, consumer)
    depth = {tensor._node: 0}
    for n in reversed(nodes):  # consumers before producers: depths are final when read
        for t in n.inputs:
            if t._node is not None:
                depth[t._node] = min(depth.get(t._node, 1 << 30), depth.get(n, 0) + 1)
                continue
            cut = find_cut(t, wrt)
            if cut is not None:
                cuts.append((_RANK[cut.kind], len(cuts), cut, n))
            elif not t.requires_grad:
                consts.append((depth.get(n, 0), t, n))
    if cuts:
        # a certain detach first, then wrt's data used directly, then an uncheckable detach
        _, _, cut, n = min(cuts, key=lambda c: c[:2])
        name = namer.rename(cut.tensor, cut.label(code, names))
        return _cut_answer(cut, say(lang, "why_used_by", name=name, op=namer.node(n)), answer,
                           lang, code, names)
    breaks = [say(lang, "why_break", name=namer.tensor(t),
                  shape=fmt.shape(t._data), op=namer.node(n))
              for _, t, n in sorted(consts, key=lambda c: c[0])
              if t._data.size > 1 or t.name][:3]
    if not breaks:
        return answer("not_connected", key="why_not_connected_nowhere")
    return answer("not_connected", where="; ".join(breaks))


def _grad(tensor, wrt):
    from ..autograd.engine import grad

    go = None if tensor._data.size == 1 else np.ones_like(tensor._data)
    (g,) = grad(tensor, wrt, grad_outputs=None if go is None else _tensor(go),
                retain_graph=True, allow_unused=True)
    return None if g is None else np.asarray(g._data)


def _tensor(a):
    from ..tensor import _wrap

    return _wrap(a)


def _dead(node) -> bool:
    """Whether an activation that can die or saturate passes (almost) nothing back here."""
    op = node.op
    if not getattr(op, "gate", None) or node.out is None:
        return False
    return bool(np.all(np.abs(op.slope(node.out)) < SATURATED))


def _blockers(tensor, wrt, nodes):
    """The dead activations if they cut every path from the output to ``wrt``, else None."""
    dead, stack, seen = [], [tensor._node], set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n is wrt._node:
            return None
        if _dead(n):
            dead.append(n)
            continue
        for t in n.inputs:
            if t is wrt:
                return None
            if t._node is not None:
                stack.append(t._node)
    return sorted(dead, key=lambda n: n.seq) or None
