"""Batch and layer normalisation: one fused primitive normalises over any set of axes.

``Normalize`` computes ``(x - mean) / sqrt(var + eps) * weight + bias`` with the statistics
taken over ``axes`` (the batch axes for batch norm, the trailing axes for layer norm). Its
backward is the closed form

    dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),   dxhat = g * weight

so the whole normalisation is one node instead of a dozen.
"""

from __future__ import annotations

import math

import numpy as np

from ... import _validate as check
from ... import dtypes
from ...autograd.graph import apply
from ...ops._rows import ones as _ones
from ...ops.op import Op
from ...ops.shape import pad_np
from ...tensor import Tensor


def _param(p, pshape):
    """A per-channel parameter reshaped to broadcast against x (a view, no copy)."""
    return p if pshape is None else p.reshape(pshape)


def _stats(F, x, axes, eps):
    """Centred x and 1/sqrt(var + eps), recomputed differentiably (create_graph backward)."""
    inv_n = 1.0 / _count(x, axes)
    xc = x - F.sum(x, axis=axes, keepdims=True) * inv_n
    var = F.sum(xc * xc, axis=axes, keepdims=True) * inv_n
    return xc, (var + eps) ** -0.5


class Normalize(Op):
    """(x - mean) / sqrt(var + eps) * w + b over ``axes``;
    dx = invstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dw = sum g xhat, db = sum g"""

    public, kind = None, "normalization"
    fresh_grads = True
    formula = ("dx = (1/sigma)(g w - mean(g w) - xhat mean(g w xhat)); dw = sum g xhat; "
               "db = sum g")
    saves = True

    def forward(x, w=None, b=None, *, axes, paxes, eps, pshape):
        if _trailing(x, axes, pshape) and x.size:
            return _ln_forward(x, w, b, len(axes), eps)
        n = _count(x, axes)
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = (xhat * xhat).sum(axis=axes, keepdims=True) * (1.0 / n)
        invstd = 1.0 / np.sqrt(var + eps)
        xhat *= invstd
        if w is not None:
            out = xhat * _param(w, pshape)
            if b is not None:
                out += _param(b, pshape)
        else:
            out = xhat.copy()
        return out, (xhat, mean, var, invstd)

    def backward(F, g, out, x, w=None, b=None, *, axes, paxes, eps, pshape, saved):
        if not F.differentiable:
            return _backward_np(g, w, b, axes, paxes, pshape, saved)
        xc, invstd = _stats(F, x, axes, eps)
        xhat = xc * invstd
        if w is None:
            dxhat = g
        else:
            dxhat = g * (F.reshape(w, pshape) if pshape is not None else w)
        inv_n = 1.0 / _count(x, axes)
        m1 = F.sum(dxhat, axis=axes, keepdims=True) * inv_n
        m2 = F.sum(dxhat * xhat, axis=axes, keepdims=True) * inv_n
        grads = [(dxhat - m1 - xhat * m2) * invstd]
        if w is not None:
            gxhat = g * xhat
            grads.append(F.sum(gxhat, axis=paxes) if paxes else gxhat)
        if b is not None:
            grads.append(F.sum(g, axis=paxes) if paxes else g)
        return tuple(grads)


def _trailing(x, axes, pshape) -> bool:
    """Whether ``axes`` are x's last dims and the parameters, if any, span exactly them (layer
    norm, group norm): then the statistics are row statistics of a 2-D view."""
    return pshape is None and axes == tuple(range(x.ndim - len(axes), x.ndim)) and x.ndim >= 1


def _ln_forward(x, w, b, k, eps):
    """``Normalize.forward`` over the last ``k`` dims, on the (rows, d) view.

    Row and column sums are matrix-vector products with a vector of ones: BLAS reads the array
    once, 3-4x faster than NumPy's reductions along a short axis.
    """
    d = math.prod(x.shape[x.ndim - k:])
    keep = x.shape[:x.ndim - k] + (1,) * k
    x2 = x.reshape(-1, d)
    ones = _ones(d, x.dtype)
    mean = np.dot(x2, ones)
    mean *= 1.0 / d
    xhat = np.subtract(x2, mean[:, None])
    var = np.einsum("ij,ij->i", xhat, xhat)
    var *= 1.0 / d
    invstd = var + eps
    np.sqrt(invstd, out=invstd)
    np.divide(1.0, invstd, out=invstd)
    xhat *= invstd[:, None]
    if w is None:
        out = xhat.copy()
    else:
        out = np.multiply(xhat, w.reshape(d))
        if b is not None:
            out += b.reshape(d)
    return out.reshape(x.shape), (xhat.reshape(x.shape), mean.reshape(keep), var.reshape(keep),
                                  invstd.reshape(keep))


