"""``detect_anomaly``: stop at the first op whose output or gradient is NaN or infinite."""

from __future__ import annotations

import os
import traceback

import numpy as np

from .grad_mode import STATE

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_frame() -> str:
    """The innermost source line outside chainrule: where the user called the op."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PKG):
            return f'{frame.filename}:{frame.lineno}: {(frame.line or "").strip()}'
    return "<unknown>"


def _stats(a) -> str:
    a = np.asarray(a)
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


def check_forward(op, inputs, out) -> None:
    where = _user_frame()
    if out._node is not None:
        out._node.where = where
    if _bad(out.data):
        ins = "; ".join(f"input {i}: {_stats(t.data)}" for i, t in enumerate(inputs))
        raise FloatingPointError(
            f"detect_anomaly: {op.name}() produced {_stats(out.data)} in the forward pass\n"
            f"  created at {where}\n  {ins}")


def check_backward(node, grads) -> None:
    for i, g in enumerate(grads):
        data = getattr(g, "data", g)
        if data is not None and _bad(np.asarray(data)):
            ins = "; ".join(f"input {k}: {_stats(t.data)}" for k, t in enumerate(node.inputs))
            raise FloatingPointError(
                f"detect_anomaly: the backward of {node.op.name}() returned a gradient with "
                f"{_stats(data)} for its input {i}\n  op created at {node.where or '<unknown>'}\n"
                f"  {ins}")


class detect_anomaly:
    """Context manager: check every forward output and backward gradient for NaN/Inf.

    Raises ``FloatingPointError`` naming the op, the source line that created it and the
    statistics of its inputs. Slows every op down; use it to find a problem, not to train.

    Example:
        >>> import chainrule as cr
        >>> with cr.autograd.detect_anomaly():
        ...     y = cr.tensor([1.0]).log()
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def __enter__(self):
        self.prev = STATE.anomaly
        STATE.anomaly = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        STATE.anomaly = self.prev


def is_anomaly_enabled() -> bool:
    return STATE.anomaly
