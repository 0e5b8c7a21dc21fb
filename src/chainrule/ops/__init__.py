"""The differentiable primitives, one module per family; each ``Op`` holds forward and rule."""

from __future__ import annotations


def all_ops():
    """Every ``Op`` subclass defined by chainrule (the table the tests walk)."""
    from ..autograd.graph import Op

    found, stack = [], list(Op.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
