"""``default_collate``: turn a list of samples into one batch, following PyTorch's rules."""

from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ..tensor import Tensor, _wrap


def _stack(tensors: list[Tensor]) -> Tensor:
    if any(t.requires_grad for t in tensors):
        from ..ops.shape import stack  # differentiable only when someone needs the gradient

        return stack(tensors)
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: cannot stack samples of different shapes "
                         f"{sorted(shapes)}; pass a collate_fn that pads them")
    return _wrap(np.stack([t._data for t in tensors]))


def default_collate(batch: list):
    """Combine a list of samples into a batch.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an
    int64 tensor, floats a float64 tensor and bools a bool tensor (as in PyTorch); strings are
    returned as given; dicts and named tuples are collated field by field, and tuples and lists
    become a list of per-field batches.

    Example:
        >>> import chainrule as cr
        >>> batch = cr.data.default_collate([(cr.zeros(2), 0), (cr.ones(2), 1)])
        >>> batch[0].shape, batch[1]
        ((2, 2), tensor([0, 1]))
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"default_collate expects a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack(batch)
    if isinstance(first, (np.ndarray, np.generic)):
        if isinstance(first, np.ndarray) and first.dtype.kind in "OUS":
            raise TypeError(f"default_collate: arrays of dtype {first.dtype} cannot be batched")
        return _wrap(np.stack([np.asarray(x) for x in batch]))
    if isinstance(first, bool):
        return _wrap(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return _wrap(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return _wrap(np.array(batch, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise ValueError("default_collate: every sample in the batch must have the same "
                             "number of fields")
        # A list of fields, for tuples too: PyTorch does the same, and code unpacks either.
        return [default_collate(field) for field in zip(*batch)]
    if first is None:
        raise TypeError("default_collate: cannot batch None values; use a custom collate_fn")
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "pass collate_fn=")
