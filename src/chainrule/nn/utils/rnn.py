"""Variable-length sequences: padding into one batch tensor, and PyTorch's packed sequences.

A ``PackedSequence`` stores the valid steps of a batch of sequences time step by time step:
``data`` holds, for t = 0, 1, ..., the rows of every sequence still running at t (longest
sequences first), and ``batch_sizes[t]`` says how many that is. The recurrent layers accept one
and then never compute on padding. Packing and unpacking are one indexing op each, so gradients
flow through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ...ops.shape import index_add, pad, stack
from ...tensor import Tensor, _wrap


def _int_array(values, where: str, name: str) -> np.ndarray:
    arr = values._data if isinstance(values, Tensor) else np.asarray(values)
    whole = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))
    if arr.ndim != 1 or (arr.size and not whole):
        raise TypeError(f"{where}: {name} must be a 1-D sequence of whole numbers, got "
                        f"{arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


class PackedSequence(NamedTuple):
    """The valid steps of a batch of sequences, time-major (see the module's docstring).

    Build one with ``pack_padded_sequence`` or ``pack_sequence``, never by hand. ``data`` is
    (sum of lengths, *); ``batch_sizes`` (int64) has one entry per time step;
    ``sorted_indices`` orders the batch by decreasing length and ``unsorted_indices`` undoes it
    (both None when the input was already sorted).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])])
        >>> p.data.tolist(), p.batch_sizes.tolist()
        ([1.0, 4.0, 2.0, 3.0], [2, 1, 1])
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data.to(*args, **kwargs)``."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def cpu(self) -> PackedSequence:
        return self

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def _time_major_index(batch_sizes: np.ndarray):
    """(time, batch) index arrays of the packed rows, in packed order."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else \
        np.zeros(0, dtype=np.int64)
    return t, b


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """How many of the (decreasingly sorted) ``lengths`` exceed each time step."""
    steps = np.arange(int(lengths[0]))
    return (lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of sequences of the given
    ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is
    sorted here and the order remembered.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pack_padded_sequence
        >>> x = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]])
        >>> p = pack_padded_sequence(x, [3, 2], batch_first=True)
        >>> p.data.tolist(), p.batch_sizes.tolist()
        ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """
    where = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{where}: input must be at least 2-D (T, B, *), got {input.shape}")
    lengths = _int_array(lengths, where, "lengths")
    b = input.shape[0] if batch_first else input.shape[1]
    t_max = input.shape[1] if batch_first else input.shape[0]
    if len(lengths) != b:
        raise ValueError(f"{where}: got {len(lengths)} lengths for a batch of {b} sequences")
    if b == 0:
        raise ValueError(f"{where}: the batch is empty")
    if lengths.min() <= 0:
        raise ValueError(f"{where}: every length must be > 0, got {lengths.tolist()}")
    if lengths.max() > t_max:
        raise ValueError(f"{where}: a length of {lengths.max()} exceeds the {t_max} time steps "
                         f"of input {input.shape}")
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise ValueError(f"{where}: lengths {lengths.tolist()} must be sorted in decreasing "
                             "order when enforce_sorted=True; sort the batch or pass "
                             "enforce_sorted=False")
        sorted_idx = None
    else:
        sorted_idx = np.argsort(-lengths, kind="stable")
        lengths = lengths[sorted_idx]
    x = input.transpose(0, 1) if batch_first else input
    bs = _batch_sizes(lengths)
    t, rows = _time_major_index(bs)
    cols = rows if sorted_idx is None else sorted_idx[rows]
    data = x[t, cols]
    if sorted_idx is None:
        return PackedSequence(data, _wrap(bs))
    return PackedSequence(data, _wrap(bs), _wrap(sorted_idx.astype(np.int64)),
                          _wrap(np.argsort(sorted_idx).astype(np.int64)))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo ``pack_padded_sequence``: returns the padded batch (T, B, *) ((B, T, *) with
    ``batch_first``), in the original batch order, and the lengths (int64).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> p = pack_sequence([cr.tensor([1.0]), cr.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> x, lengths = pad_packed_sequence(p, batch_first=True)
        >>> x.tolist(), lengths.tolist()
        ([[1.0, 0.0], [2.0, 3.0]], [1, 2])
    """
    where = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{where}: expected a PackedSequence, got {type(sequence).__name__}")
    bs = sequence.batch_sizes._data
    data = sequence.data
    steps, b = len(bs), int(bs[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{where}: total_length={total_length} is shorter than the longest "
                             f"sequence ({steps} steps)")
        steps = int(total_length)
    t, rows = _time_major_index(bs)
    lengths = np.bincount(rows, minlength=b).astype(np.int64)
    padded = index_add((steps, b) + data.shape[1:], (t, rows), data)
    if padding_value:
        filler = np.full((steps, b) + (1,) * (data.ndim - 1), padding_value, dtype=data.dtype)
        filler[t, rows] = 0
        padded = padded + _wrap(filler)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices._data
        padded = padded[:, order]
        lengths = lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _wrap(lengths)


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


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (the inverse of ``pad_sequence``).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import unpad_sequence
        >>> [s.tolist() for s in unpad_sequence(cr.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1],
        ...                                     batch_first=True)]
        [[1.0, 2.0], [3.0]]
    """
    lengths = _int_array(lengths, "unpad_sequence", "lengths")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if len(lengths) != x.shape[0]:
        raise ValueError(f"unpad_sequence: got {len(lengths)} lengths for a batch of "
                         f"{x.shape[0]} sequences")
    return [x[i, :int(n)] for i, n in enumerate(lengths)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) (decreasing lengths unless ``enforce_sorted=False``).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pack_sequence
        >>> pack_sequence([cr.ones(2, 3), cr.ones(1, 3)]).data.shape
        (3, 3)
    """
    seqs = list(sequences)
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a ``PackedSequence`` holds, in the original order.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn.utils.rnn import pack_sequence, unpack_sequence
        >>> p = pack_sequence([cr.tensor([1.0]), cr.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> [s.tolist() for s in unpack_sequence(p)]
        [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    return _wrap(np.argsort(_int_array(permutation, "invert_permutation", "permutation")))
