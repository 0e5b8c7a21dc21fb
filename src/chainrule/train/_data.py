"""Turning what ``fit``/``evaluate``/``predict`` accept into an iterable of batches."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _wrap


def _as_array_tensor(x, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: cannot make an array from {type(x).__name__}: {e}") from None
    if arr.dtype == object or arr.ndim == 0:
        raise TypeError(f"{what}: expected an array with a batch dimension, "
                        f"got {type(x).__name__}")
    # NumPy defaults to float64; the model's parameters use chainrule's default dtype.
    if arr.dtype.kind == "f" and arr.dtype != dtypes.get_default_dtype():
        arr = arr.astype(dtypes.get_default_dtype())
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    return _wrap(arr)


def is_pair(data) -> bool:
    return isinstance(data, (tuple, list)) and len(data) == 2


def _is_dataset(data) -> bool:
    from ..data import Dataset

    if isinstance(data, Dataset):
        return True
    return (hasattr(data, "__getitem__") and hasattr(data, "__len__")
            and not hasattr(data, "__iter__"))


def as_batches(data, batch_size: int, shuffle: bool, what: str, drop_last: bool = False):
    """A loader over ``data``: a DataLoader (or any iterable of batches) is used as it is; a
    Dataset or an ``(X, y)`` pair is wrapped in a ``DataLoader``."""
    from ..data import DataLoader, TensorDataset

    if data is None:
        raise ValueError(f"{what}: no data given")
    if is_pair(data):
        x = _as_array_tensor(data[0], f"{what} X")
        y = _as_array_tensor(data[1], f"{what} y")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"{what}: X has {x.shape[0]} samples but y has {y.shape[0]}")
        data = TensorDataset(x, y)
    if _is_dataset(data):
        if len(data) == 0:
            raise ValueError(f"{what}: the dataset is empty")
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    if isinstance(data, (Tensor, np.ndarray)):
        raise TypeError(f"{what}: got a single array; pass an (X, y) pair, a Dataset or a "
                        f"DataLoader")
    if hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
        return data
    raise TypeError(f"{what}: expected a Dataset, a DataLoader or an (X, y) pair, "
                    f"got {type(data).__name__}")


def inputs_only(data, batch_size: int):
    """Batches of model inputs for ``predict``: X itself, or the first item of each batch."""
    from ..data import DataLoader, TensorDataset

    if isinstance(data, (Tensor, np.ndarray, list)):
        x = _as_array_tensor(data, "predict X")
        return (b[0] for b in DataLoader(TensorDataset(x), batch_size=batch_size))
    loader = as_batches(data, batch_size, False, "predict")
    return (b[0] if isinstance(b, (tuple, list)) else b for b in loader)


def split_batch(batch, what: str):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    raise ValueError(f"{what}: each batch must be an (input, target) pair, got "
                     f"{type(batch).__name__}"
                     + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
