"""The ONNX graph under construction: nodes, initializers, unique names and the helpers whose
form changed between opsets (reductions take their axes as an input from opset 18 on).

``Builder.op`` folds a shape op (transpose, reshape, slice, ...) whose inputs are all known
constants into a new constant when constant folding is on, so a weight transposed for a
``MatMul`` is stored transposed instead of being transposed at every run.
"""

from __future__ import annotations

import numpy as np


def c_order(a) -> np.ndarray:
    """A C-ordered copy of ``a`` unless it is one (0-d arrays stay 0-d, unlike
    ``np.ascontiguousarray``)."""
    a = np.asarray(a)
    return a if a.flags.c_contiguous else np.array(a, order="C")


def _ints(values) -> np.ndarray:
    return np.asarray(list(values), dtype=np.int64).reshape(-1)


def _fold_slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    big = np.iinfo(np.int64).max // 2
    for s, e, a, st in zip(starts, ends, axes, steps):
        s, e = int(s), int(e)
        index[int(a)] = slice(s, None if abs(e) >= big else e, int(st))
    return x[tuple(index)]


def _fold_reshape(x, shape):
    shape = [x.shape[i] if int(d) == 0 else int(d) for i, d in enumerate(shape)]
    return x.reshape(shape)


# What constant folding evaluates with NumPy: ops that move or convert values exactly.
_FOLD = {
    "Identity": lambda x: x,
    "Transpose": lambda x, perm=None: np.transpose(x, perm),
    "Reshape": _fold_reshape,
    "Unsqueeze": lambda x, axes: np.expand_dims(x, tuple(int(a) for a in axes)),
    "Squeeze": lambda x, axes=None: np.squeeze(x, None if axes is None else tuple(
        int(a) for a in axes)),
    "Concat": lambda *xs, axis: np.concatenate(xs, axis),
    "Slice": _fold_slice,
    "Gather": lambda x, i, axis=0: np.take(x, i, axis=axis),
}
_FOLD_INPUTS = {"Unsqueeze": ("axes",), "Squeeze": ("axes",), "Reshape": ("shape",),
                "Slice": ("starts", "ends", "axes", "steps")}


class Builder:
    """Collects the nodes and initializers of one graph for ``opset``."""

    def __init__(self, onnx, opset: int, fold: bool) -> None:
        self.onnx, self.helper = onnx, onnx.helper
        self.opset, self.fold = opset, fold
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self._names: set[str] = set()
        self._counts: dict[str, int] = {}

    # ---- names and constants ----------------------------------------------------------------

    def reserve(self, name: str) -> str:
        """Claim ``name`` (a graph input or output); raises if it is taken."""
        if name in self._names:
            raise ValueError(f"the name {name!r} is used twice")
        self._names.add(name)
        return name

    def fresh(self, hint: str) -> str:
        n = self._counts.get(hint, 0)
        while True:
            name = hint if n == 0 and hint not in self._names else f"{hint}_{n}"
            n += 1
            if name not in self._names:
                self._counts[hint] = n
                self._names.add(name)
                return name

    def const(self, value, hint: str = "const", dtype=None) -> str:
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self.inits[name] = arr
        return name

    def ints(self, values, hint: str = "axes") -> str:
        return self.const(_ints(values), hint)

    def value(self, name: str | None):
        """The constant array behind ``name`` (an initializer), or None."""
        return None if name is None else self.inits.get(name)

    # ---- nodes ------------------------------------------------------------------------------

    def op(self, op_type: str, inputs, outputs: int = 1, hint: str | None = None, **attrs):
        """Add a node; returns its output name (or the list of names when ``outputs > 1``).
        Inputs given as None become the empty name (an optional input left out)."""
        ins = ["" if x is None else x for x in inputs]
        if self.fold and outputs == 1 and op_type in _FOLD and ins and all(
                x in self.inits for x in ins if x):
            folded = self._fold(op_type, ins, attrs)
            if folded is not None:
                return self.const(folded, hint or op_type.lower())
        names = [self.fresh(hint or op_type.lower()) for _ in range(outputs)]
        node = self.helper.make_node(op_type, ins, names, name=self.fresh(f"/{op_type}"),
                                     **{k: v for k, v in attrs.items() if v is not None})
        self.nodes.append(node)
        return names[0] if outputs == 1 else names

    def _fold(self, op_type, ins, attrs):
        values = [self.inits[x] if x else None for x in ins]
        extra = _FOLD_INPUTS.get(op_type)
        if extra:  # the first input is the data, the others are named inputs
            main = values[:1]
            kwargs = {k: v for k, v in zip(extra, values[1:]) if v is not None}
        else:
            main, kwargs = values, {}
        kwargs.update({k: v for k, v in attrs.items() if v is not None})
        try:
            return c_order(_FOLD[op_type](*main, **kwargs))
        except (ValueError, TypeError, IndexError):  # pragma: no cover - left to the runtime
            return None

    # ---- helpers whose form depends on the opset --------------------------------------------

    def reduce(self, op_type: str, x: str, axes, keepdims: bool, hint: str | None = None) -> str:
        """``op_type`` (ReduceSum, ReduceMean, ...) over ``axes`` (None: all of them)."""
        keep = int(bool(keepdims))
        if axes is not None:
            axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            ins = [x] if axes is None else [x, self.ints(axes)]
            return self.op(op_type, ins, hint=hint, keepdims=keep)
        return self.op(op_type, [x], hint=hint, keepdims=keep, axes=axes)

    def unsqueeze(self, x: str, axes) -> str:
        return self.op("Unsqueeze", [x, self.ints(axes)])

    def squeeze(self, x: str, axes) -> str:
        return self.op("Squeeze", [x, self.ints(axes)])

    def reshape(self, x: str, shape) -> str:
        return self.op("Reshape", [x, self.ints(shape, "shape")])

    def transpose(self, x: str, perm) -> str:
        return self.op("Transpose", [x], perm=[int(p) for p in perm])

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        ins = [x, self.ints(starts, "starts"), self.ints(ends, "ends"), self.ints(axes)]
        if steps is not None:
            ins.append(self.ints(steps, "steps"))
        return self.op("Slice", ins)

    def scalar(self, value, like_dtype, hint: str = "c") -> str:
        """A 0-d constant of the dtype ``like_dtype`` (for arithmetic with a tensor)."""
        return self.const(np.asarray(value, dtype=like_dtype), hint)

    def dtype(self, np_dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))
