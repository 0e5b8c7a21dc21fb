"""Drawing indices from a tensor of weights: ``multinomial``."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..random import _gen
from ..tensor import Tensor, _wrap
from .op import public


@public(method=True, kind="other")
def multinomial(input, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator=None) -> Tensor:
    """``num_samples`` category indices drawn with probabilities proportional to the weights
    in ``input`` (1-D, or 2-D: one draw per row); int64, not differentiable.

    The weights need not sum to 1 but must be finite, non-negative and not all zero. Without
    ``replacement`` each category is drawn at most once (categories of weight 0 only after
    every positive one, as in PyTorch), so ``num_samples`` is at most the number of categories.

    Example:
        >>> import chainrule as cr
        >>> g = cr.Generator().manual_seed(0)
        >>> cr.multinomial(cr.tensor([0.0, 1.0, 0.0]), 2, replacement=True, generator=g).tolist()
        [1, 1]
        >>> sorted(cr.tensor([1.0, 2.0, 3.0]).multinomial(3, generator=g).tolist())
        [0, 1, 2]
    """
    w = check.floating(input, "multinomial")._data
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial(): weights must be 1-D or 2-D, got shape {w.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial(): num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"multinomial(): num_samples must be positive, got {num_samples}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    n = rows.shape[1]
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial(): the weights must be finite and non-negative (they hold "
                         "inf, NaN or a negative value)")
    if w.ndim == 2 and w.shape[0] == 0 and n:  # no rows: no draws (PyTorch's answer)
        if not replacement and num_samples > n:
            raise ValueError(f"multinomial(): cannot draw {num_samples} samples from {n} "
                             "categories without replacement")
        return _wrap(np.zeros((0, num_samples), dtype=np.int64))
    if rows.size == 0 or (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial(): every row of weights needs a positive sum")
    if not replacement and num_samples > n:
        raise ValueError(f"multinomial(): cannot draw {num_samples} samples from {n} categories "
                         "without replacement")
    rng = _gen(generator)
    if replacement:
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for r, weights in enumerate(rows):
            cdf = np.cumsum(weights)
            cdf /= cdf[-1]  # the last entry is exactly 1, so every draw u < 1 lands inside
            out[r] = np.searchsorted(cdf, rng.random(num_samples), side="right")
    else:
        # Exponential races: category i finishes at E_i / w_i, and the first k to finish are a
        # draw of k without replacement (Efraimidis and Spirakis). Weight 0 never finishes;
        # random tie-breaks order those after the rest.
        with np.errstate(divide="ignore"):
            finish = rng.standard_exponential(rows.shape) / rows
        ties = rng.random(rows.shape)
        order = np.lexsort((ties, finish), axis=-1)
        out = order[:, :num_samples].astype(np.int64)
    return _wrap(out.reshape(w.shape[:-1] + (num_samples,)))
