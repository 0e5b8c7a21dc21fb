"""Convolution and pooling over 2-D images (N, C, H, W).

Two linear primitives carry all the gradient logic: ``unfold`` (im2col: every receptive field
becomes a column) and ``fold`` (col2im: columns are added back into the image). Each is the other's
gradient, so a convolution written as ``unfold`` + ``matmul`` differentiates to any order with no
extra rules. Max pooling is its own primitive because it routes the gradient to one entry.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.graph import OpError
from ..tensor import Tensor
from ._util import as_tensor
from .op import Op, public


def _pair(v, name: str, op: str) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or any(int(p) != p for p in pair):
        raise ValueError(f"{op}(): {name} must be an int or a pair of ints, got {v!r}")
    return int(pair[0]), int(pair[1])


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
        x = as_tensor(input, "unfold")
        k, s, p, d, _, _ = _geometry(x, kernel_size, stride, padding, dilation, "unfold")
        return Unfold.record(x, k=k, s=s, p=p, d=d)

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
        cols = as_tensor(input, "fold")
        k = _pair(kernel_size, "kernel_size", "fold")
        s, p, d = (_pair(v, n, "fold") for v, n in ((stride, "stride"), (padding, "padding"),
                                                    (dilation, "dilation")))
        size = _pair(output_size, "output_size", "fold")
        ho, wo = (_out_size(size[i], k[i], s[i], p[i], d[i]) for i in range(2))
        if cols.ndim != 3 or cols.shape[1] % (k[0] * k[1]) or cols.shape[2] != ho * wo:
            raise OpError(f"fold(): input {cols.shape} does not match kernel {k} and output size "
                          f"{size} (expected (N, C*{k[0] * k[1]}, {ho * wo}))")
        return Fold.record(cols, size=size, k=k, s=s, p=p, d=d)

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
        x = as_tensor(input, "max_pool2d")
        k, s, p, d, _, _ = _geometry(x, kernel_size, stride, padding, dilation, "max_pool2d")
        if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
            raise OpError(f"max_pool2d(): padding {p} must be at most half the kernel size {k}")
        return MaxPool2d.record(x, k=k, s=s, p=p, d=d)

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
        gx = np.zeros_like(x, dtype=g.dtype, shape=(n, c, h + 2 * p[0], w + 2 * p[1]))
        # Windows that do not overlap write disjoint entries: multiply straight into the view.
        disjoint = all(st >= dl * (kk - 1) + 1 for st, dl, kk in zip(s, d, k))
        for view, m in zip(_offsets(gx, k, s, d, ho, wo), masks):
            if disjoint:
                np.multiply(g, m, out=view)
            else:
                view += g * m
        return (gx[:, :, p[0]:p[0] + h, p[1]:p[1] + w],)


def _im2col_cm(x, k, s, p, d, ho, wo):
    """im2col as (C*kh*kw, Ho*Wo*N): channels-and-offsets by positions, batch innermost.

    A whole batch is then one GEMM ``W @ cols``. The image is first laid out as (C, H, W, N),
    so each kernel offset's block is one strided copy whose inner run is Wo*N contiguous values
    (with unit stride), instead of Wo values: NumPy's per-run overhead dominated the old layout.
    An image that a convolution or pooling made is already stored that way: no copy then.
    """
    c, n = x.shape[1], x.shape[0]
    (kh, kw) = k
    xt = _padded(x, p, 0).transpose(1, 2, 3, 0)  # (C, H, W, N) view
    xt = np.ascontiguousarray(xt)
    cols = np.empty((c, kh, kw, ho, wo, n), dtype=x.dtype)
    for idx, v in enumerate(_offsets(xt, k, s, d, ho, wo, axis=1)):
        cols[:, idx // kw, idx % kw] = v
    return cols.reshape(c * kh * kw, ho * wo * n)


def _col2im_cm(cols, shape, k, s, p, d, ho, wo):
    """The adjoint of ``_im2col_cm``: add the columns back into an (N, C, H, W) image."""
    n, c, h, w = shape
    (kh, kw) = k
    blocks = cols.reshape(c, kh * kw, ho, wo, n)
    img = np.zeros((c, h + 2 * p[0], w + 2 * p[1], n), dtype=cols.dtype)
    for idx, v in enumerate(_offsets(img, k, s, d, ho, wo, axis=1)):
        v += blocks[:, idx]
    if p[0] or p[1]:
        img = np.ascontiguousarray(img[:, p[0]:p[0] + h, p[1]:p[1] + w])
    return img.transpose(3, 0, 1, 2)  # (N, C, H, W), stored batch innermost like the forward


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
        x, w = as_tensor(input, "conv2d"), as_tensor(weight, "conv2d")
        if groups != 1:
            raise NotImplementedError("conv2d(): only groups=1 is supported")
        if w.ndim != 4 or x.ndim != 4 or x.shape[1] != w.shape[1]:
            raise OpError(f"conv2d(): input {x.shape} and weight {w.shape} do not fit (expected "
                          "input (N, C, H, W) and weight (out_channels, C, kh, kw) with the "
                          "same C)")
        padding = _same_padding(padding, w, stride, dilation)
        k, s, p, d, ho, wo = _geometry(x, w.shape[2:], stride, padding, dilation, "conv2d")
        if bias is None:
            return Conv2d.record(x, w, k=k, s=s, p=p, d=d)
        b = as_tensor(bias, "conv2d")
        if b.shape != (w.shape[0],):
            raise OpError(f"conv2d(): bias {b.shape} does not fit {w.shape[0]} output channels")
        return Conv2d.record(x, w, b, k=k, s=s, p=p, d=d)

    def forward(x, w, b=None, *, k, s, p, d):
        n = x.shape[0]
        o = w.shape[0]
        ho = _out_size(x.shape[2], k[0], s[0], p[0], d[0])
        wo = _out_size(x.shape[3], k[1], s[1], p[1], d[1])
        cols = _im2col_cm(x, k, s, p, d, ho, wo)
        y2 = np.dot(w.reshape(o, -1), cols)  # (O, Ho*Wo*N): the whole batch in one GEMM
        if b is not None:
            y2 += b.reshape(o, 1)
        # The (N, O, Ho, Wo) result stays stored as (O, Ho, Wo, N): no transposing copy, and
        # elementwise ops, pooling and the next convolution's im2col all run over batch-long
        # contiguous rows in that order (like PyTorch's channels_last, with the batch last).
        return y2.reshape(o, ho, wo, n).transpose(3, 0, 1, 2), cols

    def backward(F, g, out, x, w, b=None, *, k, s, p, d, saved,
                 needs_input_grad=(True, True, True)):
        n, o, ho, wo = g.shape
        if F.differentiable:
            return _conv2d_backward_graph(F, g, x, w, b, k, s, p, d, needs_input_grad)
        g2 = g.transpose(1, 2, 3, 0).reshape(o, ho * wo * n)  # (O, Ho*Wo*N), one copy
        gx = gw = gb = None
        if needs_input_grad[0]:
            gx = _col2im_cm(np.dot(w.reshape(o, -1).T, g2), x.shape, k, s, p, d, ho, wo)
        if needs_input_grad[1]:
            gw = np.dot(g2, saved.T).reshape(w.shape)
        if b is None:
            return gx, gw
        if needs_input_grad[2]:
            gb = np.add.reduce(g2, 1)
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
    return k, s, p, d, ho, wo










@public(kind="pooling")
def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean over each window (zero padding counted, like PyTorch's default)."""
    from .reduce import mean
    from .shape import reshape

    x = as_tensor(x, "avg_pool2d")
    k, s, p, d, ho, wo = _geometry(x, kernel_size, stride, padding, 1, "avg_pool2d")
    n, c = x.shape[:2]
    cols = Unfold.record(x, k=k, s=s, p=p, d=d)
    cols = reshape(cols, (n, c, k[0] * k[1], ho * wo))
    return reshape(mean(cols, dim=2), (n, c, ho, wo))


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
