"""Convolutions with all of PyTorch's arguments, over the engine's ``conv2d``, ``unfold`` and
``fold`` primitives.

- ``groups``: one unfold, then one batched matmul of each group's kernels with its own
  channels' columns (depthwise convolutions included).
- ``padding='same'`` with an even effective kernel pads one more on the far side, as PyTorch
  does; unbatched inputs get a batch dim of 1.
- 1-D convolutions are 2-D ones of height 1; 3-D ones sum, over the kernel's depth, 2-D
  convolutions of the matching depth slices (every output depth folded into the batch).
- Transposed convolutions are a matmul to columns, then ``fold`` (col2im); 3-D ones add, per
  kernel depth, 2-D transposed convolutions of the input's depth slices at their output depths.
"""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...ops.conv import conv2d as _conv2d_op
from ...ops.conv import fold, unfold
from ...ops.linalg import matmul
from ...ops.shape import index_add
from ...tensor import Tensor
from .padding import pad


def _tuple(v, n: int, name: str, where: str, low: int = 1) -> tuple:
    return check.ints(v, n, where, name, low=low)


def _padding_pairs(padding, k, d, s, n: int, where: str) -> list:
    """(before, after) zero padding per spatial dim, for numbers, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * n
        if padding != "same":
            raise ValueError(f"{where}: padding must be 'valid', 'same' or numbers, got "
                             f"{padding!r}")
        if any(si != 1 for si in s):
            raise ValueError(f"{where}: padding='same' is not supported for strided "
                             f"convolutions (stride {s})")
        return [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for ki, di in zip(k, d)]
    p = _tuple(padding, n, "padding", where, low=0)
    return [(pi, pi) for pi in p]


def _check_groups(x: Tensor, w: Tensor, groups, transposed: bool, where: str) -> int:
    groups = check.integer(groups, where, "groups", low=1)
    cin = x.shape[1]
    if transposed:
        ok = w.shape[0] == cin and cin % groups == 0
        want = f"weight (C_in={cin}, C_out/groups, *k)"
    else:
        ok = cin % groups == 0 and w.shape[1] * groups == cin and w.shape[0] % groups == 0
        want = f"weight (C_out, C_in/groups={cin // max(groups, 1)}, *k) with C_out divisible " \
               f"by groups={groups}"
    if not ok:
        raise ValueError(f"{where}: input {x.shape} and weight {w.shape} do not fit with "
                         f"groups={groups} (expected {want})")
    return int(groups)


def _operands(input, weight, bias, n: int, where: str, layout: str):  # noqa: A002
    """Input, weight and bias as floating tensors of one dtype (PyTorch's convolutions take
    no integers and no mixed dtypes), the weight (n + 2)-D, the bias 1-D."""
    x, w, b = check.same_dtype_operands(where, ("input", "weight", "bias"), input, weight, bias)
    check.floating(x, where)
    if w.ndim != n + 2:
        raise ValueError(f"{where}: weight must be a {n + 2}-D tensor {layout}, got {w.shape}")
    if b is not None and b.ndim != 1:
        raise ValueError(f"{where}: bias must be a 1-D tensor, got {b.shape}")
    if w.shape[0] == 0:
        raise ValueError(f"{where}: weight {w.shape} is empty along dim 0 (PyTorch needs at "
                         "least one channel there)")
    return x, w, b


def _empty_out(x: Tensor, shape, input: Tensor, n: int):  # noqa: A002
    """The result of a convolution with no output channels (an empty weight): empty, as
    PyTorch's."""
    from ...tensor import _wrap

    return _unbatch(_wrap(np.zeros(shape, dtype=x._data.dtype)), input, n)


def _batch(input: Tensor, n: int, where: str) -> Tensor:  # noqa: A002
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{where}: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                         f"input, got shape {input.shape}")
    return input if input.ndim == n + 2 else input.unsqueeze(0)


def _unbatch(out: Tensor, input: Tensor, n: int) -> Tensor:  # noqa: A002
    return out if input.ndim == n + 2 else out.squeeze(0)


def _add_bias(out: Tensor, bias, n: int, where: str) -> Tensor:
    if bias is None:
        return out
    if bias.shape != (out.shape[1],):
        raise ValueError(f"{where}: bias {bias.shape} does not fit {out.shape[1]} output "
                         "channels")
    return out + bias.reshape((1, -1) + (1,) * n)


