"""The recorded graph: graph nodes (``Node``) and ``apply``, which records them.

The engine knows a primitive only through the attributes it reads (``chainrule.ops.Op`` is the
base class that declares them):

- ``name``: shown in errors and by the tools;
- ``forward(*arrays, **attrs)`` -> array, or ``(array, saved)`` when ``saves`` is True;
- ``backward(F, g, out, *inputs, **attrs)`` -> one gradient per input (``None`` for none);
- ``fresh_grads``: the plain rule returns new arrays that alias nothing (see ``engine``);
- ``pass_needs_input_grad``: the rule also gets ``needs_input_grad``.

``apply`` runs a forward and, when some input requires a gradient and recording is on, links a
``Node`` to the output: that node is all the engine needs to send gradients back. What a node
keeps alive for its rule, and the hooks that may pack it (``saved_tensors_hooks``), are in
``saved``.
"""

from __future__ import annotations

from itertools import count
from operator import attrgetter

from ..tensor import _wrap
from .grad_mode import DEBUG, GRAD
from .saved import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks

_seq = count()
# C-level getters: ``map(_data, inputs)`` unpacks the arrays without a Python-level loop.
_data = attrgetter("_data")
_version = attrgetter("_version")
_requires_grad = attrgetter("requires_grad")


class Node:
    """One recorded application of an op: what backward needs to run its rule."""

    __slots__ = ("op", "inputs", "out", "attrs", "saved", "versions", "hooks", "retains", "seq",
                 "where", "__weakref__")

    def __init__(self, op, inputs, out, attrs, saved):
        self.op = op
        self.inputs = inputs
        self.out = out
        self.attrs = attrs
        self.saved = saved
        # Each input's version now: backward refuses to run if one is changed in place later.
        self.versions = tuple(map(_version, inputs))
        self.hooks = None  # gradient hooks of the output tensor
        self.retains = None  # weakref to the output tensor once it calls retain_grad()
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


class OpTypeError(TypeError):
    """An op got inputs of dtypes its NumPy kernel cannot combine (names the op and dtypes)."""


class OutOfMemoryError(RuntimeError, MemoryError):
    """An op's result cannot be allocated (PyTorch raises a ``RuntimeError``; this is also a
    ``MemoryError``)."""


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
        arrays = [t._data for t in inputs]
        raise OpError(f"{op.name}(): {e} (input shapes: {_describe(arrays)})") from None
    except TypeError as e:  # NumPy's casting errors: say which op and which dtypes
        if isinstance(e, OpTypeError) or type(e).__module__.startswith("chainrule"):
            raise
        dts = ", ".join(str(t._data.dtype) for t in inputs)
        raise OpTypeError(f"{op.name}(): {e} (input dtypes: {dts})") from None
    except MemoryError as e:
        if isinstance(e, OutOfMemoryError):
            raise
        raise OutOfMemoryError(f"{op.name}(): out of memory: {e}") from None
    if op.saves:
        out, saved = res
    else:
        out, saved = res, None
    t = _wrap(out)
    if GRAD.enabled:
        for x in inputs:
            if x.requires_grad:
                t._node = _make_node(op, inputs, out, attrs, saved)
                t.requires_grad = True
                break
    if DEBUG.anomaly:
        from .anomaly import check_forward

        check_forward(op, inputs, t)
    elif DEBUG.trace is not None:
        DEBUG.trace(op, inputs, t, attrs)
    if want_saved:
        return t, saved
    return t


# ``Node`` itself, unless some thread has saved-tensor hooks or node observers open: then
# ``saved.make_node``, which packs and observes (``saved._switch`` sets it). Looked up once per
# recorded op, like ``Node`` would be, so the plain path pays nothing for the feature.
_make_node = Node

__all__ = ["Node", "OpError", "apply", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks"]
