"""Resizing feature maps: nearest and (bi)linear interpolation, as ``F.interpolate``."""

from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor, _wrap

_MODES = {"nearest": (3, 4), "linear": (3,), "bilinear": (4,)}


def _sizes(input: Tensor, size, scale_factor):  # noqa: A002
    """Output sizes and the source-per-destination scales of the spatial dims."""
    spatial = input.shape[2:]
    k = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = (size,) * k if isinstance(size, int) else tuple(int(s) for s in size)
        if len(out) != k:
            raise ValueError(f"interpolate: size {size} does not match the {k} spatial dims of "
                             f"input {input.shape}")
        scales = tuple(i / o for i, o in zip(spatial, out))
    else:
        sf = (scale_factor,) * k if isinstance(scale_factor, (int, float)) else \
            tuple(scale_factor)
        if len(sf) != k:
            raise ValueError(f"interpolate: scale_factor {scale_factor} does not match the {k} "
                             f"spatial dims of input {input.shape}")
        out = tuple(int(math.floor(i * f)) for i, f in zip(spatial, sf))
        scales = tuple(1.0 / f for f in sf)  # PyTorch uses the given factor, not in/out
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size {out} must be positive")
    return out, scales


def _take(x: Tensor, idx: np.ndarray, axis: int) -> Tensor:
    index = (slice(None),) * axis + (idx,)
    return x[index]


def _linear_axis(x: Tensor, axis: int, n_in: int, n_out: int, scale: float,
                 align_corners: bool) -> Tensor:
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = (src - i0).astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - axis - 1))
    a, b = _take(x, i0, axis), _take(x, i1, axis)
    return a + (b - a) * _wrap(lam)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",  # noqa: A002
                align_corners: bool | None = None) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) inputs by ``size`` or ``scale_factor``.

    Modes: 'nearest' (PyTorch's floor rule), 'linear' (3-D) and 'bilinear' (4-D), with
    ``align_corners`` as in PyTorch. Differentiable.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.interpolate(cr.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
    """
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {sorted(_MODES)}, got {mode!r}")
    if input.ndim not in _MODES[mode]:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_MODES[mode]}-D input, got shape "
                         f"{input.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear modes")
    out, scales = _sizes(input, size, scale_factor)
    x = input
    for a, (n_in, n_out, sc) in enumerate(zip(input.shape[2:], out, scales)):
        axis = 2 + a
        if mode == "nearest":
            if n_out % n_in == 0 and sc == n_in / n_out:
                # Integer upscaling: repeat by broadcasting (a cheap backward: a sum).
                r = n_out // n_in
                shape = x.shape[:axis + 1] + (r,) + x.shape[axis + 1:]
                rep = x.unsqueeze(axis + 1).broadcast_to(shape)
                x = rep.reshape(x.shape[:axis] + (n_out,) + x.shape[axis + 1:])
            else:
                src = np.minimum(np.floor(np.arange(n_out) * sc).astype(np.int64), n_in - 1)
                x = _take(x, src, axis)
        else:
            x = _linear_axis(x, axis, n_in, n_out, sc, bool(align_corners))
    return x
