"""Argument checks shared by the losses: reduction names, class-index targets, shapes."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ... import dtypes
from ...tensor import Tensor, _wrap

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(value: str, loss: str) -> str:
    if not isinstance(value, str) or value not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'none', 'mean' or 'sum', got {value!r}")
    return value


def tensor_arg(x, loss: str, what: str) -> Tensor:
    """``x`` as a real tensor (numbers, lists and numeric arrays converted); anything else,
    strings included, is a ``TypeError`` naming the loss and the argument."""
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, np.ndarray) and x.dtype.kind in "biufc":
        t = _wrap(x)
    else:
        t = check.tensor(x, loss, what)
    if t._data.dtype.kind == "c":
        check.real(t, loss, what)
    return t


def float_input(x: Tensor, loss: str, what: str = "input") -> None:
    if x._data.dtype.kind != "f":
        check.floating(x, loss, what)


def loss_pair(input, target, loss: str, *, input_kinds: str = "f", target_kinds: str = "fiub",
              result: str = "promote") -> tuple:
    """``input`` and ``target`` as tensors of one floating dtype and one shape, with the dtypes
    PyTorch accepts for this loss (``input_kinds``, ``target_kinds``: NumPy kind letters;
    bool tensors are refused where PyTorch's formula subtracts them).

    ``result`` is PyTorch's result dtype: ``"promote"`` (the wider float wins, integers become
    the default float), ``"input"`` (the input's float dtype). Unlike PyTorch, shapes must match:
    PyTorch broadcasts a target of another shape with only a warning, which silently trains on
    the wrong pairs (a (N, 1) output against an (N,) target gives an (N, N) loss).
    """
    if type(input) is Tensor and type(target) is Tensor:
        a, b = input._data, target._data
        if a.dtype is b.dtype and a.dtype.kind == "f" and a.shape == b.shape:
            return input, target  # the usual call: nothing to convert, nothing wrong
    input = tensor_arg(input, loss, "input")  # noqa: A001
    target = tensor_arg(target, loss, "target")
    for t, kinds, what in ((input, input_kinds, "input"), (target, target_kinds, "target")):
        kind = t._data.dtype.kind
        if kind not in kinds:
            if kind == "b":
                raise TypeError(check.say("dtype_bool", op=loss, arg=what))
            check.floating(t, loss, what)
    same_shape(input, target, loss)
    da, db = input._data.dtype, target._data.dtype
    if result == "input" or da == db:
        dt = da
    elif da.kind == "f" and db.kind == "f":
        dt = np.promote_types(da, db)
    else:
        dt = da if da.kind == "f" else db
    if dt.kind != "f":
        dt = dtypes.get_default_dtype()
    if da != dt:
        input = input.to(dt)  # noqa: A001
    if db != dt:
        target = target.to(dt)
    return input, target


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


def float_group(loss: str, names, *values, kinds: str = "f") -> list:
    """Several tensor arguments of a loss as tensors of one floating dtype (the widest float;
    integers, where ``kinds`` admits them, become the default float)."""
    ts = [tensor_arg(v, loss, n) for n, v in zip(names, values)]
    for t, n in zip(ts, names):
        kind = t._data.dtype.kind
        if kind not in kinds:
            if kind == "b":
                raise TypeError(check.say("dtype_bool", op=loss, arg=n))
            check.floating(t, loss, n)
    floats = [t._data.dtype for t in ts if t._data.dtype.kind == "f"]
    dt = np.result_type(*floats) if floats else dtypes.get_default_dtype()
    return [t if t._data.dtype == dt else t.to(dt) for t in ts]
