"""Samplers: which sample indices a ``DataLoader`` visits, and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

import numpy as np

from ..random import _gen


class Sampler:
    """Base class: iterate over sample indices. Subclasses implement ``__iter__``/``__len__``."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def indices(self) -> np.ndarray:
        """All indices of one pass as an int64 array (the loader's fast path uses this)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1.

    Example:
        >>> import chainrule as cr
        >>> list(cr.data.SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation on every pass, drawn from ``generator`` (or the global one).

    Example:
        >>> import chainrule as cr
        >>> sorted(cr.data.RandomSampler(range(4), generator=cr.Generator(0)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized, generator=None) -> None:
        self.data_source = data_source
        self.generator = generator
        _gen(generator)  # fail now, not at the first epoch, on a bad generator

    def indices(self) -> np.ndarray:
        return _gen(self.generator).permutation(len(self.data_source)).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order on every pass.

    Example:
        >>> import chainrule as cr
        >>> sorted(cr.data.SubsetRandomSampler([5, 7], generator=cr.Generator(0)))
        [5, 7]
    """

    def __init__(self, indices: Iterable[int], generator=None) -> None:
        self._indices = np.asarray(list(indices), dtype=np.int64)
        self.generator = generator

    def indices(self) -> np.ndarray:
        return _gen(self.generator).permutation(self._indices)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self._indices)


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Example:
        >>> import chainrule as cr
        >>> list(cr.data.BatchSampler(cr.data.SequentialSampler(range(5)), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)

    def batches(self) -> Iterator[np.ndarray]:
        """The batches as int64 arrays: one array op per batch instead of Python lists."""
        if isinstance(self.sampler, Sampler):
            idx = self.sampler.indices()
            stop = len(idx) - len(idx) % self.batch_size if self.drop_last else len(idx)
            for start in range(0, stop, self.batch_size):
                yield idx[start:start + self.batch_size]
        else:
            for batch in self:
                yield np.asarray(batch, dtype=np.int64)

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
