"""Which classes and functions a file may name: chainrule's own, and those the user allows.

A saved module records its class as a dotted name (``mypkg.models.Net``). ``cr.load`` turns
such a name back into a class only by *looking it up*: in the user's allow-list
(``add_safe_globals`` / ``safe_globals``, PyTorch's names) by the name the object itself
carries, or among chainrule's already-imported modules. It never imports a module a file
names, so naming one cannot run its import-time code.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from typing import Any

_allowed: list[Any] = []  # what add_safe_globals received, in order


def name_of(obj: Any) -> str:
    """The dotted name a class or function is saved under: ``module.qualname``."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _check(items: Iterable, where: str) -> list:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"{where}: expected a list of classes or functions, got "
                        f"{type(items).__name__}")
    items = list(items)
    for item in items:
        obj = item
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], str):
                raise TypeError(f"{where}: a tuple entry must be (class_or_function, "
                                f"'module.name'), got {item!r}")
            obj = item[0]
        if not isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            raise TypeError(f"{where}: {obj!r} is not a class or function; only those can be "
                            "allow-listed")
    return items


def add_safe_globals(safe_globals: list) -> None:
    """Allow ``cr.load`` to rebuild these classes (your ``nn.Module`` subclasses, plain data
    classes) when a file names them. An entry may be ``(obj, "module.name")`` to match a
    different saved name. Allow-listed classes are rebuilt with ``cls.__new__(cls)`` and their
    saved attributes, never called with data from the file.

    Example:
        >>> import chainrule as cr
        >>> class Net(cr.nn.Module):
        ...     pass
        >>> cr.serialization.add_safe_globals([Net])
        >>> Net in cr.serialization.get_safe_globals()
        True
        >>> cr.serialization.clear_safe_globals()
    """
    _allowed.extend(_check(safe_globals, "add_safe_globals"))


def get_safe_globals() -> list:
    """The user's allow-list, in the order given (a copy)."""
    return list(_allowed)


def clear_safe_globals() -> None:
    """Empty the user's allow-list (chainrule's own classes stay allowed)."""
    _allowed.clear()


class safe_globals:  # noqa: N801  (PyTorch's name)
    """Context manager: allow these classes and functions inside the ``with`` block only.

    Example:
        >>> import chainrule as cr
        >>> class Net(cr.nn.Module):
        ...     pass
        >>> with cr.serialization.safe_globals([Net]):
        ...     Net in cr.serialization.get_safe_globals()
        True
        >>> Net in cr.serialization.get_safe_globals()
        False
    """

    def __init__(self, safe_globals: list) -> None:
        self._items = _check(safe_globals, "safe_globals")

    def __enter__(self) -> safe_globals:
        _allowed.extend(self._items)
        return self

    def __exit__(self, *exc) -> None:
        # Remove what this block added, once each; entries added before or inside it stay.
        for item in reversed(self._items):
            for i in range(len(_allowed) - 1, -1, -1):
                if _allowed[i] is item:
                    del _allowed[i]
                    break


def user_globals() -> dict[str, Any]:
    """The allow-list as ``{saved name: object}``."""
    out = {}
    for item in _allowed:
        if isinstance(item, tuple):
            out[item[1]] = item[0]
        else:
            out[name_of(item)] = item
    return out


def chainrule_global(name: str) -> Any | None:
    """chainrule's own class or function saved as ``name``, looked up in the chainrule modules
    already imported (never importing one), or None. The object found must carry exactly that
    name, so a file cannot reach an alias or a module attribute that is not a definition."""
    if not name.startswith("chainrule."):
        return None
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        obj: Any = module
        for part in parts[cut:]:
            # vars(), not getattr(): a package's lazy __getattr__ would import what we name.
            obj = vars(obj).get(part) if hasattr(obj, "__dict__") else None
            if obj is None:
                return None
        ok = isinstance(obj, (type, types.FunctionType)) and getattr(
            obj, "__module__", "").startswith("chainrule")
        return obj if ok and name_of(obj) == name else None
    return None
