"""Tracing a model for export: one forward pass in eval mode, read back from the recorded graph.

The engine records a node for every op whose input needs a gradient, so the tracer makes its
own copies of the float inputs require one, runs ``model(*args)``, and walks the nodes back from
the outputs. What it finds:

- a *step* per recorded node (the op, its attributes, its input tensors, its output array and
  the line of Python that made it: ``DEBUG.trace`` has the engine show every op to the
  tracer, which remembers that);
- a step per op that recorded no node because none of its inputs needed a gradient (integer
  arithmetic on an index) or because it is never differentiable (comparisons, logical ops);
- a step per call of a layer exported as a whole (``_layers.LAYERS``: convolutions, batch
  norm, recurrent layers...), whose inner nodes are not walked;
- leaves: the example inputs, the model's parameters and buffers (by identity), and constants
  (any other tensor without a node), copied as they were.

A traced forward pass is a straight line: Python control flow, shapes read as numbers and
values computed outside the ops (``.item()``, ``.numpy()``, ``no_grad``) are frozen into it.
``export`` traces twice, the second time with other input values (and other sizes along the
dynamic axes), and compares: see ``Trace.compare``.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd.anomaly import _kind
from ..autograd.function import Function
from ..autograd.grad_mode import DEBUG, enable_grad
from ..tensor import Tensor
from .errors import OnnxExporterError

_USER, _LIBRARY = 0, 1
# While a trace runs in this thread: .active, .path (the module path, for error messages) and
# .applied (the op applications that made no node, by id of their output).
_STATE = threading.local()


def is_tracing() -> bool:
    return getattr(_STATE, "active", False)


@dataclass
class Ref:
    """Where a step's input comes from: ``kind`` is ``input`` (``key`` its position),
    ``param`` (``key`` its state-dict name), ``const`` (``key`` its index in
    ``Trace.consts``) or ``step`` (``key`` a (step index, output index) pair)."""

    kind: str
    key: Any


@dataclass
class Step:
    """One op of the traced forward pass, or one layer exported as a whole."""

    kind: str  # "op" or "layer"
    name: str  # the op's name, or the layer's class name
    op: Any  # the Op class, or the layer (a Module)
    attrs: dict
    inputs: list  # Ref or None (an optional input left out)
    outputs: list  # the output arrays
    where: Any = None  # (user frame, library frame, module path)
    handler: Any = None  # a layer's exporter (``_layers.Handler``)
    # Filled by Trace.compare from the second trace:
    attrs2: dict | None = None
    outputs2: list = field(default_factory=list)

    def varies(self, key: str) -> bool:
        """Whether attribute ``key`` differs in the second trace."""
        return self.attrs2 is not None and not same(self.attrs.get(key), self.attrs2.get(key))


@dataclass
class Trace:
    inputs: list  # example input arrays (None for a non-tensor argument)
    steps: list
    outputs: list  # Ref per flattened output
    consts: list  # constant arrays
    params: dict  # name -> array (parameters and buffers the steps read)
    const_where: list  # the step that first reads each constant (for errors)
    consts2: list = field(default_factory=list)
    inputs2: list = field(default_factory=list)

    def compare(self, other: Trace) -> None:
        """Check that ``other`` (a trace with other input values and sizes) ran the same ops
        in the same order, and keep its attributes and shapes beside this trace's."""
        if len(self.steps) != len(other.steps) or len(self.outputs) != len(other.outputs):
            raise OnnxExporterError(
                f"the forward pass ran {len(self.steps)} ops for the example input and "
                f"{len(other.steps)} for an input of other values or sizes: Python control flow "
                f"that depends on the input's values or on the size of a dynamic axis cannot be "
                f"exported (make that axis static, or move the decision out of forward)")
        for a, b in zip(self.steps, other.steps):
            if a.name != b.name or len(a.inputs) != len(b.inputs) or [
                    r.kind if r else None for r in a.inputs] != [
                    r.kind if r else None for r in b.inputs]:
                raise OnnxExporterError(
                    f"{describe(a)}: the forward pass took another path for an input of other "
                    f"values or sizes ({a.name} here, {b.name} then): Python control flow that "
                    f"depends on the input cannot be exported")
            a.attrs2 = b.attrs
            a.outputs2 = b.outputs
        self.consts2 = other.consts
        self.inputs2 = other.inputs

    def const_varies(self, k: int) -> bool:
        if not self.consts2:
            return False
        a, b = self.consts[k], self.consts2[k]
        return a.shape != b.shape or a.dtype != b.dtype or not np.array_equal(a, b,
                                                                             equal_nan=True)


