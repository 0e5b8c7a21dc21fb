"""``detect_anomaly``: stop at the first op whose output or gradient is NaN or infinite.

While the mode is on, ``graph.apply`` (and ``Function.apply``) hand every forward output to
``check_forward`` and ``engine.run_backward`` hands every gradient a rule returns to
``check_backward``. Both raise ``FloatingPointError`` naming the op, the line of *user* code that
created it (the innermost frame outside chainrule, remembered on the node so the backward error
can point at the forward line too) and the statistics of the op's inputs.
"""

from __future__ import annotations

import linecache
import os
import sys

import numpy as np

from .grad_mode import DEBUG

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The engine's own layers: a frame here never explains *which* layer made an op.
_ENGINE = tuple(_PKG + p for p in ("autograd" + os.sep, "ops" + os.sep, "tensor.py",
                                   "methods.py", "functional.py", "func.py"))
_USER, _LIBRARY, _ENGINE_FILE = 0, 1, 2
_kinds: dict[str, int] = {}


def _kind(filename: str) -> int:
    kind = _kinds.get(filename)
    if kind is None:
        path = os.path.abspath(filename)
        kind = (_USER if not path.startswith(_PKG) else
                _ENGINE_FILE if path.startswith(_ENGINE) else _LIBRARY)
        _kinds[filename] = kind
    return kind


def _capture():
    """(user frame, library frame): cheap (filename, lineno, function) triples, formatted later.

    The user frame is the innermost one outside chainrule (the line to fix). The library frame
    is the innermost chainrule frame outside the engine, e.g. the ``forward`` of a built-in layer,
    which tells which layer made the op when the user line is just ``model(x)``.
    """
    f = sys._getframe(2)
    lib = None
    while f is not None:
        name = f.f_code.co_filename
        kind = _kind(name)
        if kind == _USER:
            return (name, f.f_lineno, f.f_code.co_name), lib
        if lib is None and kind == _LIBRARY:
            lib = (name, f.f_lineno, f.f_code.co_name)
        f = f.f_back
    return None, lib


def format_where(where) -> str:
    """``file:line in function: source`` for a captured location (``<unknown>`` if none)."""
    if not where:
        return "<unknown> (the op was created outside detect_anomaly)"
    user, lib = where
    parts = []
    for loc in (user, lib):
        if loc is None:
            continue
        filename, lineno, func = loc
        src = linecache.getline(filename, lineno).strip()
        parts.append(f"{filename}:{lineno} in {func}: {src}" if src else
                     f"{filename}:{lineno} in {func}")
    if not parts:
        return "<unknown>"
    return parts[0] + (f"\n    (inside {parts[1]})" if len(parts) > 1 else "")


def stats(a) -> str:
    """One-line summary of an array: shape, range of the finite values, NaN/Inf counts."""
    a = np.asarray(getattr(a, "_data", a))
    if a.dtype.kind not in "fc" or a.size == 0:
        return f"shape {a.shape} {a.dtype}"
    finite = a[np.isfinite(a)]
    parts = [f"shape {a.shape}"]
    if finite.size:
        parts.append(f"min {finite.min():.4g} max {finite.max():.4g} mean {finite.mean():.4g}")
    n_nan, n_inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    if n_nan or n_inf:
        parts.append(f"{n_nan} NaN, {n_inf} Inf")
    return ", ".join(parts)


def _bad(a) -> bool:
    return a is not None and a.dtype.kind in "fc" and not np.isfinite(a).all()


def _in_backward() -> bool:
    """True when the current op runs inside the engine's loop (a custom backward, a hook or a
    ``create_graph`` rule): then ``check_backward`` reports it, with the node's own context."""
    from .engine import run_backward

    code = run_backward.__code__
    f = sys._getframe(2)
    while f is not None:
        if f.f_code is code:
            return True
        f = f.f_back
    return False


def _op_name(op) -> str:
    return getattr(op, "name", None) or getattr(op, "__name__", "op")


# Why an op usually goes non-finite is declared by the op itself (``nan_hint`` for the forward,
# ``nan_grad_hint`` for its rule) and shown under the statistics as a first thing to try.


def _inputs_report(inputs) -> str:
    lines = [f"    input {i}: {stats(t._data)}" for i, t in enumerate(inputs)]
    return "\n".join(lines) if lines else "    (no tensor inputs)"


def check_forward(op, inputs, out) -> None:
    """Remember where ``out`` was made; raise if it holds NaN or Inf."""
    node = out._node
    bad = _bad(out._data)
    if node is None and not bad:  # nothing to remember, nothing to report
        return
    where = _capture()
    if node is not None:
        node.where = where
    if not bad or _in_backward():
        return
    name = _op_name(op)
    if any(_bad(t._data) for t in inputs):
        hint = ("an input already held NaN/Inf before this op: it came from outside the recorded "
                "ops (the data, or a parameter that an update made non-finite)")
    else:
        hint = getattr(op, "nan_hint", "") or "the inputs are finite: look at their ranges above"
    raise FloatingPointError(
        f"detect_anomaly: {name}() produced non-finite values in the forward pass "
        f"({stats(out._data)})\n  created at {format_where(where)}\n  inputs:\n"
        f"{_inputs_report(inputs)}\n  hint: {hint}")


def check_backward(node, grads, upstream=None, inputs=None) -> None:
    """Raise if a backward rule returned a NaN/Inf gradient for any of its inputs.

    ``inputs``: the tensors the rule ran on, when not ``node.inputs`` (a node recorded under
    saved-tensor hooks keeps no values; the engine passes the unpacked ones)."""
    for i, g in enumerate(grads):
        data = getattr(g, "_data", g)
        if data is None or not _bad(np.asarray(data)):
            continue
        name = _op_name(node.op)
        up = "" if upstream is None else f"\n  upstream gradient: {stats(upstream)}"
        if upstream is not None and _bad(np.asarray(getattr(upstream, "_data", upstream))):
            hint = ("the gradient arriving at this op was already non-finite: it came from a "
                    "gradient hook or the seed passed to backward()")
        else:
            hint = getattr(node.op, "nan_grad_hint", "") or (
                "the forward values are finite but the local derivative is not: check the "
                "inputs' ranges above against the op's derivative")
        raise FloatingPointError(
            f"detect_anomaly: the backward of {name}() returned non-finite values for its input "
            f"{i} ({stats(data)})\n  op created at {format_where(node.where)}{up}\n  inputs:\n"
            f"{_inputs_report(node.inputs if inputs is None else inputs)}\n  hint: {hint}")


class detect_anomaly:
    """Context manager: check every forward output and backward gradient for NaN/Inf.

    Raises ``FloatingPointError`` naming the op, the source line that created it and the
    statistics of its inputs. It makes every op slower (a finiteness test and a frame walk per
    op): use it to find a problem, not to train. The backward check needs the forward to have
    run inside the mode too, to know the source line.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
        >>> with cr.autograd.detect_anomaly():
        ...     y = x.log()
        Traceback (most recent call last):
        ...
        FloatingPointError: detect_anomaly: log() produced non-finite values ...
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)

    def __enter__(self) -> detect_anomaly:
        self.prev = DEBUG.anomaly
        DEBUG.anomaly = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        DEBUG.anomaly = self.prev


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return DEBUG.anomaly
