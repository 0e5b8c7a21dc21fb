"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``DataLoader``, ``random_split``.

Example:
    >>> import chainrule as cr
    >>> X, y = cr.randn(100, 3), cr.randint(0, 2, (100,))
    >>> loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=32, shuffle=True)
    >>> xb, yb = next(iter(loader))
    >>> xb.shape, yb.shape
    ((32, 3), (32,))
"""

from .collate import default_collate
from .dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .loader import DataLoader
from .sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
    "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
    "random_split",
]
