"""``Linear`` (a dense layer on the fused ``linear`` primitive) and ``Identity``."""

from __future__ import annotations

import math

import numpy as np

from ... import dtypes
from ...autograd.graph import apply
from ...ops.linalg import Linear as _LinearOp
from ...ops.linalg import linear as _linear
from ...tensor import Tensor
from .. import init
from ..parameter import Parameter
from .module import Module


def _factory_dtype(dtype) -> np.dtype:
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"layer parameters must be floating point, got dtype {dt}")
    return dt


class Identity(Module):
    """Returns its input unchanged (a placeholder that accepts and ignores any arguments).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Identity()(cr.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """``y = x W^T + b`` with W of shape (out_features, in_features), as one graph node.

    Initialised like PyTorch: W ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.Linear(3, 2)
        >>> layer(cr.ones(4, 3)).shape, layer.weight.shape
        ((4, 2), (2, 3))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = _factory_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        self.bias = Parameter(np.empty((out_features,), dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        w, b = self.weight, self.bias
        # Hot path: a Tensor whose last dim fits goes straight to the primitive.
        if isinstance(input, Tensor) and input._data.ndim and \
                input._data.shape[-1] == self.in_features:
            return apply(_LinearOp, (input, w) if b is None else (input, w, b))
        if isinstance(input, Tensor) and input.ndim:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features="
                             f"{self.out_features}): input of shape {input.shape} does not end "
                             f"with {self.in_features} features")
        return _linear(input, w, b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
