"""Datasets: the indexable collections a ``DataLoader`` draws samples from."""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import _gen
from ..tensor import Tensor, _wrap


class Dataset:
    """Base class of map-style datasets: implement ``__getitem__`` and ``__len__``.

    Example:
        >>> import chainrule as cr
        >>> class Squares(cr.data.Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return i, i * i
        >>> Squares()[3]
        (3, 9)
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of stream-style datasets: implement ``__iter__`` (a generator, say).

    ``DataLoader`` batches the stream in order; shuffling and samplers do not apply.

    Example:
        >>> import chainrule as cr
        >>> class Count(cr.data.IterableDataset):
        ...     def __iter__(self): return iter(range(5))
        >>> [b.tolist() for b in cr.data.DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead "
                        "of indexing it")

    def __add__(self, other):
        raise TypeError("IterableDatasets cannot be concatenated with +")


def _as_tensor(x, position: int) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _wrap(x)
    raise TypeError(f"TensorDataset: argument {position} must be a Tensor or numpy array, "
                    f"got {type(x).__name__}")


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension.

    ``DataLoader`` recognises this class and gathers a whole batch with one fancy index per
    tensor instead of collating samples one by one.

    Example:
        >>> import chainrule as cr
        >>> ds = cr.data.TensorDataset(cr.arange(6).reshape(3, 2), cr.tensor([0, 1, 0]))
        >>> len(ds), ds[1]
        (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(_as_tensor(t, i) for i, t in enumerate(tensors))
        for i, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; samples are rows of dim 0")
        sizes = [t.shape[0] for t in self.tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: all tensors must have the same size in dim 0, "
                             f"got {sizes}")

    def __getitem__(self, index):
        # Differentiable indexing only where a gradient is wanted; plain views are far cheaper.
        return tuple(t[index] if t.requires_grad else _wrap(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"{type(self).__name__}({len(self)} samples; {shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example:
        >>> import chainrule as cr
        >>> ds = cr.data.TensorDataset(cr.arange(10))
        >>> sub = cr.data.Subset(ds, [7, 2])
        >>> len(sub), sub[0]
        (2, (tensor(7),))
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        idx = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError("Subset: indices must be a 1-d sequence of integers")
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise ValueError(f"Subset: indices out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray, slice)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    Example:
        >>> import chainrule as cr
        >>> a = cr.data.TensorDataset(cr.zeros(2)); b = cr.data.TensorDataset(cr.ones(3))
        >>> len(a + b), (a + b)[2]
        (5, (tensor(1.),))
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} samples")
        index %= n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Integral) for x in lengths):
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(f"random_split: lengths sum to {sum(lengths)} but the dataset has "
                             f"{n} samples")
        return [int(x) for x in lengths]
    if any(not 0 <= x <= 1 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths}")
    # Same rule as PyTorch: floor each share, then hand the remainder out round-robin.
    sizes = [int(math.floor(n * f)) for f in lengths]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset: Dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset``s.

    ``lengths`` holds either sample counts summing to ``len(dataset)`` or fractions summing to 1
    (remainders go one each to the first subsets, as in PyTorch). Pass a seeded
    ``cr.Generator`` for a split that does not depend on the global random state.

    Example:
        >>> import chainrule as cr
        >>> ds = cr.data.TensorDataset(cr.arange(10))
        >>> train, val = cr.data.random_split(ds, [0.8, 0.2], generator=cr.Generator(0))
        >>> len(train), len(val)
        (8, 2)
    """
    sizes = _split_lengths(len(dataset), lengths)
    perm = _gen(generator).permutation(len(dataset))
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
