"""Placeholders for PyTorch features chainrule does not have yet.

Importing a placeholder module always works (so PyTorch programs that import it at the top
still load); *using* one of its functions or classes raises ``NotImplementedError`` that names
the feature. A real implementation replaces the placeholder module as a whole.
"""

from __future__ import annotations

from collections.abc import Callable


def _message(feature: str, name: str) -> str:
    return f"{name}: {feature} is not available yet in chainrule"


def unavailable_function(feature: str, name: str) -> Callable:
    """A function that raises the not-available error when called.

    Example:
        >>> from chainrule._unavailable import unavailable_function
        >>> f = unavailable_function("ONNX export", "chainrule.onnx.export")
        >>> f()
        Traceback (most recent call last):
        ...
        NotImplementedError: chainrule.onnx.export: ONNX export is not available yet in chainrule
    """
    def fn(*args, **kwargs):
        raise NotImplementedError(_message(feature, name))

    fn.__name__ = fn.__qualname__ = name.rsplit(".", 1)[-1]
    fn.__doc__ = f"Not available yet: {feature}. Calling it raises NotImplementedError."
    return fn


def unavailable_class(feature: str, name: str, base: type = object) -> type:
    """A class (subclassing ``base``) whose construction raises the not-available error.

    Example:
        >>> from chainrule._unavailable import unavailable_class
        >>> Thing = unavailable_class("multi-GPU training", "chainrule.nn.DataParallel")
        >>> Thing(None)
        Traceback (most recent call last):
        ...
        NotImplementedError: chainrule.nn.DataParallel: multi-GPU training is not available ...
    """
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_message(feature, name))

    short = name.rsplit(".", 1)[-1]
    doc = f"Not available yet: {feature}. Constructing it raises NotImplementedError."
    return type(short, (base,), {"__init__": __init__, "__doc__": doc,
                                 "__module__": name.rsplit(".", 1)[0]})
