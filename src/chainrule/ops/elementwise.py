"""Elementwise primitives of one tensor: each forward next to its derivative."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _validate as check
from .. import dtypes
from ..tensor import Tensor, _wrap
from . import _special
from ._util import as_tensor, dense_order, inverse_order, like_one, zeros_like_grad
from .op import Op, public

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


_min_reduce = np.minimum.reduce


def _sigmoid(x):
    """1/(1+e^-x) for any finite x, PyTorch's formula.

    For x < -88 (float32) e^-x overflows to inf and the result is 0, as in PyTorch (the true
    value is below the smallest normal float), so only the overflow warning needs silencing.
    One exp, done in place, is 2-3x faster on large arrays than an exp(-|x|) and np.where
    formulation. ``np.errstate`` costs about as much as the whole op on a tiny array, so it is
    entered only when some x can overflow (one cheap min-reduction decides).
    """
    if x.ndim == 0 or x.dtype.kind != "f":  # NumPy scalars and ints: no in-place buffers
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-x))
    if x.size == 1:
        return like_one(x, _sigmoid_float(x.item()))
    e = np.negative(x)
    if not x.size or _min_reduce(x, axis=None) >= -88.0:  # False for NaN: the careful path
        np.exp(e, out=e)
    else:
        with np.errstate(over="ignore"):
            np.exp(e, out=e)
    e += 1
    np.reciprocal(e, out=e)
    return e


_ZERO_BLOCK = 16384  # elements: the shared zero operand of ``_relu`` (64 KiB in float32)
_ZEROS: dict = {}  # dtype -> read-only zeros of _ZERO_BLOCK elements


def _relu(x):
    """max(x, 0), NaN kept, at the speed of an array-array ufunc.

    NumPy's ``maximum`` of an array and a scalar runs a loop 2-4x slower than its array-array
    loop (measured on AVX2: 129 against 45 us on 256K float32), so a float array is compared
    with a small cached block of zeros instead, viewed over the array in rows of the block's
    length (the block stays in cache).
    """
    n = x.size
    if x.dtype.kind != "f" or n < 1024:
        return np.maximum(x, 0)
    if not x.flags.c_contiguous:
        order = dense_order(x)
        if order is None:
            return np.maximum(x, 0)
        # A dense array stored in another axis order (a convolution's output): the same loop
        # over its memory, and the result keeps that order.
        return _relu(x.transpose(order)).transpose(inverse_order(order))
    zeros = _ZEROS.get(x.dtype)
    if zeros is None:
        zeros = np.zeros(_ZERO_BLOCK, x.dtype)
        zeros.flags.writeable = False
        _ZEROS[x.dtype] = zeros
    if n <= _ZERO_BLOCK:
        return np.maximum(x, zeros[:n].reshape(x.shape))
    out = np.empty(x.shape, x.dtype)
    rows, tail = divmod(n, _ZERO_BLOCK)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)
    body = rows * _ZERO_BLOCK
    np.maximum(flat_x[:body].reshape(rows, _ZERO_BLOCK), zeros,
               out=flat_out[:body].reshape(rows, _ZERO_BLOCK))
    if tail:
        np.maximum(flat_x[body:], zeros[:tail], out=flat_out[body:])
    return out


def _sigmoid_float(v: float) -> float:
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    if v != v:  # NaN
        return v
    e = math.exp(v)  # v < 0: no overflow, and no cancellation for large |v|
    return e / (1.0 + e)


def _erf(x):
    """The error function to within an ulp or two (NumPy has none; see ``_special``)."""
    return _special.erf(x)


class Neg(Op):
    """-x, elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.neg(cr.tensor([1.0, -2.0])).tolist()
        [-1.0, 2.0]
    """

    kind, method, aliases, symbol = "elementwise", True, ("negative",), "-"
    formula = "d(-x)/dx = -1"
    fresh_grads = True
    forward = np.negative

    def call(input):  # noqa: A002
        x = input if type(input) is Tensor else as_tensor(input, "neg")
        if x._data.dtype.kind == "b":
            raise TypeError("neg(): negating a bool tensor is not supported (nor in PyTorch); "
                            "to invert a mask use ~x or cr.logical_not(x)")
        return Neg.record(x)

    def backward(F, g, out, x):
        return (-g,)


class Exp(Op):
    """e^x, elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.exp(cr.tensor([0.0])).tolist()
        [1.0]
    """

    kind, method, promote = "elementwise", True, "float"
    formula = "d exp(x)/dx = exp(x)"
    nan_hint = ("exp overflowed (above ~88 in float32): use logsumexp / softmax, which subtract "
                "the max")
    latex = r"\frac{d e^x}{dx} = e^x"
    fresh_grads, quiet = True, True
    forward = np.exp

    def backward(F, g, out, x):
        return (g * out,)


class Log(Op):
    """Natural logarithm, elementwise."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d ln(x)/dx = 1/x"
    latex = r"\frac{d \ln x}{dx} = \frac{1}{x}"
    nan_hint = ("log of a value <= 0: clamp the input (x.clamp(min=1e-12)), or use log_softmax / "
                "cross_entropy instead of log(softmax(x))")
    nan_grad_hint = "the derivative 1/x is infinite at x = 0: clamp the input away from 0"
    fresh_grads, quiet = True, True
    forward = np.log

    def backward(F, g, out, x):
        return (g / x,)


