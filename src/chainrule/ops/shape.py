"""Primitives that move data without arithmetic: reshape, permute, broadcast, index, concat..."""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as check
from ..autograd.grad_mode import GRAD
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import as_tensor, in_layout_of, norm_axis, norm_dim, promote_dtypes
from .op import Op, public


class Reshape(Op):
    """Same entries in a new shape (one dimension may be -1).

    Example:
        >>> import chainrule as cr
        >>> cr.arange(6).reshape(2, 3).shape
        (2, 3)
    """

    kind, method, aliases = "shape", True, ("view",)
    formula = "reshape: gradient reshaped back to the input shape"

    def call(input, *shape):  # noqa: A002
        x = as_tensor(input, "reshape")
        shape = _shape_arg(shape)
        if shape == x.shape:
            return x
        known = math.prod(s for s in shape if s != -1)
        if shape.count(-1) > 1 or (-1 not in shape and known != x._data.size) or (
                -1 in shape and (known == 0 or x._data.size % known)):
            raise OpError(f"reshape(): cannot reshape a tensor of shape {x.shape} "
                          f"({x._data.size} elements) into shape {shape}")
        return Reshape.record(x, shape=shape)

    def forward(x, shape):
        return np.reshape(x, shape)

    def backward(F, g, out, x, shape):
        if F.differentiable:
            return (F.reshape(g, x.shape),)
        # Flattening a convolution's batch-innermost output is a view; its gradient comes back
        # in row-major order and is stored like the input again, for the pooling rule's loops.
        return (in_layout_of(np.reshape(g, x.shape), x),)


class Permute(Op):
    """Reorder the axes: ``permute(x, (1, 0))`` is a transpose."""

    kind, method = "shape", True
    formula = "permute: gradient permuted back"

    def call(input, *dims):  # noqa: A002
        x = as_tensor(input, "permute")
        dims = _shape_arg(dims, "permute")
        if x.ndim == 0 and dims == ():
            return x
        for d in dims:
            norm_dim(d, x.ndim, "permute")  # out of range: IndexError, not a silent wrap-around
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise OpError(
                f"permute(): {dims} is not a permutation of the {x.ndim} dims of {x.shape}")
        dims = tuple(d % x.ndim for d in dims)
        if dims == tuple(range(x.ndim)):
            return x
        return Permute.record(x, axes=dims)

    def forward(x, axes):
        return np.transpose(x, axes)

    def backward(F, g, out, x, axes):
        return (F.transpose(g, tuple(np.argsort(axes))),)


class BroadcastTo(Op):
    """Repeat x (without copying) to ``shape`` by NumPy broadcasting rules."""

    kind, method = "shape", True
    formula = "broadcast: gradient summed over the broadcast axes"

    def call(input, shape):  # noqa: A002
        return _broadcast_to(input, shape, "broadcast_to")

    def forward(x, shape):
        return np.broadcast_to(x, shape)

    def backward(F, g, out, x, shape):
        return (g,)


