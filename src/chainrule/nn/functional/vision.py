"""Spatial transformers: ``affine_grid`` (a sampling grid from affine matrices) and
``grid_sample`` (read an image at a grid of points), as PyTorch's.

``grid_sample`` reads each point's neighbouring pixels by indexing and mixes them with weights
computed from the grid by ordinary ops, so gradients reach both the image (scattered back to
the pixels read) and the grid (through the weights), as in PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from ... import _validate as check
from ...ops.binary import where
from ...ops.linalg import matmul
from ...tensor import Tensor, _wrap

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _base_coords(steps: int, align_corners: bool) -> np.ndarray:
    if steps <= 1:
        return np.zeros(max(steps, 0))
    r = np.linspace(-1.0, 1.0, steps)
    return r if align_corners else r * (steps - 1) / steps


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta``
    (N, 2, 3) (or (N, 3, 4)) over an output of ``size`` (N, C, H, W) (or (N, C, D, H, W)),
    in normalised [-1, 1] coordinates, x first.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=True)[0].tolist()
        [[[-1.0, -1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, 1.0]]]
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    theta = check.floating(theta, "affine_grid", "theta")
    size = check.ints(size, 0, "affine_grid", "size", low=0)
    if align_corners is not None:
        align_corners = check.flag(align_corners, "affine_grid", "align_corners")
    if not isinstance(theta, Tensor) or theta.dtype.kind != "f":
        raise ValueError(f"affine_grid: theta must be a floating-point Tensor, got "
                         f"{getattr(theta, 'dtype', type(theta).__name__)}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        want, spatial = (2, 3), size[-2:]
    elif len(size) == 5:
        want, spatial = (3, 4), size[-3:]
    else:
        raise ValueError(f"affine_grid: size must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), "
                         f"got {size}")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != want or theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: theta must be ({size[0]}, {want[0]}, {want[1]}) for "
                         f"size {size}, got {theta.shape}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a positive output size, got {size}")
    axes = [_base_coords(s, align_corners) for s in reversed(spatial)]  # x, y(, z)
    mesh = list(np.meshgrid(*axes[::-1], indexing="ij"))[::-1]  # each (D,) H, W; x first
    base = np.stack(mesh + [np.ones_like(mesh[0])], axis=-1).reshape(-1, len(spatial) + 1)
    grid = matmul(_wrap(base.astype(theta.dtype)), theta.transpose(1, 2))  # (N, P, k)
    return grid.reshape((size[0],) + spatial + (len(spatial),))


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    if twice_low == twice_high:
        return coord * 0.0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    shifted = (coord - low).abs()
    flips = np.floor(shifted._data / span)
    extra = shifted - _wrap((flips * span).astype(shifted.dtype))
    even = _wrap(flips % 2 == 0)
    return where(even, extra + low, (extra * -1.0) + (span + low))


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else \
            _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) (or (N, C, D, H, W)) at the points of ``grid``
    (N, Ho, Wo, 2) (or (N, Do, Ho, Wo, 3)), given in [-1, 1] coordinates, x first.

    ``mode`` 'bilinear' (trilinear for volumes) or 'nearest'; ``padding_mode`` 'zeros',
    'border' or 'reflection' decides what points outside the image read.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> img = cr.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
        >>> F.grid_sample(img, cr.tensor([[[[0.0, 0.0]]]]), align_corners=True).item()
        1.5
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    align_corners = check.flag(align_corners, "grid_sample", "align_corners")
    input, grid = check.same_dtype_operands("grid_sample", ("input", "grid"), input, grid)  # noqa: A001
    check.floating(input, "grid_sample")
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest' ('bicubic' is not "
                         f"supported in chainrule), got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or "
                         f"'reflection', got {padding_mode!r}")
    if not isinstance(input, Tensor) or input.ndim not in (4, 5):
        raise ValueError(f"grid_sample: input must be 4-D (N, C, H, W) or 5-D, got "
                         f"{getattr(input, 'shape', input)}")
    k = input.ndim - 2
    if not isinstance(grid, Tensor) or grid.ndim != input.ndim or grid.shape[-1] != k or \
            grid.shape[0] != input.shape[0]:
        raise ValueError(f"grid_sample: grid must be (N, {', '.join('*' * k)}, {k}) with the "
                         f"input's N={input.shape[0]}, got {getattr(grid, 'shape', grid)}")
    n, c = input.shape[:2]
    spatial = input.shape[2:]  # (D,) H, W
    out_spatial = grid.shape[1:-1]
    points = int(np.prod(out_spatial))
    g = grid.reshape(n, points, k)
    # per spatial dim, from the last (x) to the first: source coordinates in pixels
    coords = []
    for a in range(k):
        size = spatial[k - 1 - a]
        coords.append(_source(_unnormalize(g[:, :, a], size, align_corners), size,
                              padding_mode, align_corners))
    flat = input.reshape(n, c, -1)
    batch = np.arange(n)[:, None]
    strides = np.cumprod((1,) + tuple(reversed(spatial)))[:-1]  # x, y, z strides

    def gather(index_arrays):
        """input at integer positions (one (N, P) array per dim, x first), 0 where outside."""
        inside = np.ones((n, points), dtype=bool)
        flat_index = np.zeros((n, points), dtype=np.int64)
        for a, idx in enumerate(index_arrays):
            size = spatial[k - 1 - a]
            inside &= (idx >= 0) & (idx < size)
            flat_index += np.clip(idx, 0, size - 1) * strides[a]
        vals = flat[batch, :, flat_index]  # (N, P, C)
        if inside.all():
            return vals
        return vals * _wrap(inside[..., None].astype(vals.dtype))

    if mode == "nearest":
        idx = [np.rint(co._data).astype(np.int64) for co in coords]  # half to even, as torch
        out = gather(idx)
        if grid.requires_grad:  # PyTorch gives the grid a zero gradient here, not none
            out = out + (g * 0.0).sum()
    else:
        lows = [np.floor(co._data).astype(np.int64) for co in coords]
        fracs = [co - _wrap(lo.astype(co.dtype)) for co, lo in zip(coords, lows)]
        out = None
        for corner in range(2 ** k):
            bits = [(corner >> a) & 1 for a in range(k)]
            weight = None
            for a, b in enumerate(bits):
                w = fracs[a] if b else (fracs[a] * -1.0 + 1.0)
                weight = w if weight is None else weight * w
            term = gather([lo + b for lo, b in zip(lows, bits)]) * weight.unsqueeze(-1)
            out = term if out is None else out + term
    return out.transpose(1, 2).reshape((n, c) + tuple(out_spatial))
