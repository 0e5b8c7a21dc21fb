"""Reductions and normalisations along axes: sum, mean, var, max, logsumexp, softmax..."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _validate as check
from .._fpstate import quietly
from ..autograd.graph import apply as _record
from ..tensor import Tensor, _wrap
from ._rows import rowsum
from ._util import as_tensor, norm_axis, norm_dim, to_float
from .op import Op, public


def _expand(F, g, x_shape, axis, keepdims):
    """Broadcast a reduced gradient back over the reduced axes of ``x_shape``."""
    if axis is None:
        if g.ndim:
            g = F.reshape(g, ())
    elif not keepdims:
        g = F.expand_dims(g, axis)
    return F.broadcast_to(g, x_shape)


def _keep(F, y, axis, keepdims):
    """A reduced value with the reduced axes kept (size 1), for broadcasting against x."""
    if axis is None or keepdims:
        return y
    return F.expand_dims(y, axis)


def _count(shape, axis) -> int:
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


def _softmax(x, axis):
    # One new array, written in place; the ufuncs' reduce skips np.max's Python wrapper.
    if x.ndim == 0:
        return np.exp(x - x)  # 1 (NaN for NaN or inf, as PyTorch)
    e = np.subtract(x, np.maximum.reduce(x, axis, None, None, True))
    np.exp(e, out=e)
    e /= rowsum(e) if axis == x.ndim - 1 else np.add.reduce(e, axis, None, None, True)
    return e


def _log_softmax(x, axis):
    z = x - np.max(x, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


class Sum(Op):
    """Sum over ``dim`` (an int, a tuple, or all dims); booleans sum as int64.

    Example:
        >>> import chainrule as cr
        >>> cr.sum(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0).tolist()
        [4.0, 6.0]
    """

    kind, method = "reduction", True
    formula = "d sum(x)/dx_i = 1"

    def call(input, dim=None, keepdim: bool = False, dtype=None):  # noqa: A002
        x = as_tensor(input, "sum")
        if dtype is not None:
            x = x.to(dtype)
        elif x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
            x = x.to(np.int64)  # PyTorch's accumulation type for bools and integers
        return _reduce(Sum, x, dim, keepdim)

    def forward(x, axis, keepdims):
        return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(F, g, out, x, axis, keepdims):
        return (_expand(F, g, x.shape, axis, keepdims),)


class Mean(Op):
    """Mean over ``dim`` (all dims by default); needs a floating-point tensor."""

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d mean(x)/dx_i = 1/n"

    def call(input, dim=None, keepdim: bool = False):  # noqa: A002
        x = as_tensor(input, "mean")
        if x._data.dtype.kind != "f":
            check.floating(x, "mean")
        return _reduce(Mean, x, dim, keepdim)

    def forward(x, axis, keepdims):
        if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
            # What np.mean computes, without its Python wrapper (several us on small arrays).
            n = x.size if axis is None else _count(x.shape, axis)
            return np.add.reduce(x, axis=axis, keepdims=keepdims) / n
        return np.mean(x, axis=axis, keepdims=keepdims)  # float16 accumulates in float32

    def backward(F, g, out, x, axis, keepdims):
        return (_expand(F, g, x.shape, axis, keepdims) * (1.0 / _count(x.shape, axis)),)


class Var(Op):
    """Variance over ``dim``; ``correction=1`` (Bessel, the default) like PyTorch.

    PyTorch's call forms: ``var(x, dim, correction=0)``, ``var(x, dim, unbiased, keepdim)`` and
    ``var(x, unbiased)``. Where ``n - correction <= 0`` the result is inf or NaN and a
    ``UserWarning`` says so, as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 3.0], [2.0, 2.0]])
        >>> x.var(dim=1).tolist(), x.var(1, correction=0).tolist(), x.var(False).item()
        ([2.0, 0.0], [1.0, 0.0], 0.5)
    """

    kind, method = "reduction", True
    fresh_grads, quiet = True, True
    formula = "d var(x)/dx_i = 2(x_i - mean)/(n - correction)"

    def call(input, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
        return _spread(Var, input, dim, unbiased, keepdim, correction)

    def forward(x, axis, correction, keepdims):
        return _spread_forward(False, x, axis, correction, keepdims)

    def backward(F, g, out, x, axis, correction, keepdims):
        if not F.differentiable:
            return (_spread_grad(False, _expand(F, g, x.shape, axis, keepdims), x, axis,
                                 correction),)
        n = _count(x.shape, axis)
        mean = F.sum(x, axis=axis, keepdims=True) * (1.0 / n)
        dof = n - correction
        scale = 2.0 / dof if dof > 0 else math.inf  # 0 * inf: NaN, PyTorch's gradient there
        return (_expand(F, g, x.shape, axis, keepdims) * (x - mean) * scale,)


class Std(Op):
    """Standard deviation over ``dim``; ``correction=1`` by default like PyTorch.

    The same call forms as ``var``.

    Example:
        >>> import chainrule as cr
        >>> cr.tensor([1.0, 3.0]).std().item(), cr.tensor([1.0, 3.0]).std(unbiased=False).item()
        (1.4142135381698608, 1.0)
    """

    kind, method = "reduction", True
    fresh_grads, quiet = True, True
    formula = "d std(x)/dx_i = (x_i - mean)/((n - correction) std)"

    def call(input, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None):
        return _spread(Std, input, dim, unbiased, keepdim, correction)

    def forward(x, axis, correction, keepdims):
        return _spread_forward(True, x, axis, correction, keepdims)

    def backward(F, g, out, x, axis, correction, keepdims):
        if not F.differentiable:
            return (_spread_grad(True, _expand(F, g, x.shape, axis, keepdims), x, axis,
                                 correction),)
        n = _count(x.shape, axis)
        mean = F.sum(x, axis=axis, keepdims=True) * (1.0 / n)
        std = _keep(F, out, axis, keepdims)
        # Where std is 0 every x_i equals the mean: use 0 (PyTorch's choice), not 0/0 = NaN.
        denom = F.where(std == 0, 1.0, std) * (n - correction)
        return (_expand(F, g, x.shape, axis, keepdims) * (x - mean) / denom,)


class Amax(Op):
    """Maximum over ``dim``; ties share the gradient evenly."""

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d max(x)/dx_i = 1/k for the k entries equal to the max, else 0"

    def call(input, dim=None, keepdim: bool = False):  # noqa: A002
        return _reduce(Amax, input, dim, keepdim)

    def forward(x, axis, keepdims):
        return np.max(x, axis=axis, keepdims=keepdims)

    def backward(F, g, out, x, axis, keepdims):
        return (_extreme_grad(F, g, out, x, axis, keepdims),)


class Amin(Op):
    """Minimum over ``dim``; ties share the gradient evenly."""

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d min(x)/dx_i = 1/k for the k entries equal to the min, else 0"

    def call(input, dim=None, keepdim: bool = False):  # noqa: A002
        return _reduce(Amin, input, dim, keepdim)

    def forward(x, axis, keepdims):
        return np.min(x, axis=axis, keepdims=keepdims)

    def backward(F, g, out, x, axis, keepdims):
        return (_extreme_grad(F, g, out, x, axis, keepdims),)


def _extreme_grad(F, g, out, x, axis, keepdims):
    xd = x._data if F.differentiable else x
    od = out._data if F.differentiable else out
    mask = xd == (od if axis is None or keepdims else np.expand_dims(od, axis))
    mask = mask / np.sum(mask, axis=axis, keepdims=True)
    return _expand(F, g, x.shape, axis, keepdims) * mask.astype(xd.dtype)


class MaxDim(Op):
    """max (or min) along one dim, with indices; the public ``max`` and ``min`` use it."""

    public, kind = None, "reduction"
    fresh_grads = True
    formula = "d max(x, dim)/dx_i = 1 at the arg-max, else 0"
    saves = True

    def forward(x, dim, keepdim, largest):
        idx = np.argmax(x, axis=dim) if largest else np.argmin(x, axis=dim)
        idx = np.expand_dims(idx, dim)
        vals = np.take_along_axis(x, idx, axis=dim)
        if not keepdim:
            vals, idx = np.squeeze(vals, dim), np.squeeze(idx, dim)
        return vals, idx

    def backward(F, g, out, x, dim, keepdim, largest, saved):
        idx = saved if keepdim else np.expand_dims(saved, dim)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        mask = np.arange(x.shape[dim]).reshape(shape) == idx
        return (_expand(F, g, x.shape, (dim,), keepdim) * mask,)


class Prod(Op):
    """Product over ``dim`` (an int or all dims)."""

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d prod(x)/dx_i = prod_{j != i} x_j"

    def call(input, dim=None, keepdim: bool = False):  # noqa: A002
        x = as_tensor(input, "prod")
        if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
            x = x.to(np.int64)  # PyTorch's accumulation type for bools and integers
        if dim is not None:
            dim = check.integer(dim, "prod", "dim")  # one dim only, as in PyTorch
        return _reduce(Prod, x, dim, keepdim)

    def forward(x, axis, keepdims):
        return np.prod(x, axis=axis, keepdims=keepdims)

    def backward(F, g, out, x, axis, keepdims):
        ge = _expand(F, g, x.shape, axis, keepdims)
        if F.differentiable:
            if x._data.size and (x._data == 0).any():  # out / x would be 0/0
                return (ge * _prod_others_t(x, axis),)
            return (ge * _keep(F, out, axis, keepdims) / x,)
        return (ge * _prod_others(x, axis),)


def _prod_others_t(x, axis):
    """Differentiable product of the other entries, exact with zeros (create_graph only).

    One product per entry, so O(n^2) in the reduced size: used only when some entry is 0.
    """
    from .shape import cat, permute, reshape

    axes = tuple(range(x.ndim)) if axis is None else axis
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    perm = rest + axes
    moved = permute(x, perm)
    lead = moved.shape[:len(rest)]
    n = math.prod(x.shape[a] for a in axes)
    flat = reshape(moved, lead + (n,))
    cols = []
    for i in range(n):
        parts = [p for p in (flat[..., :i], flat[..., i + 1:]) if p.shape[-1]]
        if not parts:  # a single entry: the product of no others is 1
            cols.append(_wrap(np.ones(lead + (1,), dtype=x.dtype)))
            continue
        cols.append(prod(cat(parts, -1), -1, keepdim=True))
    res = reshape(cat(cols, -1), moved.shape)
    return permute(res, tuple(int(i) for i in np.argsort(perm)))


def _prod_others(x, axis):
    """Product of all other entries along the reduced axes, exact even with zeros."""
    if x.size == 0:
        return np.ones_like(x)
    if axis is None:
        flat = x.reshape(-1)
        return _prod_others(flat, (0,)).reshape(x.shape)
    moved = np.moveaxis(x, axis, tuple(range(-len(axis), 0)))
    lead = moved.shape[: moved.ndim - len(axis)]
    flat = moved.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(flat, axis=-1)[..., :-1]], axis=-1)
    right = np.concatenate([np.cumprod(flat[..., ::-1], axis=-1)[..., :-1][..., ::-1], ones], -1)
    res = (left * right).reshape(moved.shape)
    return np.moveaxis(res, tuple(range(-len(axis), 0)), axis)


class Logsumexp(Op):
    """ln(sum(exp(x))) over ``dim``, computed without overflow."""

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d logsumexp(x)/dx_i = softmax(x)_i"

    def call(input, dim, keepdim: bool = False):  # noqa: A002
        x = as_tensor(input, "logsumexp")
        if x._data.dtype.kind in "biu":  # PyTorch computes integers in the default float dtype
            x = to_float(x)
        if dim is None:
            raise TypeError("logsumexp(): argument 'dim' must be an int or a tuple of ints, "
                            "got None")
        return _reduce(Logsumexp, x, dim, keepdim)

    def forward(x, axis, keepdims):
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        if keepdims:
            return r
        return r.reshape(()) if axis is None else np.squeeze(r, axis)

    def backward(F, g, out, x, axis, keepdims):
        return (_expand(F, g, x.shape, axis, keepdims) * F.exp(x - _keep(F, out, axis, keepdims)),)


class Softmax(Op):
    """e^x / sum(e^x) along ``dim``, stable for large inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.softmax(cr.tensor([0.0, 0.0]), dim=0).tolist()
        [0.5, 0.5]
    """

    kind, method, elementwise = "activation", True, False
    formula = "d softmax(z)_i/dz_j = s_i(delta_ij - s_j)"
    latex = r"\frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)"
    fresh_grads = True
    forward = _softmax

    def call(input, dim: int = -1, dtype=None):  # noqa: A002
        return _along_dim(Softmax, input, dim, dtype)

    def backward(F, g, out, x, axis):
        if F.owns_g and g.dtype == out.dtype and g.shape == out.shape:
            # g is ours: (g - sum(g s)) s in place, one temporary for the row sums
            t = np.multiply(g, out)
            dot = rowsum(t) if axis == out.ndim - 1 else np.add.reduce(t, axis, None, None, True)
            g -= dot
            g *= out
            return (g,)
        return (out * (g - F.sum(g * out, axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """log(softmax(x)) along ``dim``, computed stably."""

    kind, method, elementwise = "activation", True, False
    formula = "d log_softmax(z)_i/dz_j = delta_ij - softmax(z)_j"
    fresh_grads = True

    def call(input, dim: int = -1, dtype=None):  # noqa: A002
        return _along_dim(LogSoftmax, input, dim, dtype)

    forward = _log_softmax

    def backward(F, g, out, x, axis):
        return (g - F.exp(out) * F.sum(g, axis=axis, keepdims=True),)


class Cumsum(Op):
    """Running sum along ``dim`` (integers and booleans sum as int64, as in PyTorch).

    Example:
        >>> import chainrule as cr
        >>> cr.cumsum(cr.tensor([1, 2, 3]), dim=0).tolist()
        [1, 3, 6]
    """

    kind, method = "reduction", True
    formula = "d cumsum(x)_i/dx_j = 1 if j <= i"

    def call(input, dim: int, *, dtype=None):  # noqa: A002
        return _running(Cumsum, input, dim, dtype)

    def forward(x, axis):
        return np.cumsum(x, axis=axis).reshape(x.shape)  # NumPy makes a 0-d input 1-d

    def backward(F, g, out, x, axis):
        if x.ndim == 0:
            return (g,)
        return (F.flip(F.cumsum(F.flip(g, axis), axis), axis),)


class Cumprod(Op):
    """Running product along ``dim``; its gradient is exact where the input holds zeros.

    Example:
        >>> import chainrule as cr
        >>> cr.cumprod(cr.tensor([2.0, 0.0, 3.0]), dim=0).tolist()
        [2.0, 0.0, 0.0]
    """

    kind, method = "reduction", True
    fresh_grads = True
    formula = "d cumprod(x)_i/dx_j = prod_{k <= i, k != j} x_k if j <= i"

    def call(input, dim: int, *, dtype=None):  # noqa: A002
        return _running(Cumprod, input, dim, dtype)

    def forward(x, axis):
        return np.cumprod(x, axis=axis).reshape(x.shape)

    def backward(F, g, out, x, axis):
        if x.ndim == 0:
            return (g * 1,)
        xd = x._data if F.differentiable else x
        if xd.all():
            # No zeros: sum_{i >= j} g_i y_i / x_j, a reversed cumsum (PyTorch's formula).
            return (F.flip(F.cumsum(F.flip(g * out, axis), axis), axis) / x,)
        return (_cumprod_grad_with_zeros(F, g, x, axis),)


def _cumprod_grad_with_zeros(F, g, x, axis):
    """d/dx_j = P_j * S_j with no division: P_j = prod_{k < j} x_k (an exclusive cumprod) and
    S_j = sum_{i >= j} g_i prod_{j < k <= i} x_k, from S_j = g_j + x_{j+1} S_{j+1}.

    One step per entry along ``axis`` (each vectorised over the other dims); used only when the
    input holds a zero, where the quotient formula would divide 0 by 0.
    """
    n = x.shape[axis]
    lead = (slice(None),) * axis

    def at(t, k):
        return F.getitem(t, lead + (slice(k, k + 1),))

    sums = [at(g, n - 1)]
    for k in range(n - 2, -1, -1):
        sums.append(at(g, k) + at(x, k + 1) * sums[-1])
    s = F.concatenate(sums[::-1], axis)
    ones_shape = x.shape[:axis] + (1,) + x.shape[axis + 1:]
    ones = np.ones(ones_shape, dtype=x.dtype)
    if n == 1:
        return s * 1
    before = F.getitem(F.cumprod(x, axis), lead + (slice(0, n - 1),))
    exclusive = F.concatenate([_wrap(ones) if F.differentiable else ones, before], axis)
    return exclusive * s


# ---- helpers of the public functions, and functions built from the primitives --------------


def _reduce(op, x, dim, keepdim, **extra):
    x = as_tensor(x, op.public)
    if x._data.dtype.kind == "c":
        check.real(x, op.public)
    axis = norm_axis(dim, x.ndim, op.public)
    if axis == ():
        axis = None if x.ndim == 0 else axis
    return op.record(x, axis=axis, keepdims=bool(keepdim), **extra)


def _running(op, x, dim, dtype):
    """cumsum / cumprod: ``x`` (cast to ``dtype``, or integers to int64) along one ``dim``."""
    x = as_tensor(x, op.public)
    if x._data.dtype.kind == "c":
        check.real(x, op.public)
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = x.to(np.int64)  # PyTorch's accumulation type for integers
    return op.record(x, axis=norm_dim(dim, (x.ndim or 1), op.public))


def _along_dim(op, x, dim, dtype):
    """softmax / log_softmax: ``x`` (cast to ``dtype`` first, if given) along one ``dim``.

    Integer and bool inputs are refused without a float ``dtype``, as in PyTorch (NumPy would
    compute a uint8 input in float16, losing most of its precision)."""
    x = as_tensor(x, op.public)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        check.floating(x, op.public)
    return op.record(x, axis=norm_dim(dim, (x.ndim or 1), op.public))


@quietly
def _deviations(x, axis):
    """``x - mean`` over ``axis`` (kept), in float64 (float16 and float32 values are exact
    there, and their squares cannot overflow), and the scale to divide them by before squaring
    (None, or per slice the largest deviation where a float64 square could overflow)."""
    xd = x.astype(np.float64) if x.dtype != np.float64 else x
    mean = np.mean(xd, axis=axis, keepdims=True)
    if x.dtype == np.float64 and not np.isfinite(mean).all() and np.isfinite(xd).all():
        # the sum overflowed: the mean of x / max|x| (at most 1 in size), scaled back
        top = np.max(np.abs(xd), axis=axis, keepdims=True)
        mean = np.mean(xd / top, axis=axis, keepdims=True) * top
    d = xd - mean
    scale = None
    if x.dtype == np.float64 and d.size and np.nanmax(np.abs(d), initial=0.0) > 1e150:
        scale = np.max(np.abs(d), axis=axis, keepdims=True)
        scale = np.where((scale == 0) | ~np.isfinite(scale), 1.0, scale)
    return d, scale


@quietly
def _spread_forward(root, x, axis, correction, keepdims):
    """Variance (``root``: standard deviation) of ``x`` over ``axis``, computed in float64 from
    the deviations: no overflow where the result is representable, no underflow of the squares
    of tiny values, as PyTorch's Welford kernels (a sum of squares in float32 overflows for
    values near 1e19 and more)."""
    d, scale = _deviations(x, axis)
    dof = _count(x.shape, axis) - correction
    dof = dof if dof > 0 else 0  # (this module's max is the tensor function)
    # dof 0: inf or NaN (``_spread`` has warned, in PyTorch's words)
    ds = d if scale is None else d / scale
    v = np.sum(ds * ds, axis=axis, keepdims=True) / dof
    if root:
        v = np.sqrt(v)
    if scale is not None:
        v = v * scale if root else v * (scale * scale)
    if not keepdims:
        v = v.reshape(()) if axis is None else np.squeeze(v, axis)
    return v.astype(x.dtype)


@quietly
def _spread_grad(root, g, x, axis, correction):
    """The gradient of var (``root``: std) for plain arrays, in float64 like the forward:
    ``2 (x - mean) / dof`` and ``(x - mean) / (dof std)`` (0 where std is 0, as PyTorch)."""
    d, scale = _deviations(x, axis)
    dof = _count(x.shape, axis) - correction
    if not root:
        k = 2.0 / dof if dof > 0 else math.inf  # 0 * inf: NaN, PyTorch's gradient there
        return (g * (d * k)).astype(x.dtype)
    ds = d if scale is None else d / scale
    # d / (dof std) = ds / (dof * sqrt(sum(ds^2) / dof)) = ds / sqrt(dof * sum(ds^2))
    denom = np.sqrt(np.sum(ds * ds, axis=axis, keepdims=True) * (dof if dof > 0 else 0))
    if dof <= 0:
        return (g * (ds / denom)).astype(x.dtype)
    return (g * np.where(denom == 0, 0.0, ds / np.where(denom == 0, 1.0, denom))).astype(x.dtype)


def _spread(op, input, dim, unbiased, keepdim, correction):  # noqa: A002
    """``var`` / ``std``: PyTorch's call forms, a floating-point check, the dof warning."""
    fn = op.public
    x = as_tensor(input, fn)
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        if unbiased is not None:
            raise TypeError(f"{fn}(): got unbiased={dim} positionally and unbiased={unbiased}")
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise TypeError(f"{fn}(): give correction or unbiased, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.integer,
                                                                   np.floating)):
        raise TypeError(f"{fn}(): correction must be a number, got {correction!r}")
    if x._data.dtype.kind != "f":
        check.floating(x, fn)
    axis = norm_axis(dim, x.ndim, fn)
    if axis == ():
        axis = None
    if _count(x.shape, axis) - correction <= 0:
        warnings.warn(f"{fn}(): degrees of freedom is <= 0 (correction {correction} for "
                      f"{_count(x.shape, axis)} values per result): the result is inf or NaN",
                      UserWarning, stacklevel=3)
    return op.record(x, axis=axis, keepdims=bool(keepdim), correction=correction)


