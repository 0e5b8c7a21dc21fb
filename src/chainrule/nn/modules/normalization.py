"""Per-sample normalisations: ``LayerNorm``, ``GroupNorm``, ``RMSNorm`` and
``LocalResponseNorm``."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _factory_dtype
from .module import Module


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift
    elementwise (``elementwise_affine``; weight ones, bias zeros).

    Example:
        >>> import chainrule as cr
        >>> ln = cr.nn.LayerNorm(4)
        >>> [abs(round(v, 4)) for v in ln(cr.randn(2, 4)).mean(dim=-1).tolist()]
        [0.0, 0.0]
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = check.ints(normalized_shape, 0, "LayerNorm", "normalized_shape",
                                           low=0)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _factory_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(check.new_array(np.ones, self.normalized_shape, dt, self))
            self.bias = Parameter(check.new_array(np.zeros, self.normalized_shape, dt, self)) \
                if bias else None
        else:
            self.weight = self.bias = None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.shape[max(input.ndim - len(self.normalized_shape), 0):] != \
                self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}): input of shape {input.shape} "
                             f"does not end with {self.normalized_shape}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise (N, C, ...) inputs over groups of ``num_channels // num_groups`` channels per
    sample, then scale and shift per channel (``affine``; weight ones, bias zeros).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.GroupNorm(2, 4)(cr.randn(3, 4, 5)).shape
        (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, bias: bool = True) -> None:
        super().__init__()
        num_groups = check.integer(num_groups, "GroupNorm", "num_groups", low=1)
        num_channels = check.integer(num_channels, "GroupNorm", "num_channels", low=0)
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        dt = _factory_dtype(dtype)
        if affine:
            self.weight = Parameter(check.new_array(np.ones, num_channels, dt, self))
            self.bias = Parameter(check.new_array(np.zeros, num_channels, dt, self)) \
                if bias else None
        else:
            self.weight = self.bias = None

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected input "
                             f"(N, {self.num_channels}, ...), got {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` dims, times a
    learned ``weight`` (ones at first); ``eps`` None means the dtype's machine epsilon.

    Example:
        >>> import chainrule as cr
        >>> norm = cr.nn.RMSNorm(4)
        >>> y = norm(cr.randn(2, 4))
        >>> [round(v, 3) for v in (y * y).mean(dim=-1).tolist()]
        [1.0, 1.0]
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = check.ints(normalized_shape, 0, "RMSNorm", "normalized_shape",
                                           low=0)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(check.new_array(np.ones, self.normalized_shape,
                                                    _factory_dtype(dtype), self))
        else:
            self.weight = None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Normalise each value by its ``size`` neighbouring channels:
    x / (k + alpha * mean of their squares) ** beta.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LocalResponseNorm(2)(cr.ones(1, 4, 3, 3)).shape
        (1, 4, 3, 3)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

