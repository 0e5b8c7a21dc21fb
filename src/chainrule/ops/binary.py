"""Elementwise primitives of two tensors, with NumPy broadcasting.

Rules return gradients in the broadcast shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import Op, OpError, apply
from ..tensor import Tensor, _wrap
from ._util import as_tensor, pair, zeros_like_grad


class Add(Op):
    """a + b;  d/da = 1, d/db = 1"""

    formula = "d(a+b)/da = 1, d(a+b)/db = 1"
    forward = np.add

    def backward(F, g, out, a, b):
        return g, g


class Sub(Op):
    """a - b;  d/da = 1, d/db = -1"""

    formula = "d(a-b)/da = 1, d(a-b)/db = -1"
    forward = np.subtract

    def backward(F, g, out, a, b):
        return g, -g


class Mul(Op):
    """a * b;  d/da = b, d/db = a"""

    formula = "d(ab)/da = b, d(ab)/db = a"
    forward = np.multiply

    def backward(F, g, out, a, b):
        return g * b, g * a


class Div(Op):
    """a / b;  d/da = 1/b, d/db = -a/b^2"""

    formula = "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"
    forward = np.true_divide

    def backward(F, g, out, a, b):
        ga = g / b
        return ga, -ga * out


class Pow(Op):
    """a ** b;  d/da = b a^(b-1), d/db = a^b ln a

    d/db is taken as 0 where a <= 0: a^b of a negative base is only real for integer b, where
    it has no derivative in b. (PyTorch gives NaN there for a < 0.)
    """

    formula = "d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln(a)"
    forward = np.power

    def backward(F, g, out, a, b):
        ga = g * b * a ** (b - 1)
        gb = g * out * F.log(F.where(a > 0, a, 1))
        return ga, gb


class Maximum(Op):
    """max(a, b);  gradient to the larger input, split evenly on ties"""

    formula = "d max(a,b)/da = 1 if a > b (1/2 on ties)"
    forward = np.maximum

    def backward(F, g, out, a, b):
        half = g * 0.5
        zero = zeros_like_grad(F, g)
        return F.where(a > b, g, F.where(a == b, half, zero)), F.where(
            b > a, g, F.where(a == b, half, zero))


class Minimum(Op):
    """min(a, b);  gradient to the smaller input, split evenly on ties"""

    formula = "d min(a,b)/da = 1 if a < b (1/2 on ties)"
    forward = np.minimum

    def backward(F, g, out, a, b):
        half = g * 0.5
        zero = zeros_like_grad(F, g)
        return F.where(a < b, g, F.where(a == b, half, zero)), F.where(
            b < a, g, F.where(a == b, half, zero))


class Where(Op):
    """cond ? a : b;  d/da = [cond], d/db = [not cond]"""

    formula = "d where(c,a,b)/da = 1 where c, d/db = 1 where not c"

    def forward(cond, a, b):
        return np.where(cond, a, b)

    def backward(F, g, out, cond, a, b):
        zero = zeros_like_grad(F, g)
        return None, F.where(cond, g, zero), F.where(cond, zero, g)


def add(a, b, alpha=1) -> Tensor:
    """a + alpha * b, broadcasting.

    Example:
        >>> import chainrule as cr
        >>> cr.add(cr.tensor([1.0, 2.0]), 1.0).tolist()
        [2.0, 3.0]
    """
    a, b = pair(a, b, "add")
    if alpha != 1:
        b = mul(b, alpha)
    return apply(Add, (a, b))


def sub(a, b, alpha=1) -> Tensor:
    """a - alpha * b, broadcasting."""
    a, b = pair(a, b, "sub")
    if alpha != 1:
        b = mul(b, alpha)
    return apply(Sub, (a, b))


def mul(a, b) -> Tensor:
    """a * b, elementwise with broadcasting."""
    a, b = pair(a, b, "mul")
    return apply(Mul, (a, b))


def div(a, b) -> Tensor:
    """a / b (true division), broadcasting."""
    a, b = pair(a, b, "div")
    if a.data.dtype.kind in "biu":  # true division of integers gives the default float dtype
        from .. import dtypes
        from .elementwise import cast

        a = cast(a, dtypes.get_default_dtype())
        b = cast(b, dtypes.get_default_dtype())
    return apply(Div, (a, b))


def pow_tensor(a, b) -> Tensor:
    """a ** b where b is a tensor (both differentiable)."""
    a, b = pair(a, b, "pow")
    return apply(Pow, (a, b))


def maximum(a, b) -> Tensor:
    """Elementwise maximum; ties share the gradient equally."""
    a, b = pair(a, b, "maximum")
    return apply(Maximum, (a, b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum; ties share the gradient equally."""
    a, b = pair(a, b, "minimum")
    return apply(Minimum, (a, b))


def where(condition, input, other) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is true, else ``other`` (broadcasting).

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([-1.0, 2.0])
        >>> cr.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
    """
    cond = as_tensor(condition, "where")
    if cond.data.dtype != np.bool_:
        cond = Tensor(cond.data.astype(bool))
    a, b = pair(input, other, "where")
    return apply(Where, (cond, a, b))


def _floor_div(a: Tensor, b: Tensor, op: str) -> Tensor:
    try:
        return _wrap(np.asarray(np.floor_divide(a.data, b.data)))
    except ValueError as e:
        raise OpError(f"{op}(): {e} (input shapes: {a.shape}, {b.shape})") from None


def floor_divide(a, b) -> Tensor:
    """floor(a / b), elementwise; not differentiable (a piecewise-constant function).

    Example:
        >>> import chainrule as cr
        >>> (cr.tensor([7, -7]) // 2).tolist()
        [3, -4]
    """
    a, b = pair(a, b, "floor_divide")
    return _floor_div(a, b, "floor_divide")


def remainder(a, b) -> Tensor:
    """a - b * floor(a / b): Python's ``%`` (the sign of b); differentiable in a and b.

    Example:
        >>> import chainrule as cr
        >>> (cr.tensor([7.0, -7.0]) % 3).tolist()
        [1.0, 2.0]
    """
    a, b = pair(a, b, "remainder")
    return sub(a, mul(b, _floor_div(a, b, "remainder")))


def _r(fn):
    def reflected(a, b):
        return fn(b, a)

    return reflected


rsub, rdiv, rpow = _r(sub), _r(div), _r(pow_tensor)
rfloordiv, rremainder = _r(floor_divide), _r(remainder)
