"""What a ``detach()`` result was cut from, so ``cr.why_no_grad`` can name the cut.

``Tensor.detach()`` stores ``source_of(self)`` on the copy it returns. Everything in it is weak
or small: a detached copy that lives on (a logged loss, a target network's output) must not keep
alive the graph it was cut from. When the source is gone, the op that made it and weak
references to that op's inputs remain, which is often enough: in ``(w * 2).detach()`` the
product dies at once, but ``w`` does not.

Example:
    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> h = (w * 2).detach()
    >>> rec = h._detached_from
    >>> rec() is None, rec.op, rec.inputs[0]() is w
    (True, 'mul', True)
"""

from __future__ import annotations

import weakref
from typing import Any


class DetachSource(weakref.ref):
    """A weak reference to the tensor ``detach()`` cut from its graph, plus what outlives it:
    ``op``, the name of the op that made it (None for a leaf), and ``inputs``, weak references
    to that op's inputs that required grad (None for the others, which cannot lead back to a
    parameter)."""

    __slots__ = ("op", "inputs")

    def __reduce__(self):
        # A weak reference cannot be pickled; a pickled or copied tensor forgets its source.
        return (type(None), ())


def source_of(t: Any) -> DetachSource | None:
    """The record ``t.detach()`` keeps about ``t`` (``t`` is the tensor being detached).

    None when ``t`` carries no gradient: then the detach cuts nothing, and a detached copy of a
    detached copy passes the first cut's record on.
    """
    node = t._node
    if node is None and not t.requires_grad:
        return t._detached_from
    rec = DetachSource(t)
    if node is None:
        rec.op, rec.inputs = None, ()
    else:
        rec.op = node.op.name
        rec.inputs = () if node.inputs is None else tuple(
            [weakref.ref(i) if i.requires_grad else None for i in node.inputs])
    return rec
