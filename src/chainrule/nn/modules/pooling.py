"""Pooling layers: max, average, power-average, adaptive and unpooling, over
``nn.functional``."""

from __future__ import annotations

from ... import _validate as check
from ...ops.conv import avg_pool2d as _avg_pool2d_op
from ...ops.conv import max_pool2d as _max_pool2d_op
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Maximum over each ``kernel_size`` window (stride defaults to the kernel size).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MaxPool2d(2)(cr.zeros(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if not (self.ceil_mode or self.return_indices) and input.ndim == 4:
            # the plain case goes straight to the engine's primitive (the training hot path)
            return _max_pool2d_op(input, self.kernel_size, self.stride, self.padding,
                                  self.dilation)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Maximum over each window of (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MaxPool1d(2)(cr.zeros(1, 3, 8)).shape
        (1, 3, 4)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool3d(_MaxPoolNd):
    """Maximum over each window of (N, C, D, H, W) volumes.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MaxPool3d(2)(cr.zeros(1, 3, 4, 4, 4)).shape
        (1, 3, 2, 2, 2)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class _AvgPoolNd(Module):
    """The base of the average-pooling layers (PyTorch's ``_AvgPoolNd``)."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolDivisor(_AvgPoolNd):
    _fn = staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if self._fn is F.avg_pool2d and input.ndim == 4 and self.count_include_pad and \
                not self.ceil_mode and self.divisor_override is None:
            return _avg_pool2d_op(input, self.kernel_size, self.stride, self.padding)
        return self._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                        self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPoolDivisor):
    """Mean over each ``kernel_size`` window (zero padding counted, as PyTorch's default).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AvgPool2d(2)(cr.ones(1, 1, 4, 4)).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """


class AvgPool3d(_AvgPoolDivisor):
    """Mean over each window of (N, C, D, H, W) volumes.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AvgPool3d(2)(cr.ones(1, 1, 2, 2, 2)).flatten().tolist()
        [1.0]
    """

    _fn = staticmethod(F.avg_pool3d)


class AvgPool1d(_AvgPoolNd):
    """Mean over each window of (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AvgPool1d(2)(cr.ones(1, 1, 4)).tolist()
        [[[1.0, 1.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()

        def single(v):  # PyTorch keeps AvgPool1d's sizes as 1-tuples
            return tuple(v) if isinstance(v, (tuple, list)) else (v,)

        self.kernel_size = single(kernel_size)
        self.stride = single(stride if stride is not None else kernel_size)
        self.padding, self.ceil_mode, self.count_include_pad = single(padding), ceil_mode, \
            count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool2d(_LPPoolNd):
    """Power-average pooling: (sum of x^p over each window)^(1/p) (p = inf is max pooling,
    p = 1 sum pooling).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LPPool2d(2, 3, stride=2)(cr.ones(1, 2, 7, 7)).shape
        (1, 2, 3, 3)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """Power-average pooling over (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LPPool1d(2, 3, stride=2)(cr.ones(1, 2, 7)).shape
        (1, 2, 3)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (N, C, D, H, W) volumes.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LPPool3d(2, 2)(cr.ones(1, 2, 4, 4, 4)).shape
        (1, 2, 2, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class _AdaptivePool(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptivePool):
    pass


class _AdaptiveMaxPoolNd(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average-pool (N, C, L) inputs to ``output_size`` positions whatever L is.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveAvgPool1d(3)(cr.ones(2, 4, 10)).shape
        (2, 4, 3)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average-pool to a fixed ``output_size`` whatever the input size (1 = global pooling).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveAvgPool2d((1, 1))(cr.ones(2, 8, 5, 5)).shape
        (2, 8, 1, 1)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average-pool (N, C, D, H, W) inputs to a fixed ``output_size``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveAvgPool3d(1)(cr.ones(2, 3, 4, 5, 6)).shape
        (2, 3, 1, 1, 1)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max-pool (N, C, L) inputs to ``output_size`` positions.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveMaxPool1d(2)(cr.ones(1, 3, 7)).shape
        (1, 3, 2)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max-pool to a fixed ``output_size`` whatever the input size.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveMaxPool2d(2)(cr.ones(1, 3, 7, 6)).shape
        (1, 3, 2, 2)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max-pool (N, C, D, H, W) inputs to a fixed ``output_size``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveMaxPool3d((1, 2, 2))(cr.ones(1, 3, 4, 5, 6)).shape
        (1, 3, 1, 2, 2)
    """

    def forward(self, input: Tensor):  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """Undo ``MaxPool2d(..., return_indices=True)`` as far as it can: each value goes back to
    its index, every other position is zero.

    Example:
        >>> import chainrule as cr
        >>> pool, unpool = cr.nn.MaxPool2d(2, return_indices=True), cr.nn.MaxUnpool2d(2)
        >>> y, idx = pool(cr.randn(1, 1, 4, 4))
        >>> unpool(y, idx).shape
        (1, 1, 4, 4)
    """

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Undo ``MaxPool1d(..., return_indices=True)``: values back at their indices.

    Example:
        >>> import chainrule as cr
        >>> y, idx = cr.nn.MaxPool1d(2, return_indices=True)(cr.randn(1, 2, 6))
        >>> cr.nn.MaxUnpool1d(2)(y, idx).shape
        (1, 2, 6)
    """

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """Undo ``MaxPool3d(..., return_indices=True)``: values back at their indices.

    Example:
        >>> import chainrule as cr
        >>> y, idx = cr.nn.MaxPool3d(2, return_indices=True)(cr.randn(1, 1, 4, 4, 4))
        >>> cr.nn.MaxUnpool3d(2)(y, idx).shape
        (1, 1, 4, 4, 4)
    """

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:  # noqa: A002
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)
