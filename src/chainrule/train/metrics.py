"""Training metrics: accuracy, mae, mse, and the rule that turns a name into a metric.

A metric is any callable ``fn(output, target) -> number`` computing the mean over one batch;
``fit`` and ``evaluate`` average it over an epoch weighted by batch size, which is exact for
these means over samples. Built-in metrics also accept plain NumPy arrays and work on
``.data`` directly, so they add no graph and almost no time to a training step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor

Metric = Callable[[Any, Any], Any]


def _array(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    - ``output`` (N, C) with C > 1 (logits or probabilities): the predicted class is the argmax;
      ``target`` is class indices (N,) or one-hot / probabilities (N, C).
    - ``output`` (N,) or (N, 1): binary; the prediction is ``output > threshold`` (0.5 for
      probabilities, use 0.0 for logits); ``target`` holds 0/1.

    Example:
        >>> import chainrule as cr
        >>> accuracy(cr.tensor([[2.0, 0.1], [0.3, 0.9]]), cr.tensor([0, 0]))
        0.5
    """
    out, tgt = _array(output), _array(target)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = out.argmax(axis=-1)
        if tgt.shape == out.shape:
            tgt = tgt.argmax(axis=-1)
        if tgt.shape != pred.shape:
            raise ValueError(f"accuracy: target of shape {tgt.shape} does not match output of "
                             f"shape {out.shape} (expected class indices {pred.shape})")
        # count_nonzero: several times faster than a float mean over a bool array
        return np.count_nonzero(pred == tgt) / max(pred.size, 1)
    pred = out.reshape(out.shape[0], -1) if out.ndim else out.reshape(1, 1)
    if tgt.size != pred.size:
        raise ValueError(f"accuracy: binary output of shape {out.shape} needs a target with the "
                         f"same number of elements, got {tgt.shape}")
    tgt = tgt.reshape(pred.shape)
    return np.count_nonzero((pred > threshold) == (tgt > 0.5)) / max(pred.size, 1)


def mae(output, target) -> float:
    """Mean absolute error.

    Example:
        >>> mae([1.0, 2.0], [1.5, 2.0])
        0.25
    """
    out, tgt = _array(output), _array(target)
    return float(np.abs(out - tgt.reshape(out.shape)).mean())


def mse(output, target) -> float:
    """Mean squared error.

    Example:
        >>> mse([1.0, 2.0], [2.0, 2.0])
        0.5
    """
    out, tgt = _array(output), _array(target)
    diff = out - tgt.reshape(out.shape)
    return float((diff * diff).mean())


def _logit_accuracy(output, target) -> float:
    """``accuracy`` for a loss that takes logits: a single output per sample thresholds at 0."""
    return accuracy(output, target, threshold=0.0)


_BY_NAME: dict[str, tuple[str, Metric]] = {
    "accuracy": ("accuracy", accuracy), "acc": ("accuracy", accuracy),
    "mae": ("mae", mae), "mean_absolute_error": ("mae", mae),
    "mse": ("mse", mse), "mean_squared_error": ("mse", mse),
}


def get_metric(metric: str | Metric, logits: bool = False) -> tuple[str, Metric]:
    """A ``(name, fn)`` pair for a metric name or callable.

    ``logits=True`` makes binary ``"accuracy"`` threshold at 0 (used when the loss takes logits).

    Example:
        >>> get_metric("acc")[0]
        'accuracy'
    """
    if isinstance(metric, str):
        if metric.lower() not in _BY_NAME:
            raise ValueError(f"unknown metric {metric!r}; known: {sorted(_BY_NAME)} "
                             f"or any callable fn(output, target)")
        name, fn = _BY_NAME[metric.lower()]
        return name, (_logit_accuracy if fn is accuracy and logits else fn)
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    raise TypeError(f"a metric must be a name or a callable, got {type(metric).__name__}")


def resolve_metrics(metrics: Iterable[str | Metric] | Mapping[str, Metric] | None,
                    logits: bool = False) -> dict[str, Metric]:
    """Name -> metric, from a list of names/callables or a dict.

    Example:
        >>> list(resolve_metrics(["accuracy", "mae"]))
        ['accuracy', 'mae']
    """
    if metrics is None:
        return {}
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        out = {}
        for name, fn in metrics.items():
            if not callable(fn):
                raise TypeError(f"metric {name!r} is not callable")
            out[str(name)] = fn
        return out
    out = {}
    for m in metrics:
        name, fn = get_metric(m, logits=logits)
        if name in ("loss",) or name in out:
            raise ValueError(f"metric name {name!r} is used twice or clashes with 'loss'")
        out[name] = fn
    return out


def metric_value(value) -> float:
    """A metric's return value (number, 0-d array or Tensor) as a float."""
    if isinstance(value, Tensor):
        value = value._data
    return float(value)
