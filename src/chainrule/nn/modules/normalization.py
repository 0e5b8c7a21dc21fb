"""``LayerNorm``: normalise each sample over its trailing dims."""

from __future__ import annotations

import numpy as np

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
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _factory_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if bias else None
        else:
            self.weight = self.bias = None

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.shape[max(input.ndim - len(self.normalized_shape), 0):] != \
                self.normalized_shape:
            raise ValueError(f"LayerNorm({self.normalized_shape}): input of shape {input.shape} "
                             f"does not end with {self.normalized_shape}")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
