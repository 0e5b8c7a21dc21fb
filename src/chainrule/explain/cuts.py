"""Where a path from an output back to a parameter was cut: a ``.detach()``, or a tensor that
holds the parameter's data without being it (made from ``.data`` or a NumPy array).

``Tensor.detach()`` leaves a weak record on its result (``chainrule.autograd.detached``): the
tensor it was cut from while that lives, and otherwise the op that made it and that op's inputs.
``find_cut`` reads it: a cut is certain when the detached value (or, once it is gone, one of its
op's inputs) is the parameter or was computed from it, and "unknown" when the graph that would
tell is gone. A tensor made from ``.data`` leaves no record; sharing the parameter's memory is
all that shows.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> z = w * 2.0
    >>> cut = find_cut(z.detach(), w)
    >>> cut.kind, cut.label("w", None), cut.source_text("w", None)
    ('detached', '(w * 2).detach()', 'w * 2')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .document import operation
from .naming import Namer, given_name, ordered_nodes


@dataclass
class Cut:
    """``kind``: "detached" (cut from the parameter or from a value computed from it),
    "unknown" (cut from a value that carried a gradient but whose graph is gone) or "shared"
    (holds the parameter's data, no record of a detach)."""

    kind: str
    tensor: Any  # the tensor that was cut (a leaf of the output's graph, or the output)
    wrt: Any
    source: Any = None  # the tensor detach() was called on, while it is alive

    @property
    def op(self) -> str | None:
        rec = getattr(self.tensor, "_detached_from", None)
        return rec.op if rec is not None else None

    def source_text(self, wname: str, names) -> str:
        """What was detached, in the explain namer's words: its name or the op that made it."""
        src = self.source
        if src is self.wrt:
            return wname
        given = given_name(src, names) if src is not None else None
        if given:
            return given
        node = src._node if src is not None else None
        if node is not None and node.inputs is not None:
            namer = Namer(src, ordered_nodes(src), names={self.wrt: wname}, model=names)
            return operation(node.op.name, [namer.tensor(t) for t in node.inputs],
                             dict(node.attrs or {}))
        # the value itself is gone: its op, with the inputs that are still known
        inputs = []
        for ref in self.tensor._detached_from.inputs:
            t = ref() if ref is not None else None
            inputs.append(wname if t is self.wrt else (t is not None and given_name(t, names))
                          or "...")
        return operation(self.op, inputs, {})

    def label(self, wname: str, names) -> str:
        """How to show the cut tensor when it has no name: ``w.detach()``, ``(w * 2).detach()``,
        ``mul(...).detach()`` or ``w.data``."""
        if self.kind == "shared":
            return f"{wname}.data"
        if self.kind == "unknown":
            return f"{self.op}(...).detach()"
        text = self.source_text(wname, names)
        return f"({text}).detach()" if " " in text or text.startswith("-") else f"{text}.detach()"


def find_cut(t, wrt) -> Cut | None:
    """How ``t`` (a tensor without a graph of its own) lost its link to ``wrt``, if it shows."""
    rec = getattr(t, "_detached_from", None)
    if rec is not None:  # a detach() that stopped a gradient made t
        src = rec()
        found = _reaches(src, wrt) if src is not None else None
        if found is None and rec.op is not None:
            # the value or its graph is gone: the inputs of the op that made it may still tell
            seen = [None if (i := r()) is None else _reaches(i, wrt)
                    for r in rec.inputs if r is not None]
            found = True if any(seen) else None if None in seen else False
        if found:
            return Cut("detached", t, wrt, src)
        if found is None and rec.op is not None:
            return Cut("unknown", t, wrt, src)
        # otherwise a cut of something else (a dead leaf is never wrt: wrt is alive)
    if np.may_share_memory(t._data, wrt._data):
        return Cut("shared", t, wrt)
    return None


def _reaches(src, wrt) -> bool | None:
    """Whether ``src`` is ``wrt`` or was computed from it; None where its graph was freed."""
    if src is wrt:
        return True
    if src._node is None:
        return False
    freed = False
    for n in ordered_nodes(src):
        if n is wrt._node:
            return True
        if n.inputs is None:
            freed = True
        elif any(t is wrt for t in n.inputs):
            return True
    return None if freed else False
