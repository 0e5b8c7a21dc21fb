"""Moving entries along a dim: ``narrow``, ``roll``, ``repeat_interleave``.

Built from indexing and ``cat``, so their gradients are those of the slices they take.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd.graph import OpError
from ..tensor import Tensor, _wrap
from ._util import as_tensor, norm_dim
from .op import public
from .shape import cat, getitem, reshape


def _int(v, fn: str, arg: str) -> int:
    if isinstance(v, Tensor):
        if v.ndim or v._data.dtype.kind not in "iu":
            raise TypeError(f"{fn}(): {arg} must be an int or a 0-d integer tensor, got "
                            f"shape {v.shape} of {v.dtype}")
        return int(v._data)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}(): {arg} must be an int, got {v!r}")
    return int(v)


@public(method=True, kind="shape")
def narrow(input, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """Entries ``start .. start + length - 1`` along ``dim`` (a negative ``start`` counts from
    the end); shares memory with ``input`` like a slice.

    Example:
        >>> import chainrule as cr
        >>> cr.arange(6).reshape(2, 3).narrow(1, 1, 2).tolist()
        [[1, 2], [4, 5]]
    """
    x = as_tensor(input, "narrow")
    if x.ndim == 0:
        raise OpError("narrow(): needs a tensor with at least 1 dim, got a 0-d tensor")
    d = norm_dim(dim, x.ndim, "narrow")
    size = x.shape[d]
    s, n = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    if not -size <= s <= size:
        raise IndexError(f"narrow(): start {s} is out of range for dim {d} of size {size}")
    if s < 0:
        s += size
    if n < 0 or s + n > size:
        raise IndexError(f"narrow(): start ({s}) + length ({n}) exceeds dim {d} of size {size} "
                         f"(tensor shape {x.shape})")
    return getitem(x, (slice(None),) * d + (slice(s, s + n),))


@public(method=True, kind="shape")
def roll(input, shifts, dims=None) -> Tensor:  # noqa: A002
    """Entries shifted cyclically by ``shifts`` along ``dims`` (an int or tuples of equal
    length); without ``dims`` the flattened tensor is rolled and reshaped back.

    Example:
        >>> import chainrule as cr
        >>> cr.roll(cr.tensor([1, 2, 3, 4]), 1).tolist()
        [4, 1, 2, 3]
        >>> cr.arange(4).reshape(2, 2).roll((1, 1), (0, 1)).tolist()
        [[3, 2], [1, 0]]
    """
    x = as_tensor(input, "roll")
    shift_list = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    if dims is None:
        if len(shift_list) != 1:
            raise OpError(f"roll(): {len(shift_list)} shifts need as many dims, got none")
        flat = reshape(x, (-1,))
        return reshape(_roll_dim(flat, _int(shift_list[0], "roll", "shifts"), 0), x.shape)
    dim_list = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if len(dim_list) != len(shift_list):
        raise OpError(f"roll(): shifts {shifts!r} and dims {dims!r} must have the same length")
    out = x
    for s, d in zip(shift_list, dim_list):
        out = _roll_dim(out, _int(s, "roll", "shifts"), norm_dim(d, x.ndim or 1, "roll"))
    return out


def _roll_dim(x: Tensor, shift: int, d: int) -> Tensor:
    n = x.shape[d] if x.ndim else 1
    shift = shift % n if n else 0
    if shift == 0:
        return x * 1 if x.requires_grad else _wrap(x._data.copy())  # a new tensor, as in PyTorch
    lead = (slice(None),) * d
    return cat([getitem(x, lead + (slice(n - shift, n),)),
                getitem(x, lead + (slice(0, n - shift),))], d)


@public(method=True, kind="shape")
def repeat_interleave(input, repeats=None, dim: int | None = None, *,  # noqa: A002
                      output_size: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times along ``dim`` (the flattened tensor when ``dim``
    is None). ``repeats`` is an int or a 1-D tensor with one count per entry. Called with one
    integer tensor, ``repeat_interleave(r)`` repeats ``0, 1, 2...`` by ``r``.

    Example:
        >>> import chainrule as cr
        >>> cr.repeat_interleave(cr.tensor([1, 2]), 2).tolist()
        [1, 1, 2, 2]
        >>> cr.tensor([[1, 2], [3, 4]]).repeat_interleave(cr.tensor([1, 2]), dim=0).tolist()
        [[1, 2], [3, 4], [3, 4]]
    """
    x = as_tensor(input, "repeat_interleave")
    if repeats is None:  # repeat_interleave(repeats): the indices, repeated
        counts = _counts(x, None, "repeat_interleave")
        return _wrap(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        if x.ndim == 0:
            x = reshape(x, (1,))
        d = norm_dim(dim, x.ndim, "repeat_interleave")
    n = x.shape[d]
    counts = _counts(repeats, n, "repeat_interleave")
    index = np.repeat(np.arange(n), counts)
    if output_size is not None and output_size != index.size:
        raise OpError(f"repeat_interleave(): output_size={output_size} but the repeats give "
                      f"{index.size} entries")
    return getitem(x, (slice(None),) * d + (index,))


def _counts(repeats, n, fn: str) -> np.ndarray:
    """``repeats`` as one non-negative count per entry (``n`` entries; None: any number)."""
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.dtype.kind not in "iu" or r.ndim > 1:
            raise TypeError(f"{fn}(): repeats must be an int or a 1-D integer tensor, got shape "
                            f"{repeats.shape} of {repeats.dtype}")
        r = r.reshape(-1)
    else:
        r = np.asarray([_int(repeats, fn, "repeats")])
    if n is not None and r.size == 1:
        r = np.repeat(r, n)
    if n is not None and r.size != n:
        raise OpError(f"{fn}(): repeats has {r.size} counts for {n} entries along the dim")
    if (r < 0).any():
        raise ValueError(f"{fn}(): repeats must not be negative, got {r.tolist()}")
    # Python integers: a product of huge counts must not wrap around in int64
    check.alloc((sum(int(v) for v in r),), np.int64, fn)
    return r