def _broadcast_to(input, shape, fn: str) -> Tensor:  # noqa: A002
    x = as_tensor(input, fn)
    shape = check.ints(shape, 0, fn, "size", low=-1)
    if -1 in shape:  # PyTorch: -1 keeps the size of the tensor's matching dim
        lead = len(shape) - x.ndim
        if lead < 0 or -1 in shape[:lead]:
            raise OpError(f"{fn}(): -1 in {shape} has no matching dim in the tensor's shape "
                          f"{x.shape}")
        shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if shape == x.shape:
        return x
    try:
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise OpError(f"{fn}(): cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo.record(x, shape=shape)


class Flip(Op):
    """Reverse the order of entries along ``dims``; a copy, as in PyTorch (not a view).

    Example:
        >>> import chainrule as cr
        >>> cr.flip(cr.tensor([[1, 2], [3, 4]]), (0, 1)).tolist(), cr.arange(3).flip(0).tolist()
        ([[4, 3], [2, 1]], [2, 1, 0])
    """

    kind, method = "shape", True
    formula = "flip: gradient flipped back"

    def call(input, *dims):  # noqa: A002
        x = as_tensor(input, "flip")
        if not dims:
            raise TypeError("flip(): needs the dims to flip, e.g. flip(x, (0,))")
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
            if not dims:  # flip(x, ()): nothing to reverse, a copy
                from .elementwise import clone

                return clone(x)
        return Flip.record(x, axis=norm_axis(tuple(dims), x.ndim, "flip"))

    def forward(x, axis):
        # A view would let a later in-place write to the result change the input.
        return np.flip(x, axis).copy()

    def backward(F, g, out, x, axis):
        return (F.flip(g, axis),)


class Cat(Op):
    """Join tensors along an existing dim; all other dims must match.

    Example:
        >>> import chainrule as cr
        >>> cr.cat([cr.ones(2, 3), cr.zeros(1, 3)]).shape
        (3, 3)
    """

    kind, aliases = "shape", ("concatenate",)
    formula = "cat: gradient split back into the pieces"

    def call(tensors, dim: int = 0):
        ts = _tensors(tensors, "cat")
        ndim = ts[0].ndim
        d = norm_dim(dim, max(ndim, 1), "cat")
        rest = ts[0].shape[:d] + ts[0].shape[d + 1:]
        for t_ in ts[1:]:
            if t_.ndim != ndim or t_.shape[:d] + t_.shape[d + 1:] != rest:
                raise OpError(
                    f"cat(): shapes {[t_.shape for t_ in ts]} do not match except in dim {d}")
        return Cat.record(*ts, axis=d)  # a new tensor even for one piece, like PyTorch

    def forward(*xs, axis):
        return np.concatenate(xs, axis=axis)

    def backward(F, g, out, *xs, axis):
        grads, start = [], 0
        lead = (slice(None),) * axis
        for x in xs:
            stop = start + x.shape[axis]
            grads.append(F.getitem(g, lead + (slice(start, stop),)))
            start = stop
        return tuple(grads)


class Stack(Op):
    """Stack equal-shaped tensors along a new dim."""

    kind = "shape"
    formula = "stack: gradient unstacked"

    def call(tensors, dim: int = 0):
        ts = _tensors(tensors, "stack")
        if any(t_.shape != ts[0].shape for t_ in ts):
            raise OpError(
                f"stack(): all tensors must have the same shape, got {[t_.shape for t_ in ts]}")
        return Stack.record(*ts, axis=norm_dim(dim, ts[0].ndim + 1, "stack"))

    def forward(*xs, axis):
        return np.stack(xs, axis=axis)

    def backward(F, g, out, *xs, axis):
        lead = (slice(None),) * axis
        return tuple(F.getitem(g, lead + (i,)) for i in range(len(xs)))


class Pad(Op):
    """Pad with a constant; ``pad`` lists (left, right) pairs from the LAST dim, as in PyTorch."""

    kind = "shape"
    formula = "pad: gradient is the un-padded slice"

    def call(input, pad, mode: str = "constant", value: float = 0.0):  # noqa: A002
        x = check.tensor(input, "pad")
        if mode != "constant":
            check.choice(mode, ("constant",), "pad", "mode")
        value = check.number(value, "pad", "value")
        return constant_pad(x, pad, value, "pad")

    def forward(x, pad_width, value):
        return np.pad(x, pad_width, constant_values=value)

    def backward(F, g, out, x, pad_width, value):
        index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(pad_width))
        return (F.getitem(g, index),)


class GetItem(Op):
    """x[index] (``Tensor.__getitem__``); the gradient is scattered back."""

    public, kind = None, "indexing"
    fresh_grads = True
    formula = "index: gradient scattered back to the selected entries (repeats add up)"

    def forward(x, index):
        return np.asarray(x[index])

    def backward(F, g, out, x, index):
        return (F.index_add(x.shape, index, g),)


class IndexAdd(Op):
    """Zeros with g added at index: the adjoint of indexing (used by its rule)."""

    public, kind = None, "indexing"
    formula = "scatter-add: gradient gathered at the index"

    def forward(g, shape, index):
        return _index_add(shape, index, g)

    def backward(F, gg, out, g, shape, index):
        return (F.getitem(gg, index),)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in items)


