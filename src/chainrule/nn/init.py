"""Weight initialisation, in place and under ``no_grad`` (PyTorch's ``torch.nn.init``).

Every function takes an optional ``generator=`` (a ``cr.Generator``); without one it draws from
the global generator that ``cr.manual_seed`` seeds.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import _gen
from ..tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended std scale for a nonlinearity (PyTorch's table).

    Example:
        >>> from chainrule.nn import init
        >>> round(init.calculate_gain("relu"), 4), init.calculate_gain("tanh")
        (1.4142, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain(): negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain(): unsupported nonlinearity {nonlinearity!r}")


def _check(tensor, fn: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{fn}(): expected a Tensor, got {type(tensor).__name__}")
    if tensor._data.dtype.kind != "f":
        raise TypeError(f"init.{fn}(): needs a floating-point tensor, got {tensor.dtype}")
    return tensor


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        np.copyto(tensor._data, values, casting="unsafe")
        tensor._version += 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dims, got shape "
                         f"{tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from U(a, b).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.uniform_(cr.empty(3), -1, 1)
        >>> bool((w.abs() <= 1).all())
        True
    """
    _check(tensor, "uniform_")
    return _fill(tensor, _gen(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with draws from N(mean, std^2).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.normal_(cr.empty(2, 3), std=0.02).shape
        (2, 3)
    """
    _check(tensor, "normal_")
    return _fill(tensor, _gen(generator).normal(mean, std, tensor.shape))


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_ACKLAM_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_ACKLAM_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
             6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
             3.754408661907416e+00, 1.0)


def _ndtri(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile of probabilities ``p`` in (0, 1) (NumPy has none)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low, high = p < 0.02425, p > 1 - 0.02425
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = q * np.polyval(_ACKLAM_A, r) / np.polyval(_ACKLAM_B, r)
    for mask, sign, tail in ((low, 1.0, p[low]), (high, -1.0, 1.0 - p[high])):
        q = np.sqrt(-2.0 * np.log(tail))
        out[mask] = sign * np.polyval(_ACKLAM_C, q) / np.polyval(_ACKLAM_D, q)
    return out


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with draws from N(mean, std^2) truncated to [a, b] (bounds in the tensor's units).

    Drawn as PyTorch does, by the inverse of the normal CDF on uniform draws between CDF(a) and
    CDF(b), but in the lower tail where the CDF keeps its precision: exact for any interval,
    however far in the tail (PyTorch warns there instead), and with no rejection loop.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.trunc_normal_(cr.empty(100), a=-1.0, b=1.0)
        >>> bool((w.abs() <= 1).all())
        True
    """
    _check(tensor, "trunc_normal_")
    if not std > 0:
        raise ValueError(f"init.trunc_normal_(): std must be > 0, got {std}")
    if not a < b:
        raise ValueError(f"init.trunc_normal_(): the bounds need a < b, got a={a}, b={b}")
    lo, hi = (a - mean) / std, (b - mean) / std
    # Work in the lower tail, where the CDF keeps its relative precision.
    flip = lo > 0
    if flip:
        lo, hi = -hi, -lo
    u = _gen(generator).uniform(_norm_cdf(lo), _norm_cdf(hi), tensor.shape)
    u = np.clip(u, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
    z = np.clip(_ndtri(u), lo, hi)
    if flip:
        z = -z
    return _fill(tensor, np.clip(mean + std * z, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.constant_(cr.empty(2), 0.5).tolist()
        [0.5, 0.5]
    """
    _check(tensor, "constant_")
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.zeros_(cr.empty(2)).tolist()
        [0.0, 0.0]
    """
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.ones_(cr.empty(2)).tolist()
        [1.0, 1.0]
    """
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-D tensors).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.eye_(cr.empty(2, 2)).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"init.eye_(): needs a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.xavier_uniform_(cr.empty(3, 5))
        >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
        True
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _gen(generator).uniform(-a, a, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.init.xavier_normal_(cr.empty(3, 5)).shape
        (3, 5)
    """
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain from ``nonlinearity`` and ``a``.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.kaiming_uniform_(cr.empty(64, 100), nonlinearity="relu")
        >>> bool((w.abs() <= (6 / 100) ** 0.5).all())
        True
    """
    _check(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _fill(tensor, _gen(generator).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.kaiming_normal_(cr.empty(256, 512), nonlinearity='relu')
        >>> round(float(w.std()) * 512 ** 0.5 / 2 ** 0.5, 1)
        1.0
    """
    _check(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode)
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, _gen(generator).normal(0.0, std, tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``: rows (or columns) orthonormal.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.orthogonal_(cr.empty(3, 5, dtype=cr.float64))
        >>> bool(((w @ w.T) - cr.eye(3, dtype=cr.float64)).abs().max() < 1e-12)
        True
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"init.orthogonal_(): needs at least 2 dims, got shape {tensor.shape}")
    if tensor._data.size == 0:
        return tensor  # nothing to fill, as in PyTorch
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _gen(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    # The sign fix makes Q Haar-distributed rather than biased by the QR convention.
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """A sparse 2-D matrix: N(0, std^2) draws with ``ceil(sparsity * rows)`` entries of every
    column set to zero (Martens, 2010).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.sparse_(cr.empty(10, 3), sparsity=0.3)
        >>> (w == 0).sum(dim=0).tolist()
        [3, 3, 3]
    """
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(f"init.sparse_(): only 2-D tensors are supported, got shape "
                         f"{tensor.shape}")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"init.sparse_(): sparsity must be in [0, 1], got {sparsity}")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    rng = _gen(generator)
    values = rng.normal(0.0, std, (rows, cols))
    for j in range(cols):
        values[rng.permutation(rows)[:zeros], j] = 0.0
    return _fill(tensor, values)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The identity convolution: a 3-, 4- or 5-D kernel (out, in, *k) that copies input channel
    i to output channel i (per group) through the kernel's centre, zeros elsewhere.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.init.dirac_(cr.empty(2, 2, 3))
        >>> w[:, :, 1].tolist(), float(w.abs().sum())
        ([[1.0, 0.0], [0.0, 1.0]], 2.0)
    """
    _check(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"init.dirac_(): only 3-, 4- and 5-D tensors are supported, got shape "
                         f"{tensor.shape}")
    if not isinstance(groups, int) or groups < 1 or tensor.shape[0] % groups:
        raise ValueError(f"init.dirac_(): dim 0 ({tensor.shape[0]}) must be divisible by "
                         f"groups ({groups!r})")
    out_per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, tensor.shape[1])):
            values[(g * out_per_group + d, d) + centre] = 1.0
    return _fill(tensor, values)


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    return _fan(tensor, mode.lower() if isinstance(mode, str) else mode)


def _deprecated(fn):
    """PyTorch's old names without the trailing underscore: they warn, then do the same."""
    old = fn.__name__[:-1]

    def wrapper(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{fn.__name__}`.",
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = old
    wrapper.__doc__ = f"Deprecated: use ``{fn.__name__}``."
    return wrapper


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
    "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]