class Log1p(Op):
    """ln(1 + x), accurate for small x."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d ln(1+x)/dx = 1/(1+x)"
    fresh_grads, quiet = True, True
    forward = np.log1p

    def backward(F, g, out, x):
        return (g / (1 + x),)


class Sqrt(Op):
    """Square root, elementwise."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d sqrt(x)/dx = 1/(2 sqrt(x))"
    nan_hint = "sqrt of a negative value: clamp the input at 0"
    nan_grad_hint = "the derivative 1/(2 sqrt(x)) is infinite at x = 0: use sqrt(x + eps)"
    latex = r"\frac{d\sqrt{x}}{dx} = \frac{1}{2\sqrt{x}}"
    fresh_grads, quiet = True, True
    forward = np.sqrt

    def backward(F, g, out, x):
        return (g / (2 * out),)


class Abs(Op):
    """|x|, elementwise (gradient 0 at 0)."""

    kind, method = "elementwise", True
    bools_ok = False
    formula = "d|x|/dx = sign(x)"
    fresh_grads = True
    forward = np.abs

    def backward(F, g, out, x):
        return (g * F.sign(x),)


class Sign(Op):
    """-1, 0 or 1, elementwise (zero gradient); a bool tensor is its own sign.

    Example:
        >>> import chainrule as cr
        >>> cr.sign(cr.tensor([-2.0, 0.0, 3.0])).tolist(), cr.sign(cr.tensor([True])).tolist()
        ([-1.0, 0.0, 1.0], [True])
    """

    kind, method = "elementwise", True
    formula = "d sign(x)/dx = 0"
    fresh_grads = True

    def forward(x):
        out = np.sign(x)
        if x.dtype.kind == "f":
            nan = np.isnan(out)
            if nan.any():  # PyTorch: sign(NaN) = 0
                out = np.where(nan, np.zeros((), out.dtype), out)
        return out

    def call(input):  # noqa: A002
        x = check.real(as_tensor(input, "sign"), "sign")
        if x._data.dtype.kind == "b":
            return _wrap(x._data.copy())
        return Sign.record(x)

    def backward(F, g, out, x):
        return (zeros_like_grad(F, g),)  # zeros, not None: x.grad exists, as in PyTorch


class Sin(Op):
    """Sine, elementwise."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d sin(x)/dx = cos(x)"
    fresh_grads = True
    forward = np.sin

    def backward(F, g, out, x):
        return (g * F.cos(x),)


class Cos(Op):
    """Cosine, elementwise."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d cos(x)/dx = -sin(x)"
    fresh_grads = True
    forward = np.cos

    def backward(F, g, out, x):
        return (-g * F.sin(x),)


class Tanh(Op):
    """Hyperbolic tangent, elementwise."""

    kind, method, promote = "activation", True, "float"
    formula = "d tanh(z)/dz = 1 - t^2"
    latex = r"\frac{d\tanh z}{dz} = 1 - \tanh^2 z"
    gate = "saturates"
    forward = np.tanh
    fresh_grads = True

    def backward(F, g, out, x):
        if F.owns_g and g.dtype == out.dtype:
            g *= 1 - out * out
            return (g,)
        return (g * (1 - out * out),)

    def slope(out):
        return 1 - out * out


