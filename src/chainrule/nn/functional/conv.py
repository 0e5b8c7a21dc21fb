"""Transposed 2-D convolution: a matmul to columns, then the engine's ``fold``."""

from __future__ import annotations

import numpy as np

from ...ops.conv import fold
from ...ops.linalg import matmul
from ...tensor import Tensor


def _pair(v, name: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or not all(isinstance(i, (int, np.integer)) for i in pair):
        raise ValueError(f"conv_transpose2d: {name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of ``conv2d`` w.r.t. its input), as PyTorch.

    ``weight`` is (C_in, C_out, kh, kw). Each input pixel scatters a weighted kernel into the
    output: a matmul to columns, then ``fold`` adds the overlapping columns up.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv_transpose2d(cr.ones(1, 2, 3, 3), cr.ones(2, 4, 2, 2), stride=2).shape
        (1, 4, 6, 6)
    """
    if groups != 1:
        raise ValueError(f"conv_transpose2d: only groups=1 is supported, got groups={groups}")
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[0]:
        raise ValueError(f"conv_transpose2d: input {input.shape} and weight {weight.shape} do "
                         "not fit (expected (N, C_in, H, W) and (C_in, C_out, kh, kw))")
    k = weight.shape[2:]
    s, p, d = _pair(stride, "stride"), _pair(padding, "padding"), _pair(dilation, "dilation")
    op = _pair(output_padding, "output_padding")
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
        raise ValueError(f"conv_transpose2d: output_padding {op} must be smaller than stride "
                         f"{s} or dilation {d}")
    n, cin, h, w = input.shape
    cout = weight.shape[1]
    size = tuple((i - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
                 for a, i in enumerate((h, w)))
    cols = matmul(weight.reshape(cin, -1).T, input.reshape(n, cin, h * w))  # (N, Cout*kh*kw, L)
    out = fold(cols, size, k, dilation=d, padding=p, stride=s)
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1)
    return out
