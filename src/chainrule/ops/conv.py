"""Convolution and pooling over 2-D images (N, C, H, W).

Two linear primitives carry all the gradient logic: ``unfold`` (im2col: every receptive field
becomes a column) and ``fold`` (col2im: columns are added back into the image). Each is the other's
gradient, so a convolution written as ``unfold`` + ``matmul`` differentiates to any order with no
extra rules. Max pooling is its own primitive because it routes the gradient to one entry.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import _validate as check
from .._blas import matmul_add_
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._rows import rowsum
from .op import Op, public


def _pair(v, name: str, op: str) -> tuple[int, int]:
    return check.ints(v, 2, op, name)


def _image(input, op: str, kinds: str = "f", n: int = 2) -> tuple:  # noqa: A002
    """``input`` as a batched image tensor of the dtypes the op takes (NumPy kind letters, as
    PyTorch's kernels), and whether it came unbatched (one dim fewer, as PyTorch accepts)."""
    x = check.tensor(input, op)
    kind = x._data.dtype.kind
    if kind not in kinds:
        if kind == "b":
            raise TypeError(check.say("dtype_bool", op=op, arg="input"))
        check.floating(x, op)
    if x.ndim == n + 1:
        from .shape import reshape

        return reshape(x, (1,) + x.shape), True
    if x.ndim != n + 2:
        raise OpError(f"{op}(): expects a {n + 2}-D (batched) or {n + 1}-D (unbatched) input, "
                      f"got shape {x.shape}")
    return x, False


def _unbatch(out: Tensor, unbatched: bool) -> Tensor:
    if not unbatched:
        return out
    from .shape import reshape

    return reshape(out, out.shape[1:])


def _on_floats(fn, x: Tensor, *args, **kwargs) -> Tensor:
    """``fn`` of an integer image computed on exact float64 values, back in its dtype
    (truncated toward zero, as PyTorch's integer kernels divide)."""
    out = fn(_wrap(x._data.astype(np.float64)), *args, **kwargs)
    return _wrap(np.trunc(out._data).astype(x._data.dtype))


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _windows(x, k, s, p, d, pad_value=0.0):
    """A strided view (N, C, Ho, Wo, kh, kw) of every receptive field; no copy."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    win = sliding_window_view(x, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def _unfold(x, k, s, p, d):
    n, c = x.shape[:2]
    win = _windows(x, k, s, p, d)
    ho, wo = win.shape[2:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * k[0] * k[1], ho * wo)


def _fold(cols, size, k, s, p, d):
    """Add columns (N, C*kh*kw, L) back into an image of ``size`` (H, W): the adjoint of unfold."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    h, w = size
    ho, wo = _out_size(h, kh, sh, ph, dh), _out_size(w, kw, sw, pw, dw)
    blocks = cols.reshape(n, c, kh, kw, ho, wo)
    img = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    # One strided add per kernel offset: far faster than np.add.at over every index.
    for i in range(kh):
        for j in range(kw):
            r, q = i * dh, j * dw
            img[:, :, r:r + sh * (ho - 1) + 1:sh, q:q + sw * (wo - 1) + 1:sw] += blocks[:, :, i, j]
    return img[:, :, ph:ph + h, pw:pw + w]


class Unfold(Op):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L), like ``torch.nn.functional.unfold``.

    Example:
        >>> import chainrule as cr
        >>> cr.unfold(cr.ones(1, 2, 4, 4), 3).shape
        (1, 18, 4)
    """

    kind = "convolution"
    formula = "unfold: gradient of each column is added back to its receptive field (fold)"

    def call(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
        x, unbatched = _image(input, "unfold", "fb")  # PyTorch: floats and bools
        k, s, p, d, _, _ = _geometry(x, kernel_size, stride, padding, dilation, "unfold")
        return _unbatch(Unfold.record(x, k=k, s=s, p=p, d=d), unbatched)

    def forward(x, k, s, p, d):
        return _unfold(x, k, s, p, d)

    def backward(F, g, out, x, k, s, p, d):
        size = x.shape[2:]
        if F.differentiable:
            return (fold(g, size, k, stride=s, padding=p, dilation=d),)
        return (_fold(g, size, k, s, p, d),)


class Fold(Op):
    """Sum sliding blocks back into images: the adjoint of ``unfold``."""

    kind = "convolution"
    formula = "fold: gradient of each column is its receptive field of the upstream (unfold)"

    def call(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
        cols, unbatched = _image(input, "fold", "fb", n=1)
        k = check.ints(kernel_size, 2, "fold", "kernel_size", low=1)
        s = check.ints(stride, 2, "fold", "stride", low=1)
        d = check.ints(dilation, 2, "fold", "dilation", low=1)
        p = check.ints(padding, 2, "fold", "padding", low=0)
        size = check.ints(output_size, 2, "fold", "output_size", low=0)
        ho, wo = (_out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
        if cols.shape[1] % (k[0] * k[1]) or cols.shape[2] != ho * wo or ho < 1 or wo < 1:
            raise OpError(f"fold(): input {cols.shape} does not match kernel {k} and output size "
                          f"{size} (expected (N, C*{k[0] * k[1]}, {ho * wo}))")
        check.alloc((cols.shape[0], cols.shape[1] // (k[0] * k[1])) + size, cols._data.dtype,
                    "fold")
        return _unbatch(Fold.record(cols, size=size, k=k, s=s, p=p, d=d), unbatched)

    def forward(cols, size, k, s, p, d):
        return _fold(cols, size, k, s, p, d)

    def backward(F, g, out, cols, size, k, s, p, d):
        if F.differentiable:
            return (unfold(g, k, stride=s, padding=p, dilation=d),)
        return (_unfold(g, k, s, p, d),)


def _padded(x, p, value):
    (ph, pw) = p
    if not (ph or pw):
        return x
    n, c, h, w = x.shape
    # full_like keeps x's memory order: a batch-innermost image stays batch-innermost.
    xp = np.full_like(x, value, shape=(n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _offsets(xp, k, s, d, ho, wo, axis=2):
    """The strided view of every window's (i, j) element, one per kernel offset, row-major.

    ``axis`` is where the two spatial axes start: 2 for (N, C, H, W), 1 for (C, H, W, N).
    """
    (kh, kw), (sh, sw), (dh, dw) = k, s, d
    lead = (slice(None),) * axis
    for i in range(kh):
        for j in range(kw):
            r, q = i * dh, j * dw
            yield xp[lead + (slice(r, r + sh * (ho - 1) + 1, sh),
                             slice(q, q + sw * (wo - 1) + 1, sw))]


def _first_max_masks(x, out, k, s, p, d):
    """Per kernel offset, where that offset holds its window's first maximum (PyTorch's pick).

    Ties (common after a ReLU) go to the first offset in row-major order; a NaN is its window's
    maximum.
    """
    ho, wo = out.shape[2:]
    nan = bool(np.isnan(out).any()) if out.dtype.kind == "f" else False
    taken, masks = None, []
    for v in _offsets(_padded(x, p, -np.inf), k, s, d, ho, wo):
        hit = v == out
        if nan:
            hit |= np.isnan(v) & np.isnan(out)
        if taken is None:
            taken = hit.copy(order="K")
        else:
            hit &= ~taken
            taken |= hit
        masks.append(hit)
    return masks


class MaxPool2d(Op):
    """Maximum over each window, as ``torch.nn.functional.max_pool2d``."""

    kind = "pooling"
    formula = "d maxpool/dx = 1 at each window's maximum, else 0"
    fresh_grads = True

    def call(input, kernel_size, stride=None, padding=0, dilation=1):  # noqa: A002
        x, unbatched = _image(input, "max_pool2d", "fiu")
        k, s, p, d, _, _ = _geometry(x, kernel_size, stride, padding, dilation, "max_pool2d")
        if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
            raise OpError(f"max_pool2d(): padding {p} must be at most half the kernel size {k}")
        if x._data.dtype.kind in "iu":
            return _unbatch(_on_floats(MaxPool2d.call, x, k, s, p, d), unbatched)
        return _unbatch(MaxPool2d.record(x, k=k, s=s, p=p, d=d), unbatched)

    def forward(x, k, s, p, d):
        # One np.maximum per kernel offset over strided views: several times faster than a
        # reduction over a (..., kh*kw) window view, which NumPy cannot vectorise.
        ho = _out_size(x.shape[2], k[0], s[0], p[0], d[0])
        wo = _out_size(x.shape[3], k[1], s[1], p[1], d[1])
        views = _offsets(_padded(x, p, -np.inf), k, s, d, ho, wo)
        out = next(views).copy(order="K")  # in x's memory order (batch innermost after a conv)
        for v in views:
            np.maximum(out, v, out=out)
        return out

    def backward(F, g, out, x, k, s, p, d):
        xd = x._data if F.differentiable else x
        masks = _first_max_masks(xd, out._data if F.differentiable else out, k, s, p, d)
        n, c, ho, wo = masks[0].shape
        if F.differentiable:
            kk = len(masks)
            mask = np.stack(masks, axis=2).reshape(n, c * kk, ho * wo)
            gcols = F.broadcast_to(F.reshape(g, (n, c, 1, ho * wo)), (n, c, kk, ho * wo))
            gcols = F.reshape(gcols, (n, c * kk, ho * wo)) * mask
            return (fold(gcols, x.shape[2:], k, stride=s, padding=p, dilation=d),)
        h, w = x.shape[2:]
        # Windows that do not overlap write disjoint entries: multiply straight into the view.
        disjoint = all(st >= dl * (kk - 1) + 1 for st, dl, kk in zip(s, d, k))
        # ... and when they also tile the whole input, every entry is written: no zero fill.
        tiled = disjoint and p == (0, 0) and d == (1, 1) and s == k and (h, w) == (
            ho * k[0], wo * k[1])
        shape = (n, c, h + 2 * p[0], w + 2 * p[1])
        gx = (np.empty_like if tiled else np.zeros_like)(x, dtype=g.dtype, shape=shape)
        for view, m in zip(_offsets(gx, k, s, d, ho, wo), masks):
            if disjoint:
                np.multiply(g, m, out=view)
            else:
                view += g * m
        return (gx[:, :, p[0]:p[0] + h, p[1]:p[1] + w],)


# The convolution runs over blocks of output rows: each block's im2col columns (at most this many
# values, 2 MiB in float32) are made, multiplied and dropped while they are still in cache.
# Materialising the columns of a whole batch wrote and re-read tens of megabytes (288 x 36864
# floats for a 32-channel 3x3 layer at batch 64), and its GEMM with the input gradient (K = the
# few output channels) ran at memory speed.
_CONV_BLOCK = 1 << 19
_CONV_WHOLE = 1 << 21  # columns up to this size are made at once (and kept for the backward)


def _image_cm(x, p):
    """The padded image as (C, Hp, Wp, N), batch innermost: no copy when x is stored that way
    (a convolution's or pooling's output)."""
    return np.ascontiguousarray(_padded(x, p, 0).transpose(1, 2, 3, 0))


def _row_blocks(ho, wo, n, c_kk):
    """(first, last) output rows of each block: one block when all the columns are small."""
    if c_kk * ho * wo * n <= _CONV_WHOLE:
        yield 0, ho
        return
    rows = max(1, _CONV_BLOCK // max(1, c_kk * wo * n))
    for h0 in range(0, ho, rows):
        yield h0, min(ho, h0 + rows)


def _cols(views, h0, h1, c, kk, wo, n, dtype):
    """im2col of output rows h0..h1: (C*kh*kw, rows*Wo*N), channels-and-offsets by positions,
    batch innermost; each offset's part is one strided copy with runs of Wo*N values."""
    cols = np.empty((c, kk, h1 - h0, wo, n), dtype)
    for idx, v in enumerate(views):
        cols[:, idx] = v[:, h0:h1]
    return cols.reshape(c * kk, -1)


