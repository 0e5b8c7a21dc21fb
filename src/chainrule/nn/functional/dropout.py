"""Dropout: zero each element with probability p in training, scale the rest by 1/(1-p)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _validate as check
from ...autograd.graph import apply
from ...ops._util import dense_order, inverse_order
from ...ops.op import Op
from ...random import _gen
from ...tensor import Tensor, _wrap


class Dropout(Op):
    """x * mask / (1 - p);  d/dx = mask / (1 - p)"""

    public, kind = None, "dropout"
    fresh_grads = True
    formula = "d dropout(x)/dx = mask / (1 - p)"

    def forward(x, mask):
        return x * mask

    def backward(F, g, out, x, mask):
        if F.owns_g and g.shape == mask.shape and g.dtype == mask.dtype:
            g *= mask
            return (g,)
        return (g * mask,)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False, generator=None) -> Tensor:
    """Randomly zero elements with probability ``p`` (training only), scaling the kept ones by
    ``1/(1-p)`` so the expectation is unchanged. Draws from the global generator unless
    ``generator`` is given.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y = F.dropout(cr.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    input, p, training = _args(input, p, training, "dropout")  # noqa: A001
    if not training or p == 0.0:
        return input
    return _masked(input, input.shape, p, generator)


def _args(input, p, training, name: str):  # noqa: A002
    """A dropout's input (floating in training: PyTorch's kernels scale it), p in [0, 1] and
    the training flag."""
    input = check.real(check.tensor(input, name), name)  # noqa: A001
    p = check.number(p, name, "p", low=0.0, high=1.0)
    training = check.flag(training, name, "training")
    if training and p > 0.0 and input._data.dtype.kind != "f":
        check.floating(input, name)
    return input, p, training


def _masked(input: Tensor, mask_shape, p: float, generator) -> Tensor:  # noqa: A002
    """x times a scaled keep-mask of ``mask_shape`` (broadcast over the remaining dims)."""
    dt = input._data.dtype if input._data.dtype.kind == "f" else np.dtype(np.float32)
    x = input._data
    order = None
    if tuple(mask_shape) == x.shape and not x.flags.c_contiguous and x.size >= 1024:
        # Stored in another axis order (a convolution's output, batch innermost): make the mask
        # in the same order, or every pass over x, the mask and the gradient runs strided.
        order = dense_order(x)
    shape = mask_shape if order is None else tuple(x.shape[i] for i in order)
    if p == 1.0:
        mask = np.zeros(shape, dtype=dt)
    else:
        mask = _keep(_gen(generator), shape, p).astype(dt)
        mask *= dt.type(1.0 / (1.0 - p))
    if order is not None:
        mask = mask.transpose(inverse_order(order))
    return apply(Dropout, (input,), {"mask": mask})


def _keep(rng: np.random.Generator, shape, p: float) -> np.ndarray:
    """A boolean array, each entry True with probability 1 - p (p rounded to a multiple of
    2^-32, finer than the 2^-24 steps of a float32 uniform).

    Each entry compares 16 random bits with the top half of p * 2^32; the rare entries whose
    bits equal it (one in 65,536) draw 16 more bits for the bottom half, so the comparison is
    exactly that of 32-bit draws. The bits come straight from the bit generator
    (``random_raw``, four entries per 64-bit draw): 2-3x faster than drawing float uniforms,
    which convert each draw.
    """
    n = math.prod(shape)
    hi, lo = divmod(min(round(p * 2.0 ** 32), 2 ** 32 - 1), 1 << 16)
    bits = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n]
    keep = np.greater_equal(bits, np.uint16(hi))
    if lo:
        ties = np.flatnonzero(bits == hi)
        if ties.size:
            low = rng.bit_generator.random_raw(ties.size).astype(np.uint64) & np.uint64(0xFFFF)
            keep[ties] = low >= lo
    return keep.reshape(shape)


def _channel_dropout(input, p, training, generator, spatial: int, name: str):  # noqa: A002
    input, p, training = _args(input, p, training, name)  # noqa: A001
    if input.ndim < spatial + 1 or spatial == 1 and input.ndim > 3:  # PyTorch: 1d is strict
        raise ValueError(f"{name}: expected a {spatial + 2}-D (batched) or {spatial + 1}-D "
                         f"input, got shape {input.shape}")
    if input.ndim > spatial + 2:  # PyTorch warns and drops channels (dim 1) of such inputs
        warnings.warn(f"{name}: received a {input.ndim}-D input; dropping whole channels "
                      "(dim 1) of it", UserWarning, stacklevel=3)
    if not training or p == 0.0:
        return input
    lead = input.shape[:2] if input.ndim >= spatial + 2 else input.shape[:1]
    return _masked(input, lead + (1,) * (input.ndim - len(lead)), p, generator)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator=None) -> Tensor:
    """Zero whole channels of (N, C, L) / (C, L) inputs with probability ``p`` (training only).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y = F.dropout1d(cr.ones(2, 500, 3))
        >>> bool(((y == 0).all(dim=-1) | (y == 2).all(dim=-1)).all())
        True
    """
    return _channel_dropout(input, p, training, generator, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator=None) -> Tensor:
    """Zero whole feature maps of (N, C, H, W) / (C, H, W) inputs with probability ``p``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.dropout2d(cr.ones(2, 3, 4, 4), training=False).shape
        (2, 3, 4, 4)
    """
    return _channel_dropout(input, p, training, generator, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator=None) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) / (C, D, H, W) inputs with probability ``p``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.dropout3d(cr.ones(2, 3, 2, 2, 2), training=False).shape
        (2, 3, 2, 2, 2)
    """
    return _channel_dropout(input, p, training, generator, 3, "dropout3d")


# -alpha' = -scale * alpha of SELU: the value SELU saturates to, which dropped units take
_SELU_SATURATION = 1.7580993408473766


def _alpha_masked(input, mask_shape, p, generator, name):  # noqa: A002
    """PyTorch's alpha dropout: kept units a*x + a*alpha'*p, dropped ones a*alpha'*(p-1), with
    a = 1/sqrt((alpha'^2 p + 1)(1 - p)) so that mean 0 and variance 1 are kept."""
    dt = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        return input * 0.0
    u = _gen(generator).random(mask_shape)
    keep = (u >= p).astype(dt)
    alpha = _SELU_SATURATION
    a = 1.0 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    shift = ((keep - 1) * (alpha * a) + alpha * a * p).astype(dt)
    return input * _wrap(keep * dt.type(a)) + _wrap(shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False, generator=None) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's saturation value and the result is
    rescaled so that zero mean and unit variance are kept (training only).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.alpha_dropout(cr.ones(3), 0.5).tolist()
        [1.0, 1.0, 1.0]
    """
    input, p, training = _args(input, p, training, "alpha_dropout")  # noqa: A001
    if not training or p == 0.0:
        return input
    return _alpha_masked(input, input.shape, p, generator, "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,  # noqa: A002
                          inplace: bool = False, generator=None) -> Tensor:
    """Alpha dropout of whole channels (dim 1) of (N, C, *) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.feature_alpha_dropout(cr.ones(2, 3, 4), 0.5).shape
        (2, 3, 4)
    """
    input, p, training = _args(input, p, training, "feature_alpha_dropout")  # noqa: A001
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected input (N, C, *), got {input.shape}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _alpha_masked(input, shape, p, generator, "feature_alpha_dropout")
