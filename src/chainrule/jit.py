"""``cr.jit``: TorchScript, which chainrule does not have.

``cr.jit.script``, ``trace``, ``load``, ``save`` and ``freeze`` raise ``NotImplementedError``
(a ``RuntimeError``): chainrule models are Python and run eagerly; save their weights with
``cr.save(model.state_dict(), path)``. The annotations that model code carries for TorchScript
work as they do in eager PyTorch: ``ignore``, ``unused`` and ``export`` return the function,
``is_scripting()`` / ``is_tracing()`` are False, ``annotate(type, value)`` is ``value``.

Example:
    >>> import chainrule as cr
    >>> cr.jit.is_scripting()
    False
"""

from __future__ import annotations

from typing import Any, Final  # noqa: F401  (cr.jit.Final, as torch.jit.Final)


def _refuse(name: str):
    raise NotImplementedError(
        f"jit.{name}(): chainrule has no TorchScript. Its models are Python and run eagerly: "
        "call the module directly, and save the weights with cr.save(model.state_dict(), "
        "path).")


def script(obj: Any, *args: Any, **kwargs: Any):
    _refuse("script")


def trace(func: Any, *args: Any, **kwargs: Any):
    _refuse("trace")


def trace_module(mod: Any, *args: Any, **kwargs: Any):
    _refuse("trace_module")


def load(f: Any, *args: Any, **kwargs: Any):
    _refuse("load")


def save(m: Any, f: Any, *args: Any, **kwargs: Any):
    _refuse("save")


def freeze(mod: Any, *args: Any, **kwargs: Any):
    _refuse("freeze")


def optimize_for_inference(mod: Any, *args: Any, **kwargs: Any):
    _refuse("optimize_for_inference")


def is_scripting() -> bool:
    """False: code never runs under TorchScript here."""
    return False


def is_tracing() -> bool:
    """False."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """``the_value`` (a type hint for TorchScript; nothing to do eagerly)."""
    return the_value


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@cr.jit.ignore`` / ``@cr.jit.ignore(drop=True)``: the function itself."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Any) -> Any:
    """``@cr.jit.unused``: the function itself."""
    return fn


def export(fn: Any) -> Any:
    """``@cr.jit.export``: the function itself."""
    return fn
