"""Rounding and the remainders: floor, ceil, round, trunc, frac, fmod, remainder.

The rounding functions are piecewise constant: their derivative is 0 wherever it exists, and
PyTorch (so chainrule) gives exactly 0 everywhere. Integer tensors pass through unchanged.
Dividing integers by zero raises ``ZeroDivisionError``, as in PyTorch; floats give inf or NaN,
silently.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from ._util import as_tensor, pair, zeros_like_grad
from .op import Op


class _Rounding:
    """Mixed into a piecewise-constant op: the same dtype out, a zero gradient. (Not an Op
    itself, so that defining it registers nothing.)"""

    kind, method, fresh_grads = "elementwise", True, True

    def backward(F, g, out, x, **attrs):
        return (zeros_like_grad(F, g),)  # zeros, not None: x.grad exists, as in PyTorch


def _pass_ints(op, input, fn: str, **attrs) -> Tensor:  # noqa: A002
    x = as_tensor(input, fn)
    kind = x._data.dtype.kind
    if kind in "bc":  # PyTorch's rounding kernels refuse bool and complex tensors
        if kind == "c":
            from .._validate import real

            real(x, fn)
        from .._validate import say

        raise TypeError(say("dtype_bool", op=fn, arg="input"))
    if kind in "iu":
        return _wrap(x._data.copy())  # already whole numbers
    return op.record(x, **attrs)


class Floor(_Rounding, Op):
    """The largest whole number <= x, elementwise (zero gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.floor(cr.tensor([1.5, -1.5])).tolist()
        [1.0, -2.0]
    """

    formula = "d floor(x)/dx = 0"
    forward = np.floor

    def call(input):  # noqa: A002
        return _pass_ints(Floor, input, "floor")


class Ceil(_Rounding, Op):
    """The smallest whole number >= x, elementwise (zero gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.ceil(cr.tensor([1.5, -1.5])).tolist()
        [2.0, -1.0]
    """

    formula = "d ceil(x)/dx = 0"
    forward = np.ceil

    def call(input):  # noqa: A002
        return _pass_ints(Ceil, input, "ceil")


class Trunc(_Rounding, Op):
    """x rounded toward zero, elementwise (zero gradient; alias ``fix``).

    Example:
        >>> import chainrule as cr
        >>> cr.trunc(cr.tensor([1.5, -1.5])).tolist()
        [1.0, -1.0]
    """

    aliases = ("fix",)
    formula = "d trunc(x)/dx = 0"
    forward = np.trunc

    def call(input):  # noqa: A002
        return _pass_ints(Trunc, input, "trunc")


class Round(_Rounding, Op):
    """x rounded to ``decimals`` decimal places, halves to even (zero gradient).

    ``decimals`` may be negative (round to tens, hundreds...), as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.round(cr.tensor([0.5, 1.5, 2.675])).tolist()
        [0.0, 2.0, 3.0]
        >>> cr.tensor([1.2345]).round(decimals=2).tolist()
        [1.2300000190734863]
    """

    formula = "d round(x)/dx = 0"

    def call(input, *, decimals: int = 0):  # noqa: A002
        if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
            raise TypeError(f"round(): decimals must be an int, got {decimals!r}")
        x = as_tensor(input, "round")
        if x._data.dtype.kind in "biu" and decimals:
            raise TypeError(f"round(): decimals={decimals} needs a floating-point tensor, got "
                            f"{x.dtype} (convert it with .float())")
        return _pass_ints(Round, x, "round", decimals=int(decimals))

    def forward(x, decimals):
        return np.round(x, decimals)


class Frac(Op):
    """The fractional part ``x - trunc(x)``, elementwise (gradient 1).

    Example:
        >>> import chainrule as cr
        >>> cr.frac(cr.tensor([1.25, -1.5])).tolist()
        [0.25, -0.5]
    """

    kind, method = "elementwise", True
    bools_ok = False
    formula = "d frac(x)/dx = 1"

    def call(input):  # noqa: A002
        x = as_tensor(input, "frac")
        if x._data.dtype.kind in "biu":
            raise TypeError(f"frac(): needs a floating-point tensor, got {x.dtype}")
        return Frac.record(x)

    def forward(x):
        return x - np.trunc(x)

    def backward(F, g, out, x):
        return (g,)


def _divisor_check(b: Tensor, fn: str) -> None:
    if b._data.dtype.kind in "biu" and not np.all(b._data):
        from .._validate import IntegerDivisionError, say

        raise IntegerDivisionError(say("div_zero", op=fn))


def _quotient(F, a, b, rounding):
    """floor(a / b) or trunc(a / b) as a constant (its derivative is 0 almost everywhere)."""
    if F.differentiable:
        return _wrap(rounding(a._data / b._data))
    return rounding(a / b)


class Remainder(Op):
    """a - b * floor(a / b): Python's ``%``, the sign of the divisor.

    Example:
        >>> import chainrule as cr
        >>> (cr.tensor([7.0, -7.0]) % 3).tolist()
        [1.0, 2.0]
        >>> cr.remainder(cr.tensor([-7]), 3).tolist()
        [2]
    """

    kind, method, promote, quiet = "elementwise", True, "common", True
    formula = "d(a mod b)/da = 1, d(a mod b)/db = -floor(a/b)"
    nan_hint = "the remainder of a division by zero is NaN"
    forward = np.remainder

    def call(input, other):  # noqa: A002
        a, b = pair(input, other, "remainder")
        _divisor_check(b, "remainder")
        return Remainder.record(a, b)

    def backward(F, g, out, a, b):
        # floor(a / b) as PyTorch's floor division computes it, from the remainder: NaN where
        # a is infinite (a plain floor would give +-inf there)
        return g, -g * _quotient(F, a - out, b, np.round)


class Fmod(Op):
    """a - b * trunc(a / b): C's ``fmod``, the sign of the dividend.

    Example:
        >>> import chainrule as cr
        >>> cr.fmod(cr.tensor([7.0, -7.0]), 3).tolist()
        [1.0, -1.0]
    """

    kind, method, promote, quiet = "elementwise", True, "common", True
    formula = "d fmod(a, b)/da = 1, d fmod(a, b)/db = -trunc(a/b)"
    nan_hint = "fmod of a division by zero is NaN"
    forward = np.fmod

    def call(input, other):  # noqa: A002
        a, b = pair(input, other, "fmod")
        _divisor_check(b, "fmod")
        return Fmod.record(a, b)

    def backward(F, g, out, a, b):
        return g, -g * _quotient(F, a, b, np.trunc)


floor, ceil, trunc, round = Floor.call, Ceil.call, Trunc.call, Round.call  # noqa: A001
frac, remainder, fmod = Frac.call, Remainder.call, Fmod.call


def rremainder(a, b) -> Tensor:
    """``number % tensor`` (``Tensor.__rmod__``)."""
    return remainder(b, a)