def _ln_backward(g, w, b, k, saved):
    """``_backward_np`` for ``_ln_forward``: six passes over g's size and five GEMVs."""
    xhat, _, _, invstd = saved
    d = math.prod(xhat.shape[xhat.ndim - k:])
    g2, xhat2 = g.reshape(-1, d), xhat.reshape(-1, d)
    inv_n = 1.0 / d
    istd = invstd.reshape(-1, 1)
    rows = _ones(g2.shape[0], g2.dtype)
    gxhat = np.multiply(g2, xhat2)
    if w is None:
        ones = _ones(d, g2.dtype)
        m1, m2 = np.dot(g2, ones), np.dot(gxhat, ones)
        gx = g2 - (m1 * inv_n)[:, None]
    else:
        w2 = w.reshape(d)
        m1, m2 = np.dot(g2, w2), np.dot(gxhat, w2)
        gx = np.multiply(g2, w2)
        gx -= (m1 * inv_n)[:, None]
    grads = [gx.reshape(g.shape)]
    if w is not None:
        grads.append(np.dot(rows, gxhat).reshape(w.shape))
    np.multiply(xhat2, (m2 * inv_n)[:, None], out=gxhat)
    gx -= gxhat
    gx *= istd
    if b is not None:
        grads.append(np.dot(rows, g2).reshape(b.shape))
    return tuple(grads)


def _backward_np(g, w, b, axes, paxes, pshape, saved):
    """The same rule on arrays, with in-place steps to save temporaries (the training path)."""
    xhat = saved[0]
    if _trailing(xhat, axes, pshape) and xhat.size:
        return _ln_backward(g, w, b, len(axes), saved)
    _, _, _, invstd = saved
    inv_n = 1.0 / _count(xhat, axes)
    gxhat = g * xhat
    if w is None:
        dxhat, m2 = g, gxhat.sum(axis=axes, keepdims=True)
    else:
        wp = _param(w, pshape)
        dxhat = g * wp
        if paxes == axes:  # batch norm: w is constant over the reduced axes, factor it out
            m2 = gxhat.sum(axis=axes, keepdims=True) * wp
        else:
            m2 = (gxhat * wp).sum(axis=axes, keepdims=True)
    m1 = dxhat.sum(axis=axes, keepdims=True)
    gx = xhat * (m2 * -inv_n)
    gx += dxhat
    gx -= m1 * inv_n
    gx *= invstd
    grads = [gx]
    if w is not None:
        grads.append(gxhat.sum(axis=paxes) if paxes else gxhat)
    if b is not None:
        grads.append(g.sum(axis=paxes) if paxes else g.copy())  # new arrays: fresh_grads
    return tuple(grads)


def _count(x, axes) -> int:
    return math.prod(x.shape[a] for a in axes)


def _norm_args(where: str, input, **params) -> list:  # noqa: A002
    """A normalisation's input (floating, as PyTorch's kernels) and its parameters and
    statistics (None, or tensors of the input's dtype: PyTorch refuses mixed dtypes)."""
    names = ("input",) + tuple(params)
    out = check.same_dtype_operands(where, names, input, *params.values(),
                                    optional=tuple(params))
    check.floating(out[0], where)
    return out


