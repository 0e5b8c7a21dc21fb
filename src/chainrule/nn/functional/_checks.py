"""Argument checks shared by the losses: reduction names, class-index targets, shapes."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor, _to_array, _wrap

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(value: str, loss: str) -> str:
    if value not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'none', 'mean' or 'sum', got {value!r}")
    return value


def tensor_arg(x, loss: str, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _wrap(x)
    try:
        return _wrap(_to_array(x))
    except TypeError:
        raise TypeError(f"{loss}: {what} must be a Tensor, got {type(x).__name__}") from None


def float_input(x: Tensor, loss: str, what: str = "input") -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{loss}: {what} must be a floating-point tensor, got {x.dtype}")


def same_shape(a: Tensor, b: Tensor, loss: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{loss}: input shape {a.shape} and target shape {b.shape} differ; "
                         "they must match (reshape the target, e.g. target.view(input.shape))")


def class_weight(weight, n_classes: int, dtype, loss: str):
    """The per-class weight as an array of ``dtype`` (or None)."""
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (n_classes,):
        raise ValueError(f"{loss}: weight must have shape ({n_classes},) (one per class), got "
                         f"{w.shape}")
    return w.astype(dtype, copy=False)


_UNSIGNED = {np.dtype(f"i{n}"): np.dtype(f"u{n}") for n in (1, 2, 4, 8)}
_max_reduce = np.maximum.reduce


def labels_below(y: np.ndarray, n_classes: int, ignore_index: int) -> bool:
    """True when every integer label in the non-empty ``y`` is in [0, n_classes) and
    ``ignore_index`` cannot match one (so nothing needs masking)."""
    if 0 <= ignore_index < n_classes:
        return False
    kind = y.dtype.kind
    if kind == "i":
        # One reduction checks both ends: viewed as unsigned, negative labels become huge.
        y = y.view(_UNSIGNED.get(y.dtype) or y.dtype.str.replace("i", "u"))
    elif kind != "u":
        return False
    return int(_max_reduce(y, None)) < n_classes


def class_targets(y: np.ndarray, n_classes: int, ignore_index: int, loss: str):
    """Validate integer class labels; return ``(labels safe to index with, kept mask or None)``.

    NumPy would wrap a negative label around to the last classes, silently training on the
    wrong class, so negative and too-large labels are errors (except ``ignore_index``).
    """
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "b":
            raise TypeError(f"{loss}: target must hold integer class indices, got bool")
        raise ValueError(
            f"{loss}: target must hold integer class indices (int64), got {y.dtype}. For class "
            "probabilities pass a float target with the same shape as the input; to use float "
            "labels as indices convert them with target.long()")
    if y.size == 0:
        return y, None
    if labels_below(y, n_classes, ignore_index):
        return y, None
    keep = y != ignore_index
    if keep.all():
        keep = None
        bad = (y < 0) | (y >= n_classes)
    else:
        bad = ((y < 0) | (y >= n_classes)) & keep
    if bad.any():
        v = int(y[bad].reshape(-1)[0])
        raise ValueError(
            f"{loss}: target {v} is out of range for {n_classes} classes (labels must be in "
            f"[0, {n_classes - 1}]" + (f" or equal ignore_index={ignore_index}" if
                                        ignore_index < 0 or ignore_index >= n_classes else "")
            + ")")
    if keep is None:
        return y, None
    return np.where(keep, y, 0), keep
