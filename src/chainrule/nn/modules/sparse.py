"""``Embedding`` and ``EmbeddingBag``: lookup tables of learned vectors."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _factory_dtype
from .module import Module


def _padding_index(padding_idx, num_embeddings: int, layer: str):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{layer}: padding_idx {padding_idx} must be within "
                         f"[-{num_embeddings}, {num_embeddings - 1}]")
    return padding_idx % num_embeddings


def _table(module, num_embeddings, embedding_dim, _weight, _freeze, dtype, layer) -> None:
    if _weight is None:
        module.weight = Parameter(check.new_array(np.empty, (num_embeddings, embedding_dim),
                                                  _factory_dtype(dtype), module),
                                  requires_grad=not _freeze)
        module.reset_parameters()
    else:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(f"{layer}: _weight has shape {tuple(_weight.shape)}, expected "
                             f"{(num_embeddings, embedding_dim)}")
        module.weight = Parameter(_weight, requires_grad=not _freeze)


class _Lookup(Module):
    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0


class Embedding(_Lookup):
    """Map integer indices to rows of a (num_embeddings, embedding_dim) weight, initialised
    N(0, 1). The ``padding_idx`` row starts at zero and gets no gradient; ``max_norm``,
    ``norm_type`` and ``scale_grad_by_freq`` as in PyTorch. ``sparse=True`` is accepted but
    the weight's gradient is dense (same values; chainrule has no sparse tensors).

    Example:
        >>> import chainrule as cr
        >>> emb = cr.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(cr.tensor([[0, 4, 9]])).shape, emb.weight[0].tolist()
        ((1, 3, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        num_embeddings = check.integer(num_embeddings, "Embedding", "num_embeddings", low=0)
        embedding_dim = check.integer(embedding_dim, "Embedding", "embedding_dim", low=0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        _table(self, num_embeddings, embedding_dim, _weight, _freeze, dtype, "Embedding")

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (frozen by default)."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got "
                             f"{embeddings.shape}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=Tensor(embeddings._data), _freeze=freeze)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s


class EmbeddingBag(_Lookup):
    """Sums, means (the default) or maxima of bags of embeddings, computed without the bags'
    intermediate rows: ``forward(input, offsets=None, per_sample_weights=None)`` with a 2-D
    input (one bag per row) or a 1-D input split at ``offsets``.

    ``scale_grad_by_freq`` divides each row's gradient by its index's count in the batch, as
    ``Embedding`` does (PyTorch 2.13's CPU EmbeddingBag divides some rows by other indices'
    counts; chainrule does not copy that).

    Example:
        >>> import chainrule as cr
        >>> bag = cr.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(cr.tensor([1, 2, 4, 5, 4]), cr.tensor([0, 2])).shape
        (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        num_embeddings = check.integer(num_embeddings, "EmbeddingBag", "num_embeddings", low=0)
        embedding_dim = check.integer(embedding_dim, "EmbeddingBag", "embedding_dim", low=0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, \
            scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = _padding_index(padding_idx, num_embeddings, "EmbeddingBag")
        _table(self, num_embeddings, embedding_dim, _weight, False, dtype, "EmbeddingBag")

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag holding a copy of ``embeddings`` (frozen by default)."""
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got "
                             f"{embeddings.shape}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  Tensor(embeddings._data), include_last_offset, padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(self, input: Tensor, offsets: Tensor | None = None,  # noqa: A002
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s
