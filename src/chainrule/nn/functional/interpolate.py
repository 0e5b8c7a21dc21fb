"""Resizing feature maps, as ``F.interpolate``: nearest, nearest-exact, (bi/tri)linear, bicubic
and area modes.

Every mode but 'area' is separable: each spatial axis is resized in turn by gathering source
positions along it and mixing them with constant weights, so the gradient is the indexing
rule's (each output adds back into the inputs it read). 'area' is adaptive average pooling.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _validate as check
from ...tensor import Tensor, _wrap

# mode -> the input ranks it accepts (batch and channel dims included)
_MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,),
          "trilinear": (5,), "bicubic": (4,), "area": (3, 4, 5)}
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic coefficient


def _sizes(input: Tensor, size, scale_factor, recompute: bool | None, mode: str):  # noqa: A002
    """Output sizes, and the scale factors the kernels use (None: derive from the sizes)."""
    spatial = input.shape[2:]
    k = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        if recompute:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        if isinstance(size, (tuple, list)) and len(size) != k:
            raise ValueError(f"interpolate: size {size} must be an int or {k} ints for the {k} "
                             f"spatial dims of input {input.shape}")
        out, factors = check.ints(size, k, "interpolate", "size", low=1), None
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * k
        if len(sf) != k:
            raise ValueError(f"interpolate: scale_factor {scale_factor} does not match the {k} "
                             f"spatial dims of input {input.shape}")
        sf = tuple(check.number(f, "interpolate", "scale_factor", low=0.0, low_open=True,
                                finite=True) for f in sf)
        out = tuple(int(math.floor(i * f)) for i, f in zip(spatial, sf))
        factors = None if recompute or mode == "area" else tuple(float(f) for f in sf)
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size {out} must be positive")
    check.alloc(input.shape[:2] + out, input._data.dtype, "interpolate")
    return out, factors


def _scale(n_in: int, n_out: int, factor, align_corners: bool) -> float:
    """Source step per output step (PyTorch's area_pixel_compute_scale)."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / factor if factor is not None else n_in / n_out


def _along(x: Tensor, axis: int, idx: np.ndarray) -> Tensor:
    return x[(slice(None),) * axis + (idx,)]


def _weights(w: np.ndarray, x: Tensor, axis: int) -> Tensor:
    return _wrap(w.astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - axis - 1)))


def _nearest_axis(x, axis, n_in, n_out, factor, exact: bool):
    scale = _scale(n_in, n_out, factor, False)
    if not exact and n_out % n_in == 0 and scale == n_in / n_out:
        # Integer upscaling: repeat by broadcasting (a cheap backward: a sum).
        r = n_out // n_in
        shape = x.shape[:axis + 1] + (r,) + x.shape[axis + 1:]
        rep = x.unsqueeze(axis + 1).broadcast_to(shape)
        return rep.reshape(x.shape[:axis] + (n_out,) + x.shape[axis + 1:])
    dst = np.arange(n_out, dtype=np.float64) + (0.5 if exact else 0.0)
    src = np.minimum(np.floor(dst * scale).astype(np.int64), n_in - 1)
    return _along(x, axis, src)


def _linear_axis(x, axis, n_in, n_out, factor, align_corners):
    scale = _scale(n_in, n_out, factor, align_corners)
    dst = np.arange(n_out, dtype=np.float64)
    src = dst * scale if align_corners else np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    a, b = _along(x, axis, i0), _along(x, axis, i1)
    w = src - i0
    # PyTorch's form: an infinite neighbour with weight 0 gives NaN the same way
    return a * _weights(1.0 - w, x, axis) + b * _weights(w, x, axis)


def _cubic_weights(t: np.ndarray) -> list:
    a = _CUBIC_A

    def near(v):  # |v| <= 1
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v):  # 1 < |v| < 2
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_axis(x, axis, n_in, n_out, factor, align_corners):
    scale = _scale(n_in, n_out, factor, align_corners)
    dst = np.arange(n_out, dtype=np.float64)
    src = dst * scale if align_corners else (dst + 0.5) * scale - 0.5  # no clamp for cubic
    base = np.floor(src).astype(np.int64)
    t = src - base
    out = None
    for tap, w in enumerate(_cubic_weights(t)):
        idx = np.clip(base - 1 + tap, 0, n_in - 1)  # edge values repeat past the borders
        term = _along(x, axis, idx) * _weights(w, x, axis)
        out = term if out is None else out + term
    return out


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs by ``size`` or
    ``scale_factor``.

    Modes, as in PyTorch: 'nearest' (its floor rule), 'nearest-exact', 'linear' (3-D),
    'bilinear' (4-D), 'trilinear' (5-D), 'bicubic' (4-D) and 'area' (adaptive average
    pooling); ``align_corners`` for the linear and cubic ones. Differentiable.
    ``antialias=True`` is not supported.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.interpolate(cr.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
        >>> F.interpolate(cr.tensor([[[1.0, 3.0]]]), size=3, mode="linear",
        ...               align_corners=True).tolist()
        [[[1.0, 2.0, 3.0]]]
    """
    check.choice(mode, tuple(sorted(_MODES)), "interpolate", "mode")
    input = check.tensor(input, "interpolate")  # noqa: A001
    # PyTorch's resampling kernels take floats and uint8 images only
    if input._data.dtype != np.uint8 and input._data.dtype.kind != "f":
        if input._data.dtype.kind == "b":
            raise TypeError(check.say("dtype_bool", op="interpolate", arg="input"))
        check.floating(input, "interpolate")
    if input.ndim not in _MODES[mode]:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_MODES[mode]}-D input, got shape "
                         f"{input.shape}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear and cubic modes")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported in chainrule")
    out, factors = _sizes(input, size, scale_factor, recompute_scale_factor, mode)
    if mode == "area":
        from .pooling import _adaptive

        return _adaptive(input, out, input.ndim - 2, "mean", "interpolate(mode='area')")
    if input._data.dtype == np.uint8 and mode not in ("nearest", "nearest-exact"):
        # uint8 images: the weighted sums in float, rounded back, as PyTorch's uint8 kernels
        y = interpolate(input.to(np.float32), out, None, mode, align_corners)
        return _wrap(np.clip(np.rint(y._data), 0, 255).astype(np.uint8))
    x = input
    for a, (n_in, n_out) in enumerate(zip(input.shape[2:], out)):
        factor = None if factors is None else factors[a]
        axis = 2 + a
        if mode in ("nearest", "nearest-exact"):
            x = _nearest_axis(x, axis, n_in, n_out, factor, mode == "nearest-exact")
        elif mode == "bicubic":
            x = _cubic_axis(x, axis, n_in, n_out, factor, bool(align_corners))
        else:
            x = _linear_axis(x, axis, n_in, n_out, factor, bool(align_corners))
    return x


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of ``interpolate`` (PyTorch warns the same way).

    Example:
        >>> import warnings
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     F.upsample(cr.ones(1, 1, 2), scale_factor=2).shape
        (1, 1, 4)
    """
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:  # noqa: A002
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
