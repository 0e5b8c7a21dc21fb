"""Whether operations record a graph: ``no_grad`` / ``enable_grad`` / ``set_grad_enabled``."""

from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled", "anomaly")

    def __init__(self) -> None:
        self.enabled = True
        self.anomaly = False  # set by detect_anomaly; checked once per op


STATE = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation."""
    return STATE.enabled


class set_grad_enabled:
    """Context manager and decorator that turns graph recording on or off.

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
        self.prev = STATE.enabled
        STATE.enabled = self.mode  # like PyTorch: takes effect at construction too

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        STATE.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)

        STATE.enabled = self.prev
        return wrapper


class _GradModeContext:
    mode = True

    def __new__(cls, orig_func=None):
        # `@no_grad` without parentheses decorates directly, as in PyTorch.
        self = super().__new__(cls)
        return self(orig_func) if callable(orig_func) else self

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        STATE.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record no graph.

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