def same(a, b) -> bool:
    """Equality of attribute values (arrays, slices and nested tuples included)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and type(a) is type(b) and all(map(same, a, b))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return same(getattr(a, "_data", a), getattr(b, "_data", b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _frame_line(loc) -> str:
    import linecache

    filename, lineno, func = loc
    src = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno} in {func}" + (f": {src}" if src else "")


def describe(step: Step) -> str:
    """``op 'name' (made at file:line in fn: source, inside layer `path` (Type))``."""
    what = (f"layer {step.name}" if step.kind == "layer" else
            f"custom autograd Function {step.name!r}" if _is_custom(step) else f"op {step.name!r}")
    return f"{what} {where_text(step.where)}"


def where_text(where) -> str:
    if not where:
        return "(source line unknown)"
    user, lib, path = where
    parts = []
    if user is not None:
        parts.append(f"made at {_frame_line(user)}")
    if lib is not None:
        parts.append(f"in {_frame_line(lib)}")
    if path:
        parts.append(f"inside layer {path}")
    return "(" + ", ".join(parts) + ")" if parts else "(source line unknown)"


def _is_custom(step: Step) -> bool:
    return step.kind == "op" and isinstance(step.attrs, dict) and "fn" in step.attrs and \
        "ctx" in step.attrs


def _capture():
    """(user frame, library frame, module path) of the op being recorded now."""
    f = sys._getframe(2)
    user = lib = None
    while f is not None:
        name = f.f_code.co_filename
        kind = _kind(name)
        if kind == _USER:
            user = (name, f.f_lineno, f.f_code.co_name)
            break
        if lib is None and kind == _LIBRARY and not name.endswith(("module.py", "_trace.py")):
            lib = (name, f.f_lineno, f.f_code.co_name)
        f = f.f_back
    path = _STATE.path[-1] if getattr(_STATE, "path", None) else None
    return user, lib, path


class _Applied:
    """An op application that recorded no node (no input needed a gradient, or the op is a
    comparison): kept by the watcher so that the walk can follow it like a node."""

    __slots__ = ("op", "name", "inputs", "attrs", "where", "out", "versions", "version")

    def __init__(self, op, name, inputs, attrs, where, out) -> None:
        self.op, self.name, self.inputs, self.attrs = op, name, inputs, attrs
        self.where, self.out = where, out
        self.versions = tuple(t._version for t in inputs)
        self.version = out._version


def _watch(op, inputs, out, attrs) -> None:
    """``DEBUG.trace`` during a trace: where each node was made, and the applications that
    made none."""
    if not getattr(_STATE, "active", False):  # another thread's op
        return
    where = _capture()
    if out._node is not None:
        out._node.where = where
        return
    if isinstance(op, str):  # a comparison or a logical op (bool results)
        name = op
    elif isinstance(op, type) and issubclass(op, Function):  # a custom Function, no input
        name, attrs = op.__name__, {"fn": op, "ctx": None}  # needed a gradient
    else:
        name = op.name
    like = next((t for t in inputs if isinstance(t, Tensor)), None)
    tensors = [x if isinstance(x, Tensor) else _constant(x, like) for x in inputs]
    _STATE.applied[id(out)] = _Applied(op, name, tuple(tensors), attrs, where, out)


def _constant(x, like) -> Tensor:
    """A comparison's operand that is no tensor: an array keeps its dtype; a number takes the
    tensor's (a float beside an integer tensor: float32, as PyTorch compares them)."""
    if isinstance(x, (np.ndarray, np.generic)) or like is None:
        return Tensor(np.asarray(x))
    dt = like._data.dtype
    if isinstance(x, float) and dt.kind not in "fc":
        dt = np.dtype(np.float32)
    return Tensor(np.asarray(x, dtype=dt))


