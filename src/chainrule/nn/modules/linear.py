"""``Linear`` (a dense layer on the fused ``linear`` primitive), ``Bilinear`` and ``Identity``."""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ... import dtypes
from ...autograd.graph import apply
from ...ops.linalg import Linear as _LinearOp
from ...ops.linalg import linear as _linear
from ...tensor import Tensor
from .. import init
from ..functional.bilinear import bilinear as _bilinear
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
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
        self.weight = Parameter(check.new_array(np.empty, (out_features, in_features), dt, self))
        self.bias = Parameter(check.new_array(np.empty, (out_features,), dt, self)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        w, b = self.weight, self.bias
        # Hot path: a Tensor of the weight's dtype whose last dim fits goes straight to the
        # primitive (other dtypes get linear's checks: PyTorch refuses mixed dtypes)
        if input._data.dtype is w._data.dtype and input._data.ndim and \
                input._data.shape[-1] == self.in_features:
            return apply(_LinearOp, (input, w) if b is None else (input, w, b))
        if isinstance(input, Tensor) and input.ndim and input.shape[-1] != self.in_features:
            raise ValueError(f"Linear(in_features={self.in_features}, out_features="
                             f"{self.out_features}): input of shape {input.shape} does not end "
                             f"with {self.in_features} features")
        return _linear(input, w, b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with A of shape (out_features, in1_features, in2_features).

    Initialised like PyTorch: A and b ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)).

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.Bilinear(3, 4, 2)
        >>> layer(cr.ones(5, 3), cr.ones(5, 4)).shape, layer.weight.shape
        ((5, 2), (2, 3, 4))
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        for name, v in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Bilinear: {name} must be a non-negative int, got {v!r}")
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dt = _factory_dtype(dtype)
        self.weight = Parameter(check.new_array(
            np.empty, (out_features, in1_features, in2_features), dt, self))
        self.bias = Parameter(check.new_array(np.empty, (out_features,), dt, self)) \
            if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return _bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last dim of its first input.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.LazyLinear(4)
        >>> layer(cr.ones(2, 7)).shape, type(layer).__name__, layer.weight.shape
        ((2, 4), 'Linear', (4, 7))
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        Linear.__init__(self, 0, 0, False, dtype=dtype)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = check.integer(out_features, "LazyLinear", "out_features", low=0)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._start_lazy()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            Linear.reset_parameters(self)

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002
        input = check.tensor(input, "LazyLinear")  # noqa: A001
        if input.ndim == 0:
            raise ValueError("LazyLinear: the input needs at least 1 dim (its features)")
        self.in_features = int(input.shape[-1])
        check.alloc((self.out_features, self.in_features), np.float64, "LazyLinear",
                    "its weight")
        if self.has_uninitialized_params():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
