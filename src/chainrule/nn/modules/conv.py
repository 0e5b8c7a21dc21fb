"""Convolutions on the engine's unfold/fold + matmul: Conv1d (as H = 1), Conv2d and
ConvTranspose2d (the adjoint of a convolution: matmul then fold)."""

from __future__ import annotations

import math

import numpy as np

from ...ops.conv import conv2d
from ...tensor import Tensor
from .. import init
from ..functional.conv import conv_transpose2d
from ..parameter import Parameter
from .linear import _factory_dtype
from .module import Module


def _tuple(v, n: int, name: str, layer: str) -> tuple[int, ...]:
    """An int or a length-``n`` sequence of ints, as a tuple (PyTorch's size arguments)."""
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(vals) != n or not all(isinstance(i, (int, np.integer)) for i in vals):
        kind = "a pair of ints" if n == 2 else f"a {n}-tuple"
        raise ValueError(f"{layer}: {name} must be an int or {kind}, got {v!r}")
    return tuple(int(i) for i in vals)


def _pair(v, name: str, layer: str = "ConvTranspose2d") -> tuple[int, int]:
    return _tuple(v, 2, name, layer)


class _ConvNd(Module):
    """What Conv1d and Conv2d share: argument checks, parameters, PyTorch's init, repr."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        layer, n = type(self).__name__, self.dims
        if groups != 1:
            raise ValueError(f"{layer}: only groups=1 is supported, got groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{layer}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{layer}: {name} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", layer)
        self.stride = _tuple(stride, n, "stride", layer)
        self.dilation = _tuple(dilation, n, "dilation", layer)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{layer}: padding must be 'valid', 'same' or numbers, got "
                                 f"{padding!r}")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding", layer)
        self.groups, self.padding_mode = groups, padding_mode
        dt = _factory_dtype(dtype)
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size,
                                         dtype=dt))
        self.bias = Parameter(np.empty((out_channels,), dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """Cross-correlation of (N, C_in, H, W) with (C_out, C_in, kh, kw) kernels, plus a bias.

    Initialised like PyTorch (kaiming_uniform with a=sqrt(5), bias U(-1/sqrt(fan_in), ...)).
    Only ``groups=1`` and zero padding are supported.

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.Conv2d(1, 6, kernel_size=5, padding=2)
        >>> conv(cr.zeros(2, 1, 28, 28)).shape
        (2, 6, 28, 28)
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}): expected input "
                             f"(N, {self.in_channels}, H, W), got {input.shape}")
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation)


class Conv1d(_ConvNd):
    """Cross-correlation of (N, C_in, L) sequences with (C_out, C_in, k) kernels, plus a bias.

    Runs as a 2-D convolution of height 1; initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Conv1d(2, 4, kernel_size=3, padding=1)(cr.zeros(5, 2, 10)).shape
        (5, 4, 10)
    """

    dims = 1

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (2, 3) or input.shape[-2] != self.in_channels:
            raise ValueError(f"Conv1d({self.in_channels}, {self.out_channels}): expected input "
                             f"(N, {self.in_channels}, L) or ({self.in_channels}, L), got "
                             f"{input.shape}")
        x = input.unsqueeze(-2) if input.ndim == 3 else input.unsqueeze(0).unsqueeze(-2)
        pad = self.padding if isinstance(self.padding, str) else (0, self.padding[0])
        out = conv2d(x, self.weight.unsqueeze(2), self.bias, (1, self.stride[0]), pad,
                     (1, self.dilation[0]))
        out = out.squeeze(-2)
        return out if input.ndim == 3 else out.squeeze(0)


class ConvTranspose2d(Module):
    """Transposed convolution ("deconvolution"): upsamples (N, C_in, H, W) feature maps.

    Output size (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1;
    initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> up = cr.nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        >>> up(cr.zeros(1, 8, 5, 5)).shape
        (1, 4, 10, 10)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__()
        if groups != 1 or padding_mode != "zeros":
            raise ValueError("ConvTranspose2d: only groups=1 and padding_mode='zeros' are "
                             "supported")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"ConvTranspose2d: {name} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        self.output_padding = _pair(output_padding, "output_padding")
        self.dilation, self.groups, self.padding_mode = _pair(dilation, "dilation"), groups, \
            padding_mode
        dt = _factory_dtype(dtype)
        self.weight = Parameter(np.empty((in_channels, out_channels) + self.kernel_size,
                                         dtype=dt))
        self.bias = Parameter(np.empty((out_channels,), dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch computes the fan from dim 1 of this (C_in, C_out, kh, kw) weight.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.out_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"ConvTranspose2d({self.in_channels}, {self.out_channels}): "
                             f"expected input (N, {self.in_channels}, H, W), got {input.shape}")
        op = self.output_padding
        if output_size is not None:
            want = tuple(output_size)[-2:]
            base = tuple((input.shape[2 + a] - 1) * self.stride[a] - 2 * self.padding[a]
                         + self.dilation[a] * (self.kernel_size[a] - 1) + 1 for a in range(2))
            op = tuple(w - b for w, b in zip(want, base))
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op,
                                1, self.dilation)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s