def _flatten(out, where: str) -> list:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        flat = []
        for o in out:
            flat.extend(_flatten(o, where))
        return flat
    if isinstance(out, dict):
        flat = []
        for o in out.values():
            flat.extend(_flatten(o, where))
        return flat
    raise OnnxExporterError(f"{where} returned a {type(out).__name__}; export needs tensors, "
                            f"or tuples, lists or dicts of them")


class _LayerCall:
    """A layer exported as a whole: its inputs, outputs and handler."""

    def __init__(self, module, name, handler, inputs, outputs, attrs, where):
        self.module, self.name, self.handler = module, name, handler
        self.inputs, self.outputs, self.attrs, self.where = inputs, outputs, attrs, where


class _Hooks:
    """Wraps every module's forward for the trace: keeps the module path (for error messages)
    and replaces the layers exported as a whole by one recorded call."""

    def __init__(self, model, layers: dict) -> None:
        self.model, self.layers = model, layers
        self.calls: dict[int, tuple] = {}  # id(output tensor) -> (call, output index)
        self.keep: list = []  # keeps traced tensors alive, so ids are not reused
        self.wrapped: list = []

    def __enter__(self):
        if not hasattr(self.model, "named_modules"):
            return self
        for name, m in self.model.named_modules():
            self._wrap(m, name)
        return self

    def _wrap(self, m, name: str) -> None:
        had = "forward" in m.__dict__
        orig = m.__dict__["forward"] if had else m.forward
        handler = self.layers.get(type(m)) if not had else None
        hooks = self
        label = f"`{name}` ({type(m).__name__})" if name else f"{type(m).__name__} (the model)"

        def forward(*args, **kwargs):
            _STATE.path.append(label)
            try:
                if handler is not None:
                    inputs = handler.inputs(m, args, kwargs)
                    if inputs is not None:
                        return hooks._layer(m, name, label, handler, inputs, orig, args,
                                            kwargs)
                return orig(*args, **kwargs)
            finally:
                _STATE.path.pop()

        m.__dict__["forward"] = forward
        self.wrapped.append((m, had, orig))

    def _layer(self, m, name, label, handler, inputs, orig, args, kwargs):
        where = _capture()
        out = orig(*args, **kwargs)
        outs = _flatten(out, label)
        attrs = {"path": name or type(m).__name__.lower(), **handler.attrs(m, args, kwargs)}
        call = _LayerCall(m, type(m).__name__, handler, inputs, [t._data for t in outs],
                          attrs, (where[0], None, label))
        for k, t in enumerate(outs):
            self.calls[id(t)] = (call, k)
        self.keep.append((call, outs, inputs))
        return out

    def __exit__(self, *exc) -> None:
        for m, had, orig in self.wrapped:
            if had:
                m.__dict__["forward"] = orig
            else:
                m.__dict__.pop("forward", None)


def run(model, args: tuple, kwargs: dict, layers: dict) -> Trace:
    """Trace one forward pass of ``model`` on ``args`` (tensors, copied; float ones made to
    require a gradient so every op that reads them is recorded)."""
    copies, arrays = [], []
    for a in args:
        if isinstance(a, Tensor):
            t = Tensor(a._data.copy())
            if a._data.dtype.kind in "fc":
                t.requires_grad = True
            copies.append(t)
            arrays.append(t._data)  # what the model sees (index attributes are this array)
        else:
            copies.append(a)
            arrays.append(None)
    params: dict[int, str] = {}
    storage: dict[int, str] = {}
    if hasattr(model, "named_parameters"):
        for name, p in list(model.named_parameters()) + list(model.named_buffers()):
            if p is None:
                continue
            params.setdefault(id(p), name)
            storage.setdefault(id(p._data), name)  # p.data and p.detach() share it
    hooks = _Hooks(model, layers)
    _STATE.path, _STATE.applied, _STATE.active = [], {}, True
    # Anomaly mode off while tracing: graph.apply shows ops to one watcher or the other, and a
    # -inf in a mask is no anomaly here.
    prev, prev_anomaly = DEBUG.trace, DEBUG.anomaly
    DEBUG.trace, DEBUG.anomaly = _watch, False
    try:
        with enable_grad(), hooks:
            out = model(*copies, **kwargs)
    finally:
        DEBUG.trace, DEBUG.anomaly = prev, prev_anomaly
        _STATE.active = False
    applied, _STATE.applied = _STATE.applied, {}
    outputs = _flatten(out, "the model")
    if not outputs:
        raise OnnxExporterError("the model returned no tensor: there is nothing to export")
    return _Walk(copies, params, storage, hooks, applied).run(outputs, arrays)


