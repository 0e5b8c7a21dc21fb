"""The connectionist temporal classification loss (Graves et al., 2006).

The forward variables alpha run over the target with blanks between and around its labels,
one time step at a time, in log space; every step is ordinary ops (a gather of the emission
log-probabilities, shifts, a log-sum-exp), so autograd gives the gradient. "Impossible" is a
large negative number rather than -inf, so that no log-sum-exp of impossibilities makes a NaN
gradient; losses that stay that large are infinite (or zero with ``zero_infinity``).
"""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...ops.binary import where
from ...ops.shape import cat, stack
from ...tensor import Tensor, _wrap
from ._checks import check_reduction

_NEG = -1e30  # log of "impossible", finite on purpose (see the module docstring)
_IMPOSSIBLE = -1e29  # log-likelihoods below this are impossible alignments


def _ints(x, name: str, where_: str) -> np.ndarray:
    if isinstance(x, Tensor):
        a = x._data
    elif isinstance(x, (list, tuple)):  # lengths as ints (PyTorch: a tuple of ints)
        a = np.asarray(check.ints(x, 0, where_, name), dtype=np.int64)
    else:
        a = check.tensor(x, where_, name)._data
    if a.dtype.kind not in "iu":
        raise TypeError(f"{where_}: {name} must hold integers, got {a.dtype}")
    return a.astype(np.int64).reshape(-1)


def _targets(targets, target_lengths: np.ndarray, n: int, where_: str) -> list:
    targets = check.tensor(targets, where_, "targets")
    t = _ints(targets, "targets", where_)
    shape = targets.shape
    if len(shape) == 2:
        if shape[0] != n:
            raise ValueError(f"{where_}: targets of shape {tuple(shape)} must have {n} rows")
        rows = t.reshape(shape)
        if target_lengths.max(initial=0) > shape[1]:
            raise ValueError(f"{where_}: a target length exceeds the {shape[1]} columns of "
                             "targets")
        return [rows[i, :target_lengths[i]] for i in range(n)]
    if target_lengths.sum() != t.size:
        raise ValueError(f"{where_}: 1-D targets hold {t.size} labels but target_lengths add up "
                         f"to {target_lengths.sum()}")
    ends = np.cumsum(target_lengths)
    return [t[e - m:e] for e, m in zip(ends, target_lengths)]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of ``log_probs`` (T, N, C) (log-softmax outputs; (T, C) unbatched) against
    ``targets`` ((N, S) padded, or 1-D concatenated), with per-sample ``input_lengths`` and
    ``target_lengths``. 'mean' divides each sample's loss by its target length, then averages.

    The gradient with respect to ``log_probs`` is the exact one. PyTorch's also holds
    exp(log_probs), a term that cancels in the backward of the log_softmax that produced them,
    so gradients of the logits agree.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> lp = cr.zeros(3, 1, 2).log_softmax(dim=-1)
        >>> round(F.ctc_loss(lp, cr.tensor([[1]]), [3], [1], reduction="sum").item(), 4)
        0.2877
    """
    where_ = "ctc_loss"
    red = check_reduction(reduction, where_)
    log_probs = check.floating(log_probs, where_, "log_probs")
    if not isinstance(log_probs, Tensor) or log_probs.ndim not in (2, 3) or \
            log_probs.dtype.kind != "f":
        raise ValueError(f"{where_}: log_probs must be a float tensor (T, N, C) or (T, C), got "
                         f"{getattr(log_probs, 'shape', log_probs)}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    steps, n, classes = lp.shape
    in_len = _ints(input_lengths, "input_lengths", where_)
    tg_len = _ints(target_lengths, "target_lengths", where_)
    if in_len.size != n or tg_len.size != n:
        raise ValueError(f"{where_}: input_lengths and target_lengths need {n} entries, got "
                         f"{in_len.size} and {tg_len.size}")
    if tg_len.size and tg_len.min() < 0:
        raise ValueError(f"{where_}: target_lengths must be >= 0, got {tg_len.tolist()}")
    blank = check.integer(blank, where_, "blank")
    if in_len.min() < 0 or in_len.max() > steps:
        raise ValueError(f"{where_}: input_lengths must be in [0, {steps}], got "
                         f"{in_len.tolist()}")
    if not 0 <= blank < classes:
        raise ValueError(f"{where_}: blank {blank} is out of range for {classes} classes")
    labels = _targets(targets, tg_len, n, where_)
    for lab in labels:
        if lab.size and (lab.min() < 0 or lab.max() >= classes or (lab == blank).any()):
            raise ValueError(f"{where_}: target labels must be in [0, {classes}) and not the "
                             f"blank {blank}, got {lab.tolist()}")
    width = 2 * int(tg_len.max(initial=0)) + 1
    ext = np.full((n, width), blank, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    for i, lab in enumerate(labels):
        ext[i, 1:2 * lab.size:2] = lab
    valid = np.arange(width)[None, :] < (2 * tg_len + 1)[:, None]
    skip = np.zeros((n, width), dtype=bool)  # may come from two positions back
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = lp[:, np.arange(n)[:, None], ext]  # (T, N, width)
    emit = where(_wrap(valid), emit, _NEG)
    neg = _wrap(np.full((n, 1), _NEG, dtype=lp.dtype))
    neg2 = _wrap(np.full((n, 2), _NEG, dtype=lp.dtype))
    start = np.full((n, width), _NEG, dtype=lp.dtype)
    start[:, :2] = 0.0
    alpha = emit[0] + _wrap(start)
    skip_t = _wrap(skip)
    for t in range(1, steps):
        one = cat([neg, alpha[:, :-1]], 1)
        two = where(skip_t, cat([neg2, alpha[:, :-2]], 1), _NEG) if width > 2 else None
        terms = [alpha, one] + ([two] if two is not None else [])
        new = stack(terms, 0).logsumexp(dim=0) + emit[t]
        running = t < in_len
        alpha = where(_wrap(running[:, None]), new, alpha) if not running.all() else new
    last = 2 * tg_len  # the final blank; the last label is just before it
    rows = np.arange(n)
    end = stack([alpha[rows, last], alpha[rows, np.maximum(last - 1, 0)]], 0)
    end_mask = _wrap(np.stack([np.ones(n, dtype=bool), tg_len > 0]))
    loss = -where(end_mask, end, _NEG).logsumexp(dim=0)
    loss = where(_wrap(in_len == 0), _wrap(np.where(tg_len == 0, 0.0, np.inf)
                                           .astype(lp.dtype)), loss)
    impossible = _wrap(loss._data > -_IMPOSSIBLE)
    if zero_infinity:
        loss = where(impossible, 0.0, loss)
    elif impossible._data.any():
        loss = where(impossible, np.inf, loss)
    if red == "none":
        return loss if batched else loss.reshape(())
    if red == "sum":
        return loss.sum()
    return (loss / _wrap(np.maximum(tg_len, 1).astype(lp.dtype))).mean()
