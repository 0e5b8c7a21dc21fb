"""Embedding lookup (with PyTorch's options), bags of embeddings, and one-hot encoding."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...autograd.grad_mode import no_grad
from ...autograd.graph import apply
from ...ops.binary import where as _where
from ...ops.op import Op
from ...ops.shape import index_add
from ...tensor import Tensor, _wrap


class EmbeddingIndexError(IndexError, ValueError):
    """An embedding index outside [0, num_embeddings) (an IndexError, as in PyTorch)."""


class Embedding(Op):
    """W[idx];  dW = g scattered-added back to the looked-up rows (none to padding_idx)"""

    public, kind = None, "embedding"
    fresh_grads = True
    formula = "d W[idx]/dW: gradient rows added back at idx (repeats accumulate)"

    def forward(w, idx, padding_idx, scale=None):
        return w[idx]

    def backward(F, g, out, w, idx, padding_idx, scale=None):
        if padding_idx is not None:
            g = g * (idx != padding_idx)[..., None]
        if scale is not None:  # scale_grad_by_freq: 1 / (count of the index in the batch)
            g = g * scale[..., None].astype(g.dtype)
        return (F.index_add(w.shape, idx, g),)


def _indices(input, num_embeddings: int, where: str) -> np.ndarray:
    idx = input if isinstance(input, np.ndarray) else check.tensor(input, where)._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{where}: indices must be an integer tensor (int64), got {idx.dtype}; "
                        "convert with .long()")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        # NumPy would wrap negative indices to the last rows; PyTorch raises, so do we.
        if lo < 0 or hi >= num_embeddings:
            bad = lo if lo < 0 else hi
            raise EmbeddingIndexError(f"{where}: index {bad} is out of range for {num_embeddings} "
                             f"embeddings (valid: 0..{num_embeddings - 1})")
    return idx


def _renorm(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: the looked-up rows whose norm exceeds ``max_norm`` are
    scaled down to it, in place (not recorded)."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        with no_grad():
            w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
            weight._version += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at integer ``input`` indices.

    The row at ``padding_idx`` gets no gradient. ``max_norm`` first rescales, in place, the
    looked-up rows whose ``norm_type``-norm exceeds it; ``scale_grad_by_freq`` divides each
    row's gradient by how often its index occurs in ``input``. ``sparse=True`` is accepted, but
    the gradient is a dense tensor (chainrule has no sparse tensors; its values are the same).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> w = cr.arange(6.0).reshape(3, 2)
        >>> F.embedding(cr.tensor([[2, 0]]), w).tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    weight = check.real(check.tensor(weight, "embedding", "weight"), "embedding", "weight")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got "
                         f"{weight.shape}")
    n = weight.shape[0]
    idx = _indices(input, n, "embedding")
    if max_norm is not None:
        max_norm = check.number(max_norm, "embedding", "max_norm")
        norm_type = check.number(norm_type, "embedding", "norm_type")
    if padding_idx is not None:
        padding_idx = check.integer(padding_idx, "embedding", "padding_idx")
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} "
                             "embeddings")
        padding_idx %= n
    if max_norm is not None:
        _renorm(weight, idx, float(max_norm), float(norm_type))
    scale = None
    if scale_grad_by_freq and idx.size:
        counts = np.bincount(idx.reshape(-1), minlength=n)
        scale = 1.0 / counts[idx]
    return apply(Embedding, (weight,), {"idx": idx, "padding_idx": padding_idx, "scale": scale})


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (inferred if -1).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.one_hot(cr.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    idx = check.index_tensor(tensor, "one_hot", "tensor")._data
    num_classes = check.integer(num_classes, "one_hot", "num_classes", low=-1)
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}], got min "
                         f"{idx.min()} and max {idx.max()}")
    check.alloc(idx.shape + (num_classes,), np.int64, "one_hot")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return _wrap(out)


_BAG_MODES = ("sum", "mean", "max")


def _bags(input, offsets, include_last_offset: bool, where: str):
    """Flat indices and the bag of each, from a 2-D input or a 1-D input with offsets."""
    idx = check.index_tensor(input, where, "input")._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{where}: offsets must be None when input is 2-D (each row is a "
                             "bag)")
        bags, per = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(bags), per), bags
    if idx.ndim != 1:
        raise ValueError(f"{where}: input must be 1-D (with offsets) or 2-D, got shape "
                         f"{idx.shape}")
    if offsets is None:
        raise ValueError(f"{where}: a 1-D input needs offsets (where each bag starts)")
    off = check.index_tensor(offsets, where, "offsets")._data
    if off.size == 0:
        raise ValueError(f"{where}: offsets is empty; a 1-D input needs at least one bag")
    if off.ndim != 1 or off.dtype.kind not in "iu":
        raise TypeError(f"{where}: offsets must be a 1-D integer tensor, got {off.dtype} of "
                        f"shape {off.shape}")
    if off.size and (off[0] != 0 or (np.diff(off) < 0).any() or off[-1] > idx.size):
        raise ValueError(f"{where}: offsets {off.tolist()} must start at 0 and increase up to "
                         f"the input length {idx.size}")
    if include_last_offset:
        if off.size == 0:
            raise ValueError(f"{where}: include_last_offset needs at least one offset")
        starts, bags = off[:-1], off.size - 1
        if off[-1] != idx.size:
            idx = idx[:off[-1]]
    else:
        starts, bags = off, off.size
    bag_of = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    return idx, bag_of, bags


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embeddings, without materialising each bag's rows as a
    separate tensor: a 2-D ``input`` makes each row a bag; a 1-D one is split at ``offsets``.
    Entries equal to ``padding_idx`` are left out (and not counted by the mean); an empty bag
    gives zeros.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> w = cr.arange(8.0).reshape(4, 2)
        >>> F.embedding_bag(cr.tensor([0, 1, 3]), w, cr.tensor([0, 2]), mode="sum").tolist()
        [[2.0, 4.0], [6.0, 7.0]]
    """
    where = "embedding_bag"
    check.choice(mode, _BAG_MODES, where, "mode")
    weight = check.floating(weight, where, "weight")  # PyTorch sums and means floats only
    if weight.ndim != 2:
        raise ValueError(f"{where}: weight must be 2-D (num_embeddings, dim), got "
                         f"{weight.shape}")
    flat, bag_of, bags = _bags(input, offsets, include_last_offset, where)
    n, dim = weight.shape
    _indices(flat, n, where)
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{where}: padding_idx {padding_idx} is out of range for {n} "
                             "embeddings")
        padding_idx %= n
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{where}: per_sample_weights is only supported for mode='sum', "
                             f"got mode={mode!r}")
        if tuple(per_sample_weights.shape) != np.shape(input._data if isinstance(input, Tensor)
                                                       else input):
            raise ValueError(f"{where}: per_sample_weights of shape "
                             f"{tuple(per_sample_weights.shape)} must match input's shape")
    rows = embedding(_wrap(flat), weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    keep = np.ones(flat.size, dtype=bool) if padding_idx is None else flat != padding_idx
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[:flat.size].unsqueeze(-1)
    if mode in ("sum", "mean"):
        out = index_add((bags, dim), (bag_of[keep],), rows[keep])
        if mode == "mean":
            counts = np.bincount(bag_of[keep], minlength=bags).astype(out.dtype)
            out = out / _wrap(np.maximum(counts, 1)[:, None])
        return out
    # max: gather each bag into a (bags, longest, dim) block padded with -inf, then reduce
    members = [np.flatnonzero((bag_of == b) & keep) for b in range(bags)]
    longest = max((len(m) for m in members), default=0)
    if longest == 0:
        return _wrap(np.zeros((bags, dim), dtype=weight.dtype))
    gather = np.zeros((bags, longest), dtype=np.int64)
    valid = np.zeros((bags, longest), dtype=bool)
    for b, m in enumerate(members):
        gather[b, :len(m)], valid[b, :len(m)] = m, True
    block = _where(_wrap(valid[..., None]), rows[gather], -np.inf)
    out = block.amax(dim=1)
    empty = ~valid.any(axis=1)
    return _where(_wrap(empty[:, None]), 0.0, out) if empty.any() else out
