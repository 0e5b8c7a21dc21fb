"""Embedding lookup (with ``padding_idx``) and one-hot encoding."""

from __future__ import annotations

import numpy as np

from ...autograd.graph import apply
from ...ops.op import Op
from ...tensor import Tensor, _wrap


class EmbeddingIndexError(IndexError, ValueError):
    """An embedding index outside [0, num_embeddings) (an IndexError, as in PyTorch)."""


class Embedding(Op):
    """W[idx];  dW = g scattered-added back to the looked-up rows (none to padding_idx)"""

    public, kind = None, "embedding"
    fresh_grads = True
    formula = "d W[idx]/dW: gradient rows added back at idx (repeats accumulate)"

    def forward(w, idx, padding_idx):
        return w[idx]

    def backward(F, g, out, w, idx, padding_idx):
        if padding_idx is not None:
            g = g * (idx != padding_idx)[..., None]
        return (F.index_add(w.shape, idx, g),)


def _indices(input, num_embeddings: int, where: str) -> np.ndarray:
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
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


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:  # noqa: A002
    """Rows of ``weight`` (num_embeddings, dim) at integer ``input`` indices.

    The row at ``padding_idx`` gets no gradient.

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> w = cr.arange(6.0).reshape(3, 2)
        >>> F.embedding(cr.tensor([[2, 0]]), w).tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got "
                         f"{weight.shape}")
    n = weight.shape[0]
    idx = _indices(input, n, "embedding")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} "
                             "embeddings")
        padding_idx %= n
    return apply(Embedding, (weight,), {"idx": idx, "padding_idx": padding_idx})


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (inferred if -1).

    Example:
        >>> import chainrule as cr
        >>> import chainrule.nn.functional as F
        >>> F.one_hot(cr.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs an integer tensor, got {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes - 1}], got min "
                         f"{idx.min()} and max {idx.max()}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return _wrap(out)
