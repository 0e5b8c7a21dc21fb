"""Activation layers: thin modules over the functions in ``chainrule.nn.functional``."""

from __future__ import annotations

import warnings

import numpy as np

from ... import _validate as check
from ...ops.elementwise import relu as _relu
from ...tensor import Tensor
from .. import functional as F
from ..parameter import Parameter
from .attention import MultiheadAttention  # noqa: F401  (PyTorch keeps it here)
from .linear import _factory_dtype
from .module import Module


class ReLU(Module):
    """max(0, x), elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if not self.inplace:
            return _relu(input)  # the primitive itself: the hot path
        return F.relu(input, self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LeakyReLU(0.1)(cr.tensor([-2.0, 2.0])).tolist()
        [-0.20000000298023224, 2.0]
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e^-x).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Sigmoid()(cr.tensor([0.0])).tolist()
        [0.5]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Tanh()(cr.tensor([0.0])).tolist()
        [0.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.tanh(input)


class GELU(Module):
    """x * Phi(x); ``approximate="tanh"`` for the tanh formula.

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.GELU()(cr.tensor([1.0])).item(), 4)
        0.8413
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish).

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.SiLU()(cr.tensor([1.0])).item(), 4)
        0.7311
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.silu(input, self.inplace)


class ELU(Module):
    """x if x > 0 else alpha * (e^x - 1).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ELU()(cr.tensor([2.0])).tolist()
        [2.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear above ``threshold``.

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.Softplus()(cr.tensor([0.0])).item(), 4)
        0.6931
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Softmax(dim=-1)(cr.zeros(1, 4)).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, stably.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LogSoftmax(dim=1)(cr.zeros(2, 3)).shape
        (2, 3)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ReLU6(Module):
    """min(max(0, x), 6).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.ReLU6()(cr.tensor([-1.0, 7.0])).tolist()
        [0.0, 6.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.relu6(input, self.inplace)


class Hardtanh(Module):
    """x clipped to [min_val, max_val].

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Hardtanh()(cr.tensor([-2.0, 0.5])).tolist()
        [-1.0, 0.5]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        # min_value / max_value: PyTorch's old names, still accepted with its warning
        for old, new in (("min_value", "min_val"), ("max_value", "max_val")):
            if locals()[old] is not None:
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}`",
                              FutureWarning, stacklevel=2)
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Softsign(Module):
    """x / (1 + |x|).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Softsign()(cr.tensor([1.0])).tolist()
        [0.5]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softsign(input)


class Mish(Module):
    """x * tanh(softplus(x)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Mish()(cr.zeros(2)).tolist()
        [0.0, 0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.mish(input, self.inplace)


class PReLU(Module):
    """x if x > 0 else a * x, with a learned slope ``a`` (one, or one per channel in dim 1).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.PReLU()(cr.tensor([-4.0, 2.0])).tolist()
        [-1.0, 2.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        super().__init__()
        if not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters, self.init = num_parameters, check.number(init, "PReLU", "init")
        check.alloc((num_parameters,), np.float64, "PReLU", "its weight")
        self.weight = Parameter(np.full(num_parameters, init, dtype=_factory_dtype(dtype)))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class LogSigmoid(Module):
    """log(sigmoid(x)), stable.

    Example:
        >>> import chainrule as cr
        >>> round(cr.nn.LogSigmoid()(cr.tensor([0.0])).item(), 4)
        -0.6931
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.logsigmoid(input)


class SELU(Module):
    """Scaled ELU with the self-normalising constants.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.SELU()(cr.zeros(2)).tolist()
        [0.0, 0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.selu(input, self.inplace)


class CELU(Module):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.CELU()(cr.tensor([1.0])).tolist()
        [1.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardswish(Module):
    """x * relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Hardswish()(cr.tensor([4.0])).tolist()
        [4.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Hardsigmoid()(cr.tensor([0.0])).tolist()
        [0.5]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.hardsigmoid(input, self.inplace)


class Softmin(Module):
    """softmax(-x) along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Softmin(dim=1)(cr.zeros(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Tanhshrink(Module):
    """x - tanh(x).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Tanhshrink()(cr.zeros(2)).tolist()
        [0.0, 0.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.tanhshrink(input)


class GLU(Module):
    """Gated linear unit over ``dim``: a * sigmoid(b) with a, b the halves of the input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.GLU()(cr.zeros(2, 6)).shape
        (2, 3)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Hardshrink(1.0)(cr.tensor([-2.0, 0.5])).tolist()
        [-2.0, 0.0]
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """Shrink towards 0 by ``lambd`` (0 inside [-lambd, lambd]).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Softshrink(1.0)(cr.tensor([-2.0, 0.5])).tolist()
        [-1.0, 0.0]
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Threshold(Module):
    """x where x > threshold, else ``value``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Threshold(0.1, 20.0)(cr.tensor([0.0, 1.0])).tolist()
        [20.0, 1.0]
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes from U(lower, upper) while training, their
    mean (lower + upper) / 2 in eval mode.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.RReLU(0.1, 0.3).eval()(cr.tensor([-1.0, 2.0])).tolist()
        [-0.20000000298023224, 2.0]
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) inputs, at every position.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.Softmax2d()(cr.zeros(1, 4, 2, 2))[0, :, 0, 0].tolist()
        [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.softmax2d(input)
