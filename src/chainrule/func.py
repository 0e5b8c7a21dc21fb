"""Function transforms: ``grad`` and ``value_and_grad`` (JAX/functorch style)."""

from __future__ import annotations

from typing import Callable

from .autograd.engine import grad as _grad
from .tensor import Tensor


def _prepare(args, argnums):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    for i in nums:
        a = args[i]
        a = a.detach() if isinstance(a, Tensor) else Tensor(a)
        if a.dtype.kind != "f":
            a = a.float()
        args[i] = a.requires_grad_()
    return args, nums


def value_and_grad(f: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """Return a function giving ``(f(*args), df/dargs)`` for a scalar-valued ``f``.

    Example:
        >>> import chainrule as cr
        >>> v, g = cr.func.value_and_grad(lambda x: (x ** 2).sum())(cr.tensor([1.0, 2.0]))
        >>> g.tolist()
        [2.0, 4.0]
    """

    def wrapped(*args):
        args, nums = _prepare(args, argnums)
        out = f(*args)
        aux = None
        if has_aux:
            out, aux = out
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise ValueError("func.grad: f must return a scalar Tensor "
                             f"(got {getattr(out, 'shape', type(out).__name__)})")
        if out.requires_grad:
            gs = _grad(out, [args[i] for i in nums], allow_unused=True)
        else:
            gs = (None,) * len(nums)
        gs = tuple(g if g is not None else Tensor(args[i].data * 0) for g, i in zip(gs, nums))
        g = gs[0] if isinstance(argnums, int) else gs
        value = out.detach()
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f: Callable, argnums: int | tuple = 0, has_aux: bool = False) -> Callable:
    """Return a function computing the gradient of scalar ``f`` w.r.t. argument(s) ``argnums``.

    Example:
        >>> import chainrule as cr
        >>> df = cr.func.grad(lambda x: (x ** 3).sum())
        >>> df(cr.tensor([2.0])).tolist()
        [12.0]
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args):
        (value, g) = vg(*args)
        if has_aux:
            return g, value[1]
        return g

    return wrapped