class Sigmoid(Op):
    """1/(1+e^-x), elementwise; stable for any finite input.

    Example:
        >>> import chainrule as cr
        >>> cr.sigmoid(cr.tensor([0.0])).tolist()
        [0.5]
    """

    kind, method, promote = "activation", True, "float"
    formula = "d sigmoid(z)/dz = s(1-s)"
    latex = r"\frac{d\sigma(z)}{dz} = \sigma(z)\,(1-\sigma(z))"
    gate, max_slope = "saturates", 0.25
    forward = _sigmoid
    fresh_grads = True

    def backward(F, g, out, x):
        if out.size == 1 and g.size == 1 and not F.differentiable:
            s = out.item()
            return (like_one(g, g.item() * (s * (1.0 - s))),)
        if F.owns_g and g.dtype == out.dtype:
            t = 1 - out
            t *= out
            g *= t
            return (g,)
        return (g * out * (1 - out),)

    def slope(out):
        return out * (1 - out)


class Relu(Op):
    """max(0, x), elementwise."""

    kind, method = "activation", True
    bools_ok = False  # PyTorch: "Boolean inputs not supported for relu"
    formula = "d relu(z)/dz = 1 if z > 0 else 0"
    latex = r"\frac{d\,\mathrm{ReLU}(z)}{dz} = [z > 0]"
    gate, title, dead_when = "dies", "ReLU", "z <= 0"
    fresh_grads = True

    def forward(x):
        return _relu(x)

    def backward(F, g, out, x):
        if F.owns_g:  # the upstream array is ours: mask it in place, no new array
            np.multiply(g, out > 0, out=g)
            return (g,)
        return (g * (out > 0),)

    def slope(out):
        return (out > 0).astype(out.dtype)


class LeakyRelu(Op):
    """x if x > 0 else negative_slope * x."""

    kind, method, promote = "activation", True, "float_only"  # PyTorch refuses ints
    formula = "d leaky_relu(z)/dz = 1 if z > 0 else slope"
    fresh_grads = True

    def call(input, negative_slope: float = 0.01):  # noqa: A002
        return LeakyRelu.apply(input, slope=negative_slope)

    def forward(x, slope):
        return np.where(x > 0, x, x * slope)

    def backward(F, g, out, x, slope):
        return (F.where(x > 0, g, g * slope),)


class Elu(Op):
    """x if x > 0 else alpha * (e^x - 1)."""

    kind, method, promote = "activation", True, "float_only"  # PyTorch refuses ints
    formula = "d elu(z)/dz = 1 if z > 0 else elu(z) + alpha"
    fresh_grads = True

    def call(input, alpha: float = 1.0):  # noqa: A002
        return Elu.apply(input, alpha=check.number(alpha, "elu", "alpha"))

    def forward(x, alpha):
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    def backward(F, g, out, x, alpha):
        # alpha e^x from x, PyTorch's formula (out + alpha is inf - inf for an infinite alpha)
        return (F.where(x > 0, g, g * (F.exp(F.where(x > 0, 0.0, x)) * alpha)),)


class Softplus(Op):
    """ln(1 + e^(beta x)) / beta, linear where beta*x > threshold; stable for any input."""

    kind, method, promote = "activation", True, "float_only"  # PyTorch refuses ints
    formula = "d softplus(z)/dz = sigmoid(beta z)"
    fresh_grads = True

    def call(input, beta: float = 1.0, threshold: float = 20.0):  # noqa: A002
        return Softplus.apply(input, beta=check.number(beta, "softplus", "beta"),
                              threshold=check.number(threshold, "softplus", "threshold"))

    def forward(x, beta, threshold):
        z = x * beta
        soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
        return np.where(z > threshold, x, soft)

    def backward(F, g, out, x, beta, threshold):
        z = x * beta
        return (F.where(z > threshold, g, g * F.sigmoid(z)),)


