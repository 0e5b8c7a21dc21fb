"""Fused elementwise formulas of several tensors, built from the primitives (autograd composes
their gradients): ``lerp``, ``addcmul``, ``addcdiv``, ``nan_to_num``."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor, _wrap
from ._util import as_tensor
from .binary import add, div, mul, sub, where
from .op import public


def _number_or_tensor(v, fn: str, arg: str):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                               np.floating)):
        raise TypeError(f"{fn}(): {arg} must be a number or a Tensor, got {type(v).__name__}")
    return v


@public(method=True, kind="elementwise")
def lerp(input, end, weight) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``: linear interpolation, broadcasting.

    ``weight`` is a number or a tensor. As in PyTorch, weights of 0.5 and above are computed
    from the ``end`` side, so ``weight=1`` gives exactly ``end``.

    Example:
        >>> import chainrule as cr
        >>> cr.lerp(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 6.0]), 0.5).tolist()
        [2.0, 4.0]
    """
    weight = _number_or_tensor(weight, "lerp", "weight")
    start, end, weight = check.elementwise("lerp", ("input", "end", "weight"), input, end,
                                           weight)
    # PyTorch's kernel needs one floating dtype for input, end (and a weight tensor)
    names = ("input", "end") + (("weight",) if isinstance(weight, Tensor) else ())
    tensors = check.same_dtype_operands("lerp", names, start, end, *(
        (weight,) if isinstance(weight, Tensor) else ()))
    start = check.floating(tensors[0], "lerp")
    diff = sub(end, start)
    if not isinstance(weight, Tensor):
        if abs(weight) < 0.5:
            return add(start, mul(diff, weight))
        return sub(end, mul(diff, 1 - weight))
    near_start = add(start, mul(diff, weight))
    near_end = sub(end, mul(diff, 1 - weight))
    return where(weight.abs() < 0.5, near_start, near_end)


@public(method=True, kind="elementwise")
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 * tensor2``, broadcasting.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0])
        >>> cr.addcmul(x, x, cr.tensor([3.0, 4.0]), value=0.5).tolist()
        [2.5, 6.0]
    """
    value = _number_or_tensor(value, "addcmul", "value")
    input, tensor1, tensor2 = check.elementwise(  # noqa: A001
        "addcmul", ("input", "tensor1", "tensor2"), input, tensor1, tensor2)
    prod = mul(tensor1, tensor2)
    return add(input, prod if _is_one(value) else mul(prod, value))


@public(method=True, kind="elementwise")
def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:  # noqa: A002
    """``input + value * tensor1 / tensor2``, broadcasting; needs floating-point tensors.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0])
        >>> cr.addcdiv(x, x, cr.tensor([4.0, 4.0]), value=2).tolist()
        [1.5, 3.0]
    """
    value = _number_or_tensor(value, "addcdiv", "value")
    input, t1, t2 = check.elementwise(  # noqa: A001
        "addcdiv", ("input", "tensor1", "tensor2"), input, tensor1, tensor2)
    t1, t2 = as_tensor(t1, "addcdiv", "tensor1"), as_tensor(t2, "addcdiv", "tensor2")
    if t1._data.dtype.kind in "biu" and t2._data.dtype.kind in "biu":
        raise TypeError(f"addcdiv(): integer tensors ({t1.dtype}, {t2.dtype}) would divide as "
                        "integers; convert them with .float() (PyTorch refuses them as well)")
    quotient = div(t1, t2)
    return add(input, quotient if _is_one(value) else mul(quotient, value))


def _is_one(v) -> bool:
    return not isinstance(v, Tensor) and v == 1


@public(method=True, kind="elementwise")
def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf``.

    The infinities default to the dtype's largest and smallest finite values. The gradient
    passes where the input is finite and is 0 at the replaced entries, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nan_to_num(cr.tensor([float("nan"), 1.0, float("inf")]), posinf=9.0).tolist()
        [0.0, 1.0, 9.0]
    """
    x = check.real(check.tensor(input, "nan_to_num"), "nan_to_num")
    nan = check.number(nan, "nan_to_num", "nan")
    posinf = None if posinf is None else check.number(posinf, "nan_to_num", "posinf")
    neginf = None if neginf is None else check.number(neginf, "nan_to_num", "neginf")
    a = x._data
    if a.dtype.kind not in "fc":
        return _wrap(a.copy())
    filled = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    if not x.requires_grad:
        return _wrap(np.asarray(filled))
    return where(_wrap(np.isfinite(a)), x, _wrap(np.asarray(filled)))
