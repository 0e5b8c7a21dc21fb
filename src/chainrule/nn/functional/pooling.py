"""Pooling beyond the engine's 2-D primitives: 1-D pooling and adaptive pooling."""

from __future__ import annotations

import math

from ...ops.conv import avg_pool2d, max_pool2d
from ...ops.shape import stack
from ...tensor import Tensor


def _one(v, name: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return int(v)


def _as_2d(input: Tensor, where: str) -> Tensor:  # noqa: A002
    if input.ndim not in (2, 3):
        raise ValueError(f"{where}: expected input (N, C, L) or (C, L), got {input.shape}")
    return input.unsqueeze(-2) if input.ndim == 3 else input.unsqueeze(0).unsqueeze(-2)


def _back(out: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    out = out.squeeze(-2)
    return out if input.ndim == 3 else out.squeeze(0)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               dilation=1) -> Tensor:
    """Maximum over windows of (N, C, L) inputs.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[3.0, 2.0]]]
    """
    k = _one(kernel_size, "max_pool1d: kernel_size")
    s = k if stride is None else _one(stride, "max_pool1d: stride")
    out = max_pool2d(_as_2d(input, "max_pool1d"), (1, k), (1, s),
                     (0, _one(padding, "max_pool1d: padding")),
                     (1, _one(dilation, "max_pool1d: dilation")))
    return _back(out, input)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0) -> Tensor:  # noqa: A002
    """Mean over windows of (N, C, L) inputs (zero padding counted).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.avg_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
        [[[2.0, 1.0]]]
    """
    k = _one(kernel_size, "avg_pool1d: kernel_size")
    s = k if stride is None else _one(stride, "avg_pool1d: stride")
    out = avg_pool2d(_as_2d(input, "avg_pool1d"), (1, k), (1, s),
                     (0, _one(padding, "avg_pool1d: padding")))
    return _back(out, input)


def _adaptive(input: Tensor, output_size, reduce: str, where: str) -> Tensor:  # noqa: A002
    if input.ndim not in (3, 4):
        raise ValueError(f"{where}: expected input (N, C, H, W) or (C, H, W), got {input.shape}")
    size = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    h, w = input.shape[-2:]
    oh, ow = (h if size[0] is None else int(size[0])), (w if size[1] is None else int(size[1]))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{where}: output_size must be positive, got {output_size!r}")
    lead = input.shape[:-2]
    if h % oh == 0 and w % ow == 0:
        # Even split: one reshape and one reduction.
        blocks = input.reshape(lead + (oh, h // oh, ow, w // ow))
        axes = (input.ndim - 1, input.ndim + 1)
        return blocks.mean(dim=axes) if reduce == "mean" else blocks.amax(dim=axes)
    # PyTorch's windows: [floor(i*h/oh), ceil((i+1)*h/oh)).
    rows = []
    for i in range(oh):
        r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
        cells = []
        for j in range(ow):
            c0, c1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            cell = input[..., r0:r1, c0:c1]
            cells.append(cell.mean(dim=(-2, -1)) if reduce == "mean"
                         else cell.amax(dim=(-2, -1)))
        rows.append(stack(cells, -1))
    return stack(rows, -2)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average-pool (N, C, H, W) to ``output_size`` (an int, a pair, None keeps a dim).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_avg_pool2d(cr.ones(2, 3, 7, 5), 1).shape
        (2, 3, 1, 1)
    """
    return _adaptive(input, output_size, "mean", "adaptive_avg_pool2d")


def adaptive_max_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Max-pool (N, C, H, W) to ``output_size`` (ties share the gradient).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.adaptive_max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _adaptive(input, output_size, "max", "adaptive_max_pool2d")
