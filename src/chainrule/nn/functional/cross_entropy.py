"""Cross entropy as one fused, stable primitive (softmax + log-loss), and the NLL loss.

Fusing the softmax into the loss lets the backward reuse the saved probabilities: the gradient
of mean cross entropy w.r.t. the logits is just ``(softmax - onehot) / N``, one pass over the
logits instead of a chain of nodes.

Every variant is written as ``loss_i = -sum_c T_ic log p_ic`` with a constant target matrix
``T`` (one-hot label times class weight, plus label smoothing), whose gradient is
``(sum_c T_ic) p_i - T_i`` times the reduction's scale.
"""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops.op import Op
from ...tensor import Tensor
from ._checks import (
    check_reduction,
    class_targets,
    class_weight,
    float_input,
    labels_below,
    tensor_arg,
)

_max_reduce, _add_reduce = np.maximum.reduce, np.add.reduce


def _lse_parts(x):
    """``z = x - max`` and the softmax/log-sum-exp pieces of each row of a 2-D array."""
    # The ufuncs' reduce directly: the x.max / e.sum methods add a Python wrapper per call.
    # Row-major z and p whatever x's layout: the plain path indexes them by flat position.
    z = np.subtract(x, _max_reduce(x, 1, None, None, True), order="C")
    e = np.exp(z)
    s = _add_reduce(e, 1, None, None, True)
    e /= s
    return z, e, np.log(s)


_ARANGE: dict = {}  # batch size -> arange(batch), read-only: the rows of every label pick
_OFFSETS: dict = {}  # (batch, classes) -> arange(batch) * classes, read-only


def _rows_index(m: int) -> np.ndarray:
    r = _ARANGE.get(m)
    if r is None:
        r = np.arange(m)
        r.flags.writeable = False
        if len(_ARANGE) < 64:
            _ARANGE[m] = r
    return r


def _flat_index(y: np.ndarray, m: int, c: int) -> np.ndarray:
    """Positions of the labels' entries in a row-major (m, c) array, flattened: one ``take``
    or flat write then replaces a 2-D fancy index, which NumPy runs about 2x slower."""
    off = _OFFSETS.get((m, c))
    if off is None:
        off = np.arange(0, m * c, c)
        off.flags.writeable = False
        if len(_OFFSETS) < 64:
            _OFFSETS[(m, c)] = off
    return y + off


def _plain_ce(x, y, red):
    """Mean or summed CE with no weights, smoothing or ignored labels: the usual call, with the
    fewest NumPy calls (the two sums are taken over whole vectors, not row by row)."""
    m, c = x.shape
    z, p, lse = _lse_parts(x)
    flat = _flat_index(y, m, c)
    total = _add_reduce(lse, None) - _add_reduce(z.take(flat), None)
    out = total / m if red == "mean" else total
    return np.asarray(out, dtype=x.dtype), (p, None, m, flat)


def _reduce_rows(rows, red, denom):
    if red == "none":
        return rows
    total = _add_reduce(rows, None)
    if red == "sum":
        return total
    if denom:
        return total / denom
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / denom


def _row_scale(F, g, red, denom):
    """The upstream gradient as a per-row factor broadcastable against (M, C)."""
    if red == "none":
        return F.reshape(g, (-1, 1))
    if red == "mean":
        # All targets ignored: the loss is 0/0 = nan, but no entry gets a gradient (as torch).
        return g * (1.0 / denom) if denom else g * 0.0
    return g


def _target_matrix(shape, y, wrow, keep, weight, eps, dtype):
    """Constant T of the docstring above: (1-eps) w_y onehot(y) + eps/C w (kept rows only)."""
    m, c = shape
    t = np.zeros(shape, dtype=dtype)
    t[np.arange(m), y] = (1.0 - eps) * (1.0 if wrow is None else wrow)
    if eps:
        smooth = np.full(c, eps / c, dtype=dtype) if weight is None else weight * (eps / c)
        t += smooth if keep is None else keep[:, None] * smooth
    return t


def _softmax_t(F, x):
    """softmax of the rows of a tensor, for the differentiable (create_graph) backward."""
    return F.softmax(x, axis=1)


class CrossEntropy(Op):
    """Softmax cross entropy of logits (M, C) against class indices, fused and stable;
    d/dlogits = (sum_c T_c) softmax - T  (T: weighted, smoothed one-hot target)"""

    public, kind = None, "loss"
    formula = "d CE/d logits = softmax(logits) - onehot(target)  (per sample, times 1/N)"
    latex = r"\frac{\partial L}{\partial z} = \mathrm{softmax}(z) - y"
    saves = True
    fresh_grads = True

    def forward(x, y, keep, weight, eps, red):
        m, c = x.shape
        if keep is None and weight is None and not eps and red != "none" and m:
            return _plain_ce(x, y, red)
        z, p, lse = _lse_parts(x)
        r = np.arange(m)
        rows = lse[:, 0] - z[r, y]
        wrow = None
        if weight is not None:
            wrow = weight[y]
        if keep is not None:
            wrow = keep.astype(x.dtype) if wrow is None else wrow * keep
        if wrow is not None:
            rows = rows * wrow
        if eps:
            logp = z - lse
            smooth = -(logp.sum(axis=1) if weight is None else logp @ weight)
            if keep is not None:
                smooth *= keep
            rows = (1.0 - eps) * rows + (eps / c) * smooth
        denom = m if wrow is None else float(wrow.sum())
        out = _reduce_rows(rows, red, denom)
        return np.asarray(out, dtype=x.dtype), (p, wrow, denom, None)

    def backward(F, g, out, x, y, keep, weight, eps, red, saved):
        p, wrow, denom, flat = saved
        s = _row_scale(F, g, red, denom)
        if not F.differentiable and wrow is None and not eps:
            # The hot path (plain mean/sum CE): p - onehot, scaled, in one new array.
            gx = p * s
            if flat is not None:  # the plain forward: p, so gx, is row-major
                gx.reshape(-1)[flat] -= s
            else:
                gx[_rows_index(p.shape[0]), y] -= s[:, 0] if red == "none" else s
            return (gx,)
        t = _target_matrix(p.shape, y, wrow, keep, weight, eps, p.dtype)
        tsum = t.sum(axis=1, keepdims=True)
        probs = _softmax_t(F, x) if F.differentiable else p
        return ((probs * tsum - t) * s,)


class SoftCrossEntropy(Op):
    """Cross entropy of logits (M, C) against class probabilities (M, C);
    d/dlogits = (sum_c w t) softmax - w t,  d/dtarget = -w log softmax"""

    public, kind = None, "loss"
    formula = "d CE/d logits = sum(w t) softmax(logits) - w t;  d CE/d t = -w log softmax"
    saves = True

    def forward(x, t, weight, red):
        z, p, lse = _lse_parts(x)
        logp = z - lse
        wt = t if weight is None else t * weight
        rows = -(logp * wt).sum(axis=1)
        out = _reduce_rows(rows, red, x.shape[0])
        return np.asarray(out, dtype=x.dtype), (p, logp)

    def backward(F, g, out, x, t, weight, red, saved):
        s = _row_scale(F, g, red, x.shape[0])
        wt = t if weight is None else t * weight
        if F.differentiable:
            p = _softmax_t(F, x)
            logp = F.log(p)
        else:
            p, logp = saved
        gx = (p * F.sum(wt, axis=1, keepdims=True) - wt) * s
        gt = -(logp if weight is None else logp * weight) * s
        return gx, gt


class NllLoss(Op):
    """-w_y x[y] averaged by PyTorch's weighted mean;  d/dx = -w_y at the label, else 0"""

    public, kind = None, "loss"
    formula = "d NLL/dx_ic = -w_c [c = y_i] (times 1/sum of weights for the mean)"
    saves = True

    def forward(x, y, keep, weight, red):
        m = x.shape[0]
        rows = -x[np.arange(m), y]
        wrow = None
        if weight is not None:
            wrow = weight[y]
        if keep is not None:
            wrow = keep.astype(x.dtype) if wrow is None else wrow * keep
        if wrow is not None:
            rows = rows * wrow
        denom = m if wrow is None else float(wrow.sum())
        return np.asarray(_reduce_rows(rows, red, denom), dtype=x.dtype), (wrow, denom)

    def backward(F, g, out, x, y, keep, weight, red, saved):
        wrow, denom = saved
        s = _row_scale(F, g, red, denom)
        t = np.zeros(x.shape, dtype=x.dtype)
        t[np.arange(x.shape[0]), y] = 1.0 if wrow is None else wrow
        return (-(t * s),)


# ---- public functions ----------------------------------------------------------------------


def _rows(x: Tensor, loss: str):
    """View a (N, C, d1, ...) / (C,) input as (M, C) rows; returns the rows and the 'none' shape."""
    if x.ndim == 2:
        return x, None
    if x.ndim == 1:
        return x.reshape(1, -1), ()
    if x.ndim == 0:
        raise ValueError(f"{loss}: input must have a class dim, got a 0-d tensor")
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    shape = (x.shape[0],) + x.shape[2:]
    return x.permute(perm).reshape(-1, x.shape[1]), shape


