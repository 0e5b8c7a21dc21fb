"""Module-level switches (``cr.backends.cudnn.benchmark = True``) checked as PyTorch checks them.

A backend module swaps its class for one whose properties store the flags, so assigning a
non-bool raises ``RuntimeError`` as in PyTorch, and a ``with ...flags(...)`` block can restore
them.
"""

from __future__ import annotations

import contextlib
import sys
import types
from typing import Any


def bool_flag(store: dict, name: str) -> property:
    def get(_module) -> bool:
        return store[name]

    def set_(module, value: Any) -> None:
        if not isinstance(value, bool):
            raise RuntimeError(f"{module.__name__}.{name} expects a bool, got "
                               f"{type(value).__name__}")
        store[name] = value

    return property(get, set_, doc=f"the {name} switch (a bool)")


def install(module_name: str, store: dict, extra: dict | None = None) -> None:
    """Give the module ``module_name`` one checked property per key of ``store``."""
    module = sys.modules[module_name]
    attrs = {name: bool_flag(store, name) for name, v in store.items() if isinstance(v, bool)}
    attrs.update(extra or {})
    module.__class__ = type(f"{module_name.rsplit('.', 1)[1]}_module", (types.ModuleType,), attrs)


@contextlib.contextmanager
def setting(module: types.ModuleType, **values: Any):
    """Set the module's flags for the block and restore them after (None: leave one as is)."""
    saved = {k: getattr(module, k) for k, v in values.items() if v is not None}
    try:
        for k, v in values.items():
            if v is not None:
                setattr(module, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)