class Silu(Op):
    """x * sigmoid(x) (also called swish)."""

    kind, method, promote = "activation", True, "float_only"  # PyTorch refuses ints
    formula = "d silu(z)/dz = s(z)(1 + z(1-s(z)))"
    fresh_grads = True

    def forward(x):
        return x * _sigmoid(x)

    def backward(F, g, out, x):
        s = F.sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)


class Erf(Op):
    """The Gauss error function, elementwise."""

    kind, method, promote = "elementwise", True, "float"
    formula = "d erf(x)/dx = 2/sqrt(pi) exp(-x^2)"
    fresh_grads = True
    forward = _erf

    def backward(F, g, out, x):
        return (g * _TWO_OVER_SQRT_PI * F.exp(-(x * x)),)


class Gelu(Op):
    """x * Phi(x) (Phi: the standard normal CDF); ``approximate="tanh"`` for the tanh formula.

    The exact form is computed without an elementwise Python ``erf``: float32 through a
    rational approximation of the normal tail (a few ulp, and accurate in the far negative tail,
    where PyTorch's ``0.5 * (1 + erf(x / sqrt 2))`` cancels to zero), float64 through the
    vectorized ``erf``. The forward also keeps the local derivative, so the backward is one
    multiplication.
    """

    kind, method, promote = "activation", True, "float_only"  # PyTorch refuses ints
    formula = "d gelu(z)/dz = Phi(z) + z phi(z)"
    fresh_grads = True
    saves = True

    def call(input, approximate: str = "none"):  # noqa: A002
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
        return Gelu.apply(input, approximate=approximate)

    def forward(x, approximate):
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))), None
        return _special.gelu_exact(x)

    def backward(F, g, out, x, approximate, saved=None):
        if not F.differentiable and saved is not None:
            if F.owns_g and g.dtype == saved.dtype and g.shape == saved.shape:
                g *= saved
                return (g,)
            return (g * saved,)
        if approximate == "tanh":
            inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
            t = F.sigmoid(2 * inner) * 2 - 1  # tanh written with the backend's sigmoid
            dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner),)
        cdf = 0.5 * (1 + F.erf(x / _SQRT2))
        pdf = F.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (g * (cdf + x * pdf),)