class _Walk:
    """Orders the steps that the outputs depend on (producers first) and names every leaf."""

    def __init__(self, inputs, params, storage, hooks, applied) -> None:
        self.input_ids = {id(t): i for i, t in enumerate(inputs) if isinstance(t, Tensor)}
        self.params, self.storage, self.hooks = params, storage, hooks
        self.applied = applied
        self.steps: list[Step] = []
        self.index: dict[int, int] = {}  # id(node or layer call) -> step index
        self.consts: list = []
        self.const_ids: dict[int, int] = {}
        self.const_where: list = []
        self.used_params: dict[str, np.ndarray] = {}

    def producer(self, t):
        hit = self.hooks.calls.get(id(t))
        if hit is not None:
            return hit[0]
        if t._node is not None:
            return t._node
        a = self.applied.get(id(t))
        # changed in place since it was made: its value is no longer the op's; a constant then
        return a if a is not None and a.out is t and t._version == a.version else None

    def inputs_of(self, p) -> list:
        return list(p.inputs)

    def run(self, outputs, arrays) -> Trace:
        # Iterative post-order: a step is appended after every step its inputs come from.
        stack = [(self.producer(t), False) for t in reversed(outputs)]
        seen: set = set()
        while stack:
            p, expanded = stack.pop()
            if p is None:
                continue
            if expanded:
                if id(p) not in self.index:
                    self._add(p)
                continue
            if id(p) in seen:
                continue
            seen.add(id(p))
            stack.append((p, True))
            for t in reversed(self.inputs_of(p)):
                if t is not None:
                    q = self.producer(t)
                    if q is not None and id(q) not in seen:
                        stack.append((q, False))
        refs = [self.ref(t, None) for t in outputs]
        return Trace(arrays, self.steps, refs, self.consts, self.used_params,
                     self.const_where)

    def _add(self, p) -> None:
        if isinstance(p, _LayerCall):
            step = Step("layer", p.name, p.module, p.attrs, [], p.outputs, p.where)
            step.handler = p.handler
            inputs = p.inputs
        elif isinstance(p, _Applied):
            step = Step("op", p.name, p.op, dict(p.attrs or {}), [], [p.out._data], p.where)
            inputs = p.inputs
        else:
            step = Step("op", p.op.name, p.op, dict(p.attrs or {}), [], [p.out], p.where)
            inputs = p.inputs
            for t, v in zip(p.inputs, p.versions):
                if t._version != v:
                    raise OnnxExporterError(
                        f"{describe(step)}: one of its inputs was changed in place after the op "
                        f"read it (an in-place op such as add_() or x[i] = v); export records "
                        f"values as the ops saw them: use the out-of-place op")
        self.index[id(p)] = len(self.steps)
        self.steps.append(step)
        step.inputs = [None if t is None else self.ref(t, step) for t in inputs]

    def ref(self, t, step) -> Ref:
        p = self.producer(t)
        if p is not None:
            hit = self.hooks.calls.get(id(t))
            return Ref("step", (self.index[id(p)], hit[1] if hit is not None else 0))
        i = self.input_ids.get(id(t))
        if i is not None:
            return Ref("input", i)
        name = self.params.get(id(t)) or self.storage.get(id(t._data))
        if name is not None:
            self.used_params[name] = t._data
            return Ref("param", name)
        k = self.const_ids.get(id(t))
        if k is None:
            k = self.const_ids[id(t)] = len(self.consts)
            self.consts.append(np.array(t._data, copy=True))
            self.const_where.append(step)
        return Ref("const", k)