def _index_add(shape, index, g):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size > 16:
        _add_rows(out, index, g)
    else:
        np.add.at(out, index, g)
    return out


def _add_rows(out, index, g):
    """``np.add.at(out, index, g)`` for an integer array indexing dim 0 (an embedding's or a
    gather's backward), through the flat one-dimensional form of ``add.at``: NumPy has a fast
    loop for a 1-D array with a 1-D index, 4-8x faster than its generic row-by-row loop. Same
    order of additions, so the same sums."""
    n = out.shape[0]
    width = out.size // n if n else 0
    flat = index.reshape(-1).astype(np.intp, copy=False)
    if flat.size and flat.min() < 0:
        flat = np.where(flat < 0, flat + n, flat)
    pos = np.multiply(flat, width)[:, None] + _arange(width)
    np.add.at(out.reshape(-1), pos.reshape(-1), g.reshape(-1))


_ARANGES: dict = {}


def _arange(n: int) -> np.ndarray:
    r = _ARANGES.get(n)
    if r is None:
        r = np.arange(n)
        r.flags.writeable = False
        if len(_ARANGES) < 32:
            _ARANGES[n] = r
    return r


# ---- public functions ----------------------------------------------------------------------


def _shape_arg(shape, op="reshape"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"{op}(): argument 'shape' must be a sequence of ints, got {shape!r}")
    return tuple(int(s) for s in shape)





@public(method=True, kind="shape")
def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    x = as_tensor(x, "flatten")
    if x.ndim == 0:  # dims 0 and -1 name the one dim a 0-d tensor has, as in PyTorch
        check.dim(start_dim, 0, "flatten", "start_dim"), check.dim(end_dim, 0, "flatten",
                                                                    "end_dim")
        return reshape(x, (1,))
    s = norm_dim(start_dim, x.ndim, "flatten")
    e = norm_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise OpError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} for a "
                      f"tensor of shape {x.shape}")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


@public(method=True, kind="shape")
def squeeze(x, dim=None) -> Tensor:
    """Drop dims of size 1 (only ``dim`` when given; a dim not of size 1 is left)."""
    x = as_tensor(x, "squeeze")
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        axes = norm_axis(dim, x.ndim, "squeeze") or ()
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


@public(method=True, kind="shape")
def unsqueeze(x, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim``."""
    x = as_tensor(x, "unsqueeze")
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand_dims(x, axis) -> Tensor:
    x = as_tensor(x, "expand_dims")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = sorted(a % ndim for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))




@public(method=True, kind="shape")
def transpose(x, dim0: int, dim1: int) -> Tensor:
    """Swap two axes."""
    x = as_tensor(x, "transpose")
    a, b = check.dim(dim0, x.ndim, "transpose", "dim0"), check.dim(dim1, x.ndim, "transpose",
                                                                  "dim1")
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, tuple(axes))


@public(method=True, kind="shape")
def t(x) -> Tensor:
    """Transpose of a matrix (tensors of up to 2 dims)."""
    x = as_tensor(x, "t")
    if x.ndim > 2:
        raise OpError(f"t(): expects a tensor with <= 2 dims, got shape {x.shape}")
    return transpose(x, 0, 1) if x.ndim == 2 else x




@public(method=True, kind="shape")
def expand(x, *sizes) -> Tensor:
    """Like ``broadcast_to``; -1 keeps a dim's size (PyTorch's ``expand``)."""
    x = as_tensor(x, "expand")
    sizes = _shape_arg(sizes, "expand")
    if any(s < -1 for s in sizes):
        raise OpError(f"expand(): sizes {sizes} hold a negative size")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise OpError(f"expand(): {sizes} has fewer dims than the tensor's shape {x.shape}")
    if any(s == -1 for s in sizes[:lead]):
        raise OpError(f"expand(): -1 (keep the size) is not allowed for the new leading dims in "
                      f"{sizes} (tensor shape {x.shape})")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return _broadcast_to(x, shape, "expand")


@public(method=True, kind="shape")
def expand_as(x, other) -> Tensor:
    """``x`` broadcast to ``other``'s shape."""
    other = check.strict_tensor(other, "expand_as", "other")
    return _broadcast_to(x, other.shape, "expand_as")




