"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d, with PyTorch's parameters,
initialisation and options (groups, dilation, 'same' padding, padding modes)."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ...ops.conv import conv2d as _conv2d_op
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .lazy import _lazy_conv
from .linear import _factory_dtype
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


_LOWEST = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


def _tuple(v, n: int, name: str, layer: str) -> tuple[int, ...]:
    """An int or a length-``n`` sequence of ints, as a tuple (PyTorch's size arguments), each
    at least the argument's lowest meaningful value."""
    return check.ints(v, n, layer, name, low=_LOWEST[name])


class _ConvNd(Module):
    """What every convolution layer shares: argument checks, parameters, PyTorch's init, repr.

    ``weight`` is (C_out, C_in/groups, *k), or (C_in, C_out/groups, *k) when transposed.
    """

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, output_padding=0) -> None:
        super().__init__()
        layer, n = type(self).__name__, self.dims
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{layer}: {name} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", layer)
        self.stride = _tuple(stride, n, "stride", layer)
        self.dilation = _tuple(dilation, n, "dilation", layer)
        self.output_padding = _tuple(output_padding, n, "output_padding", layer)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{layer}: padding must be 'valid', 'same' or numbers, got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{layer}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding", layer)
        if self.transposed and (isinstance(padding, str) or padding_mode != "zeros"):
            raise ValueError(f"{layer}: only numeric padding and padding_mode='zeros' are "
                             "supported, as in PyTorch")
        self.groups, self.padding_mode = int(groups), padding_mode
        # F.pad's amounts for the non-zero padding modes (last dim first), as PyTorch keeps them
        if self.padding == "same":
            pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(self.kernel_size, self.dilation)]
        elif self.padding == "valid":
            pairs = [(0, 0)] * n
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [v for pr in reversed(pairs) for v in pr]
        dt = _factory_dtype(dtype)
        shape = (in_channels, out_channels // groups) if self.transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(check.new_array(np.empty, shape + self.kernel_size, dt, self))
        self.bias = Parameter(check.new_array(np.empty, (out_channels,), dt, self)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch: kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)), fan_in from dim 1 of weight
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _padded(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)

    def _conv_padding(self):
        return 0 if self.padding_mode != "zeros" else self.padding

    def _check(self, input: Tensor) -> None:  # noqa: A002
        n = self.dims
        want = self.in_channels
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2) or \
                input.shape[-n - 1] != want:
            dims = ", ".join("DHW"[3 - n:]) if n > 1 else "L"
            raise ValueError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}): "
                             f"expected input (N, {want}, {dims}) or ({want}, {dims}), got "
                             f"{getattr(input, 'shape', input)}")

    def extra_repr(self) -> str:
        n = self.dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """Cross-correlation of (N, C_in, L) sequences with (C_out, C_in/groups, k) kernels, plus a
    bias; initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Conv1d(2, 4, kernel_size=3, padding=1)(cr.zeros(5, 2, 10)).shape
        (5, 4, 10)
    """

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        self._check(input)
        x = self._padded(input) if self.padding_mode != "zeros" else input
        return F.conv1d(x, self.weight, self.bias, self.stride, self._conv_padding(),
                        self.dilation, self.groups)


