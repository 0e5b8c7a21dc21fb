"""The observer the engine calls during backward: it writes down each chain-rule step.

``Recorder`` is handed to ``run_backward(..., tracer=...)``; the engine calls ``step`` after each
rule and ``leaf`` for every leaf's summed gradient. Nothing here computes a gradient the engine
did not: the recorder only copies what it is shown and, for display, evaluates the op's own rule
on a gradient of ones to show the local derivative of an elementwise op.
"""

from __future__ import annotations

import numpy as np

from ..autograd.engine import sum_to
from ..ops.backends import NP
from .model import BackwardStep, Event, LeafGrad, Send

SATURATED = 1e-3  # a local derivative below this lets (almost) no gradient through


def broadcast_axes(gshape, shape) -> tuple:
    """Axes of a broadcast gradient that are summed to get back to ``shape``."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)


def local_derivatives(node):
    """Per-input local derivatives d out/d input of an elementwise op (None otherwise).

    Evaluated with the op's own backward rule on an upstream gradient of ones.
    """
    if not getattr(node.op, "elementwise", False) or node.inputs is None:
        return None
    attrs = dict(node.attrs or {})
    if node.saved is not None:
        attrs["saved"] = node.saved
    try:
        with np.errstate(all="ignore"):
            res = node.op.backward(NP, np.ones_like(node.out), node.out,
                                   *[t._data for t in node.inputs], **attrs)
    except Exception:  # a display aid must never break the explanation
        return None
    return tuple(None if r is None else np.asarray(r, dtype=np.float64) for r in res)


class Recorder:
    """Collects ``BackwardStep``s and leaf gradients while the engine runs."""

    def __init__(self, namer, root_name: str, detached: dict) -> None:
        self.namer = namer
        self.root = root_name
        self.detached = detached  # id(constant leaf) -> name of the tensor it was detached from
        self.steps: list[BackwardStep] = []
        self.leaves: list[LeafGrad] = []
        self._parts: dict[object, list] = {}

    def step(self, node, g, in_grads) -> None:
        name = self.namer.node(node)
        upstream = np.array(g, copy=True)
        events = self._sum_event(node, name, upstream)
        local = local_derivatives(node)
        sends = []
        for i, (t, gi) in enumerate(zip(node.inputs, in_grads)):
            inp = self.namer.tensor(t)
            loc = local[i] if local is not None and i < len(local) else None
            if not t.requires_grad:
                src = self.detached.get(id(t))
                sends.append(Send(inp, None, loc, "detached" if src else "constant", src))
                continue
            if gi is None:
                sends.append(Send(inp, None, None, "none"))
                continue
            gi = np.asarray(gi)
            if gi.shape != t.shape:
                axes = broadcast_axes(gi.shape, t.shape)
                events.append(Event("ev_broadcast", inp=inp, small=t.shape, big=gi.shape,
                                    axes=axes))
                gi = sum_to(gi, t.shape, NP)
            gi = np.array(gi, copy=True)
            sends.append(Send(inp, gi, loc))
            key = t._node if t._node is not None else id(t)
            self._parts.setdefault(key, []).append(gi)
        events.extend(_activation_events(node, local))
        self.steps.append(BackwardStep(len(self.steps) + 1, name, node.op, upstream, sends,
                                       events, node.seq))

    def leaf(self, t, g) -> None:
        name = self.namer.tensor(t)
        g = np.array(g, copy=True)
        self.leaves.append(LeafGrad(name, g, self._sum_event(id(t), name, g), t))

    def _sum_event(self, key, name, total) -> list:
        parts = self._parts.pop(key, None)
        if parts is None or len(parts) < 2:
            return []
        return [Event("ev_sum", name=name, n=len(parts), parts=parts, total=total)]


def _activation_events(node, local) -> list:
    """Units that pass no gradient: dead ones (``gate == "dies"``) or saturated ones."""
    op, out = node.op, node.out
    gate = getattr(op, "gate", None)
    if gate == "dies" and out is not None and out.size:
        k = int(np.count_nonzero(op.slope(out) == 0))
        if k:
            return [Event("ev_dead", op=op.title or op.name, when=op.dead_when,
                          pct=round(100.0 * k / out.size, 1), k=k, n=out.size)]
    if gate == "saturates" and local is not None and local[0] is not None:
        sat = int(np.count_nonzero(np.abs(local[0]) < SATURATED))
        if sat:
            return [Event("ev_saturated", op=op.name,
                          pct=round(100.0 * sat / local[0].size, 1))]
    return []
