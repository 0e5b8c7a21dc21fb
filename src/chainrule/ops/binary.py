"""Elementwise primitives of two tensors, with NumPy broadcasting.

Rules return gradients in the broadcast shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._fpstate import quietly
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import as_tensor, pair, zeros_like_grad
from .op import Op, public


class Add(Op):
    """input + alpha * other, broadcasting.

    Example:
        >>> import chainrule as cr
        >>> cr.add(cr.tensor([1.0, 2.0]), 1.0).tolist()
        [2.0, 3.0]
    """

    kind, method, promote, symbol = "elementwise", True, "common", "+"
    formula = "d(a+b)/da = 1, d(a+b)/db = 1"
    def call(input, other, alpha=1):  # noqa: A002
        a, b = pair(input, other, "add")
        if alpha != 1:
            b = mul(b, alpha)
        return Add.record(a, b)

    forward = np.add

    def backward(F, g, out, a, b):
        return g, g


class Sub(Op):
    """input - alpha * other, broadcasting."""

    kind, method, promote, symbol = "elementwise", True, "common", "-"
    aliases = ("subtract",)
    formula = "d(a-b)/da = 1, d(a-b)/db = -1"
    def call(input, other, alpha=1):  # noqa: A002
        a, b = pair(input, other, "sub")
        if a._data.dtype.kind in "bc" or isinstance(input, Tensor) and \
                input._data.dtype.kind == "b" or isinstance(other, Tensor) and \
                other._data.dtype.kind == "b":
            for v, arg in ((input, "input"), (other, "other")):
                if isinstance(v, Tensor) and v._data.dtype.kind == "b":
                    raise TypeError("sub(): subtracting bool tensors is not supported (nor in "
                                    f"PyTorch; argument '{arg}' is bool); use x ^ y or "
                                    "cr.logical_xor(x, y)")
        if alpha != 1:
            b = mul(b, alpha)
        try:
            return Sub.record(a, b)
        except TypeError:
            if a._data.dtype.kind == "b":
                raise TypeError("sub(): subtracting bool tensors is not supported (nor in "
                                "PyTorch); use x ^ y or cr.logical_xor(x, y)") from None
            raise

    forward = np.subtract

    def backward(F, g, out, a, b):
        return g, -g


class Mul(Op):
    """input * other, elementwise with broadcasting."""

    kind, method, promote, symbol = "elementwise", True, "common", "*"
    aliases = ("multiply",)
    fresh_grads = True
    formula = "d(ab)/da = b, d(ab)/db = a"
    forward = np.multiply
    pass_needs_input_grad = True  # x * 0.5: no full-size product for the constant

    def backward(F, g, out, a, b, needs_input_grad=(True, True)):
        return (g * b if needs_input_grad[0] else None), (g * a if needs_input_grad[1] else None)


class Div(Op):
    """input / other (true division), broadcasting; integers divide as floats."""

    kind, method, promote, symbol = "elementwise", True, "float", "/"
    aliases = ("divide", "true_divide")
    fresh_grads, quiet = True, True
    formula = "d(a/b)/da = 1/b, d(a/b)/db = -a/b^2"
    nan_hint = "division by zero: add a small epsilon to the denominator"
    nan_grad_hint = "the derivative -a/b^2 is infinite where the denominator is 0"

    forward = np.true_divide

    def backward(F, g, out, a, b):
        ga = g / b
        return ga, -ga * out


class Pow(Op):
    """a ** b for a tensor exponent b (the public ``pow`` dispatches here).

    d/db is taken as 0 where a <= 0: a^b of a negative base is only real for integer b, where
    it has no derivative in b. (PyTorch gives NaN there for a < 0.)
    """

    public, kind, promote, symbol = None, "elementwise", "common", "^"
    fresh_grads, quiet = True, True
    formula = "d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln(a)"
    nan_hint = "a negative base to a fractional power, or 0 to a negative power"
    nan_grad_hint = "x^p with p < 1 has an infinite derivative at x = 0"
    forward = np.power

    def backward(F, g, out, a, b):
        ga = g * b * a ** (b - 1)
        gb = g * out * F.log(F.where(a > 0, a, 1))
        return ga, gb


class Maximum(Op):
    """Elementwise maximum; ties share the gradient equally."""

    kind, method, promote = "elementwise", True, "common"
    fresh_grads = True
    formula = "d max(a,b)/da = 1 if a > b (1/2 on ties)"
    forward = np.maximum

    def backward(F, g, out, a, b):
        # PyTorch's rule: a NaN on either side passes the whole gradient to both
        half = g * 0.5
        zero = zeros_like_grad(F, g)
        return F.where(a < b, zero, F.where(a == b, half, g)), F.where(
            a > b, zero, F.where(a == b, half, g))


class Minimum(Op):
    """Elementwise minimum; ties share the gradient equally."""

    kind, method, promote = "elementwise", True, "common"
    fresh_grads = True
    formula = "d min(a,b)/da = 1 if a < b (1/2 on ties)"
    forward = np.minimum

    def backward(F, g, out, a, b):
        half = g * 0.5
        zero = zeros_like_grad(F, g)
        return F.where(a > b, zero, F.where(a == b, half, g)), F.where(
            a < b, zero, F.where(a == b, half, g))


class Where(Op):
    """``input`` where ``condition`` is true, else ``other`` (broadcasting).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([-1.0, 2.0])
        >>> cr.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
        >>> [i.tolist() for i in cr.where(x > 0)]
        [[1]]
    """

    kind = "elementwise"
    fresh_grads = True
    formula = "d where(c,a,b)/da = 1 where c, d/db = 1 where not c"

    def call(condition, input=None, other=None):  # noqa: A002
        if input is None and other is None:
            from .nonzero import nonzero

            return nonzero(condition, as_tuple=True)
        if input is None or other is None:
            raise TypeError("where(): give both input and other, or neither (where(condition) "
                            "gives the indices where it holds)")
        cond = as_tensor(condition, "where", "condition")
        if cond._data.dtype != np.bool_:  # PyTorch: "where expected condition to be a boolean"
            raise TypeError(check.say("dtype_mask", op="where", arg="condition",
                                      dtype=cond.dtype))
        a, b = pair(input, other, "where")
        if a._data.dtype.kind == "c":
            check.real(a, "where")
        return Where.record(cond, a, b)

    pass_needs_input_grad = True  # masked_fill's value is usually a constant

    def forward(cond, a, b):
        if a.ndim == 0 and b.ndim and a.dtype == b.dtype and _covers(b.shape, cond.shape):
            # masked_fill: copy, then write the value under the mask (2x faster than where)
            out = b.copy()
            np.copyto(out, a, where=cond)
            return out
        return np.where(cond, a, b)

    def backward(F, g, out, cond, a, b, needs_input_grad=(False, True, True)):
        if not F.differentiable:
            return None, (_masked_grad(g, cond, False) if needs_input_grad[1] else None), (
                _masked_grad(g, cond, True) if needs_input_grad[2] else None)
        zero = zeros_like_grad(F, g)
        return None, F.where(cond, g, zero), F.where(cond, zero, g)


def _covers(shape, other) -> bool:
    """Whether ``other`` broadcasts to ``shape`` without growing it."""
    if len(other) > len(shape):
        return False
    return all(o == 1 or o == s for o, s in zip(other[::-1], shape[::-1]))


def _masked_grad(g, cond, where_true):
    """g with exact zeros where ``cond`` is ``where_true`` (broadcast to g's shape), a new array.

    ``copyto`` with a mask runs 2x faster than ``np.where`` with a zeros array, and needs no
    zeros array."""
    shape = np.broadcast_shapes(g.shape, cond.shape)
    out = np.empty(shape, g.dtype)
    out[...] = g
    np.copyto(out, 0, where=cond if where_true else ~cond)
    return out


def pow_tensor(a, b) -> Tensor:
    """a ** b where b is a tensor (both differentiable)."""
    return Pow.apply(a, b)


@public(method=True, kind="elementwise")
def floor_divide(input, other) -> Tensor:  # noqa: A002
    """floor(input / other), elementwise; not differentiable (a piecewise-constant function).

    Integers divided by zero raise ``ZeroDivisionError``, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> (cr.tensor([7, -7]) // 2).tolist()
        [3, -4]
    """
    a, b = pair(input, other, "floor_divide")
    if b._data.dtype.kind in "biu" and not np.all(b._data):
        from .._validate import IntegerDivisionError, say

        raise IntegerDivisionError(say("div_zero", op="floor_divide"))
    try:
        return _wrap(np.asarray(_quiet_floor_divide(a._data, b._data)))
    except ValueError as e:
        raise OpError(f"floor_divide(): {e} (input shapes: {a.shape}, {b.shape})") from None


add, sub, mul, div = Add.call, Sub.call, Mul.call, Div.call
maximum, minimum, where = Maximum.call, Minimum.call, Where.call


_quiet_floor_divide = quietly(np.floor_divide)


def _r(fn):
    def reflected(a, b):
        return fn(b, a)

    return reflected


rsub, rdiv, rpow = _r(sub), _r(div), _r(pow_tensor)
rfloordiv = _r(floor_divide)
