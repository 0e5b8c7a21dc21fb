"""Where a tensor is nonzero: ``nonzero``, ``argwhere`` (and ``where(condition)``)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _wrap
from ._util import as_tensor
from .op import public


@public(method=True, kind="indexing")
def nonzero(input, *, as_tuple: bool = False):  # noqa: A002
    """The int64 indices of the nonzero entries: an ``(n, ndim)`` tensor in row-major order,
    or with ``as_tuple=True`` one 1-D tensor per dim (what ``x[...]`` takes).

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor([[0, 1], [1, 0]])
        >>> cr.nonzero(x).tolist()
        [[0, 1], [1, 0]]
        >>> [t.tolist() for t in x.nonzero(as_tuple=True)]
        [[0, 1], [1, 0]]
    """
    a = as_tensor(input, "nonzero")._data
    if a.ndim == 0:  # PyTorch: a 0-d tensor counts as one entry with no index
        hits = int(a != 0)
        if as_tuple:
            return (_wrap(np.zeros(hits, dtype=np.int64)),)
        return _wrap(np.zeros((hits, 0), dtype=np.int64))
    where = np.nonzero(a)
    if as_tuple:
        return tuple(_wrap(w.astype(np.int64, copy=False)) for w in where)
    return _wrap(np.stack(where, axis=1).astype(np.int64, copy=False))


@public(method=True, kind="indexing")
def argwhere(input) -> Tensor:  # noqa: A002
    """``nonzero(input)``: the ``(n, ndim)`` int64 indices of the nonzero entries.

    Example:
        >>> import chainrule as cr
        >>> cr.argwhere(cr.tensor([0.0, 2.0, 3.0])).tolist()
        [[1], [2]]
    """
    return nonzero(as_tensor(input, "argwhere"))
