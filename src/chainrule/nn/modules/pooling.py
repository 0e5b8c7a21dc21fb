"""Pooling layers over (N, C, H, W) images."""

from __future__ import annotations

from ...ops.conv import avg_pool2d, max_pool2d
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class MaxPool2d(Module):
    """Maximum over each ``kernel_size`` window (stride defaults to the kernel size).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MaxPool2d(2)(cr.zeros(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")


class AvgPool2d(Module):
    """Mean over each ``kernel_size`` window (zero padding counted, as PyTorch's default).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AvgPool2d(2)(cr.ones(1, 1, 4, 4)).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(Module):
    """Maximum over each window of (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.MaxPool1d(2)(cr.zeros(1, 3, 8)).shape
        (1, 3, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")


class AvgPool1d(Module):
    """Mean over each window of (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AvgPool1d(2)(cr.ones(1, 1, 4)).tolist()
        [[[1.0, 1.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed ``output_size`` whatever the input size (1 = global pooling).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveAvgPool2d((1, 1))(cr.ones(2, 8, 5, 5)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max-pool to a fixed ``output_size`` whatever the input size.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.AdaptiveMaxPool2d(2)(cr.ones(1, 3, 7, 6)).shape
        (1, 3, 2, 2)
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_max_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
