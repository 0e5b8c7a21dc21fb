"""Whether operations record a graph: ``no_grad`` / ``enable_grad`` / ``set_grad_enabled``.

Grad mode is per thread, as in PyTorch: ``with no_grad():`` in a data-loading or evaluation
thread does not stop the training thread from recording its graph. Anomaly mode is one switch
for the whole process (PyTorch's is global too).
"""

from __future__ import annotations

import functools
import threading


class _GradMode(threading.local):
    """``GRAD.enabled``: this thread's grad mode. A thread starts with recording on."""

    enabled = True


class _Debug:
    """Process-wide switches read by the engine once per op or per backward."""

    __slots__ = ("anomaly", "check_ownership", "trace")

    def __init__(self) -> None:
        self.anomaly = False  # set by detect_anomaly
        # A tool that watches every op application (ONNX export: the source line of each op,
        # and the ops that record no node because no input needs a gradient) sets a function
        # ``trace(op, inputs, out, attrs)``; ``graph.apply`` calls it after each forward, and
        # ops that bypass ``apply`` (comparisons) call it too. None: the fast path.
        self.trace = None
        # Verify that rules declared ``fresh_grads`` return arrays sharing memory with nothing
        # else (``np.shares_memory``); on under anomaly mode and in the test suite.
        self.check_ownership = False


GRAD = _GradMode()
DEBUG = _Debug()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation (in this thread)."""
    return GRAD.enabled


class set_grad_enabled:
    """Context manager and decorator that turns graph recording on or off (in this thread).

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor(1.0, requires_grad=True)
        >>> with cr.set_grad_enabled(False):
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)
        self.prev = GRAD.enabled
        GRAD.enabled = self.mode  # like PyTorch: takes effect at construction too

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        GRAD.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)

        GRAD.enabled = self.prev
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        # `@no_grad` without parentheses decorates directly, as in PyTorch.
        self = super().__new__(cls)
        return self(orig_func) if callable(orig_func) else self

    def __enter__(self):
        self.prev = GRAD.enabled
        GRAD.enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        GRAD.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record no graph (in this thread).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> with cr.no_grad():
        ...     y = w * 3
        >>> y.requires_grad
        False
    """

    mode = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turn recording back on inside a ``no_grad`` block."""

    mode = True