def _conv_forward(x, w, b, k, s, p, d, ho, wo):
    """(O, Ho*Wo*N): the bias, then W (O, C*kh*kw) @ columns added block by block."""
    n, c = x.shape[:2]
    o, kk = w.shape[0], k[0] * k[1]
    views = list(_offsets(_image_cm(x, p), k, s, d, ho, wo, axis=1))
    w2 = w.reshape(o, -1)
    y2 = np.empty((o, ho * wo * n), np.result_type(x, w))
    if b is None:
        y2.fill(0)
    else:
        y2[...] = b.reshape(o, 1)
    blocks = list(_row_blocks(ho, wo, n, c * kk))
    for h0, h1 in blocks:
        cols = _cols(views, h0, h1, c, kk, wo, n, x.dtype)
        part = y2[:, h0 * wo * n:h1 * wo * n]
        if not matmul_add_(part, w2, cols):
            part += np.dot(w2, cols)
    # A layer whose columns fit in one block keeps them for its backward (small, and making
    # them again would cost more than keeping them)
    return y2, (cols if len(blocks) == 1 else None)


def _conv_backward(g2, x, w, k, s, p, d, ho, wo, need_x, need_w, kept=None):
    """Input and weight gradients block by block: the columns are made again (in cache) for
    ``G cols^T``, and ``W^T G`` of each block is added straight back into the image."""
    n, c, h, wd = x.shape
    o, kk = w.shape[0], k[0] * k[1]
    w2 = w.reshape(o, -1)
    views = list(_offsets(_image_cm(x, p), k, s, d, ho, wo, axis=1)) if need_w and \
        kept is None else None
    gw = np.zeros((o, c * kk), g2.dtype) if need_w else None
    img = np.zeros((c, h + 2 * p[0], wd + 2 * p[1], n), g2.dtype) if need_x else None
    targets = list(_offsets(img, k, s, d, ho, wo, axis=1)) if need_x else None
    for h0, h1 in _row_blocks(ho, wo, n, c * kk):
        gb = g2[:, h0 * wo * n:h1 * wo * n]
        if need_w:
            cols = kept if kept is not None else _cols(views, h0, h1, c, kk, wo, n, x.dtype)
            if not matmul_add_(gw, gb, cols.T):
                gw += np.dot(gb, cols.T)
        if need_x:
            dcols = np.dot(w2.T, gb).reshape(c, kk, h1 - h0, wo, n)
            for idx, t in enumerate(targets):
                t[:, h0:h1] += dcols[:, idx]
    gx = None
    if need_x:
        if p[0] or p[1]:
            img = np.ascontiguousarray(img[:, p[0]:p[0] + h, p[1]:p[1] + wd])
        gx = img.transpose(3, 0, 1, 2)  # (N, C, H, W), stored batch innermost like the forward
    return gx, (gw.reshape(w.shape) if need_w else None)


