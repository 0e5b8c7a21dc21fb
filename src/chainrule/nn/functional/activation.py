"""Activation functions (the elementwise ones are the engine's primitives)."""

from __future__ import annotations

import warnings

from ...ops.binary import maximum, minimum, where
from ...ops.elementwise import (  # noqa: F401  (re-exported as F.<name>)
    elu,
    exp,
    gelu,
    leaky_relu,
    relu,
    sigmoid,
    silu,
    softplus,
    tanh,
)
from ...ops.reduce import log_softmax as _log_softmax
from ...ops.reduce import softmax as _softmax
from ...tensor import Tensor


def _implicit_dim(ndim: int, name: str) -> int:
    # PyTorch's legacy choice when no dim is given; kept for parity, with its warning.
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """e^x / sum e^x along ``dim`` (stable).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softmax(cr.tensor([[0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmax")
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> [round(v, 4) for v in F.log_softmax(cr.tensor([[0.0, 0.0]]), dim=1)[0].tolist()]
        [-0.6931, -0.6931]
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "log_softmax")
    return _log_softmax(input, dim, dtype)


def relu6(input: Tensor) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.relu6(cr.tensor([-1.0, 3.0, 8.0])).tolist()
        [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """x clipped to [min_val, max_val].

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardtanh(cr.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    return input.clamp(min_val, max_val)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softsign(cr.tensor([1.0, -3.0])).tolist()
        [0.5, -0.75]
    """
    return input / (input.abs() + 1)


def mish(input: Tensor) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.mish(cr.tensor([0.0])).tolist()
        [0.0]
    """
    return input * softplus(input).tanh()


def hardsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardsigmoid(cr.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return minimum(maximum(input / 6 + 0.5, 0.0), 1.0)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x if x > 0 else weight * x; ``weight`` has one slope or one per channel (dim 1).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.prelu(cr.tensor([-2.0, 3.0]), cr.tensor([0.5])).tolist()
        [-1.0, 3.0]
    """
    n = weight.shape[0] if weight.ndim == 1 else -1
    if weight.ndim != 1 or (n != 1 and (input.ndim < 2 or input.shape[1] != n)):
        raise ValueError(f"prelu: weight of shape {weight.shape} needs 1 or C = dim 1 of the "
                         f"input {input.shape} entries")
    a = weight if n == 1 or input.ndim == 2 else weight.reshape((1, n) + (1,) * (input.ndim - 2))
    return where(input > 0, input, a * input)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), stable for any x.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.logsigmoid(cr.tensor([0.0])).item(), 4)
        -0.6931
    """
    return -softplus(-input)


def selu(input: Tensor) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.selu(cr.tensor([1.0])).item(), 4)
        1.0507
    """
    return elu(input, _SELU_ALPHA) * _SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.celu(cr.tensor([2.0, 0.0])).tolist()
        [2.0, 0.0]
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return where(input > 0, input, (exp(minimum(input, 0.0) / alpha) - 1) * alpha)


def hardswish(input: Tensor) -> Tensor:  # noqa: A002
    """x * relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardswish(cr.tensor([-4.0, 0.0, 4.0])).tolist()
        [-0.0, 0.0, 4.0]
    """
    return input * hardsigmoid(input)


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softmin(cr.tensor([[1.0, 1.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmin")
    return _softmax(-input, dim, dtype)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.tanhshrink(cr.tensor([0.0])).tolist()
        [0.0]
    """
    return input - tanh(input)
