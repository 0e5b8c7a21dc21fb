"""``DataLoader``: iterate over a dataset in (optionally shuffled) batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor, _wrap
from .collate import default_collate
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _tensor_source(dataset) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
    """The tensors behind a TensorDataset (seen through any Subsets), and the index map.

    Exact type checks: a subclass may override ``__getitem__`` (augmentation, say), and then
    the loader must call it sample by sample.
    """
    index_map = None
    while type(dataset) is Subset:
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if type(dataset).__getitem__ is not TensorDataset.__getitem__:
        return None
    return dataset.tensors, index_map


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``) or an
            ``IterableDataset``, batched in the order it yields samples.
        batch_size: samples per batch; ``None`` yields the samples one by one, unbatched.
        shuffle: draw a new random order on every pass (from ``generator``, or the global
            generator that ``cr.manual_seed`` seeds, so runs are reproducible).
        sampler / batch_sampler: custom index orders, as in PyTorch.
        num_workers / pin_memory: accepted so PyTorch code runs unchanged; loading always
            happens in the calling process (in-memory datasets gain nothing from workers).
        collate_fn: turns a list of samples into a batch (default: ``default_collate``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: a ``cr.Generator`` for shuffling.

    A ``TensorDataset`` (also through ``Subset``/``random_split``) with the default collate
    takes a fast path: one fancy index per tensor and batch, no per-sample work. Batches are
    always fresh arrays, so changing one in place never changes the dataset.

    Example:
        >>> import chainrule as cr
        >>> ds = cr.data.TensorDataset(cr.arange(10).float(), cr.arange(10))
        >>> loader = cr.data.DataLoader(ds, batch_size=4, shuffle=True, generator=cr.Generator(0))
        >>> [tuple(y.shape) for x, y in loader], len(loader)
        ([(4,), (4,), (2,)], 3)
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Sampler | Iterable[int] | None = None,
                 batch_sampler: Iterable[list[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, generator=None) -> None:
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: shuffle, sampler and batch_sampler do not apply "
                                 "to an IterableDataset (it decides its own order)")
        elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a dataset with __getitem__ and __len__ (or an "
                            f"IterableDataset), got {type(dataset).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers must be a non-negative integer, got {num_workers!r}")
        if batch_size is not None and (isinstance(batch_size, bool)
                                       or not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, "
                                 "sampler and drop_last")
            batch_size = None
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        if self._iterable:
            sampler = None
        elif sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __iter__(self) -> Iterator:
        if self._iterable:
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:  # batch_size=None: samples one by one
            for i in self.sampler:
                sample = self.dataset[i]
                yield sample if self.collate_fn is default_collate else self.collate_fn(sample)
            return
        # Looked up on every pass, so a dataset whose tensors were replaced is seen as it is now.
        fast = _tensor_source(self.dataset) if self.collate_fn is default_collate else None
        if fast is not None:
            tensors, index_map = fast
            batches = (self.batch_sampler.batches() if isinstance(self.batch_sampler, BatchSampler)
                       else (np.asarray(b, dtype=np.int64) for b in self.batch_sampler))
            for idx in batches:
                if index_map is not None:
                    idx = index_map[idx]
                # A list, as collate gives; take() copies the rows in one C loop, and only a
                # tensor that wants a gradient pays for a recorded (differentiable) gather.
                yield [t[idx] if t.requires_grad else _wrap(t._data.take(idx, axis=0))
                       for t in tensors]
            return
        for batch in self.batch_sampler:
            yield self.collate_fn([self.dataset[int(i)] for i in batch])

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield sample if self.collate_fn is default_collate else self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            try:
                n = len(self.dataset)
            except NotImplementedError:
                raise TypeError("len(): this DataLoader streams an IterableDataset with no "
                                "__len__") from None
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)

    def __repr__(self) -> str:
        try:
            size = f" of {len(self.dataset)}, {len(self)} batches"
        except (TypeError, NotImplementedError):  # a stream without a length
            size = ""
        return f"DataLoader({type(self.dataset).__name__}{size}, batch_size={self.batch_size})"