class Conv2d(Op):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (``groups`` must be 1).

    Example:
        >>> import chainrule as cr
        >>> cr.conv2d(cr.ones(2, 3, 8, 8), cr.ones(4, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8)
    """

    kind = "convolution"
    formula = ("conv: dL/dx = col2im(W^T G) (a transposed convolution), dL/dW = G unfold(x)^T, "
               "dL/db = sum of G over batch and positions")
    saves = True
    pass_needs_input_grad = True
    fresh_grads = True

    def call(input, weight, bias=None, stride=1, padding=0, dilation=1,  # noqa: A002
             groups: int = 1):
        x, w, b = check.same_dtype_operands("conv2d", ("input", "weight", "bias"), input, weight,
                                            bias)
        x, unbatched = _image(x, "conv2d")
        if groups != 1:
            raise NotImplementedError("conv2d(): only groups=1 is supported here (use "
                                      "nn.functional.conv2d)")
        if w.ndim != 4 or x.shape[1] != w.shape[1]:
            raise OpError(f"conv2d(): input {x.shape} and weight {w.shape} do not fit (expected "
                          "input (N, C, H, W) and weight (out_channels, C, kh, kw) with the "
                          "same C)")
        padding = _same_padding(padding, w, stride, dilation)
        k, s, p, d, ho, wo = _geometry(x, w.shape[2:], stride, padding, dilation, "conv2d")
        check.alloc((x.shape[0], w.shape[0], ho, wo), x._data.dtype, "conv2d")
        if w.shape[0] == 0:
            raise OpError(f"conv2d(): weight {w.shape} has no output channels (PyTorch needs "
                          "at least one)")
        if x.shape[0] == 0:  # no samples: an empty batch
            return _unbatch(_wrap(np.zeros((x.shape[0], w.shape[0], ho, wo), x._data.dtype)),
                            unbatched)
        if b is None:
            return _unbatch(Conv2d.record(x, w, k=k, s=s, p=p, d=d), unbatched)
        if b.shape != (w.shape[0],):
            raise OpError(f"conv2d(): bias {b.shape} does not fit {w.shape[0]} output channels")
        return _unbatch(Conv2d.record(x, w, b, k=k, s=s, p=p, d=d), unbatched)

    def forward(x, w, b=None, *, k, s, p, d):
        n = x.shape[0]
        o = w.shape[0]
        ho = _out_size(x.shape[2], k[0], s[0], p[0], d[0])
        wo = _out_size(x.shape[3], k[1], s[1], p[1], d[1])
        y2, kept = _conv_forward(x, w, b, k, s, p, d, ho, wo)  # (O, Ho*Wo*N): whole batch
        # The (N, O, Ho, Wo) result stays stored as (O, Ho, Wo, N): no transposing copy, and
        # elementwise ops, pooling and the next convolution's im2col all run over batch-long
        # contiguous rows in that order (like PyTorch's channels_last, with the batch last).
        return y2.reshape(o, ho, wo, n).transpose(3, 0, 1, 2), kept

    def backward(F, g, out, x, w, b=None, *, k, s, p, d, saved=None,
                 needs_input_grad=(True, True, True)):
        n, o, ho, wo = g.shape
        if F.differentiable:
            return _conv2d_backward_graph(F, g, x, w, b, k, s, p, d, needs_input_grad)
        g2 = g.transpose(1, 2, 3, 0).reshape(o, ho * wo * n)  # (O, Ho*Wo*N), a view or a copy
        gx, gw = _conv_backward(g2, x, w, k, s, p, d, ho, wo, needs_input_grad[0],
                                needs_input_grad[1], saved)
        if b is None:
            return gx, gw
        gb = rowsum(g2)[:, 0] if needs_input_grad[2] else None
        return gx, gw, gb


def _conv2d_backward_graph(F, g, x, w, b, k, s, p, d, needs):
    """The same gradients with differentiable ops (``create_graph=True``): unfold and fold carry
    the image geometry, so higher orders follow from theirs."""
    n, o, ho, wo = g.shape
    g3 = F.reshape(g, (n, o, ho * wo))  # (N, O, L)
    w2 = F.reshape(w, (o, -1))
    gx = gw = gb = None
    if needs[0]:
        gcols = F.matmul(F.mT(w2), g3)  # (N, C*kh*kw, L)
        gx = fold(gcols, x.shape[2:], k, stride=s, padding=p, dilation=d)
    if needs[1]:
        cols = unfold(x, k, stride=s, padding=p, dilation=d)  # (N, C*kh*kw, L)
        gw = F.reshape(F.sum(F.matmul(g3, F.mT(cols)), axis=0), w.shape)
    if b is None:
        return gx, gw
    if needs[2]:
        gb = F.sum(g3, axis=(0, 2))
    return gx, gw, gb


def _geometry(x, kernel_size, stride, padding, dilation, op):
    if x.ndim != 4:
        raise OpError(f"{op}(): expects input of shape (N, C, H, W), got {x.shape}")
    k = _pair(kernel_size, "kernel_size", op)
    s = _pair(stride if stride is not None else k, "stride", op)
    p = _pair(padding, "padding", op)
    d = _pair(dilation, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise OpError(f"{op}(): kernel {k}, stride {s}, dilation {d} must be >= 1 and padding "
                      f"{p} >= 0")
    ho = _out_size(x.shape[2], k[0], s[0], p[0], d[0])
    wo = _out_size(x.shape[3], k[1], s[1], p[1], d[1])
    if ho < 1 or wo < 1:
        raise OpError(f"{op}(): input {x.shape} is too small for kernel {k} with padding {p} and "
                      f"dilation {d}")
    check.alloc(x.shape[:2] + (ho, wo), x._data.dtype, op)
    return k, s, p, d, ho, wo










@public(kind="pooling")
def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean over each window (zero padding counted, like PyTorch's default)."""
    from .reduce import mean
    from .shape import reshape

    x, unbatched = _image(x, "avg_pool2d", "fi")
    k, s, p, d, ho, wo = _geometry(x, kernel_size, stride, padding, 1, "avg_pool2d")
    if x._data.dtype.kind in "iu":
        return _unbatch(_on_floats(avg_pool2d, x, k, s, p), unbatched)
    n, c = x.shape[:2]
    cols = Unfold.record(x, k=k, s=s, p=p, d=d)
    cols = reshape(cols, (n, c, k[0] * k[1], ho * wo))
    return _unbatch(reshape(mean(cols, dim=2), (n, c, ho, wo)), unbatched)


def _same_padding(padding, w, stride, dilation):
    """Numbers for ``padding='valid'`` or ``'same'`` (stride 1), as PyTorch accepts."""
    if not isinstance(padding, str):
        return padding
    if padding == "valid":
        return 0
    if padding == "same" and _pair(stride, "stride", "conv2d") == (1, 1):
        kh, kw = w.shape[2:]
        dh, dw = _pair(dilation, "dilation", "conv2d")
        if (dh * (kh - 1)) % 2 or (dw * (kw - 1)) % 2:
            raise OpError("conv2d(): padding='same' needs an odd effective kernel size here")
        return (dh * (kh - 1) // 2, dw * (kw - 1) // 2)
    raise OpError(f"conv2d(): padding={padding!r} is not supported (use 'valid', 'same' "
                  "with stride 1, or numbers)")


unfold, fold, conv2d, max_pool2d = Unfold.call, Fold.call, Conv2d.call, MaxPool2d.call
