"""The recorded graph: primitives (``Op``), graph nodes (``Node``) and ``apply``.

Every differentiable primitive is a subclass of ``Op`` holding its NumPy ``forward`` and its
chain-rule ``backward`` side by side. ``apply`` runs a forward and, when some input requires a
gradient and recording is on, links a ``Node`` to the output: that node is all the engine needs
to send gradients back.
"""

from __future__ import annotations

import re
from itertools import count
from operator import attrgetter

from ..tensor import _wrap
from .grad_mode import STATE

_seq = count()
# C-level getters: ``map(_data, inputs)`` unpacks the arrays without a Python-level loop.
_data = attrgetter("data")
_version = attrgetter("_version")
_requires_grad = attrgetter("requires_grad")


class Op:
    """Base class of a differentiable primitive.

    A subclass defines two plain functions (never instantiated, so no ``self``):

    - ``forward(*arrays, **attrs) -> array`` (or ``(array, saved)`` when ``saves = True``);
    - ``backward(F, g, out, *inputs, **attrs) -> tuple`` of one gradient per input (``None`` for
      "no gradient"). ``F`` is a backend namespace: NumPy functions for a plain backward, the
      differentiable chainrule functions under ``create_graph=True``; ``g``, ``out`` and
      ``inputs`` are arrays or tensors to match. Writing the rule once against ``F`` is what gives
      higher-order gradients for free. Gradients may have the broadcast shape: the engine sums
      them back to each input's shape.

    ``formula`` is the local derivative in words, shown by ``cr.explain``.
    """

    name = "op"
    saves = False
    # True: the rule also gets ``needs_input_grad`` (one bool per input, PyTorch's name) so it can
    # skip work nobody uses, e.g. a dense layer's input gradient when the input is the data.
    pass_needs_input_grad = False
    # True: in a plain backward the rule returns gradients in new arrays that alias nothing (no
    # input, output, saved value or other returned gradient), or the upstream ``g`` itself when
    # it was given ``F.owns_g``. The engine may then let the next rule overwrite them in place.
    fresh_grads = False
    formula = ""
    latex = ""

    def __init_subclass__(cls) -> None:
        if "name" not in cls.__dict__:
            cls.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def forward(*arrays, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(F, g, out, *inputs, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError


class Node:
    """One recorded application of an ``Op``: what backward needs to run its rule."""

    __slots__ = ("op", "inputs", "out", "attrs", "saved", "versions", "hooks", "seq", "where",
                 "__weakref__")

    def __init__(self, op, inputs, out, attrs, saved):
        self.op = op
        self.inputs = inputs
        self.out = out
        self.attrs = attrs
        self.saved = saved
        # Each input's version now: backward refuses to run if one is changed in place later.
        self.versions = tuple(map(_version, inputs))
        self.hooks = None
        # Creation order. A node's producers always have smaller numbers than the node itself,
        # which is all the engine needs to order backward (latest first).
        self.seq = next(_seq)
        self.where = None

    def __repr__(self) -> str:
        return f"<{self.op.name} backward>"

    def name(self) -> str:
        """PyTorch-style name of the backward function, e.g. ``SigmoidBackward``."""
        return "".join(p.capitalize() for p in self.op.name.split("_")) + "Backward"


class OpError(ValueError):
    """An op got arguments it cannot work with (names the op and the shapes)."""


def _describe(arrays) -> str:
    parts = []
    for a in arrays:
        shape = getattr(a, "shape", None)
        parts.append(str(tuple(shape)) if shape is not None else repr(a))
    return ", ".join(parts)


def apply(op, inputs, attrs=None, want_saved=False):
    """Run ``op`` forward on tensors ``inputs`` and record a node when a gradient is needed.

    This runs once per op call, so it is kept lean: no temporary list of arrays, no keyword
    unpacking when there are no attributes, and a node only when some input needs a gradient.
    """
    try:
        res = op.forward(*map(_data, inputs), **attrs) if attrs else op.forward(
            *map(_data, inputs))
    except (ValueError, IndexError) as e:
        if isinstance(e, OpError):
            raise
        arrays = [t.data for t in inputs]
        raise OpError(f"{op.name}(): {e} (input shapes: {_describe(arrays)})") from None
    if op.saves:
        out, saved = res
    else:
        out, saved = res, None
    t = _wrap(out)
    if STATE.enabled:
        for x in inputs:
            if x.requires_grad:
                t._node = Node(op, inputs, out, attrs, saved)
                t.requires_grad = True
                break
    if STATE.anomaly:
        from .anomaly import check_forward

        check_forward(op, inputs, t)
    if want_saved:
        return t, saved
    return t
