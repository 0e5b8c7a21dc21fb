"""``evaluate`` and ``predict``: inference passes in eval mode, without recording a graph."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, _wrap
from ._data import as_batches, inputs_only, split_batch
from ._resolve import loss_takes_logits, resolve_loss
from .metrics import Metric, metric_value, resolve_metrics


@contextlib.contextmanager
def _inference(model):
    """no_grad + eval mode, restoring the model's previous mode afterwards."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            yield
    finally:
        if was_training:
            model.train()


def evaluate_loader(model, loader, loss_fn, metrics: dict[str, Metric]) -> dict[str, float]:
    sums = dict.fromkeys(["loss", *metrics] if loss_fn is not None else metrics, 0.0)
    seen = 0
    with _inference(model):
        for data in loader:
            x, y = split_batch(data, "evaluate")
            out = model(x)
            n = len(x)
            seen += n
            if loss_fn is not None:
                sums["loss"] += float(loss_fn(out, y)._data) * n
            for name, fn in metrics.items():
                sums[name] += metric_value(fn(out, y)) * n
    if seen == 0:
        raise ValueError("evaluate: the data produced no batches")
    return {k: v / seen for k, v in sums.items()}


def evaluate(model: Any, data: Any, loss: str | Callable | None = None,
             metrics: Iterable[str | Metric] | Mapping[str, Metric] | None = ("accuracy",),
             batch_size: int = 256) -> dict[str, float]:
    """Mean loss and metrics of ``model`` over ``data`` (eval mode, no graph).

    ``data`` is a Dataset, a DataLoader or an ``(X, y)`` pair; ``loss`` a loss module, callable
    or name (``None`` to skip it). Returns ``{"loss": ..., "accuracy": ...}``.

    Example:
        >>> import chainrule as cr
        >>> model = cr.nn.Linear(2, 2)
        >>> X = cr.randn(8, 2); y = cr.tensor([0, 1] * 4)
        >>> sorted(evaluate(model, (X, y), loss="cross_entropy"))
        ['accuracy', 'loss']
    """
    loss_fn = None if loss is None else resolve_loss(loss)
    metric_fns = resolve_metrics(metrics, logits=loss_takes_logits(loss_fn))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"evaluate: batch_size must be a positive integer, got {batch_size!r}")
    loader = as_batches(data, batch_size, False, "evaluate")
    return evaluate_loader(model, loader, loss_fn, metric_fns)


def predict(model: Any, X: Any, batch_size: int = 256) -> Tensor:
    """The model's outputs for every sample of ``X``, batched, in eval mode with no graph.

    ``X`` is a tensor/array of inputs, or a Dataset/DataLoader whose batches start with the
    inputs. Returns one Tensor with the outputs stacked along dimension 0.

    Example:
        >>> import chainrule as cr
        >>> predict(cr.nn.Linear(3, 2), cr.randn(10, 3), batch_size=4).shape
        (10, 2)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be a positive integer, got {batch_size!r}")
    outs = []
    with _inference(model):
        for x in inputs_only(X, batch_size):
            out = model(x)
            outs.append(out._data if isinstance(out, Tensor) else np.asarray(out))
    if not outs:
        raise ValueError("predict: no inputs")
    return _wrap(np.concatenate(outs, axis=0))
