"""Comparisons, logical functions and value tests: bool results, never differentiable.

``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge`` (and PyTorch's aliases ``greater``, ``less_equal``,
``not_equal``...) compare in the operands' common dtype by PyTorch's promotion rules (an int64
tensor against a float32 one compares in float32), broadcasting. ``isclose``, ``allclose`` and
``equal`` compare whole tensors; ``any`` and ``all`` reduce over dims.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _validate as check
from ..autograd.grad_mode import DEBUG
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import as_tensor, const, norm_axis, result_dtype
from .op import public


def _operands(input, other, fn: str) -> tuple:  # noqa: A002
    """The two operands as arrays of their common dtype (PyTorch's promotion)."""
    x = input if isinstance(input, Tensor) else as_tensor(input, fn)
    y = other if isinstance(other, Tensor) else const(other, x, fn, "other")
    a, b = x._data, y._data
    if a.dtype != b.dtype:
        dt = result_dtype(x, y)
        a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
    return a, b


def _broadcasting(ufunc, a, b, fn: str) -> Tensor:
    try:
        return _wrap(np.asarray(ufunc(a, b)))
    except ValueError:
        raise OpError(f"{fn}(): shapes {a.shape} and {b.shape} do not broadcast") from None


def _traced(fn: str, inputs: tuple, out: Tensor) -> Tensor:
    """``out``, shown to a tool watching every op (ONNX export) when one is."""
    if DEBUG.trace is not None:
        DEBUG.trace(fn, inputs, out, None)
    return out


def _compare(ufunc, fn: str, input, other) -> Tensor:  # noqa: A002
    out = _compare_values(ufunc, fn, input, other)
    return out if DEBUG.trace is None else _traced(fn, (input, other), out)


def _compare_values(ufunc, fn: str, input, other) -> Tensor:  # noqa: A002
    if type(input) is Tensor:
        t = type(other)
        # The common cases, compared directly: two tensors of one dtype, and x > 0 or x > 0.5
        # (NumPy's rules for a Python number are PyTorch's here: the tensor's dtype decides).
        if t is Tensor:
            if input._data.dtype == other._data.dtype:
                return _broadcasting(ufunc, input._data, other._data, fn)
        elif t is int or (t is float and input._data.dtype.kind in "fc"):
            return _wrap(np.asarray(ufunc(input._data, other)))
    a, b = _operands(input, other, fn)
    return _broadcasting(ufunc, a, b, fn)


def _ordered(ufunc, fn: str, input, other) -> Tensor:  # noqa: A002
    """An ordering comparison: complex numbers have no order (PyTorch refuses them too)."""
    for v, arg in ((input, "input"), (other, "other")):
        if isinstance(v, Tensor) and v._data.dtype.kind == "c":
            check.real(v, fn, arg)
    return _compare(ufunc, fn, input, other)


_OPERANDS = (Tensor, numbers.Number, np.ndarray, np.generic)


def operator(function):
    """``function`` as ``Tensor.__eq__`` and friends: an operand that is not a tensor, a
    number or an array gives ``NotImplemented``, so ``x == None`` is False and ``x < "a"``
    raises Python's TypeError, as in PyTorch."""

    def method(self, other):
        t = type(other)
        if t is Tensor or t is float or t is int or isinstance(other, _OPERANDS):
            return function(self, other)
        return NotImplemented

    method.__name__ = function.__name__
    method.__doc__ = function.__doc__
    return method


@public(method=True, kind="elementwise")
def eq(input, other) -> Tensor:  # noqa: A002
    """``input == other``, elementwise with broadcasting: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.eq(cr.tensor([1, 2, 3]), 2).tolist()
        [False, True, False]
    """
    return _compare(np.equal, "eq", input, other)


@public(method=True, kind="elementwise", aliases=("not_equal",))
def ne(input, other) -> Tensor:  # noqa: A002
    """``input != other``, elementwise with broadcasting: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ne(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0])).tolist()
        [False, True]
    """
    return _compare(np.not_equal, "ne", input, other)


@public(method=True, kind="elementwise", aliases=("less",))
def lt(input, other) -> Tensor:  # noqa: A002
    """``input < other``, elementwise with broadcasting (alias ``less``).

    Example:
        >>> import chainrule as cr
        >>> cr.lt(cr.tensor([1.0, 3.0]), 2).tolist()
        [True, False]
    """
    return _ordered(np.less, "lt", input, other)


@public(method=True, kind="elementwise", aliases=("less_equal",))
def le(input, other) -> Tensor:  # noqa: A002
    """``input <= other``, elementwise with broadcasting (alias ``less_equal``).

    Example:
        >>> import chainrule as cr
        >>> cr.le(cr.tensor([1.0, 3.0]), 1.0).tolist()
        [True, False]
    """
    return _ordered(np.less_equal, "le", input, other)


@public(method=True, kind="elementwise", aliases=("greater",))
def gt(input, other) -> Tensor:  # noqa: A002
    """``input > other``, elementwise with broadcasting (alias ``greater``).

    Example:
        >>> import chainrule as cr
        >>> cr.gt(cr.tensor([1.0, 3.0]), 2).tolist()
        [False, True]
    """
    return _ordered(np.greater, "gt", input, other)


@public(method=True, kind="elementwise", aliases=("greater_equal",))
def ge(input, other) -> Tensor:  # noqa: A002
    """``input >= other``, elementwise with broadcasting (alias ``greater_equal``).

    Example:
        >>> import chainrule as cr
        >>> cr.ge(cr.tensor([1.0, 3.0]), 3).tolist()
        [False, True]
    """
    return _ordered(np.greater_equal, "ge", input, other)


# ---- logical functions: any nonzero value counts as True ------------------------------------


def _truth(x, fn: str) -> np.ndarray:
    return (x if isinstance(x, Tensor) else as_tensor(x, fn))._data


@public(method=True, kind="elementwise")
def logical_and(input, other) -> Tensor:  # noqa: A002
    """Elementwise ``input and other`` of the values' truth (nonzero is True): a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.logical_and(cr.tensor([1.0, 0.0, 2.0]), cr.tensor([True, True, False])).tolist()
        [True, False, False]
    """
    return _traced("logical_and", (input, other), _broadcasting(
        np.logical_and, _truth(input, "logical_and"), _truth(other, "logical_and"), "logical_and"))


@public(method=True, kind="elementwise")
def logical_or(input, other) -> Tensor:  # noqa: A002
    """Elementwise ``input or other`` of the values' truth: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.logical_or(cr.tensor([0, 0, 3]), cr.tensor([0, 1, 0])).tolist()
        [False, True, True]
    """
    return _traced("logical_or", (input, other), _broadcasting(
        np.logical_or, _truth(input, "logical_or"), _truth(other, "logical_or"), "logical_or"))


@public(method=True, kind="elementwise")
def logical_xor(input, other) -> Tensor:  # noqa: A002
    """Elementwise exclusive or of the values' truth: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.logical_xor(cr.tensor([0, 1, 1]), cr.tensor([0, 0, 1])).tolist()
        [False, True, False]
    """
    return _traced("logical_xor", (input, other), _broadcasting(
        np.logical_xor, _truth(input, "logical_xor"), _truth(other, "logical_xor"), "logical_xor"))


@public(method=True, kind="elementwise")
def logical_not(input) -> Tensor:  # noqa: A002
    """Elementwise ``not input`` (zero is False): a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.logical_not(cr.tensor([0.0, 2.0])).tolist()
        [True, False]
    """
    return _traced("logical_not", (input,), _wrap(np.logical_not(_truth(input, "logical_not"))))


# ---- value tests ----------------------------------------------------------------------------


def _tested(fn: str, input, test, otherwise: bool) -> Tensor:  # noqa: A002
    a = _truth(input, fn)
    if a.dtype.kind not in "fc":  # integers and booleans are always finite numbers
        return _wrap(np.full(a.shape, otherwise))
    return _wrap(np.asarray(test(a)))


@public(method=True, kind="elementwise")
def isnan(input) -> Tensor:  # noqa: A002
    """Where the tensor holds NaN: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.isnan(cr.tensor([1.0, float("nan")])).tolist()
        [False, True]
    """
    return _tested("isnan", input, np.isnan, False)


@public(method=True, kind="elementwise")
def isinf(input) -> Tensor:  # noqa: A002
    """Where the tensor holds +inf or -inf: a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.isinf(cr.tensor([1.0, -float("inf")])).tolist()
        [False, True]
    """
    return _tested("isinf", input, np.isinf, False)


@public(method=True, kind="elementwise")
def isfinite(input) -> Tensor:  # noqa: A002
    """Where the tensor holds a finite number (not inf, not NaN): a bool tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.isfinite(cr.tensor([1.0, float("inf"), float("nan")])).tolist()
        [True, False, False]
    """
    return _tested("isfinite", input, np.isfinite, True)


@public(method=True, kind="elementwise")
def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """Where ``|input - other| <= atol + rtol * |other|`` (broadcasting): a bool tensor.

    Infinities are close only to themselves; NaN is close to NaN only with ``equal_nan``.

    Example:
        >>> import chainrule as cr
        >>> cr.isclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0 + 1e-7, 2.1])).tolist()
        [True, False]
    """
    return _isclose(input, other, rtol, atol, equal_nan, "isclose")


def _isclose(input, other, rtol, atol, equal_nan, fn: str) -> Tensor:  # noqa: A002
    rtol = check.number(rtol, fn, "rtol", low=0.0)
    atol = check.number(atol, fn, "atol", low=0.0)
    a, b = _operands(input, other, fn)
    check.broadcast(fn, input=a, other=b)
    return _wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@public(method=True, kind="reduction")
def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether every entry is ``isclose`` (broadcasting): a Python bool.

    Example:
        >>> import chainrule as cr
        >>> cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-9]))
        True
    """
    return bool(_isclose(input, other, rtol, atol, equal_nan, "allclose")._data.all())


@public(method=True, kind="reduction")
def equal(input, other) -> bool:  # noqa: A002
    """Whether both tensors have the same shape and the same values: a Python bool.

    Example:
        >>> import chainrule as cr
        >>> cr.equal(cr.tensor([1, 2]), cr.tensor([1.0, 2.0])), cr.equal(cr.ones(2), cr.ones(3))
        (True, False)
    """
    a, b = _operands(input, other, "equal")
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _any_all(ufunc, fn: str, input, dim, keepdim) -> Tensor:  # noqa: A002
    a = _truth(input, fn)
    axis = norm_axis(dim, a.ndim, fn)
    if axis == ():
        axis = None
    out = ufunc.reduce(a != 0 if a.dtype.kind != "b" else a, axis=axis, keepdims=bool(keepdim))
    # PyTorch keeps uint8 for uint8 inputs (its masks before bool existed); others give bool
    return _wrap(np.asarray(out, dtype=np.uint8 if a.dtype == np.uint8 else np.bool_))


@public(method=True, kind="reduction")
def any(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """Whether any entry is nonzero, over ``dim`` (an int, a tuple, or all dims).

    Example:
        >>> import chainrule as cr
        >>> cr.any(cr.tensor([[0, 1], [0, 0]]), dim=1).tolist()
        [True, False]
    """
    return _any_all(np.logical_or, "any", input, dim, keepdim)


@public(method=True, kind="reduction")
def all(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001,A002
    """Whether every entry is nonzero, over ``dim`` (an int, a tuple, or all dims).

    Example:
        >>> import chainrule as cr
        >>> cr.all(cr.tensor([[1.0, 2.0], [0.0, 3.0]]), dim=1).tolist()
        [True, False]
    """
    return _any_all(np.logical_and, "all", input, dim, keepdim)