class Conv2d(_ConvNd):
    """Cross-correlation of (N, C_in, H, W) with (C_out, C_in/groups, kh, kw) kernels, plus a
    bias; initialised like PyTorch (kaiming_uniform with a=sqrt(5), bias U(-1/sqrt(fan_in),
    ...)).

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.Conv2d(1, 6, kernel_size=5, padding=2)
        >>> conv(cr.zeros(2, 1, 28, 28)).shape
        (2, 6, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        # The plain case goes straight to the engine's primitive (the training hot path).
        self._direct = groups == 1 and padding_mode == "zeros" and padding != "same"

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        self._check(input)
        if self._direct and input.ndim == 4:
            return _conv2d_op(input, self.weight, self.bias, self.stride, self.padding,
                              self.dilation)
        x = self._padded(input) if self.padding_mode != "zeros" else input
        return F.conv2d(x, self.weight, self.bias, self.stride, self._conv_padding(),
                        self.dilation, self.groups)


class Conv3d(_ConvNd):
    """Cross-correlation of (N, C_in, D, H, W) volumes with (C_out, C_in/groups, kd, kh, kw)
    kernels, plus a bias; initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Conv3d(2, 4, kernel_size=3, padding=1)(cr.zeros(1, 2, 4, 5, 5)).shape
        (1, 4, 4, 5, 5)
    """

    dims = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        self._check(input)
        x = self._padded(input) if self.padding_mode != "zeros" else input
        return F.conv3d(x, self.weight, self.bias, self.stride, self._conv_padding(),
                        self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _output_padding(self, input: Tensor, output_size):  # noqa: A002
        """PyTorch's rule: an explicit ``output_size`` fixes the extra size on the far side."""
        if output_size is None:
            return self.output_padding
        n = self.dims
        want = tuple(int(v) for v in tuple(output_size)[-n:])
        if len(want) != n:
            raise ValueError(f"{type(self).__name__}: output_size {output_size!r} needs {n} "
                             "spatial sizes")
        base = tuple((input.shape[input.ndim - n + a] - 1) * self.stride[a]
                     - 2 * self.padding[a] + self.dilation[a] * (self.kernel_size[a] - 1) + 1
                     for a in range(n))
        extra = tuple(w - b for w, b in zip(want, base))
        top = tuple(b + max(s, d) - 1 for b, s, d in zip(base, self.stride, self.dilation))
        if any(not b <= w <= t for b, w, t in zip(base, want, top)):
            raise ValueError(f"{type(self).__name__}: output_size {want} is not reachable from "
                             f"input {input.shape} (sizes from {base} to {top})")
        return extra


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution: upsamples (N, C_in, L) sequences; initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ConvTranspose1d(4, 2, kernel_size=2, stride=2)(cr.zeros(1, 4, 5)).shape
        (1, 2, 10)
    """

    dims = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        self._check(input)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed convolution ("deconvolution"): upsamples (N, C_in, H, W) feature maps.

    Output size (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1;
    initialised like PyTorch.

    Example:
        >>> import chainrule as cr
        >>> up = cr.nn.ConvTranspose2d(8, 4, kernel_size=2, stride=2)
        >>> up(cr.zeros(1, 8, 5, 5)).shape
        (1, 4, 10, 10)
    """

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        self._check(input)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)



class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution: upsamples (N, C_in, D, H, W) volumes; initialised like
    PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)(cr.zeros(1, 4, 2, 3, 3)).shape
        (1, 2, 4, 6, 6)
    """

    dims = 3

    def forward(self, input: Tensor, output_size=None) -> Tensor:  # noqa: A002
        self._check(input)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)

LazyConv1d = _lazy_conv(Conv1d, """A ``Conv1d`` whose ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.LazyConv1d(4, 3)
        >>> conv(cr.ones(2, 5, 9)).shape, conv.weight.shape
        ((2, 4, 7), (4, 5, 3))
    """)
LazyConv2d = _lazy_conv(Conv2d, """A ``Conv2d`` whose ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> conv = cr.nn.LazyConv2d(8, 3, padding=1)
        >>> conv(cr.ones(1, 3, 6, 6)).shape, type(conv).__name__
        ((1, 8, 6, 6), 'Conv2d')
    """)
LazyConv3d = _lazy_conv(Conv3d, """A ``Conv3d`` whose ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyConv3d(2, 1)(cr.ones(1, 3, 2, 2, 2)).shape
        (1, 2, 2, 2, 2)
    """)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, """A ``ConvTranspose1d`` whose
    ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyConvTranspose1d(2, 2, stride=2)(cr.ones(1, 3, 4)).shape
        (1, 2, 8)
    """)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, """A ``ConvTranspose2d`` whose
    ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyConvTranspose2d(2, 2, stride=2)(cr.ones(1, 3, 4, 4)).shape
        (1, 2, 8, 8)
    """)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, """A ``ConvTranspose3d`` whose
    ``in_channels`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyConvTranspose3d(2, 2, stride=2)(cr.ones(1, 3, 2, 2, 2)).shape
        (1, 2, 4, 4, 4)
    """)
