"""Padding layers: constant (and zero), reflection, replication and circular, in 1, 2 and 3
dims, over ``F.pad``."""

from __future__ import annotations

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class _PadNd(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        n = 2 * self.dims
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * n
        padding = tuple(padding) if isinstance(padding, (tuple, list)) else padding
        if not isinstance(padding, tuple) or len(padding) != n or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints, got "
                             f"{padding!r}")
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if self.mode == "constant":
            if input.ndim < self.dims:
                raise ValueError(f"{type(self).__name__}: expected at least a {self.dims}-D "
                                 f"input, got shape {input.shape}")
            return F.pad(input, self.padding, "constant", self.value)
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected a {self.dims + 1}-D or "
                             f"{self.dims + 2}-D input, got shape {input.shape}")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        if value is not None:  # None: zeros, as F.pad's default
            value = check.number(value, type(self).__name__, "value")
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value`` (``padding``: an int or (left, right)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ConstantPad1d((1, 2), 9.0)(cr.zeros(1, 2)).tolist()
        [[9.0, 0.0, 0.0, 9.0, 9.0]]
    """

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value`` ((left, right, top, bottom)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ConstantPad2d(1, 0.5)(cr.zeros(1, 2, 2)).shape
        (1, 4, 4)
    """

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value`` ((left, right, top, bottom, front, back)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ConstantPad3d(1, 0.0)(cr.zeros(1, 2, 2, 2)).shape
        (1, 4, 4, 4)
    """

    dims = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ZeroPad1d(1)(cr.ones(1, 2)).tolist()
        [[0.0, 1.0, 1.0, 0.0]]
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros ((left, right, top, bottom)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ZeroPad2d((1, 0, 0, 1))(cr.ones(1, 1, 1)).tolist()
        [[[0.0, 1.0], [0.0, 0.0]]]
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ZeroPad3d(1)(cr.ones(1, 1, 1, 1)).shape
        (1, 3, 3, 3)
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ReflectionPadNd):
    """Mirror the last dim at its edges (edge values not repeated).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReflectionPad1d(2)(cr.tensor([[1.0, 2.0, 3.0]])).tolist()
        [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    """

    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Mirror the last 2 dims at their edges.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReflectionPad2d(1)(cr.zeros(1, 3, 4, 4)).shape
        (1, 3, 6, 6)
    """

    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Mirror the last 3 dims at their edges.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReflectionPad3d(1)(cr.zeros(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Repeat the edge values of the last dim.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReplicationPad1d((2, 1))(cr.tensor([[1.0, 2.0]])).tolist()
        [[1.0, 1.0, 1.0, 2.0, 2.0]]
    """

    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Repeat the edge values of the last 2 dims.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReplicationPad2d(1)(cr.zeros(1, 2, 2)).shape
        (1, 4, 4)
    """

    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Repeat the edge values of the last 3 dims.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReplicationPad3d(1)(cr.zeros(1, 2, 2, 2)).shape
        (1, 4, 4, 4)
    """

    dims = 3


class CircularPad1d(_CircularPadNd):
    """Wrap the last dim around (periodic boundary).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.CircularPad1d(1)(cr.tensor([[1.0, 2.0, 3.0]])).tolist()
        [[3.0, 1.0, 2.0, 3.0, 1.0]]
    """

    dims = 1


class CircularPad2d(_CircularPadNd):
    """Wrap the last 2 dims around.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.CircularPad2d(1)(cr.zeros(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    dims = 2


class CircularPad3d(_CircularPadNd):
    """Wrap the last 3 dims around.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.CircularPad3d(1)(cr.zeros(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    dims = 3
