"""Padding variable-length sequences into one batch tensor."""

from __future__ import annotations

from collections.abc import Sequence

from ...ops.shape import pad, stack
from ...tensor import Tensor


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *) with
    ``batch_first``), padding each with ``padding_value``; differentiable.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pad_sequence
        >>> pad_sequence([cr.ones(3), cr.ones(1)], batch_first=True).tolist()
        [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    """
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: got no sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    tail = seqs[0].shape[1:]
    for s in seqs:
        if s.ndim == 0 or s.shape[1:] != tail:
            raise ValueError(f"pad_sequence: every sequence must have shape (L, *{tail}); got "
                             f"{[tuple(t.shape) for t in seqs]}")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = longest - s.shape[0]
        # torch-style pad lists start from the last dim: (last_lo, last_hi, ..., first_lo, ...)
        widths = [0, 0] * len(tail) + ([0, extra] if padding_side == "right" else [extra, 0])
        padded.append(pad(s, tuple(widths), value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)
