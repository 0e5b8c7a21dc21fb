"""Samplers: which sample indices a ``DataLoader`` visits, and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

import numpy as np

from .. import _validate as check
from ..random import _gen, _held_generator_restorers, _held_generator_states


def _count(v, who: str, arg: str, low: int = 1) -> int:
    """A count argument: an int >= ``low``, else a ValueError naming it (PyTorch's samplers
    raise ValueError for a float, a bool or a string count too)."""
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(check.say("not_int", op=who, arg=arg, got=check._got(v)))
    try:
        return check.integer(v, who, arg, low=low)
    except TypeError as e:
        raise ValueError(str(e)) from None


class Sampler:
    """Base class: iterate over sample indices. Subclasses implement ``__iter__``/``__len__``.

    ``state_dict()``/``load_state_dict()`` (a chainrule addition; PyTorch's samplers have none)
    save and restore the state of every generator the sampler holds as an attribute, so a
    checkpoint puts its random order back exactly. A ``DataLoader`` draws a sampler's whole
    pass at the start of the pass (``indices()``).
    """

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def indices(self) -> np.ndarray:
        """All indices of one pass as an int64 array (the loader's fast path uses this)."""
        return np.fromiter(iter(self), dtype=np.int64)

    def state_dict(self) -> dict:
        """``{"generators": {attribute: state}}`` for each generator attribute (``generator``
        of the random samplers; the global generator is left to ``cr.get_rng_state()``).

        Example:
            >>> import chainrule as cr
            >>> s = cr.data.RandomSampler(range(5), generator=cr.Generator(0))
            >>> state = s.state_dict(); first = list(s)
            >>> s.load_state_dict(state); list(s) == first
            True
        """
        return {"generators": _held_generator_states(self)}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``; checked whole before anything changes."""
        for apply in self._restorers(state_dict):
            apply()

    def _restorers(self, state_dict) -> list:
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict from state_dict(), got "
                            f"{type(state_dict).__name__}")
        return _held_generator_restorers(self, state_dict.get("generators"), where)


def component_state(obj) -> dict:
    """The state of a sampler, batch sampler or dataset: its ``state_dict()`` if it has one,
    else the states of the generators it holds (a duck-typed PyTorch-style sampler)."""
    method = getattr(obj, "state_dict", None)
    if callable(method):
        return method()
    return {"generators": _held_generator_states(obj)}


def load_component_state(obj, state, where: str) -> None:
    method = getattr(obj, "load_state_dict", None)
    if callable(method):
        method(state)
        return
    if not isinstance(state, dict):
        raise ValueError(f"{where}: expected a dict, got {type(state).__name__}")
    for apply in _held_generator_restorers(obj, state.get("generators"), where):
        apply()


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
    """A fresh random order on every pass, drawn from ``generator`` (or the global one).

    Without replacement: a permutation (``num_samples`` > len repeats whole permutations);
    with ``replacement=True``: ``num_samples`` independent uniform draws.

    Example:
        >>> import chainrule as cr
        >>> sorted(cr.data.RandomSampler(range(4), generator=cr.Generator(0)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(check.say("not_bool", op="RandomSampler", arg="replacement",
                                      got=check._got(replacement)))
        if num_samples is not None:
            num_samples = _count(num_samples, "RandomSampler", "num_samples")
        if num_samples is not None:
            check.alloc((num_samples,), np.int64, "RandomSampler", "the indices of one pass")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _gen(generator)  # fail now, not at the first epoch, on a bad generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self) -> np.ndarray:
        rng, n, k = _gen(self.generator), len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, k, dtype=np.int64)
        if k == n:
            return rng.permutation(n).astype(np.int64)
        perms = [rng.permutation(n) for _ in range(-(-k // n))]
        return np.concatenate(perms)[:k].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


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
        batch_size = _count(batch_size, "BatchSampler", "batch_size")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(check.say("not_bool", op="BatchSampler", arg="drop_last",
                                      got=check._got(drop_last)))
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

    def state_dict(self) -> dict:
        """Its own generators' states and its sampler's (``{"generators", "sampler"}``)."""
        return {**super().state_dict(), "sampler": component_state(self.sampler)}

    def load_state_dict(self, state_dict: dict) -> None:
        restorers = self._restorers(state_dict)
        load_component_state(self.sampler, state_dict.get("sampler"),
                             f"{type(self).__name__}.load_state_dict: sampler")
        for apply in restorers:
            apply()


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (for
    unbalanced classes), with or without replacement; fresh draws on every pass.

    Example:
        >>> import chainrule as cr
        >>> s = cr.data.WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=cr.Generator(0))
        >>> list(s)
        [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        who = "WeightedRandomSampler"
        try:
            w = np.asarray(weights._data if hasattr(weights, "_data") else weights,
                           dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(check.say("not_values", op=who, arg="weights",
                                      got=check._got(weights))) from None
        if w.ndim != 1 or w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or (
                w.sum() <= 0):
            raise ValueError("WeightedRandomSampler: weights must be a non-empty 1-d sequence of "
                             "finite, non-negative numbers with a positive sum")
        num_samples = _count(num_samples, who, "num_samples")
        check.alloc((num_samples,), np.int64, who, "the indices of one pass")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError("WeightedRandomSampler: without replacement, num_samples cannot "
                             "exceed the number of non-zero weights")
        self.weights, self.num_samples, self.replacement = w, num_samples, bool(replacement)
        self.generator = generator

    def indices(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        return _gen(self.generator).choice(len(p), self.num_samples, replace=self.replacement,
                                           p=p).astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


def _torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))``, bit for bit.

    PyTorch's CPU generator is a 32-bit Mersenne Twister seeded with the low 32 bits of the
    seed (NumPy's legacy ``RandomState`` seeds it the same way), and ``randperm`` swaps position
    ``i`` with ``i + draw % (n - i)``, from the front.
    """
    draws = np.random.RandomState(seed & 0xFFFFFFFF)._bit_generator.random_raw(max(n - 1, 0))
    picks = (draws % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    picks += np.arange(picks.size, dtype=np.int64)
    order = list(range(n))
    for i, j in enumerate(picks.tolist()):
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


class DistributedSampler(Sampler):
    """The share of ``dataset`` that process ``rank`` of ``num_replicas`` sees.

    Every rank shuffles with the same seed (``seed + epoch``: call ``set_epoch`` at the start of
    each epoch) and takes every ``num_replicas``-th index from its ``rank`` on, so the shares are
    disjoint. As in PyTorch, the index list is padded by repeating its start (or, with
    ``drop_last``, cut) so every rank gets the same number of samples. The shuffled order is
    PyTorch's own (``torch.randperm`` of a generator seeded with ``seed + epoch``), so a job
    sees the same samples on the same ranks as under PyTorch. ``num_replicas`` and ``rank``
    default to the world size and rank of the process group (``chainrule.distributed``).

    Example:
        >>> import chainrule as cr
        >>> [list(cr.data.DistributedSampler(range(5), 2, r, shuffle=False)) for r in (0, 1)]
        [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        who = "DistributedSampler"
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():
                raise ValueError("DistributedSampler: num_replicas and rank default to the "
                                 "process group's world size and rank, but no process group "
                                 "has been initialized: call "
                                 "chainrule.distributed.init_process_group() or pass both")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas = _count(num_replicas, who, "num_replicas")
        rank = _count(rank, who, "rank", low=0)
        if rank >= num_replicas:
            raise ValueError(check.say("range", op=who, arg="rank",
                                       want=f"an int in [0, {num_replicas - 1}]", got=rank))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(check.say("not_int", op=who, arg="seed", got=check._got(seed)))
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), seed, drop_last, 0
        n = len(dataset)
        self.num_samples = n // num_replicas if drop_last else -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use a new shuffle for this epoch (the same on every rank)."""
        self.epoch = int(epoch)

    def state_dict(self) -> dict:
        """``{"generators": {}, "epoch": epoch}``: the shuffle is ``seed + epoch``."""
        return {**super().state_dict(), "epoch": self.epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        restorers = self._restorers(state_dict)
        epoch = state_dict.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"DistributedSampler.load_state_dict: 'epoch' must be an integer "
                             f">= 0, got {epoch!r}")
        for apply in restorers:
            apply()
        self.epoch = epoch

    def indices(self) -> np.ndarray:
        n = len(self.dataset)
        order = _torch_randperm(n, self.seed + self.epoch) if self.shuffle else np.arange(n)
        total = self.num_samples * self.num_replicas
        if total > n:
            order = np.resize(order, total)  # repeats from the start, like PyTorch's padding
        return order[:total][self.rank::self.num_replicas].astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples
