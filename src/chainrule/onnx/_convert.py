"""The table of ONNX mappings, keyed by the op registry's names, and what a mapping is handed.

A mapping is a function ``fn(c: Call) -> str | list[str]``: it reads the op's inputs (ONNX
value names ``c.x``), their shapes in the two traces and its attributes, adds nodes with
``c.g`` (a ``Builder``) and returns the name of each output. ``@converts("relu")`` registers
it for the op named ``relu`` in the registry (``chainrule.ops``); ``supported()`` lists them
for the error an unmapped op raises.
"""

from __future__ import annotations

from collections.abc import Callable

from ._trace import Step, describe
from .errors import UnsupportedOperatorError

OPS: dict[str, Callable] = {}  # op name -> mapping


def converts(*names: str) -> Callable:
    def register(fn):
        for n in names:
            OPS[n] = fn
        return fn

    return register


def supported() -> list[str]:
    """The op names that have an ONNX mapping, sorted."""
    return sorted(OPS)


class Info:
    """What the exporter knows of a value: its shape in both traces, dtype, constant value."""

    __slots__ = ("shape", "shape2", "dtype", "value")

    def __init__(self, shape, shape2, dtype, value=None) -> None:
        self.shape, self.shape2, self.dtype, self.value = tuple(shape), tuple(shape2), dtype, value

    def dynamic(self) -> set:
        """The dims whose size differs between the traces (those of a dynamic axis)."""
        if len(self.shape) != len(self.shape2):
            return set(range(len(self.shape)))
        return {i for i, (a, b) in enumerate(zip(self.shape, self.shape2)) if a != b}


class Call:
    """One op being mapped: ``x`` its inputs' ONNX names (None for an optional input left
    out), ``info`` what is known of each, ``g`` the builder."""

    def __init__(self, g, step: Step, x: list, info: list, out: list, param=None,
                 input_named=None) -> None:
        self.g, self.step, self.x, self.info, self.out = g, step, x, info, out
        self._param, self._input_named = param, input_named

    def array(self, key: str, index: int | None = None) -> str:
        """An array attribute (an embedding's indices): the graph input it is, or a constant
        when it is the same in both traces. ``index`` picks an entry of a tuple attribute."""
        a, b = self.step.attrs[key], self.attr2(key)
        if index is not None:
            a, b = a[index], b[index]
        name = self._input_named(a) if self._input_named else None
        if name is not None:
            return name
        from ._trace import same

        if not same(a, b):
            raise self.fail(f"its {key} ({getattr(a, 'shape', '')}) changes with the input but "
                            f"is not an input itself: it was computed outside the recorded ops "
                            f"(integer arithmetic or slicing of an index tensor); pass it as an "
                            f"input, or compute it inside the model from float tensors")
        return self.g.const(a, key)

    def param(self, tensor) -> str:
        """The initializer of a parameter or buffer of the model (a layer's weight)."""
        return self._param(tensor)

    @property
    def opset(self) -> int:
        return self.g.opset

    def attr(self, key: str):
        """Attribute ``key``, which must be the same in both traces."""
        if self.step.varies(key):
            raise self.fail(f"its argument {key!r} changes with the size of a dynamic axis "
                            f"({self.step.attrs.get(key)!r}, then {self.step.attrs2.get(key)!r});"
                            f" export can keep it only when it is the same for every input size")
        return self.step.attrs.get(key)

    def attr2(self, key: str):
        """Attribute ``key`` in the second trace (for mappings that handle a varying one)."""
        return (self.step.attrs2 or self.step.attrs).get(key)

    def shape(self, i: int = 0) -> tuple:
        return self.info[i].shape

    def rank(self, i: int = 0) -> int:
        return len(self.info[i].shape)

    def dtype(self, i: int = 0):
        return self.info[i].dtype

    def dynamic(self, i: int = 0) -> set:
        return self.info[i].dynamic()

    def out_shape(self, k: int = 0) -> tuple:
        return self.out[k].shape

    def out_dtype(self, k: int = 0):
        return self.out[k].dtype

    def value(self, i: int):
        """Input ``i``'s array when it is a constant (a parameter, a buffer or a constant that
        does not change with the input), else None."""
        return self.info[i].value

    def scalar(self, value, i: int = 0) -> str:
        """A 0-d constant with input ``i``'s dtype."""
        return self.g.scalar(value, self.dtype(i))

    def fail(self, why: str) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(f"cannot export {describe(self.step)}: {why}")


def unsupported(step: Step) -> UnsupportedOperatorError:
    """The error for a step with no mapping: the op, its line, and what is supported."""
    names = ", ".join(supported())
    from ._layers import LAYERS

    layers = ", ".join(sorted({cls.__name__ for cls in LAYERS}))
    if step.kind == "op" and "fn" in step.attrs and "ctx" in step.attrs:
        why = ("a custom autograd Function has no ONNX mapping (its forward is Python code "
               "that export cannot see into); write it with chainrule ops instead")
    else:
        why = "this op has no ONNX mapping"
    return UnsupportedOperatorError(
        f"cannot export {describe(step)}: {why}.\n"
        f"Supported ops: {names}.\nLayers exported as a whole: {layers}.")
