"""``F.pad`` with all of PyTorch's modes: constant, reflect, replicate and circular.

The constant mode is the engine's ``pad`` primitive. The others gather each padded dim through
an index array (the reflected, clamped or wrapped positions), so their gradient is the
indexing rule's: every output position adds into the input entry it copied.
"""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...ops.shape import pad as _constant_pad
from ...tensor import Tensor

_MODES = ("constant", "reflect", "replicate", "circular")


def _pairs(pad, ndim: int, where: str) -> list[tuple[int, int]]:
    """PyTorch's flat (last_lo, last_hi, prev_lo, prev_hi, ...) as one (lo, hi) per dim."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"{where}: argument 'pad' must be a tuple of ints, got {pad!r}")
    pad = check.ints(pad, 0, "pad", "pad")
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"{where}: pad {tuple(pad)} must hold (left, right) pairs for at most "
                         f"{ndim} dims")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


def _source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    idx = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        idx = np.abs(idx) % period if period else np.zeros_like(idx)
        return np.where(idx >= n, period - idx, idx)
    if mode == "replicate":
        return np.clip(idx, 0, n - 1)
    return idx % n  # circular


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad ``input``; ``pad`` lists (left, right) amounts from the LAST dim backwards, as in
    PyTorch. Modes: 'constant' (``value``, default 0; negative amounts crop), 'reflect'
    (mirror without repeating the edge), 'replicate' (repeat the edge) and 'circular' (wrap).
    The non-constant modes pad the last 1, 2 or 3 dims of a batched or unbatched input.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> x = cr.tensor([[[1.0, 2.0, 3.0]]])
        >>> F.pad(x, (2, 1), mode="reflect").tolist()
        [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
        >>> F.pad(x, (1, 1), mode="replicate").tolist()
        [[[1.0, 1.0, 2.0, 3.0, 3.0]]]
    """
    check.choice(mode, _MODES, "pad", "mode")
    where = f"pad(mode={mode!r})"
    input = check.real(check.tensor(input, "pad"), "pad")  # noqa: A001
    if value is not None:
        value = check.number(value, "pad", "value")
    widths = _pairs(pad, input.ndim, where)
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(input.shape, widths))
    if any(n < 0 for n in shape):
        raise ValueError(f"{where}: padding {tuple(pad)} of a tensor of shape {input.shape} "
                         f"gives a negative size {shape}")
    check.alloc(shape, input._data.dtype, "pad")
    if any(lo < 0 or hi < 0 for lo, hi in widths):  # negative amounts crop first (any mode)
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                     for n, (lo, hi) in zip(input.shape, widths))
        input = input[crop]  # noqa: A001
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        flat = tuple(v for lo_hi in reversed(widths) for v in lo_hi)
        return _constant_pad(input, flat, value=0.0 if value is None else value)
    if input._data.dtype.kind == "b" and mode != "circular":  # PyTorch's reflection and
        # replication kernels refuse bools
        raise TypeError(check.say("dtype_bool", op="pad", arg="input"))
    if value is not None and value != 0:
        raise ValueError(f"{where}: value applies only to mode='constant', got value={value}")
    k = len(pad) // 2
    if k > 3 or input.ndim not in (k + 1, k + 2):
        raise ValueError(f"{where}: padding the last {k} dims needs a {k + 1}-D (unbatched) or "
                         f"{k + 2}-D (batched) input, got shape {input.shape}")
    out = input
    for d, (lo, hi) in enumerate(widths):
        if not (lo or hi):
            continue
        n = input.shape[d]
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"{where}: padding {(lo, hi)} of dim {d} must be smaller than "
                             f"its size {n}")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(f"{where}: padding {(lo, hi)} of dim {d} must be at most its size "
                             f"{n}")
        if n == 0:
            raise ValueError(f"{where}: cannot pad dim {d} of size 0")
        out = out[(slice(None),) * d + (_source_index(n, lo, hi, mode),)]
    return out