class Clamp(Op):
    """Limit values to [min, max]; the gradient passes only inside the range.

    ``min`` and ``max`` may be numbers or tensors (broadcast against x); tensor bounds receive
    the gradient where they are the output, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.clamp(cr.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
        [-1.0, 0.5, 1.0]
    """

    kind, method, aliases = "elementwise", True, ("clip",)
    formula = "d clamp(x)/dx = 1 if lo <= x <= hi else 0"
    fresh_grads = True

    def call(input, min=None, max=None):  # noqa: A002
        if min is None and max is None:
            raise ValueError("clamp(): at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            from .binary import where

            y = check.real(as_tensor(input, "clamp"), "clamp")
            bounds = [(n, b) for n, b in (("min", min), ("max", max)) if b is not None]
            check.elementwise("clamp", ("input",) + tuple(n for n, _ in bounds), y,
                              *(b for _, b in bounds))
            if min is not None:
                y = where(y < min, min, y)
            if max is not None:
                y = where(y > max, max, y)
            return y
        x = check.real(as_tensor(input, "clamp"), "clamp")
        for bound, name in ((min, "min"), (max, "max")):
            if bound is not None:
                check.number(bound, "clamp", name)
        if x._data.dtype.kind in "biu" and any(
                isinstance(b, (float, np.floating)) for b in (min, max)):
            x = cast(x, dtypes.get_default_dtype())  # int tensor, float bound: PyTorch's float
        return Clamp.record(x, lo=min, hi=max)

    def forward(x, lo, hi):
        return np.clip(x, lo, hi)

    def backward(F, g, out, x, lo, hi):
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return (g * mask,)


class PowScalar(Op):
    """x^p for a constant p (the public ``pow`` also takes a tensor exponent)."""

    public, kind, symbol = None, "elementwise", "^"
    formula = "d x^p/dx = p x^(p-1)"
    nan_hint = "a negative base to a fractional power, or 0 to a negative power"
    nan_grad_hint = "x^p with p < 1 has an infinite derivative at x = 0"
    latex = r"\frac{d x^p}{dx} = p\,x^{p-1}"
    fresh_grads, quiet = True, True

    def forward(x, p):
        if p == 2:
            return x * x
        return np.power(x, p)

    def backward(F, g, out, x, p):
        if p == 2:
            return (g * 2 * x,)
        if p == 1:
            return (g * 1,)
        if p == 0:
            return (zeros_like_grad(F, g),)  # zeros, not None: x.grad exists, as in PyTorch
        return (g * p * x ** (p - 1),)


class Clone(Op):
    """A copy of x with its own memory; gradients flow back."""

    kind, method = "conversion", True
    formula = "d copy(x)/dx = 1"

    def forward(x):
        return x.copy()

    def backward(F, g, out, x):
        return (g,)


class Cast(Op):
    """x converted to another dtype (``Tensor.to``); differentiable between floating types."""

    public, kind = None, "conversion"
    formula = "d cast(x)/dx = 1"
    fresh_grads = True

    def forward(x, dtype):
        return x.astype(dtype)

    def backward(F, g, out, x, dtype):
        if out.dtype.kind not in "fc" or x.dtype.kind not in "fc":
            return (None,)
        return (g.to(x.dtype) if F.differentiable else g.astype(x.dtype),)


# ---- functions built from the primitives above --------------------------------------------


@public(method=True, kind="elementwise")
def rsqrt(input) -> Tensor:  # noqa: A002
    """1/sqrt(x), elementwise.

    Example:
        >>> import chainrule as cr
        >>> cr.rsqrt(cr.tensor([4.0])).tolist()
        [0.5]
    """
    from .binary import div

    x = check.real(as_tensor(input, "rsqrt"), "rsqrt")
    # 1 / sqrt(x), PyTorch's: rsqrt(-inf) is NaN and rsqrt(-0.0) is -inf, where x ** -0.5 gives
    # 0 and +inf
    return div(1.0, sqrt(x))


@public(method=True, kind="elementwise")
def pow(input, exponent) -> Tensor:  # noqa: A001,A002
    """x ** exponent; a tensor exponent is differentiable too.

    Example:
        >>> import chainrule as cr
        >>> cr.pow(cr.tensor([2.0, 3.0]), 2).tolist()
        [4.0, 9.0]
    """
    if isinstance(exponent, (Tensor, np.ndarray)):
        from .binary import pow_tensor

        return pow_tensor(input, exponent)
    x = as_tensor(input, "pow")
    if not isinstance(exponent, (numbers.Real, np.generic)):
        raise TypeError(f"pow(): unsupported operand types Tensor and {type(exponent).__name__}; "
                        "the exponent must be a number or a Tensor")
    if x._data.dtype.kind in "biu" and isinstance(exponent, (float, np.floating)):
        x = cast(x, dtypes.get_default_dtype())
    elif x._data.dtype.kind == "b":
        x = cast(x, np.int64)  # bool ** int is int64 in PyTorch
    return PowScalar.record(x, p=exponent)


@public(method=True, kind="elementwise")
def square(input) -> Tensor:  # noqa: A002
    """x * x.

    Example:
        >>> import chainrule as cr
        >>> cr.square(cr.tensor([2, -3])).tolist()
        [4, 9]
    """
    return pow(check.real(as_tensor(input, "square"), "square"), 2)


def cast(x, dtype) -> Tensor:
    """x converted to ``dtype``; differentiable between floating types."""
    dtype = dtypes.as_dtype(dtype)
    x = as_tensor(x, "to")
    if x._data.dtype == dtype:
        return x
    t = Cast.record(x, dtype=dtype)
    if dtype.kind not in "fc":
        t._node, t.requires_grad = None, False
    return t


neg, exp, log, log1p, sqrt = Neg.call, Exp.call, Log.call, Log1p.call, Sqrt.call
abs, sign, sin, cos, tanh = Abs.call, Sign.call, Sin.call, Cos.call, Tanh.call  # noqa: A001
sigmoid, relu, leaky_relu, elu, softplus = (Sigmoid.call, Relu.call, LeakyRelu.call, Elu.call,
                                            Softplus.call)
silu, erf, gelu, clamp, clone = Silu.call, Erf.call, Gelu.call, Clamp.call, Clone.call
clip = clamp
