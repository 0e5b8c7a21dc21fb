"""Special functions: expm1, erfinv, atan2, hypot.

Integer inputs compute in the default float dtype, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from .elementwise import _erf
from .op import Op

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0

# W. J. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single-precision
# polynomials in w = -ln(1 - y^2), a central one and a tail one.
_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coeffs, w):
    p = np.full_like(w, coeffs[0])
    for c in coeffs[1:]:
        p = p * w + c
    return p


_erfc_scalar = np.frompyfunc(math.erfc, 1, 1)


def _erfinv(y):
    """The inverse error function: Giles' polynomial, then four Newton steps (which bring it
    to double precision, also at 1 - 1e-16). erfinv(+-1) = +-inf; NaN outside [-1, 1].

    For |y| >= 0.5 Newton solves erfc(x) = 1 - |y| in logarithms: 1 - |y| is exact there and
    erfc keeps its relative precision in the tail, where erf(x) - |y| would cancel to a few
    digits (erfinv(1 - 1e-10) would be right to only 1e-8).
    """
    y = np.asarray(y)
    dtype = y.dtype if y.dtype.kind == "f" else np.dtype(np.float64)
    y64 = y.astype(np.float64)
    inside = np.abs(y64) < 1
    a = np.where(inside, np.abs(y64), 0.0)
    w = -np.log((1.0 - a) * (1.0 + a))
    x = a * np.where(w < 5.0, _horner(_CENTRAL, w - 2.5), _horner(_TAIL, np.sqrt(w) - 3.0))
    tail = a >= 0.5
    log_t = np.log(np.where(tail, 1.0 - a, 1.0))
    for _ in range(4):
        slope = _TWO_OVER_SQRT_PI * np.exp(-x * x)  # d erf(x)/dx
        erfc = np.asarray(_erfc_scalar(x), dtype=np.float64)
        # tail: Newton on log(erfc(x)) = log(1 - |y|), nearly linear there (on erfc itself it
        # creeps); centre: Newton on erf(x) = |y|
        step = np.where(tail, (np.log(np.where(tail, erfc, 1.0)) - log_t) * erfc,
                        a - _erf(x))
        x = x + step / slope
    x = np.copysign(x, y64)
    x = np.where(inside, x, np.where(np.abs(y64) == 1, np.copysign(np.inf, y64), np.nan))
    return x.astype(dtype)


class Expm1(Op):
    """e^x - 1, accurate for small x.

    Example:
        >>> import chainrule as cr
        >>> cr.expm1(cr.tensor([0.0, 1e-10], dtype=cr.float64)).tolist()
        [0.0, 1.00000000005e-10]
    """

    kind, method, promote = "elementwise", True, "float"
    fresh_grads, quiet = True, True
    formula = "d (e^x - 1)/dx = e^x"
    nan_hint = "expm1 overflowed (above ~88 in float32)"
    forward = np.expm1

    def backward(F, g, out, x):
        return (g * (out + 1),)


class Erfinv(Op):
    """The inverse of the error function on (-1, 1); +-inf at +-1, NaN outside.

    Example:
        >>> import chainrule as cr
        >>> round(cr.erfinv(cr.tensor([0.5], dtype=cr.float64)).item(), 12)
        0.476936276204
    """

    kind, method, promote = "elementwise", True, "float"
    fresh_grads, quiet = True, True
    formula = "d erfinv(y)/dy = sqrt(pi)/2 exp(erfinv(y)^2)"
    nan_hint = "erfinv of a value outside [-1, 1]"
    nan_grad_hint = "the derivative of erfinv is infinite at +-1"
    forward = _erfinv

    def backward(F, g, out, x):
        return (g * _SQRT_PI_OVER_2 * F.exp(out * out),)


class Atan2(Op):
    """The angle of the point (other, input): arctan(input / other) in the right quadrant.

    The gradient at (0, 0) is 0, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> cr.atan2(cr.tensor([1.0, -1.0]), cr.tensor([-1.0, -1.0])).tolist()
        [2.356194496154785, -2.356194496154785]
    """

    kind, method, promote, aliases = "elementwise", True, "float", ("arctan2",)
    fresh_grads, quiet = True, True
    formula = "d atan2(a, b)/da = b/(a^2+b^2), d/db = -a/(a^2+b^2)"
    forward = np.arctan2

    def backward(F, g, out, a, b):
        r2 = a * a + b * b
        scale = g / F.where(r2 == 0, 1.0, r2)  # at (0, 0) both numerators are 0
        return scale * b, -scale * a


class Hypot(Op):
    """sqrt(input^2 + other^2), elementwise, without overflow for large inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.hypot(cr.tensor([3.0]), cr.tensor([4.0])).tolist()
        [5.0]
    """

    kind, method, promote = "elementwise", True, "float"
    fresh_grads, quiet = True, True
    formula = "d hypot(a, b)/da = a/hypot(a, b)"
    nan_grad_hint = "the derivative of hypot is 0/0 at (0, 0)"
    forward = np.hypot

    def backward(F, g, out, a, b):
        scale = g / out
        return scale * a, scale * b


expm1, erfinv, atan2, hypot = Expm1.call, Erfinv.call, Atan2.call, Hypot.call
arctan2 = atan2
