"""SparseAdam: refused on purpose, because chainrule has no sparse gradients."""

from __future__ import annotations

from typing import NoReturn

from .optimizer import ParamsT


class SparseAdam:
    """Not available: ``torch.optim.SparseAdam`` updates only the rows present in a sparse
    gradient (from ``nn.Embedding(sparse=True)``), and chainrule's gradients are always dense.

    Use ``cr.optim.Adam`` (or ``AdamW``) with the same arguments. It is the dense method
    SparseAdam approximates: every step it decays the moments of every row, and moves rows a
    batch did not use while their moments are non-zero, where SparseAdam's lazy update leaves
    such rows alone, so the numbers differ.

    Example:
        >>> import chainrule as cr
        >>> cr.optim.SparseAdam([cr.zeros(2, requires_grad=True)])
        Traceback (most recent call last):
        ...
        NotImplementedError: SparseAdam: chainrule has no sparse gradients ...
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> NoReturn:
        raise NotImplementedError(
            "SparseAdam: chainrule has no sparse gradients (every gradient is a dense array), "
            "so there is nothing for SparseAdam's lazy row updates to skip. Use "
            "cr.optim.Adam(params, lr=..., betas=..., eps=..., maximize=...) instead, the dense "
            "method SparseAdam approximates (it also updates the rows a batch did not use, so "
            "the numbers differ from SparseAdam's)")
