"""User-defined differentiable operations: subclass ``Function`` (PyTorch's API)."""

from __future__ import annotations

import numpy as np

from . import graph
from .grad_mode import DEBUG, GRAD, set_grad_enabled
from .saved import PackedTensors, current_hooks


class FunctionCtx:
    """The ``ctx`` handed to a custom Function's forward and backward."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self._packed = None  # the saved tensors as saved-tensor hooks packed them
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; read them back as ``ctx.saved_tensors``."""
        self._saved = tensors
        self._packed = None

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward`` (unpacked by the hooks that packed them)."""
        if self._packed is not None:
            return self._packed.tensors()
        return self._saved

    @saved_tensors.setter
    def saved_tensors(self, tensors) -> None:
        self.save_for_backward(*tensors)


def _expands_to(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


class _Custom:
    """Adapter that runs a user ``Function.backward`` inside the engine's loop.

    It speaks the engine's rule protocol (see ``autograd.graph``). The gradients it returns are
    the user's tensors, so it is not ``fresh_grads``: the engine copies them before keeping any.
    """

    name = "custom"
    saves = False
    pass_needs_input_grad = False
    fresh_grads = False
    kind = "other"
    formula = latex = ""

    def backward(F, g, out, *inputs, fn, ctx, positions, nargs, consts=None):
        from ..tensor import Tensor, _wrap

        g_t = g if F.differentiable else _wrap(g)
        with set_grad_enabled(F.differentiable):
            res = fn.backward(ctx, g_t)
        if not isinstance(res, tuple):
            res = (res,)
        if len(res) != nargs:
            raise RuntimeError(
                f"{fn.__name__}.backward returned {len(res)} gradients but forward took {nargs} "
                "arguments; return one per argument (None for non-tensors).")
        grads = []
        for pos, t in zip(positions, inputs):
            r = res[pos]
            if r is None:
                grads.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"{fn.__name__}.backward must return Tensors or None, got "
                                f"{type(r).__name__}")
            if r.shape != t.shape and not _expands_to(t.shape, r.shape):
                # A broadcast-shaped gradient is fine (the engine sums it back), as in PyTorch.
                raise RuntimeError(
                    f"{fn.__name__}.backward returned a gradient of shape {r.shape} for an input "
                    f"of shape {t.shape}")
            grads.append(r if F.differentiable else r._data)
        return tuple(grads)


_OPS: dict = {}  # one Op subclass per user Function, so graphs and traces show its name


class Function:
    """Base class for a custom op with a hand-written gradient.

    Example:
        >>> import chainrule as cr
        >>> class Cube(cr.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return g * 3 * x ** 2
        >>> x = cr.tensor(2.0, requires_grad=True)
        >>> Cube.apply(x).backward(); x.grad
        tensor(12.)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - to be overridden
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - to be overridden
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        from ..tensor import Tensor, _wrap

        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with set_grad_enabled(False):
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a single Tensor (got {type(out).__name__}); "
                "split multi-output functions into one Function per output.")
        result = _wrap(out._data)
        if GRAD.enabled and any(ctx.needs_input_grad):
            positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
            inputs = tuple(args[i] for i in positions)
            # consts keeps the non-tensor arguments so the forward can be replayed (gradcheck_graph)
            consts = tuple(None if isinstance(a, Tensor) else a for a in args)
            attrs = {"fn": cls, "ctx": ctx, "positions": positions, "nargs": len(args),
                     "consts": consts}
            op = _OPS.get(cls)
            if op is None:
                op = _OPS[cls] = type(cls.__name__, (_Custom,), {"name": cls.__name__})
            result._node = graph._make_node(op, inputs, out._data, attrs, None)
            result.requires_grad = True
            hooks = current_hooks()
            if hooks is not None and ctx._saved:  # under saved-tensor hooks: pack them too
                ctx._packed = PackedTensors(hooks, ctx._saved)
                ctx._saved = ()
        if DEBUG.anomaly:
            from .anomaly import check_forward

            node = result._node
            check_forward(node.op if node is not None else cls,
                          [a for a in args if isinstance(a, Tensor)], result)
        elif DEBUG.trace is not None:
            node = result._node
            DEBUG.trace(node.op if node is not None else cls,
                        tuple(a for a in args if isinstance(a, Tensor)), result, None)
        return result
