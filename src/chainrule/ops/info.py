"""Questions about a tensor rather than computations on it: ``is_tensor``, ``numel``..."""

from __future__ import annotations

from ..tensor import Tensor
from .op import public


def _tensor_arg(fn: str, input) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input


@public(kind="other")
def is_tensor(obj) -> bool:
    """Whether ``obj`` is a chainrule Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.is_tensor(cr.ones(2)), cr.is_tensor([1.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


@public(method=True, kind="other")
def is_floating_point(input) -> bool:  # noqa: A002
    """Whether the tensor's dtype is a floating-point type.

    Example:
        >>> import chainrule as cr
        >>> cr.is_floating_point(cr.ones(2)), cr.tensor([1]).is_floating_point()
        (True, False)
    """
    return _tensor_arg("is_floating_point", input)._data.dtype.kind == "f"


@public(method=True, kind="other")
def is_complex(input) -> bool:  # noqa: A002
    """Whether the tensor's dtype is a complex type.

    Example:
        >>> import chainrule as cr
        >>> cr.is_complex(cr.ones(2))
        False
    """
    return _tensor_arg("is_complex", input)._data.dtype.kind == "c"


@public(method=True, kind="other")
def numel(input) -> int:  # noqa: A002
    """The number of elements of the tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.numel(cr.ones(2, 3))
        6
    """
    return int(_tensor_arg("numel", input)._data.size)
