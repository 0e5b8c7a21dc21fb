"""Function transforms: ``grad`` and ``value_and_grad`` (JAX/functorch style)."""

from __future__ import annotations

from collections.abc import Callable

from .autograd.engine import grad as _grad
from .autograd.grad_mode import is_grad_enabled
from .tensor import Tensor


def _prepare(args, argnums):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    nested = False
    for i in nums:
        a = args[i]
        if isinstance(a, Tensor) and a.requires_grad and is_grad_enabled():
            # An enclosing transform differentiates through this one (grad of grad): stay
            # connected to its graph, and build this gradient's graph too.
            a, nested = a.clone(), True
        else:
            a = a.detach() if isinstance(a, Tensor) else Tensor(a)
            if a.dtype.kind != "f":
                a = a.float()
            a = a.requires_grad_()
        args[i] = a
    return args, nums, nested


def value_and_grad(f: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """Return a function giving ``(f(*args), df/dargs)`` for a scalar-valued ``f``.

    Example:
        >>> import chainrule as cr
        >>> v, g = cr.func.value_and_grad(lambda x: (x ** 2).sum())(cr.tensor([1.0, 2.0]))
        >>> g.tolist()
        [2.0, 4.0]
    """

    def wrapped(*args, **kwargs):  # keyword arguments pass through, undifferentiated
        args, nums, nested = _prepare(args, argnums)
        out = f(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise ValueError("func.grad: f must return a scalar Tensor "
                             f"(got {getattr(out, 'shape', type(out).__name__)})")
        if out.requires_grad:
            gs = _grad(out, [args[i] for i in nums], allow_unused=True, create_graph=nested)
        else:
            gs = (None,) * len(nums)
        gs = tuple(g if g is not None else Tensor(args[i]._data * 0) for g, i in zip(gs, nums))
        g = gs[0] if isinstance(argnums, int) else gs
        value = out.detach()
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """Return a function computing the gradient of scalar ``f`` w.r.t. argument(s) ``argnums``.

    Transforms compose: ``grad(lambda x: grad(f)(x).sum())`` gives second derivatives.

    Example:
        >>> import chainrule as cr
        >>> df = cr.func.grad(lambda x: (x ** 3).sum())
        >>> df(cr.tensor([2.0])).tolist()
        [12.0]
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args, **kwargs):
        (value, g) = vg(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapped
