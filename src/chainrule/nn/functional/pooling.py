"""Pooling beyond the engine's 2-D primitives, with PyTorch's options.

The engine has two pooling primitives, ``max_pool2d`` and ``avg_pool2d`` (a mean over unfolded
windows). Everything here is built from them and from indexing: 1-D pooling is 2-D pooling of
height 1; ``ceil_mode`` pads the far edge (with -inf for max, with zeros for sums) so the last
partial window exists; ``count_include_pad=False`` and ``divisor_override`` divide window sums
by a constant array of divisors; adaptive pooling reduces PyTorch's windows
[floor(i*L/O), ceil((i+1)*L/O)) axis by axis; indices (``return_indices``) are computed from
the windows' first maxima, as PyTorch picks them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ... import _validate as check
from ... import dtypes
from ...ops.binary import maximum
from ...ops.conv import avg_pool2d as _avg_pool2d_op
from ...ops.conv import max_pool2d as _max_pool2d_op
from ...ops.elementwise import relu
from ...ops.shape import index_add, stack
from ...tensor import Tensor, _wrap
from .padding import pad


def _ints(v, n: int, where: str, name: str) -> tuple:
    return check.ints(v, n, where, name)


# The dtypes PyTorch's pooling kernels take (NumPy kind letters)
_MAX_KINDS, _MAX1D_KINDS, _AVG_KINDS, _FLOAT = "fiu", "f", "fi", "f"


def _geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode, n, where):
    """Kernel, stride, padding, dilation, output size and the far-edge padding ceil_mode adds,
    per spatial dim (PyTorch's pooling_output_shape)."""
    k = _ints(kernel_size, n, where, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _ints(stride, n, where, "stride")
    p, d = _ints(padding, n, where, "padding"), _ints(dilation, n, where, "dilation")
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ValueError(f"{where}: kernel_size {k}, stride {s} and dilation {d} must be >= 1 "
                         f"and padding {p} >= 0")
    if any(2 * pi > ki for pi, ki in zip(p, k)):
        raise ValueError(f"{where}: padding {p} must be at most half the kernel size {k}")
    sizes, extra = [], []
    for length, ki, si, pi, di in zip(x.shape[-n:], k, s, p, d):
        span = length + 2 * pi - di * (ki - 1) - 1
        out = (span + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (out - 1) * si >= length + pi:
            out -= 1
        if out < 1:
            raise ValueError(f"{where}: input of shape {x.shape} is too small for kernel_size "
                             f"{k} with padding {p} and dilation {d}")
        sizes.append(out)
        extra.append(max(0, (out - 1) * si + di * (ki - 1) + 1 - (length + 2 * pi)))
    return k, s, p, d, tuple(sizes), tuple(extra)


def _batched(input: Tensor, n: int, where: str, kinds: str = "f") -> Tensor:  # noqa: A002
    input = check.tensor(input, where)  # noqa: A001
    kind = input._data.dtype.kind
    if kind not in kinds:
        if kind == "b":
            raise TypeError(check.say("dtype_bool", op=where, arg="input"))
        check.floating(input, where)
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{where}: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                         f"input, got shape {input.shape}")
    return input if input.ndim == n + 2 else input.unsqueeze(0)


def _unbatch(out, input: Tensor, n: int):  # noqa: A002
    return out if input.ndim == n + 2 else out.squeeze(0)


def _far_pad(extra) -> tuple:
    """F.pad's flat list that pads only the far edge of the last len(extra) dims."""
    return tuple(v for e in reversed(extra) for v in (0, e))


def _max_indices(x: np.ndarray, k, s, p, d, extra, out_size) -> np.ndarray:
    """Flat (per channel) input index of each window's first maximum, as PyTorch returns."""
    n = len(k)
    if x.size == 0:
        return np.zeros(x.shape[:2] + tuple(out_size), dtype=np.int64)
    spatial = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((pi, pi + ei) for pi, ei in zip(p, extra)),
                constant_values=-np.inf)
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    win = sliding_window_view(xp, span, axis=tuple(range(2, 2 + n)))
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, si) for si in s)
              + tuple(slice(None, None, di) for di in d)]
    win = win[(slice(None), slice(None)) + tuple(slice(0, o) for o in out_size)]
    am = win.reshape(win.shape[:2 + n] + (-1,)).argmax(axis=-1)
    offsets = np.unravel_index(am, k)
    coords = []
    for a in range(n):
        pos = np.arange(out_size[a]).reshape((-1,) + (1,) * (n - 1 - a))
        coords.append(pos * s[a] - p[a] + offsets[a] * d[a])
    return np.ravel_multi_index(tuple(coords), spatial).astype(np.int64)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over windows of (N, C, H, W) or (C, H, W) inputs.

    ``ceil_mode`` keeps a last, partial window at the far edges; ``return_indices`` also
    returns each maximum's flat index in its input channel (for ``max_unpool2d``).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.arange(9.0).reshape(1, 1, 3, 3)
        >>> F.max_pool2d(x, 2, ceil_mode=True).tolist()
        [[[[4.0, 5.0], [7.0, 8.0]]]]
    """
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       "max_pool2d")


def _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,  # noqa: A002
                where: str, kinds: str = _MAX_KINDS):
    x = _batched(input, 2, where, kinds)
    k, s, p, d, size, extra = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, 2,
                                        where)
    if x._data.dtype.kind in "iu":  # integers: the same windows over exact float64 values
        return _int_result(_max_pool2d(x.to(np.float64), k, s, p, d, ceil_mode, return_indices,
                                       where), x._data.dtype, input, 2)
    xe = pad(x, _far_pad(extra), value=-math.inf) if any(extra) else x
    out = _unbatch(_max_pool2d_op(xe, k, s, p, d), input, 2)
    if not return_indices:
        return out
    idx = _max_indices(x._data, k, s, p, d, extra, size)
    return out, _wrap(idx if input.ndim == 4 else idx[0])


def _int_result(res, dtype, input, n):  # noqa: A002
    """A pool computed in float64 for an integer input, back in its dtype (averages truncated
    toward zero, as PyTorch's integer kernels divide). ``res`` was computed on the batched
    input: unbatch it like ``input``."""
    def back(t: Tensor) -> Tensor:
        return _wrap(_unbatch_array(np.trunc(t._data).astype(dtype), input, n))

    if isinstance(res, tuple):
        return back(res[0]), _wrap(_unbatch_array(res[1]._data, input, n))
    return back(res)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over windows of (N, C, L) or (C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[3.0, 2.0]]]
    """
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       "max_pool1d")


def _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,  # noqa: A002
                where, kinds=_MAX1D_KINDS):
    x = _batched(input, 1, where, kinds).unsqueeze(-2)
    k = (1,) + _ints(kernel_size, 1, where, "kernel_size")
    s = None if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        (1,) + _ints(stride, 1, where, "stride")
    res = _max_pool2d(x, k, s, (0,) + _ints(padding, 1, where, "padding"),
                      (1,) + _ints(dilation, 1, where, "dilation"), ceil_mode, return_indices,
                      where)
    if return_indices:
        out, idx = res
        return _unbatch(out.squeeze(-2), input, 1), _wrap(_unbatch_array(idx._data[..., 0, :],
                                                                         input, 1))
    return _unbatch(res.squeeze(-2), input, 1)


def _unbatch_array(a: np.ndarray, input: Tensor, n: int) -> np.ndarray:  # noqa: A002
    return a if input.ndim == n + 2 else a[0]


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = True):
    """``max_pool2d(..., return_indices=True)``."""
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True,
                       "max_pool2d_with_indices")


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = True):
    """``max_pool1d(..., return_indices=True)``."""
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True,
                       "max_pool1d_with_indices", _MAX_KINDS)  # PyTorch takes integers here


def _divisors(shape, k, s, p, size, count_include_pad: bool) -> np.ndarray:
    """PyTorch's avg-pool divisor of every output position (its CPU kernel's rule)."""
    parts = []
    for length, ki, si, pi, oi in zip(shape, k, s, p, size):
        start = np.arange(oi) * si - pi
        end = np.minimum(start + ki, length + pi)
        if count_include_pad:
            parts.append(end - start)
        else:
            parts.append(np.minimum(end, length) - np.maximum(start, 0))
    out = parts[0]
    for part in parts[1:]:
        out = np.multiply.outer(out, part)
    return out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows of (N, C, H, W) or (C, H, W) inputs.

    By default zero padding counts in the mean (``count_include_pad``); ``divisor_override``
    divides every window sum by one number instead.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.ones(1, 1, 2, 2)
        >>> F.avg_pool2d(x, 2, padding=1, count_include_pad=False).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, "avg_pool2d")


def _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
                divisor_override, where: str, kinds: str = _AVG_KINDS):
    x = _batched(input, 2, where, kinds)
    k, s, p, _, size, extra = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, 2,
                                        where)
    if divisor_override is not None:
        divisor_override = check.integer(divisor_override, where, "divisor_override")
        if divisor_override == 0:
            raise ValueError(f"{where}: divisor_override must be a non-zero int, got 0")
    if x._data.dtype.kind in "iu":
        return _int_result(_avg_pool2d(x.to(np.float64), k, s, p, ceil_mode, count_include_pad,
                                       divisor_override, where), x._data.dtype, input, 2)
    if not any(extra) and count_include_pad and divisor_override is None:
        return _unbatch(_avg_pool2d_op(x, k, s, p), input, 2)
    xp = pad(x, (p[1], p[1] + extra[1], p[0], p[0] + extra[0]))
    sums = _avg_pool2d_op(xp, k, s, 0) * float(k[0] * k[1])
    if divisor_override is not None:
        out = sums / float(divisor_override)
    else:
        div = _divisors(x.shape[2:], k, s, p, size, count_include_pad)
        out = sums / _wrap(div.astype(sums.dtype))
    return _unbatch(out, input, 2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of (N, C, L) or (C, L) inputs (zero padding counted by default).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[2.0, 1.0]]]
    """
    return _avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       "avg_pool1d")


def _avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, where,  # noqa: A002
                kinds=_AVG_KINDS):
    x = _batched(input, 1, where, kinds).unsqueeze(-2)
    k = (1,) + _ints(kernel_size, 1, where, "kernel_size")
    s = None if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        (1,) + _ints(stride, 1, where, "stride")
    out = _avg_pool2d(x, k, s, (0,) + _ints(padding, 1, where, "padding"), ceil_mode,
                      count_include_pad, None, where, kinds)
    return _unbatch(out.squeeze(-2), input, 1)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: (sum of x^p over each window)^(1/p), p = ``norm_type``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool2d(cr.full((1, 1, 2, 2), 2.0), 2, 2).tolist()
        [[[[4.0]]]]
    """
    x, norm_type = _lp_input(input, norm_type, "lp_pool2d")
    k = _ints(kernel_size, 2, "lp_pool2d", "kernel_size")
    if abs(norm_type) == math.inf:  # PyTorch: the max (or min) of |x| over each window
        if norm_type > 0:
            return _max_pool2d(x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool2d")
        return -_max_pool2d(-x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool2d")
    out = _avg_pool2d(x ** norm_type, k, stride, 0, ceil_mode, True, None, "lp_pool2d")
    return ((out.sign() * relu(out.abs())) * float(k[0] * k[1])) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, L) or (C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool1d(cr.tensor([[[3.0, 4.0]]]), 2, 2).tolist()
        [[[5.0]]]
    """
    x, norm_type = _lp_input(input, norm_type, "lp_pool1d")
    k = _ints(kernel_size, 1, "lp_pool1d", "kernel_size")[0]
    if abs(norm_type) == math.inf:  # PyTorch: the max (or min) of |x| over each window
        if norm_type > 0:
            return _max_pool1d(x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool1d")
        return -_max_pool1d(-x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool1d")
    out = _avg_pool1d(x ** norm_type, k, stride, 0, ceil_mode, True, "lp_pool1d")
    return ((out.sign() * relu(out.abs())) * float(k)) ** (1.0 / norm_type)


def _lp_input(input, norm_type, where: str):  # noqa: A002
    """An LP pool's input (integers and bools in the default float dtype, as PyTorch's power
    promotes them) and its ``norm_type``."""
    x = check.real(check.tensor(input, where), where)
    if x._data.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    return x, check.number(norm_type, where, "norm_type")


def _depth_slices(xe: Tensor, k0: int, s0: int, d0: int, depth: int):
    """Per kernel depth offset, the input slices its windows read, with every output depth
    folded into the channels: (N, C*Do, H, W). A 3-d pool is then 2-d pools of these."""
    n, c = xe.shape[:2]
    for j in range(k0):
        start = j * d0
        sl = xe[:, :, start:start + s0 * (depth - 1) + 1:s0]
        yield sl.reshape(n, c * depth, *xe.shape[3:])


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over windows of (N, C, D, H, W) or (C, D, H, W) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten().tolist()
        [7.0]
    """
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       "max_pool3d")


def _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,  # noqa: A002
                where):
    x = _batched(input, 3, where, _MAX_KINDS)
    k, s, p, d, size, extra = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, 3,
                                        where)
    if x._data.dtype.kind in "iu":
        return _int_result(_max_pool3d(x.to(np.float64), k, s, p, d, ceil_mode, return_indices,
                                       where), x._data.dtype, input, 3)
    widths = tuple(v for a in (2, 1, 0) for v in (p[a], p[a] + extra[a]))
    xe = pad(x, widths, value=-math.inf) if any(widths) else x
    out = None
    for sl in _depth_slices(xe, k[0], s[0], d[0], size[0]):
        y = _max_pool2d_op(sl, k[1:], s[1:], 0, d[1:])
        out = y if out is None else maximum(out, y)
    out = _unbatch(out.reshape(x.shape[:2] + size), input, 3)
    if not return_indices:
        return out
    idx = _max_indices(x._data, k, s, p, d, extra, size)
    return out, _wrap(_unbatch_array(idx, input, 3))


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
                            dilation=1, ceil_mode: bool = False, return_indices: bool = True):
    """``max_pool3d(..., return_indices=True)``."""
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True,
                       "max_pool3d_with_indices")


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows of (N, C, D, H, W) or (C, D, H, W) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2).flatten().tolist()
        [3.5]
    """
    return _avg_pool3d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, "avg_pool3d")


def _avg_pool3d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,  # noqa: A002
                divisor_override, where):
    x = _batched(input, 3, where, _AVG_KINDS)
    k, s, p, _, size, extra = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, 3,
                                        where)
    if divisor_override is not None:
        divisor_override = check.integer(divisor_override, where, "divisor_override")
        if divisor_override == 0:
            raise ValueError(f"{where}: divisor_override must be a non-zero int, got 0")
    if x._data.dtype.kind in "iu":
        return _int_result(_avg_pool3d(x.to(np.float64), k, s, p, ceil_mode, count_include_pad,
                                       divisor_override, where), x._data.dtype, input, 3)
    widths = tuple(v for a in (2, 1, 0) for v in (p[a], p[a] + extra[a]))
    xe = pad(x, widths) if any(widths) else x
    sums = None
    for sl in _depth_slices(xe, k[0], s[0], 1, size[0]):
        y = _avg_pool2d_op(sl, k[1:], s[1:], 0)
        sums = y if sums is None else sums + y
    sums = sums.reshape(x.shape[:2] + size) * float(k[1] * k[2])
    if divisor_override is not None:
        out = sums / float(divisor_override)
    else:
        out = sums / _wrap(_divisors(x.shape[2:], k, s, p, size, count_include_pad)
                           .astype(sums.dtype))
    return _unbatch(out, input, 3)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,  # noqa: A002
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W) or (C, D, H, W) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.lp_pool3d(cr.ones(1, 1, 2, 2, 2), 1, 2).flatten().tolist()
        [8.0]
    """
    x, norm_type = _lp_input(input, norm_type, "lp_pool3d")
    k = _ints(kernel_size, 3, "lp_pool3d", "kernel_size")
    if abs(norm_type) == math.inf:  # PyTorch: the max (or min) of |x| over each window
        if norm_type > 0:
            return _max_pool3d(x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool3d")
        return -_max_pool3d(-x.abs(), k, stride, 0, 1, ceil_mode, False, "lp_pool3d")
    out = _avg_pool3d(x ** norm_type, k, stride, 0, ceil_mode, True, None, "lp_pool3d")
    return ((out.sign() * relu(out.abs())) * float(math.prod(k))) ** (1.0 / norm_type)


# ---- adaptive pooling ------------------------------------------------------------------------


def _adaptive_sizes(input: Tensor, output_size, n: int, where: str) -> tuple:  # noqa: A002
    if isinstance(output_size, (tuple, list)):
        size = tuple(output_size)
        if len(size) != n:
            raise ValueError(f"{where}: output_size must be an int or {n} values, got "
                             f"{output_size!r}")
    else:
        size = (check.integer(output_size, where, "output_size"),) * n
    spatial = input.shape[-n:]
    out = tuple(length if o is None else check.integer(o, where, "output_size")
                for o, length in zip(size, spatial))
    if min(out) < 0:
        raise ValueError(f"{where}: output_size must be >= 0, got {output_size!r}")
    # checked before the per-window loops: a huge size would never finish
    check.alloc(input.shape[:-n] + out, input._data.dtype, where)
    return out


def _windows(length: int, out: int):
    return [((i * length) // out, math.ceil((i + 1) * length / out)) for i in range(out)]


def _adaptive_axis(x: Tensor, axis: int, out: int, reduce: str) -> Tensor:
    """Adaptive pooling along one axis (adaptive pooling is separable: a window is a box)."""
    length = x.shape[axis]
    lead = (slice(None),) * axis
    if out == 0:  # an empty output along this axis, as PyTorch gives
        return x[lead + (slice(0, 0),)] * 1.0
    if length == 0:
        raise ValueError(f"adaptive pooling: the input's dim {axis} is empty; the windows need "
                         "at least one entry")
    if length % out == 0:
        blocks = x.reshape(x.shape[:axis] + (out, length // out) + x.shape[axis + 1:])
        return blocks.mean(dim=axis + 1) if reduce == "mean" else blocks.amax(dim=axis + 1)
    cells = []
    for a, b in _windows(length, out):
        cell = x[lead + (slice(a, b),)]
        cells.append(cell.mean(dim=axis) if reduce == "mean" else cell.amax(dim=axis))
    return stack(cells, axis)


def _adaptive(input: Tensor, output_size, n: int, reduce: str, where: str) -> Tensor:  # noqa: A002
    x = _batched(input, n, where, _FLOAT)
    out = _adaptive_sizes(x, output_size, n, where)
    for a, o in enumerate(out):
        x = _adaptive_axis(x, 2 + a, o, reduce)
    return _unbatch(x, input, n)


def _adaptive_indices(x: np.ndarray, out) -> np.ndarray:
    """Flat per-channel index of each adaptive window's first maximum."""
    spatial = x.shape[2:]
    result = np.empty(x.shape[:2] + tuple(out), dtype=np.int64)
    if x.size == 0 or result.size == 0:
        return np.zeros(result.shape, dtype=np.int64)
    windows = [_windows(length, o) for length, o in zip(spatial, out)]
    for pos in np.ndindex(*out):
        box = tuple(slice(*windows[a][i]) for a, i in enumerate(pos))
        cell = x[(slice(None), slice(None)) + box]
        am = cell.reshape(cell.shape[:2] + (-1,)).argmax(axis=-1)
        local = np.unravel_index(am, cell.shape[2:])
        glob = tuple(loc + windows[a][i][0] for a, (loc, i) in enumerate(zip(local, pos)))
        result[(slice(None), slice(None)) + pos] = np.ravel_multi_index(glob, spatial)
    return result


def _adaptive_max(input, output_size, n, return_indices, where):  # noqa: A002
    out = _adaptive(input, output_size, n, "max", where)
    if not return_indices:
        return out
    x = _batched(input, n, where)
    idx = _adaptive_indices(x._data, _adaptive_sizes(x, output_size, n, where))
    return out, _wrap(_unbatch_array(idx, input, n))


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average-pool (N, C, L) or (C, L) to ``output_size`` positions.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool1d(cr.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2).tolist()
        [[[1.5, 3.5]]]
    """
    return _adaptive(input, output_size, 1, "mean", "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average-pool (N, C, H, W) to ``output_size`` (an int, a pair, None keeps a dim).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool2d(cr.ones(2, 3, 7, 5), 1).shape
        (2, 3, 1, 1)
    """
    return _adaptive(input, output_size, 2, "mean", "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average-pool (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool3d(cr.ones(1, 2, 4, 5, 6), (2, None, 3)).shape
        (1, 2, 2, 5, 3)
    """
    return _adaptive(input, output_size, 3, "mean", "adaptive_avg_pool3d")


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max-pool (N, C, L) or (C, L) to ``output_size`` positions (ties share the gradient).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool1d(cr.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2).tolist()
        [[[2.0, 4.0]]]
    """
    return _adaptive_max(input, output_size, 1, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max-pool (N, C, H, W) to ``output_size`` (ties share the gradient).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _adaptive_max(input, output_size, 2, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):  # noqa: A002
    """Max-pool (N, C, D, H, W) or (C, D, H, W) to ``output_size``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool3d(cr.ones(1, 1, 4, 4, 4), 1).shape
        (1, 1, 1, 1, 1)
    """
    return _adaptive_max(input, output_size, 3, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool1d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = True):
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    return _adaptive_max(input, output_size, 1, True, "adaptive_max_pool1d_with_indices")


def adaptive_max_pool2d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = True):
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    return _adaptive_max(input, output_size, 2, True, "adaptive_max_pool2d_with_indices")


def adaptive_max_pool3d_with_indices(input: Tensor, output_size,  # noqa: A002
                                     return_indices: bool = True):
    """``adaptive_max_pool3d(..., return_indices=True)``."""
    return _adaptive_max(input, output_size, 3, True, "adaptive_max_pool3d_with_indices")


# ---- unpooling -------------------------------------------------------------------------------


def _max_unpool(input: Tensor, indices, kernel_size, stride, padding, output_size, n,  # noqa: A002
                where):
    x = _batched(input, n, where, _FLOAT)
    idx = check.index_tensor(indices, where, "indices")._data
    if idx.shape != x.shape[-idx.ndim:] or idx.ndim not in (n + 1, n + 2) or \
            idx.shape != tuple(input.shape):
        raise ValueError(f"{where}: indices must be an integer tensor of the input's shape "
                         f"{tuple(input.shape)}, got {idx.dtype} of shape {idx.shape}")
    k = check.ints(kernel_size, n, where, "kernel_size", low=1)
    s = k if stride is None else check.ints(stride, n, where, "stride", low=1)
    p = check.ints(padding, n, where, "padding", low=0)
    default = tuple((i - 1) * si - 2 * pi + ki for i, ki, si, pi in zip(x.shape[2:], k, s, p))
    if output_size is None:
        size = default
    else:
        size = check.ints(output_size, 0, where, "output_size", low=0)[-n:]
        if len(size) != n:
            raise ValueError(f"{where}: output_size {output_size!r} needs {n} spatial sizes")
    if min(size) < 1:
        raise ValueError(f"{where}: the output size {size} must be positive")
    check.alloc(x.shape[:2] + tuple(size), x._data.dtype, where)
    total = math.prod(size)
    flat = idx.reshape(x.shape[0] * x.shape[1], -1) if input.ndim == n + 2 else \
        idx.reshape(x.shape[1], -1)
    if flat.size and (flat.min() < 0 or flat.max() >= total):
        raise ValueError(f"{where}: an index is outside the output of spatial size {size}")
    nc = x.shape[0] * x.shape[1]
    rows = np.repeat(np.arange(nc), flat.shape[1])
    cols = flat.reshape(-1)
    out = index_add((nc, total), (rows, cols), x.reshape(-1))
    if len(np.unique(rows * total + cols)) < rows.size:
        # Overlapping windows can report one maximum twice. PyTorch writes (not adds) it once
        # and still hands every input entry the gradient at its index: keep this sum's
        # gradient and correct its values by a constant to the written ones.
        written = np.zeros((nc, total), dtype=out.dtype)
        written[rows, cols] = x._data.reshape(-1)
        out = out + _wrap(written - out._data)
    return _unbatch(out.reshape(x.shape[:2] + size), input, n)


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """Put each value of ``input`` back at its ``indices`` (from ``max_pool2d(...,
    return_indices=True)``) in a zero image: the partial inverse of max pooling.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.tensor([[[[1.0, 5.0], [3.0, 2.0]]]])
        >>> y, i = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2).tolist()
        [[[[0.0, 5.0], [0.0, 0.0]]]]
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


def max_unpool1d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """The 1-D ``max_unpool2d``: values back at their ``indices`` in a zero sequence.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y, i = F.max_pool1d(cr.tensor([[[1.0, 3.0, 4.0, 2.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2).tolist()
        [[[0.0, 3.0, 4.0, 0.0]]]
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")


def max_unpool3d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:
    """The 3-D ``max_unpool2d``: values back at their ``indices`` in a zero volume.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> y, i = F.max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).flatten().tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       "max_unpool3d")