def _conv2d_batched(x, w, bias, s, pairs, d, g, where):
    """A batched 2-D convolution: the engine's primitive, or unfold + a grouped matmul."""
    if any(lo != hi for lo, hi in pairs):  # asymmetric ('same' with an even kernel)
        x = pad(x, (pairs[1][0], pairs[1][1], pairs[0][0], pairs[0][1]))
        pairs = [(0, 0), (0, 0)]
    p = (pairs[0][0], pairs[1][0])
    if g == 1:
        return _conv2d_op(x, w, bias, s, p, d)
    n, c = x.shape[:2]
    o, cg, kh, kw = w.shape
    cols = unfold(x, (kh, kw), d, p, s)  # (N, C*kh*kw, L)
    length = cols.shape[2]
    ho = (x.shape[2] + 2 * p[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    wo = length // ho
    out = matmul(w.reshape(g, o // g, cg * kh * kw), cols.reshape(n, g, cg * kh * kw, length))
    return _add_bias(out.reshape(n, o, ho, wo), bias, 2, where)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C_in, H, W) or (C_in, H, W) inputs with
    (C_out, C_in/groups, kh, kw) kernels, as ``torch.nn.functional.conv2d``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv2d(cr.ones(2, 4, 5, 5), cr.ones(6, 2, 3, 3), groups=2, padding=1).shape
        (2, 6, 5, 5)
    """
    where = "conv2d"
    input, weight, bias = _operands(input, weight, bias, 2, where,  # noqa: A001
                                    "(C_out, C_in/groups, kh, kw)")
    x = _batch(input, 2, where)
    g = _check_groups(x, weight, groups, False, where)
    k = weight.shape[2:]
    s, d = _tuple(stride, 2, "stride", where), _tuple(dilation, 2, "dilation", where)
    pairs = _padding_pairs(padding, k, d, s, 2, where)
    return _unbatch(_conv2d_batched(x, weight, bias, s, pairs, d, g, where), input, 2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C_in, L) or (C_in, L) inputs with (C_out, C_in/groups, k)
    kernels.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv1d(cr.ones(1, 2, 5), cr.ones(3, 2, 3), padding="same").tolist()[0][0]
        [4.0, 6.0, 6.0, 6.0, 4.0]
    """
    where = "conv1d"
    input, weight, bias = _operands(input, weight, bias, 1, where,  # noqa: A001
                                    "(C_out, C_in/groups, k)")
    x = _batch(input, 1, where)
    g = _check_groups(x, weight, groups, False, where)
    k = weight.shape[2:]
    s, d = _tuple(stride, 1, "stride", where), _tuple(dilation, 1, "dilation", where)
    pairs = _padding_pairs(padding, k, d, s, 1, where)
    out = _conv2d_batched(x.unsqueeze(2), weight.unsqueeze(2), bias, (1,) + s,
                          [(0, 0)] + pairs, (1,) + d, g, where)
    return _unbatch(out.squeeze(2), input, 1)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,  # noqa: A002
           padding=0, dilation=1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of (N, C_in, D, H, W) or (C_in, D, H, W) inputs with
    (C_out, C_in/groups, kd, kh, kw) kernels.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv3d(cr.ones(1, 2, 4, 5, 5), cr.ones(3, 2, 3, 3, 3), padding=1).shape
        (1, 3, 4, 5, 5)
    """
    where = "conv3d"
    input, weight, bias = _operands(input, weight, bias, 3, where,  # noqa: A001
                                    "(C_out, C_in/groups, kd, kh, kw)")
    x = _batch(input, 3, where)
    g = _check_groups(x, weight, groups, False, where)
    k = weight.shape[2:]
    s, d = _tuple(stride, 3, "stride", where), _tuple(dilation, 3, "dilation", where)
    pairs = _padding_pairs(padding, k, d, s, 3, where)
    if pairs[0] != (0, 0):
        x = pad(x, (0, 0, 0, 0) + pairs[0])
    n, c, depth = x.shape[:3]
    out_depth = (depth - d[0] * (k[0] - 1) - 1) // s[0] + 1
    if out_depth < 1:
        raise ValueError(f"{where}: input {input.shape} is too small for kernel {k} with "
                         f"padding {pairs} and dilation {d}")
    total = None
    for j in range(k[0]):
        start = j * d[0]
        sl = x[:, :, start:start + s[0] * (out_depth - 1) + 1:s[0]]  # (N, C, Do, H, W)
        sl = sl.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, *x.shape[3:])
        y = _conv2d_batched(sl, weight[:, :, j], None, s[1:], pairs[1:], d[1:], g, where)
        total = y if total is None else total + y
    out = total.reshape(n, out_depth, *total.shape[1:]).permute(0, 2, 1, 3, 4)
    return _unbatch(_add_bias(out, bias, 3, where), input, 3)


def _transpose_batched(x, w, bias, s, p, op, g, d, where):
    """Transposed 2-D convolution of a batched input: columns by a (grouped) matmul, then
    fold adds the overlapping columns up."""
    n, cin, h, wd = x.shape
    cout_g = w.shape[1]
    k = w.shape[2:]
    size = tuple((i - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
                 for a, i in enumerate((h, wd)))
    if min(size) < 1:
        raise ValueError(f"{where}: the output size {size} is not positive")
    check.alloc((n, w.shape[1] * g) + size, x._data.dtype, where)
    kk = k[0] * k[1]
    cin_g = cin // g
    wt = w.reshape(g, cin_g, cout_g * kk).transpose(1, 2)  # (G, Cout_g*kk, Cin_g)
    cols = matmul(wt, x.reshape(n, g, cin_g, h * wd))  # (N, G, Cout_g*kk, L)
    out = fold(cols.reshape(n, g * cout_g * kk, h * wd), size, k, dilation=d, padding=p,
               stride=s)
    return _add_bias(out, bias, 2, where)


def _transpose_args(stride, padding, output_padding, dilation, n, where):
    s, p = _tuple(stride, n, "stride", where), _tuple(padding, n, "padding", where, low=0)
    op = _tuple(output_padding, n, "output_padding", where, low=0)
    d = _tuple(dilation, n, "dilation", where)
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise ValueError(f"{where}: output_padding {op} must be smaller than stride {s} or "
                         f"dilation {d}")
    if min(p) < 0:
        raise ValueError(f"{where}: padding {p} must be >= 0")
    return s, p, op, d


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of ``conv2d`` w.r.t. its input), as PyTorch.

    ``weight`` is (C_in, C_out/groups, kh, kw). Each input pixel scatters a weighted kernel into
    the output: a matmul to columns, then ``fold`` adds the overlapping columns up.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv_transpose2d(cr.ones(1, 2, 3, 3), cr.ones(2, 4, 2, 2), stride=2).shape
        (1, 4, 6, 6)
    """
    where = "conv_transpose2d"
    input, weight, bias = _operands(input, weight, bias, 2, where,  # noqa: A001
                                    "(C_in, C_out/groups, kh, kw)")
    x = _batch(input, 2, where)
    g = _check_groups(x, weight, groups, True, where)
    s, p, op, d = _transpose_args(stride, padding, output_padding, dilation, 2, where)
    return _unbatch(_transpose_batched(x, weight, bias, s, p, op, g, d, where), input, 2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution; ``weight`` is (C_in, C_out/groups, k).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv_transpose1d(cr.ones(1, 2, 3), cr.ones(2, 1, 2), stride=2).shape
        (1, 1, 6)
    """
    where = "conv_transpose1d"
    input, weight, bias = _operands(input, weight, bias, 1, where,  # noqa: A001
                                    "(C_in, C_out/groups, k)")
    x = _batch(input, 1, where)
    g = _check_groups(x, weight, groups, True, where)
    s, p, op, d = _transpose_args(stride, padding, output_padding, dilation, 1, where)
    out = _transpose_batched(x.unsqueeze(2), weight.unsqueeze(2), bias, (1,) + s, (0,) + p,
                             (0,) + op, g, (1,) + d, where)
    return _unbatch(out.squeeze(2), input, 1)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None,  # noqa: A002
                     stride=1, padding=0, output_padding=0, groups: int = 1,
                     dilation=1) -> Tensor:
    """Transposed 3-D convolution; ``weight`` is (C_in, C_out/groups, kd, kh, kw).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.conv_transpose3d(cr.ones(1, 2, 2, 3, 3), cr.ones(2, 1, 2, 2, 2), stride=2).shape
        (1, 1, 4, 6, 6)
    """
    where = "conv_transpose3d"
    input, weight, bias = _operands(input, weight, bias, 3, where,  # noqa: A001
                                    "(C_in, C_out/groups, kd, kh, kw)")
    x = _batch(input, 3, where)
    g = _check_groups(x, weight, groups, True, where)
    s, p, op, d = _transpose_args(stride, padding, output_padding, dilation, 3, where)
    n, cin, depth = x.shape[:3]
    kd = weight.shape[2]
    full = (depth - 1) * s[0] + d[0] * (kd - 1) + 1 + op[0]
    out_depth = full - 2 * p[0]
    if out_depth < 1:
        raise ValueError(f"{where}: the output depth {out_depth} is not positive")
    slices = x.permute(0, 2, 1, 3, 4).reshape(n * depth, cin, *x.shape[3:])
    total = None
    for j in range(kd):
        y = _transpose_batched(slices, weight[:, :, j], None, s[1:], p[1:], op[1:], g, d[1:],
                               where)
        y = y.reshape(n, depth, *y.shape[1:])
        positions = np.arange(depth) * s[0] + j * d[0]
        y = index_add((n, full) + tuple(y.shape[2:]), (slice(None), positions), y)
        total = y if total is None else total + y
    out = total[:, p[0]:p[0] + out_depth].permute(0, 2, 1, 3, 4)
    return _unbatch(_add_bias(out, bias, 3, where), input, 3)