def _index_target(x: Tensor, target: Tensor, loss: str) -> np.ndarray:
    want = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    y = target._data
    if y.shape != want:
        if y.dtype.kind == "f" and y.shape != x.shape:
            raise ValueError(
                f"{loss}: float target of shape {y.shape} fits neither class indices (an integer "
                f"target of shape {want}) nor class probabilities (shape {x.shape}) for input "
                f"{x.shape}")
        raise ValueError(f"{loss}: target shape {y.shape} does not match input shape {x.shape}; "
                         f"class-index targets need shape {want}")
    return y.reshape(-1) if y.ndim != 1 else y


def _finish(out: Tensor, none_shape, red: str) -> Tensor:
    if red == "none" and none_shape is not None:
        return out.reshape(none_shape)
    return out


def cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None,  # noqa: A002
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross entropy of logits against class indices or class probabilities.

    ``input`` is (N, C), (C,) or (N, C, d1, ...); ``target`` holds int64 class indices of shape
    (N,) / () / (N, d1, ...), or float class probabilities of the input's shape. ``weight``
    rescales classes; the mean is PyTorch's weighted mean (divided by the summed weights of the
    kept targets). Computed as one fused primitive.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> logits = cr.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
        >>> loss = F.cross_entropy(logits, cr.tensor([0])); round(loss.item(), 4)
        0.2395
        >>> loss.backward(); logits.grad.shape
        (1, 3)
    """
    if (weight is None and not label_smoothing and size_average is None and reduce is None
            and type(input) is Tensor and type(target) is Tensor
            and (reduction == "mean" or reduction == "sum")):
        # The usual call, (N, C) logits and N valid labels, checked in a few comparisons.
        xd, yd = input._data, target._data
        if (xd.ndim == 2 and yd.ndim == 1 and yd.shape[0] == xd.shape[0] > 0
                and xd.dtype.kind == "f" and labels_below(yd, xd.shape[1], ignore_index)):
            return apply(CrossEntropy, (input,), {"y": yd, "keep": None, "weight": None,
                                                  "eps": 0.0, "red": reduction})
    loss = "cross_entropy"
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce)
    if type(input) is not Tensor:
        input = tensor_arg(input, loss, "input")
    if type(target) is not Tensor:
        target = tensor_arg(target, loss, "target")
    red = reduction if reduction in ("mean", "sum", "none") else check_reduction(reduction, loss)
    if input._data.dtype.kind != "f":
        float_input(input, loss)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{loss}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, none_shape = _rows(input, loss)
    c = x.shape[1]
    if target._data.dtype.kind == "f" and target.shape == input.shape:
        return _soft_ce(input, target, x, none_shape, weight, red, label_smoothing, c, loss,
                        ignore_index)
    y = _index_target(input, target, loss)
    y, keep = class_targets(y, c, ignore_index, loss)
    w = class_weight(weight, c, x._data.dtype, loss) if weight is not None else None
    out = apply(CrossEntropy, (x,), {"y": y, "keep": keep, "weight": w,
                                     "eps": float(label_smoothing), "red": red})
    return _finish(out, none_shape, red)


def _soft_ce(input, target, x, none_shape, weight, red, eps, c, loss, ignore_index):
    if ignore_index >= 0:
        raise ValueError(f"{loss}: ignore_index is not supported with class-probability "
                         "targets")
    t = target if target.dtype == input.dtype else target.to(input.dtype)
    if eps:
        t = t * (1.0 - eps) + eps / c
    t2, _ = _rows(t, loss)
    w = class_weight(weight, c, x._data.dtype, loss) if weight is not None else None
    out = apply(SoftCrossEntropy, (x, t2), {"weight": w, "red": red})
    return _finish(out, none_shape, red)


def nll_loss(input: Tensor, target: Tensor, weight=None, size_average=None,  # noqa: A002
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C[, d1...]) at class indices.

    Use after ``log_softmax``; the mean is weighted by the target classes' ``weight``.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> logp = cr.tensor([[-0.1, -2.0], [-3.0, -0.05]])
        >>> round(F.nll_loss(logp, cr.tensor([0, 1])).item(), 3)
        0.075
    """
    loss = "nll_loss"
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce)
    input = tensor_arg(input, loss, "input")
    target = tensor_arg(target, loss, "target")
    red = check_reduction(reduction, loss)
    float_input(input, loss)
    x, none_shape = _rows(input, loss)
    c = x.shape[1]
    y = _index_target(input, target, loss)
    y, keep = class_targets(y, c, ignore_index, loss)
    w = class_weight(weight, c, x._data.dtype, loss)
    out = apply(NllLoss, (x,), {"y": y, "keep": keep, "weight": w, "red": red})
    return _finish(out, none_shape, red)


def _legacy(size_average, reduce) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a reduction name."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"