class _ValuesIndices(tuple):
    """``(values, indices)`` with PyTorch's attribute names."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _max_min(x, dim, keepdim, largest, name):
    x = check.real(as_tensor(x, name), name)
    if dim is None:
        if x._data.size == 0:
            raise ValueError(f"{name}(): empty tensor has no {name}")
        return (amax if largest else amin)(x)
    if isinstance(dim, Tensor):  # max(a, b): elementwise, like torch.max(a, b)
        from .binary import maximum, minimum

        return (maximum if largest else minimum)(x, dim)
    d = norm_dim(dim, (x.ndim or 1), name)
    if x.ndim == 0:  # a 0-d tensor is its own max along dim 0 or -1, at index 0
        from .shape import reshape

        v, i = _max_min(reshape(x, (1,)), 0, False, largest, name)
        return _ValuesIndices((v, i))
    vals, idx = _record(MaxDim, (x,), dict(dim=d, keepdim=bool(keepdim), largest=largest),
                        want_saved=True)
    return _ValuesIndices((vals, _wrap(idx.astype(np.int64))))


@public(method=True, kind="reduction")
def max(input, dim=None, keepdim: bool = False):  # noqa: A001,A002
    """``max(x)``: the largest value. ``max(x, dim)``: a ``(values, indices)`` pair as in PyTorch.

    Example:
        >>> import chainrule as cr
        >>> v, i = cr.max(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
        >>> v.tolist(), i.tolist()
        ([5.0, 7.0], [1, 0])
    """
    return _max_min(input, dim, keepdim, True, "max")


@public(method=True, kind="reduction")
def min(input, dim=None, keepdim: bool = False):  # noqa: A001,A002
    """``min(x)``: the smallest value. ``min(x, dim)``: ``(values, indices)`` as in PyTorch."""
    return _max_min(input, dim, keepdim, False, "min")


@public(method=True, kind="reduction")
def argmax(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the largest value (flattened when ``dim`` is None); not differentiable.

    Ties give the first index; the result is int64.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> cr.argmax(x).item(), x.argmax(dim=1, keepdim=True).tolist()
        (2, [[1], [0]])
    """
    return _arg_extreme(np.argmax, "argmax", input, dim, keepdim)


@public(method=True, kind="reduction")
def argmin(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """Index of the smallest value (flattened when ``dim`` is None); not differentiable.

    Example:
        >>> import chainrule as cr
        >>> cr.argmin(cr.tensor([[1.0, 5.0], [7.0, 0.0]]), dim=0).tolist()
        [0, 1]
    """
    return _arg_extreme(np.argmin, "argmin", input, dim, keepdim)


def _arg_extreme(find, fn: str, input, dim, keepdim) -> Tensor:  # noqa: A002
    x = as_tensor(input, fn)
    if x._data.dtype.kind not in "fiu":  # PyTorch: "does not support bool / complex input"
        check.numeric(x, fn)
    a = x._data
    if dim is not None:
        dim = norm_dim(dim, a.ndim or 1, fn)
        if a.ndim and a.shape[dim] == 0:
            raise IndexError(f"{fn}(): dim {dim} of the tensor's shape {x.shape} is empty")
    elif a.size == 0:
        raise IndexError(f"{fn}(): the tensor is empty (shape {x.shape}); give a dim of "
                         "nonzero size")
    if a.ndim == 0:
        return _wrap(np.zeros((), dtype=np.int64))
    return _wrap(np.asarray(find(a, axis=dim, keepdims=bool(keepdim)), dtype=np.int64))


sum, mean, var, std = Sum.call, Mean.call, Var.call, Std.call  # noqa: A001
amax, amin, prod, logsumexp = Amax.call, Amin.call, Prod.call, Logsumexp.call
softmax, log_softmax, cumsum, cumprod = Softmax.call, LogSoftmax.call, Cumsum.call, Cumprod.call