def _tensors(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op}(): argument 'tensors' must be a non-empty sequence of tensors, "
                        f"got {type(tensors).__name__}")
    ts = [as_tensor(t, op, f"tensors[{i}]") for i, t in enumerate(tensors)]
    first = ts[0]._data.dtype
    if any(t._data.dtype != first for t in ts):  # one common dtype, PyTorch's promotion
        from .elementwise import cast

        common = first
        for t_ in ts[1:]:
            common = promote_dtypes(common, t_._data.dtype)
        ts = [cast(t_, common) for t_ in ts]
    return ts







@public(method=True, kind="shape")
def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    x = as_tensor(x, "split")
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)) and \
            not isinstance(split_size_or_sections, bool):
        size = check.integer(split_size_or_sections, "split", "split_size_or_sections", low=0)
        if size == 0 and n:
            raise OpError("split(): split size 0 cannot split a dim of size "
                          f"{n}")
        # PyTorch: pieces of ``size`` and a smaller last one; an empty dim gives one empty piece
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = list(check.ints(split_size_or_sections, 0, "split", "split_size_or_sections",
                                low=0))
        if sum(sizes) != n:
            raise OpError(f"split(): sizes {sizes} do not add up to dim {d} of size {n}")
    lead = (slice(None),) * d
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


