"""Numbers as people read them: scalars exactly (4+ decimals), tensors as shape, norm and a peek.

Example:
    >>> import numpy as np
    >>> num(0.30046)
    '0.3005'
    >>> arr(np.array([[1.0, -2.0], [0.5, 3.0]]))
    'shape (2, 2), norm 3.7749, [1.0000, -2.0000, 0.5000, 3.0000]'
"""

from __future__ import annotations

import numpy as np

PEEK = 4  # entries shown for a tensor: enough to recognise it, few enough to read


def num(v: float) -> str:
    """A scalar to at least 4 decimals; tiny or huge values in scientific notation."""
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    if v == 0:
        return "0.0000"
    if 1e-3 <= abs(v) < 1e6:
        return f"{v:.4f}"
    return f"{v:.4e}"


def const(v: float) -> str:
    """A constant as written in code: ``0.5``, ``2``."""
    return f"{float(v):g}"


def is_scalar(a) -> bool:
    return a is not None and np.size(a) == 1


def arr(a, peek: int = PEEK) -> str:
    """A value: a scalar exactly, a tensor as ``shape (..), norm .., [first entries, ...]``."""
    if a is None:
        return "None"
    a = np.asarray(a)
    if a.size == 1:
        return num(a.reshape(()).item()) if a.dtype.kind in "fciub" else str(a.item())
    if a.dtype.kind not in "fc":
        flat = a.reshape(-1)[:peek].tolist()
        more = ", ..." if a.size > peek else ""
        return f"shape {tuple(a.shape)}, {a.dtype}, [{', '.join(map(str, flat))}{more}]"
    flat = a.reshape(-1)[:peek]
    more = ", ..." if a.size > peek else ""
    norm = float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
    return f"shape {tuple(a.shape)}, norm {num(norm)}, [{', '.join(num(x) for x in flat)}{more}]"


def shape(a) -> str:
    a = np.asarray(a)
    return "scalar" if a.ndim == 0 else str(tuple(a.shape))