def _normalize(x: Tensor, weight, bias, axes, paxes, eps, pshape, where: str):
    if weight is None and bias is not None:
        raise ValueError(f"{where}: a bias without a weight is not supported")
    inputs = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    return apply(Normalize, inputs, {"axes": axes, "paxes": paxes, "eps": eps, "pshape": pshape},
                 want_saved=True)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of ``input`` (N, C, ...) over all the other dims.

    In training the batch statistics are used and the running ones (if given) updated in place:
    ``running = (1 - momentum) running + momentum * batch`` with the unbiased batch variance.
    Otherwise the running statistics are used.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True, eps=0.0).tolist()
        [[-1.0], [1.0]]
    """
    input, running_mean, running_var, weight, bias = _norm_args(  # noqa: A001
        "batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
        bias=bias)
    momentum = 0.0 if momentum is None else check.number(momentum, "batch_norm", "momentum")
    eps = check.number(eps, "batch_norm", "eps")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given in evaluation "
                         "mode (training=False), as in PyTorch")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} has shape {t.shape}, expected ({c},) for "
                             f"input {input.shape}")
    if input._data.size == 0:  # an empty batch: an empty result, the statistics untouched
        return input * 1.0
    axes = (0,) + tuple(range(2, input.ndim))
    pshape = None if input.ndim == 2 else (1, c) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        n = _count(input, axes)
        if training and n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {input.shape}")
        out, saved = _normalize(input, weight, bias, axes, axes, eps, pshape, "batch_norm")
        if training and running_mean is not None and running_var is not None:
            _, mean, var, _ = saved
            rm, rv = running_mean._data, running_var._data
            mean = mean.reshape(c)
            var_unbiased = var.reshape(c) * (n / (n - 1))
            rm *= 1.0 - momentum
            rm += momentum * mean
            rv *= 1.0 - momentum
            rv += momentum * var_unbiased
            running_mean._version += 1
            running_var._version += 1
        return out
    # Eval: a fixed affine map x * a + c, with a and c differentiable in weight and bias.
    invstd = 1.0 / np.sqrt(running_var._data + eps)
    rm = running_mean._data
    if weight is not None:
        a = weight * invstd.astype(weight.dtype)
        shift = -(a * rm.astype(weight.dtype))
        if bias is not None:
            shift = shift + bias
    else:
        a = Tensor(invstd.astype(input.dtype))
        shift = Tensor((-invstd * rm).astype(input.dtype))
        if bias is not None:
            shift = shift + bias
    if pshape is not None:
        a, shift = a.reshape(pshape), shift.reshape(pshape)
    return input * a + shift


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims of each sample, then scale/shift.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.layer_norm(cr.tensor([[1.0, 3.0]]), (2,), eps=0.0).tolist()
        [[-1.0, 1.0]]
    """
    input, weight, bias = _norm_args("layer_norm", input, weight=weight, bias=bias)  # noqa: A001
    shape = check.ints(normalized_shape, 0, "layer_norm", "normalized_shape", low=0)
    eps = check.number(eps, "layer_norm", "eps")
    k = len(shape)
    if k == 0 or input.shape[input.ndim - k:] != shape or input.ndim < k:
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end with "
                         f"normalized_shape {shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {t.shape}, expected {shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    paxes = tuple(range(input.ndim - k))
    return _normalize(input, weight, bias, axes, paxes, eps, None, "layer_norm")[0]


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of channels (dim 1), then scale/shift per channel.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.group_norm(cr.tensor([[1.0, 3.0, 5.0, 7.0]]), 2, eps=0.0).tolist()
        [[-1.0, 1.0, -1.0, 1.0]]
    """
    input, weight, bias = _norm_args("group_norm", input, weight=weight, bias=bias)  # noqa: A001
    num_groups = check.integer(num_groups, "group_norm", "num_groups", low=1)
    eps = check.number(eps, "group_norm", "eps")
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: input {input.shape} must have (N, C, ...) with C "
                         f"divisible by num_groups={num_groups}")
    n, c = input.shape[:2]
    if input._data.size == 0:  # an empty batch: nothing to normalise
        return input * 1.0
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"group_norm: {name} has shape {t.shape}, expected ({c},)")
    grouped = input.reshape(n, num_groups, -1)
    out = _normalize(grouped, None, None, (2,), (), eps, None, "group_norm")[0]
    out = out.reshape(input.shape)
    pshape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(pshape)
    if bias is not None:
        out = out + bias.reshape(pshape)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of (N, C, ...) over its spatial dims, then scale
    and shift per channel.

    With ``use_input_stats`` the running statistics (if given) are updated in place with the
    batch average of the per-sample statistics (unbiased variance); without it they are used
    instead, as batch norm's eval mode does.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.instance_norm(cr.tensor([[[1.0, 3.0], [2.0, 6.0]]]), eps=0.0).tolist()
        [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    input, running_mean, running_var, weight, bias = _norm_args(  # noqa: A001
        "instance_norm", input, running_mean=running_mean, running_var=running_var,
        weight=weight, bias=bias)
    momentum = 0.0 if momentum is None else check.number(momentum, "instance_norm", "momentum")
    eps = check.number(eps, "instance_norm", "eps")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *spatial), got "
                         f"{input.shape}")
    n, c = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"instance_norm: {name} has shape {t.shape}, expected ({c},) for "
                             f"input {input.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    axes = tuple(range(2, input.ndim))
    count = _count(input, axes)
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {input.shape}")
    pshape = (1, c) + (1,) * (input.ndim - 2)
    paxes = (0,) + axes
    out, saved = _normalize(input, weight, bias, axes, paxes, eps,
                            None if weight is None else pshape, "instance_norm")
    if running_mean is not None and running_var is not None:
        _, mean, var, _ = saved
        rm, rv = running_mean._data, running_var._data
        rm *= 1.0 - momentum
        rm += momentum * mean.reshape(n, c).mean(axis=0)
        rv *= 1.0 - momentum
        rv += momentum * (var.reshape(n, c) * (count / (count - 1))).mean(axis=0)
        running_mean._version += 1
        running_var._version += 1
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divide each value by (k + alpha * mean of the squares of ``size`` neighbouring channels)
    ** beta (AlexNet's normalisation across channels).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.local_response_norm(cr.ones(1, 3, 2), 2, alpha=1.0, beta=1.0, k=0.0).tolist()
        [[[2.0, 2.0], [1.0, 1.0], [1.0, 1.0]]]
    """
    input = check.real(check.tensor(input, "local_response_norm"), "local_response_norm")  # noqa: A001
    if input._data.dtype.kind != "f":  # PyTorch's formula divides: integers become floats
        if input._data.dtype.kind != "i":  # (its pooling step refuses bool and uint8)
            check.floating(input, "local_response_norm")
        input = input.to(dtypes.get_default_dtype())  # noqa: A001
    size = check.integer(size, "local_response_norm", "size", low=1)
    alpha, beta, k = (check.number(v, "local_response_norm", n) for v, n in
                      ((alpha, "alpha"), (beta, "beta"), (k, "k")))
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected input of shape (N, C, *), got "
                         f"{input.shape}")
    if input._data.size == 0:
        return input
    c = input.shape[1]
    check.alloc(input.shape[:1] + (c + size,) + input.shape[2:], input._data.dtype,
                "local_response_norm")
    sq = input * input
    widths = [(0, 0)] * input.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = pad_np(sq, widths)
    total = padded[:, 0:c]
    for j in range(1, size):
        total = total + padded[:, j:j + c]
    return input / ((total * (alpha / size) + k) ** beta)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,  # noqa: A002
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` dims, times ``weight``.
    ``eps`` defaults to the machine epsilon of the input's dtype, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> [round(v, 4) for v in F.rms_norm(cr.tensor([[3.0, 4.0]]), (2,), eps=0.0)[0].tolist()]
        [0.8485, 1.1314]
    """
    # PyTorch's rms_norm is a composite: input and weight of two float dtypes promote
    input = check.floating(input, "rms_norm")  # noqa: A001
    if weight is not None:
        weight = check.floating(weight, "rms_norm", "weight")
    shape = check.ints(normalized_shape, 0, "rms_norm", "normalized_shape", low=0)
    if eps is not None:
        eps = check.number(eps, "rms_norm", "eps")
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(f"rms_norm: input of shape {input.shape} does not end with "
                         f"normalized_shape {shape}")
    if weight is not None and weight.shape != shape:
        raise ValueError(f"rms_norm: weight has shape {weight.shape}, expected {shape}")
    if eps is None:
        eps = float(np.finfo(input.dtype if input.dtype.kind == "f" else np.float32).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight
