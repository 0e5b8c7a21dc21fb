"""Activation functions (the elementwise ones are the engine's primitives).

``inplace=True`` (and the ``relu_``-style names) writes the result into the input when the input
is in no graph, as PyTorch does. chainrule never overwrites a tensor that a graph recorded, so
inside a graph the result is computed out of place: use the returned tensor (as
``x = F.relu(x, inplace=True)`` does).
"""

from __future__ import annotations

import warnings

import numpy as np

from ... import _validate as check
from ...autograd.grad_mode import GRAD
from ...ops.binary import maximum, minimum, where
from ...ops.elementwise import elu as _elu
from ...ops.elementwise import (  # noqa: F401  (re-exported as F.<name>)
    exp,
    gelu,
    sigmoid,
    softplus,
    tanh,
)
from ...ops.elementwise import leaky_relu as _leaky_relu
from ...ops.elementwise import relu as _relu
from ...ops.elementwise import silu as _silu
from ...ops.reduce import log_softmax as _log_softmax
from ...ops.reduce import softmax as _softmax
from ...random import _gen
from ...tensor import Tensor, _wrap


def _inplace(input: Tensor, out: Tensor) -> Tensor:  # noqa: A002
    """Write ``out`` into ``input`` when no graph holds ``input``; else return ``out``."""
    if not isinstance(input, Tensor) or (GRAD.enabled and input.requires_grad) or \
            input._node is not None:
        return out
    return input.copy_(out)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x), elementwise.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.relu(cr.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    out = _relu(input)
    return _inplace(input, out) if inplace else out


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.leaky_relu(cr.tensor([-2.0, 2.0]), 0.5).tolist()
        [-1.0, 2.0]
    """
    out = _leaky_relu(input, negative_slope)
    return _inplace(input, out) if inplace else out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha * (e^x - 1).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.elu(cr.tensor([1.0, 0.0])).tolist()
        [1.0, 0.0]
    """
    out = _elu(input, alpha)
    return _inplace(input, out) if inplace else out


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x) (swish).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.silu(cr.tensor([0.0])).tolist()
        [0.0]
    """
    out = _silu(input)
    return _inplace(input, out) if inplace else out


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
    input = check.tensor(input, "softmax")  # noqa: A001
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
    input = check.tensor(input, "log_softmax")  # noqa: A001
    if dim is None:
        dim = _implicit_dim(input.ndim, "log_softmax")
    return _log_softmax(input, dim, dtype)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.relu6(cr.tensor([-1.0, 3.0, 8.0])).tolist()
        [0.0, 3.0, 6.0]
    """
    return hardtanh(check.numeric(input, "relu6"), 0.0, 6.0, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val].

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardtanh(cr.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    input = check.numeric(input, "hardtanh")  # noqa: A001
    min_val = check.number(min_val, "hardtanh", "min_val")
    max_val = check.number(max_val, "hardtanh", "max_val")
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val {min_val} must not exceed max_val {max_val}")
    if input._data.dtype.kind == "u" and min(min_val, max_val) < 0:
        raise ValueError("hardtanh(): cannot clip an unsigned tensor to negative limits "
                         f"({min_val}, {max_val}), as in PyTorch")
    if input._data.dtype.kind in "iu":  # integers stay integers, as in PyTorch
        out = _wrap(np.clip(input._data, min_val, max_val).astype(input._data.dtype))
        return _inplace(input, out) if inplace else out
    # PyTorch's gradient is 0 at the bounds themselves (clamp's passes there): keep x only
    # strictly inside, and the bound as a constant elsewhere.
    inside = (input > min_val) & (input < max_val)
    bound = _wrap(np.clip(input._data, min_val, max_val))
    out = where(inside, input, bound)
    return _inplace(input, out) if inplace else out


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softsign(cr.tensor([1.0, -3.0])).tolist()
        [0.5, -0.75]
    """
    input = check.numeric(input, "softsign")  # noqa: A001
    return input / (input.abs() + 1)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.mish(cr.tensor([0.0])).tolist()
        [0.0]
    """
    input = check.floating(input, "mish")  # noqa: A001
    out = _mish(input)
    return _inplace(input, out) if inplace else out


def _mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x)), finite for every finite x (see ``numerics``)."""
    return x * softplus(x).tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardsigmoid(cr.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    input = check.floating(input, "hardsigmoid")  # noqa: A001
    out = minimum(maximum(input / 6 + 0.5, 0.0), 1.0)
    return _inplace(input, out) if inplace else out


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x if x > 0 else weight * x; ``weight`` has one slope or one per channel (dim 1).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.prelu(cr.tensor([-2.0, 3.0]), cr.tensor([0.5])).tolist()
        [-1.0, 3.0]
    """
    input, weight = check.same_dtype_operands("prelu", ("input", "weight"), input, weight)  # noqa: A001
    input = check.floating(input, "prelu")  # noqa: A001
    if weight.ndim == 0 or input.ndim == 0 and weight.shape == (1,):
        return where(input > 0, input, weight.reshape(()) * input)  # one slope
    n = weight.shape[0] if weight.ndim == 1 else -1
    if weight.ndim != 1 or (n != 1 and (input.ndim < 2 or input.shape[1] != n)):
        raise ValueError(f"prelu(): weight of shape {weight.shape} needs 1 or C = dim 1 of the "
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
    input = check.floating(input, "logsigmoid")  # noqa: A001
    return -softplus(-input)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> round(F.selu(cr.tensor([1.0])).item(), 4)
        1.0507
    """
    input = check.floating(input, "selu")  # noqa: A001
    out = _elu(input, _SELU_ALPHA) * _SELU_SCALE
    return _inplace(input, out) if inplace else out


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1)).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.celu(cr.tensor([2.0, 0.0])).tolist()
        [2.0, 0.0]
    """
    input = check.floating(input, "celu")  # noqa: A001
    alpha = check.number(alpha, "celu", "alpha")
    if alpha == 0:
        raise ValueError("celu(): argument 'alpha' must not be 0")
    out = where(input > 0, input, (exp(minimum(input, 0.0) / alpha) - 1) * alpha)
    return _inplace(input, out) if inplace else out


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * relu6(x + 3) / 6.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardswish(cr.tensor([-4.0, 0.0, 4.0])).tolist()
        [-0.0, 0.0, 4.0]
    """
    input = check.floating(input, "hardswish")  # noqa: A001
    out = input * hardsigmoid(input)
    return _inplace(input, out) if inplace else out


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """softmax(-x) along ``dim``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softmin(cr.tensor([[1.0, 1.0]]), dim=1).tolist()
        [[0.5, 0.5]]
    """
    input = check.tensor(input, "softmin")  # noqa: A001
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    input = check.floating(input, "softmin")  # noqa: A001
    if dim is None:
        dim = _implicit_dim(input.ndim, "softmin")
    dim = check.dim(dim, input.ndim, "softmin")
    return _softmax(-input, dim)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.tanhshrink(cr.tensor([0.0])).tolist()
        [0.0]
    """
    input = check.numeric(input, "tanhshrink")  # noqa: A001
    return input - tanh(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: a * sigmoid(b), with a and b the two halves of ``input`` along
    ``dim``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.glu(cr.tensor([[2.0, 4.0, 0.0, 0.0]])).tolist()
        [[1.0, 2.0]]
    """
    input = check.floating(input, "glu")  # noqa: A001
    if input.ndim == 0:
        raise ValueError("glu(): needs at least 1 dim, got a 0-d tensor")
    d = check.dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise ValueError(f"glu(): dim {dim} of input {input.shape} must have an even size")
    a, b = input.chunk(2, d)
    return a * sigmoid(b)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.hardshrink(cr.tensor([-1.0, 0.2, 0.7])).tolist()
        [-1.0, 0.0, 0.699999988079071]
    """
    input = check.floating(input, "hardshrink")  # noqa: A001
    lambd = check.number(lambd, "hardshrink", "lambd")
    return where(input.abs() <= lambd, 0.0, input)  # NaN stays NaN, as in PyTorch


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.softshrink(cr.tensor([-1.0, 0.2, 1.5])).tolist()
        [-0.5, 0.0, 1.0]
    """
    input = check.floating(input, "softshrink")  # noqa: A001
    lambd = check.number(lambd, "softshrink", "lambd", low=0.0)
    # NaN stays NaN, as in PyTorch
    return where(input.abs() <= lambd, 0.0, where(input > 0, input - lambd, input + lambd))


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.threshold(cr.tensor([0.5, 2.0]), 1.0, -1.0).tolist()
        [-1.0, 2.0]
    """
    input = check.numeric(input, "threshold")  # noqa: A001
    threshold = check.number(threshold, "threshold", "threshold")
    value = check.number(value, "threshold", "value")
    out = where(input <= threshold, value, input)  # PyTorch's test: NaN is kept
    if out.dtype != input.dtype:
        out = out.to(input.dtype)
    return _inplace(input, out) if inplace else out


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,  # noqa: A002
          training: bool = False, inplace: bool = False, generator=None) -> Tensor:
    """Randomized leaky ReLU: while training, each negative entry is scaled by its own slope
    drawn from U(lower, upper); otherwise by the mean slope (lower + upper) / 2.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.rrelu(cr.tensor([-3.0, 1.0]), 0.2, 0.4).tolist()
        [-0.9000000357627869, 1.0]
    """
    input = check.floating(input, "rrelu")  # noqa: A001
    lower = check.number(lower, "rrelu", "lower")
    upper = check.number(upper, "rrelu", "upper")
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu(): need 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        out = _leaky_relu(input, (lower + upper) / 2)
    else:
        dt = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
        slopes = _gen(generator).uniform(lower, upper, input.shape).astype(dt)
        out = where(input >= 0, input, input * _wrap(slopes))
    return _inplace(input, out) if inplace else out


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1, generator=None) -> Tensor:
    """Samples from the Gumbel-softmax distribution: softmax((logits + g) / tau) with Gumbel
    noise g. With ``hard`` the result is one-hot in the forward but keeps the soft sample's
    gradient (straight-through).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y = F.gumbel_softmax(cr.zeros(2, 5), hard=True)
        >>> y.sum(dim=-1).tolist()
        [1.0, 1.0]
    """
    logits = check.floating(logits, "gumbel_softmax", "logits")
    tau = check.number(tau, "gumbel_softmax", "tau")
    dim = check.dim(dim, logits.ndim, "gumbel_softmax")
    dt = logits.dtype
    gumbels = -np.log(_gen(generator).exponential(1.0, logits.shape)).astype(dt)
    soft = _softmax((logits + _wrap(gumbels)) / tau, dim)
    if not hard:
        return soft
    d = dim % soft.ndim
    index = np.expand_dims(soft._data.argmax(axis=d), d)
    one_hot = np.zeros(soft.shape, dtype=soft.dtype)
    np.put_along_axis(one_hot, index, 1.0, axis=d)
    return soft + (_wrap(one_hot) - soft.detach())


def softmax2d(input: Tensor) -> Tensor:  # noqa: A002
    """Softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W) inputs."""
    input = check.floating(input, "softmax2d")  # noqa: A001
    if input.ndim not in (3, 4):
        raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {input.shape}")
    return _softmax(input, -3)


def _inplace_variant(fn, name: str):
    def variant(input: Tensor, *args, **kwargs) -> Tensor:  # noqa: A002
        return fn(input, *args, inplace=True, **kwargs)

    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = (f"``{fn.__name__}`` written into the input when no graph holds it (see "
                       "the module's docstring).")
    return variant


relu_ = _inplace_variant(relu, "relu_")
elu_ = _inplace_variant(elu, "elu_")
leaky_relu_ = _inplace_variant(leaky_relu, "leaky_relu_")
hardtanh_ = _inplace_variant(hardtanh, "hardtanh_")
celu_ = _inplace_variant(celu, "celu_")
selu_ = _inplace_variant(selu, "selu_")
threshold_ = _inplace_variant(threshold, "threshold_")
rrelu_ = _inplace_variant(rrelu, "rrelu_")