@public(method=True, kind="shape")
def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` nearly equal pieces (like PyTorch)."""
    x = as_tensor(x, "chunk")
    chunks = check.integer(chunks, "chunk", "chunks", low=1)
    d = norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:  # PyTorch: ``chunks`` empty pieces
        return tuple(x[(slice(None),) * d + (slice(0, 0),)] for _ in range(chunks))
    size = -(-n // chunks)
    return split(x, size, dim)


@public(method=True, kind="shape")
def unbind(x, dim: int = 0) -> tuple:
    """The slices of ``x`` along ``dim``, as a tuple."""
    x = as_tensor(x, "unbind")
    d = norm_dim(dim, x.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(x[lead + (i,)] for i in range(x.shape[d]))




def constant_pad(x: Tensor, pad, value, fn: str) -> Tensor:
    """``x`` padded with ``value`` by PyTorch's ``pad`` list ((left, right) pairs from the last
    dim); negative amounts crop, as in PyTorch. The result's size is checked first."""
    pad = check.ints(pad, 0, fn, "pad")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise OpError(
            f"{fn}(): pad {pad} must hold (left, right) pairs for at most {x.ndim} dims")
    width = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        width[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, width))
    if any(n < 0 for n in shape):
        raise OpError(f"{fn}(): padding {pad} of a tensor of shape {x.shape} gives a negative "
                      f"size {shape}")
    check.alloc(shape, x._data.dtype, fn)
    if any(lo < 0 or hi < 0 for lo, hi in width):  # crop first
        x = getitem(x, tuple(slice(max(-lo, 0), s - max(-hi, 0))
                             for s, (lo, hi) in zip(x.shape, width)))
        width = [(max(lo, 0), max(hi, 0)) for lo, hi in width]
    if not any(lo or hi for lo, hi in width):
        return x if x._node is not None or x.requires_grad else _wrap(x._data.copy())
    return pad_np(x, tuple(width), value)


def pad_np(x, pad_width, value=0.0) -> Tensor:
    """``pad`` with NumPy's ``pad_width`` (one (before, after) pair per dim)."""
    return Pad.record(as_tensor(x, "pad"), pad_width=tuple(pad_width), value=value)


def _convert_index(index):
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x, index) -> Tensor:
    """``x[index]`` with ints, slices (any step), None, Ellipsis, masks and integer arrays."""
    index = _convert_index(index)
    arr = x._data
    try:
        probe = arr[index]
    except IndexError as e:
        raise IndexError(f"index: {e} (tensor shape {x.shape})") from None
    if not (GRAD.enabled and x.requires_grad):
        return _wrap(probe if isinstance(probe, np.ndarray) else np.asarray(probe))
    return GetItem.record(x, index=index)


def index_add(shape, index, g) -> Tensor:
    """Differentiable scatter-add of ``g`` into zeros of ``shape`` at ``index``."""
    return IndexAdd.record(as_tensor(g, "index_add"), shape=tuple(shape), index=index)


def _fits(shape, target) -> bool:
    """Whether a value of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _last_writes(shape, index):
    """For an index that hits some entry twice: a mask of the value entries that are written
    last (the ones that stay); None when every entry is hit at most once."""
    if _is_basic(index):
        return None
    hit = np.arange(math.prod(shape)).reshape(shape)[index]  # flat id of each written entry
    ids = hit.reshape(-1)
    uniq, first_from_end = np.unique(ids[::-1], return_index=True)
    if uniq.size == ids.size:
        return None
    keep = np.zeros(ids.size, dtype=bool)
    keep[ids.size - 1 - first_from_end] = True
    return keep.reshape(hit.shape)


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place. Recorded when a gradient is needed (like PyTorch).

    When recorded, ``x`` becomes the output of the assignment. Unlike PyTorch, an op that read
    ``x`` *before* the assignment can then no longer backpropagate (its input changed under it):
    ``y[1:] += 1`` reads ``y[1:]`` and writes it back, and its backward raises an in-place error.
    Read from the original and write into a copy instead: ``z = y.clone(); z[1:] = y[1:] + 1``.

    An index that hits an entry more than once keeps the last value written (as without a
    graph); the overwritten values get a zero gradient (PyTorch gives them one as well).

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = w * 1
        >>> y[0] = 0.0
        >>> y.sum().backward(); w.grad.tolist()
        [0.0, 1.0, 1.0]
    """
    index = _convert_index(index)
    v = value._data if isinstance(value, Tensor) else value
    if GRAD.enabled and (x.requires_grad or getattr(value, "requires_grad", False)):
        if x._node is None and x.requires_grad:
            raise RuntimeError(
                "setitem: in-place assignment into a leaf tensor that requires grad; do it under "
                "`with cr.no_grad():` or clone the tensor first")
        from .binary import mul, where

        try:
            target = np.shape(x._data[index])
        except IndexError as e:
            raise IndexError(f"setitem: {e} (tensor shape {x.shape})") from None
        value_t = value if isinstance(value, Tensor) else _wrap(np.asarray(v, dtype=x.dtype))
        if not _fits(value_t.shape, target):
            raise ValueError(f"setitem: cannot assign a value of shape {value_t.shape} to "
                             f"x[index] of shape {target} (tensor shape {x.shape})")
        mask = np.zeros(x.shape, dtype=bool)
        mask[index] = True
        if value_t.requires_grad:
            vt = broadcast_to(value_t.to(x.dtype), target)
            keep = _last_writes(x.shape, index)
            if keep is not None:  # repeated targets: the last write wins, as without a graph
                vt = mul(vt, _wrap(keep.astype(x.dtype)))
            full_t = index_add(x.shape, index, vt)
        else:
            full = np.zeros(x.shape, dtype=x.dtype)
            full[index] = value_t._data
            full_t = _wrap(full)
        old = _wrap(x._data)
        old._node, old.requires_grad, old._version = x._node, x.requires_grad, x._version
        res = where(_wrap(mask), full_t, old)
        x._data, x._node, x.requires_grad = res._data, res._node, res.requires_grad
        x._version += 1
        return
    x._keep_node_output()
    try:
        x._data[index] = v
    except (ValueError, IndexError) as e:
        raise type(e)(f"setitem: {e} (tensor shape {x.shape})") from None
    x._version += 1


reshape, permute, broadcast_to, flip = Reshape.call, Permute.call, BroadcastTo.call, Flip.call
cat, stack, pad = Cat.call, Stack.call, Pad.call
view, concatenate = reshape, cat
