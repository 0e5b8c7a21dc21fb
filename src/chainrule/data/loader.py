"""``DataLoader``: iterate over a dataset in (optionally shuffled) batches."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import _validate as check
from ..random import (
    _generator_state,
    _held_generators,
    _is_generator,
    _named_restorers,
    _state_restorer,
    default_generator,
)
from ..tensor import Tensor, _wrap
from .collate import default_collate
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _count,
    component_state,
    load_component_state,
)

# Orders that are the same on every pass, so the loader may read them whole or skip through them.
_FIXED_ORDERS = (list, tuple, range, np.ndarray)


def _dataset_generators(dataset, prefix: str = "") -> dict:
    """The generators a dataset holds, also inside the datasets it wraps (``Subset``,
    ``ConcatDataset``), by attribute path."""
    out = {prefix + name: g for name, g in _held_generators(dataset).items()}
    inner = getattr(dataset, "dataset", None)
    if isinstance(inner, Dataset):
        out.update(_dataset_generators(inner, f"{prefix}dataset."))
    parts = getattr(dataset, "datasets", None)
    for i, part in enumerate(parts if isinstance(parts, (list, tuple)) else ()):
        if isinstance(part, Dataset):
            out.update(_dataset_generators(part, f"{prefix}datasets.{i}."))
    return out


class _Pass:
    """One pass over the data: its index order when drawn up front, and items handed out."""

    __slots__ = ("order", "position")

    def __init__(self, order: np.ndarray | None, position: int = 0) -> None:
        self.order, self.position = order, position


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

    A pass over a ``cr.data.Sampler`` draws its whole order when it starts. ``state_dict()``
    and ``load_state_dict()`` (a chainrule addition, after torchdata's
    ``StatefulDataLoader``) save and restore the loader's generators and the position inside
    a pass, so a checkpoint resumes the data order exactly.

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
        num_workers = _count(num_workers, "DataLoader", "num_workers", low=0)
        if batch_size is not None:
            batch_size = _count(batch_size, "DataLoader", "batch_size")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(check.say("not_bool", op="DataLoader", arg="drop_last",
                                      got=check._got(drop_last)))
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
        own_batches = batch_sampler is None
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        # Whether the loader made its batch sampler (None: no batching): only a batch sampler
        # the user gave has a state of its own worth saving.
        self._own_batches = None if batch_sampler is None else own_batches
        self._pass: _Pass | None = None  # the pass in progress, for state_dict()
        self._pending: _Pass | None = None  # a saved pass the next iter() continues
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __iter__(self) -> Iterator:
        # A generator: the pass (and its random order) starts at the first next(), as before.
        pending, self._pending = self._pending, None
        current = pending if pending is not None else _Pass(self._draw_order())
        self._pass = current
        try:
            for item in self._items(current):
                current.position += 1  # counted before the consumer sees it: a checkpoint
                yield item             # taken in the loop body resumes with the next one
        finally:
            # Exhausted or abandoned: between passes again (unless a newer pass took over).
            if self._pass is current:
                self._pass = None

    def _plain_batches(self) -> bool:
        """Whether batches are the loader's (or a plain ``BatchSampler``'s) slices of one
        sampler's order, so a pass is known whole at its start."""
        bs = self.batch_sampler
        return (isinstance(bs, BatchSampler) and type(bs).__iter__ is BatchSampler.__iter__
                and type(bs).batches is BatchSampler.batches)

    def _order_source(self):
        """The sampler whose pass the loader draws up front, or None (iterated lazily)."""
        if self._iterable:
            return None
        if self.batch_sampler is None:
            sampler = self.sampler
        elif self._plain_batches():
            sampler = self.batch_sampler.sampler
        else:
            return None
        return sampler if isinstance(sampler, (Sampler, *_FIXED_ORDERS)) else None

    def _draw_order(self) -> np.ndarray | None:
        sampler = self._order_source()
        if sampler is None:
            return None
        if isinstance(sampler, Sampler):
            return np.asarray(sampler.indices(), dtype=np.int64)
        return np.asarray(list(sampler), dtype=np.int64)

    def _items(self, current: _Pass) -> Iterator:
        if current.order is not None:
            if self.batch_sampler is None:
                return (self._sample(int(i)) for i in current.order[current.position:])
            bs = self.batch_sampler
            n = len(current.order)
            stop = n - n % bs.batch_size if bs.drop_last else n
            starts = range(current.position * bs.batch_size, stop, bs.batch_size)
            return self._fetch(current.order[a:a + bs.batch_size] for a in starts)
        items = self._lazy_items()
        if current.position:  # a resumed pass over a fixed sequence: skip what was seen
            items = itertools.islice(items, current.position, None)
        return items

    def _lazy_items(self) -> Iterator:
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self._sample(i) for i in self.sampler)
        bs = self.batch_sampler
        if isinstance(bs, BatchSampler) and type(bs).__iter__ is BatchSampler.__iter__:
            return self._fetch(bs.batches())
        return self._fetch(np.asarray(b, dtype=np.int64) for b in bs)

    def _sample(self, i):
        sample = self.dataset[i]
        return sample if self.collate_fn is default_collate else self.collate_fn(sample)

    def _fetch(self, batches: Iterable[np.ndarray]) -> Iterator:
        # Looked up on every pass, so a dataset whose tensors were replaced is seen as it is now.
        fast = _tensor_source(self.dataset) if self.collate_fn is default_collate else None
        if fast is None:
            for batch in batches:
                yield self.collate_fn([self.dataset[int(i)] for i in batch])
            return
        tensors, index_map = fast
        for idx in batches:
            if index_map is not None:
                idx = index_map[idx]
            # A list, as collate gives; take() copies the rows in one C loop, and only a
            # tensor that wants a gradient pays for a recorded (differentiable) gather.
            yield [t[idx] if t.requires_grad else _wrap(t._data.take(idx, axis=0))
                   for t in tensors]

    # -- state (a chainrule addition: PyTorch's DataLoader has no state_dict) ----------------

    def state_dict(self) -> dict:
        """What a checkpoint needs to continue this loader exactly where it is.

        ``{"generator", "sampler", "batch_sampler", "dataset", "pass"}``: the states of the
        loader's ``generator``, of its sampler and batch sampler (their ``state_dict()``, or the
        generators they hold), of the generators the dataset holds, and, taken inside a pass,
        that pass: its index order and how many items were handed out. The global generator
        is not included: save ``cr.get_rng_state()`` beside it. PyTorch's ``DataLoader`` has no
        ``state_dict``; this follows torchdata's ``StatefulDataLoader``.

        Example:
            >>> import chainrule as cr
            >>> ds = cr.data.TensorDataset(cr.arange(6))
            >>> loader = cr.data.DataLoader(ds, batch_size=2, shuffle=True,
            ...                             generator=cr.Generator(0))
            >>> it = iter(loader); first = next(it); state = loader.state_dict()
            >>> rest = [b[0].tolist() for b in it]
            >>> loader.load_state_dict(state)   # the next pass continues the saved one
            >>> [b[0].tolist() for b in loader] == rest
            True
        """
        current = self._pass if self._pass is not None else self._pending
        return {
            "generator": (_generator_state(self.generator) if _is_generator(self.generator)
                          and self.generator is not default_generator else None),
            "sampler": None if self.sampler is None else component_state(self.sampler),
            "batch_sampler": (component_state(self.batch_sampler) if self._own_batches is False
                              else None),
            "dataset": {"generators": {name: _generator_state(g) for name, g in
                                       _dataset_generators(self.dataset).items()}},
            "pass": None if current is None else self._pass_state(current),
        }

    def _pass_state(self, current: _Pass) -> dict:
        if current.order is None and not self._skippable():
            what = (type(self.dataset).__name__ if self._iterable
                    else type(self.batch_sampler if self.batch_sampler is not None
                              else self.sampler).__name__)
            raise ValueError(
                f"DataLoader.state_dict: cannot record the position inside a pass over "
                f"{what}, whose order is only known as it is iterated; save between passes, "
                f"or use a cr.data.Sampler (its pass is drawn whole at the start) with the "
                f"loader's own batching or a cr.data.BatchSampler")
        order = None if current.order is None else current.order.copy()  # the caller's own
        return {"order": order, "position": current.position,
                "batching": self._batching(current.order)}

    def _batching(self, order) -> list | None:
        """How a recorded order is cut into batches: ``[batch_size, drop_last]``."""
        if order is None or self.batch_sampler is None:
            return None
        return [self.batch_sampler.batch_size, self.batch_sampler.drop_last]

    def _skippable(self) -> bool:
        """A lazily iterated order that is the same on every pass (a list of indices)."""
        if self._iterable:
            return False
        source = self.sampler if self.batch_sampler is None else self.batch_sampler
        return isinstance(source, _FIXED_ORDERS)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``: generators now, and a saved pass is continued by the next
        ``iter()``. Everything is checked before anything changes."""
        where = "DataLoader.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict from state_dict(), got "
                            f"{type(state_dict).__name__}")
        missing = {"generator", "sampler", "batch_sampler", "dataset", "pass"} - set(state_dict)
        if missing:
            raise ValueError(f"{where}: the state lacks {sorted(missing)}")
        restorers = []
        own = self.generator if _is_generator(self.generator) and (
            self.generator is not default_generator) else None
        saved = state_dict["generator"]
        if (own is None) != (saved is None):
            raise ValueError(f"{where}: the state was saved from a loader "
                             f"{'with' if saved is not None else 'without'} its own generator; "
                             f"this one has {'none' if own is None else 'one'}")
        if own is not None:
            restorers.append(_state_restorer(own, saved, f"{where}: generator"))
        dataset = state_dict["dataset"]
        restorers += _named_restorers(
            _dataset_generators(self.dataset),
            dataset.get("generators") if isinstance(dataset, dict) else dataset,
            f"{where}: dataset", type(self.dataset).__name__)
        pending = self._check_pass(state_dict["pass"], where)
        if self.sampler is not None:
            load_component_state(self.sampler, state_dict["sampler"], f"{where}: sampler")
        if self._own_batches is False:
            load_component_state(self.batch_sampler, state_dict["batch_sampler"],
                                 f"{where}: batch_sampler")
        for apply in restorers:
            apply()
        self._pending, self._pass = pending, None

    def _check_pass(self, saved, where: str) -> _Pass | None:
        if saved is None:
            return None
        if not isinstance(saved, dict) or not {"order", "position"} <= set(saved):
            raise ValueError(f"{where}: 'pass' must be None or a dict with 'order' and "
                             f"'position'")
        position = saved["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ValueError(f"{where}: the pass position must be an integer >= 0, got "
                             f"{position!r}")
        order = saved["order"]
        if order is None:
            if not self._skippable():
                raise ValueError(f"{where}: the saved pass has no recorded order, and this "
                                 f"loader's order is only known as it is iterated")
            return _Pass(None, position)
        order = np.asarray(getattr(order, "_data", order))
        if self._order_source() is None:
            raise ValueError(f"{where}: the saved pass has a recorded order but this loader "
                             f"iterates its sampler lazily; resume with the same loader setup")
        n = len(self.dataset)
        if order.ndim != 1 or order.dtype.kind not in "iu" or (
                order.size and (order.min() < 0 or order.max() >= n)):
            raise ValueError(f"{where}: the saved order must be a 1-d array of indices in "
                             f"[0, {n})")
        batching = saved.get("batching")
        if batching is not None:
            batching = list(batching)
        if batching != self._batching(order):
            raise ValueError(f"{where}: the pass was saved with [batch_size, drop_last] = "
                             f"{batching}, this loader has {self._batching(order)}")
        n = len(order)
        if batching is None:
            items = n
        else:
            items = n // batching[0] if batching[1] else -(-n // batching[0])
        if position > items:
            raise ValueError(f"{where}: position {position} lies beyond the saved pass of "
                             f"{items} items")
        return _Pass(order.astype(np.int64), position)

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
