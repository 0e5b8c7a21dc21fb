"""The 8x8 handwritten digits (UCI, CC BY 4.0), shipped with chainrule: no download needed."""

from __future__ import annotations

from importlib import resources

import numpy as np

from ..data import TensorDataset
from ..tensor import _wrap

_SPLITS = ("all", "train", "test")


def digits(split: str = "all", flatten: bool = False, test_fraction: float = 0.2,
           seed: int = 0) -> TensorDataset:
    """The 1,797 8x8 digit images as a ``TensorDataset`` of (image, label).

    Images are float32 in [0, 1] (block counts / 16), shaped (N, 8, 8), or (N, 64) with
    ``flatten=True``; labels are int64 in 0..9. ``split="train"``/``"test"`` cut one random
    permutation drawn from ``seed``: the test part holds ``round(1797 * test_fraction)``
    samples, the train part the rest, so the same seed and fraction always give the same,
    disjoint parts. Attribution: see ``digits_LICENSE.txt`` next to this module.

    Example:
        >>> import chainrule as cr
        >>> train = cr.datasets.digits("train", flatten=True)
        >>> test = cr.datasets.digits("test", flatten=True)
        >>> len(train), len(test), tuple(train.tensors[0].shape[1:])
        (1438, 359, (64,))
    """
    if split not in _SPLITS:
        raise ValueError(f"digits: split must be one of {_SPLITS}, got {split!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits: test_fraction must lie in (0, 1), got {test_fraction!r}")
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as z:
            images, labels = z["images"], z["labels"]
    if split != "all":
        perm = np.random.default_rng(seed).permutation(len(labels))
        n_test = int(round(len(labels) * test_fraction))
        idx = perm[:n_test] if split == "test" else perm[n_test:]
        images, labels = images[idx], labels[idx]
    x = np.divide(images, np.float32(16), dtype=np.float32)
    if flatten:
        x = x.reshape(len(x), 64)
    ds = TensorDataset(_wrap(x), _wrap(labels.astype(np.int64)))
    ds.classes = list(range(10))
    return ds
