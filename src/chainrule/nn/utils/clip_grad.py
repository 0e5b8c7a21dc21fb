"""Gradient clipping, in place on ``.grad``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np

from ...tensor import Tensor, _wrap


def _grads(parameters) -> list[np.ndarray]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad._data for p in parameters if p.grad is not None]


def _total(arrays: list, norm_type: float) -> float:
    if math.isinf(norm_type):
        return max(float(np.max(np.abs(g))) if g.size else 0.0 for g in arrays)
    if norm_type == 2.0:
        return math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in arrays))
    return sum(float(np.sum(np.abs(g) ** norm_type)) for g in arrays) ** (1.0 / norm_type)


def _scale(grads: list, max_norm: float, total: float) -> None:
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # a nan norm (inf and nan gradients) makes every gradient nan, as in torch
        with np.errstate(invalid="ignore"):  # an infinite gradient becomes nan, as in torch
            for g in grads:
                g *= g.dtype.type(coef)


def _check_finite(total: float, norm_type: float, where: str) -> None:
    if not math.isfinite(total):
        raise RuntimeError(f"{where}: the total norm of order {norm_type} of the gradients is "
                           f"non-finite ({total}), so it cannot be clipped; set "
                           "error_if_nonfinite=False to clip anyway")


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one vector;
    ``norm_type`` may be ``inf``. Returns the total norm before clipping. ``foreach`` (a
    PyTorch speed switch) is accepted and changes nothing.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
        >>> cr.nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
        5.0
        >>> [round(v, 3) for v in w.grad.tolist()]
        [0.6, 0.8]
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return _wrap(np.asarray(0.0, dtype=np.float32))
    total = _total(grads, norm_type)
    if error_if_nonfinite:
        _check_finite(total, norm_type, "clip_grad_norm_")
    _scale(grads, max_norm, total)
    return _wrap(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_norm(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                   norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """Deprecated name of ``clip_grad_norm_`` (PyTorch warns the same way)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def get_total_norm(tensors: Iterable[Tensor] | Tensor, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of ``tensors`` taken together, as if concatenated into one vector (what
    ``clip_grad_norm_`` measures; pass the gradients).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.utils.get_total_norm([cr.tensor([3.0]), cr.tensor([4.0])]).item()
        5.0
    """
    ts = [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]
    arrays = [t._data for t in ts]
    if not arrays:
        return _wrap(np.asarray(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    total = _total(arrays, norm_type)
    if error_if_nonfinite:
        _check_finite(total, norm_type, "get_total_norm")
    return _wrap(np.asarray(total, dtype=arrays[0].dtype))


def clip_grads_with_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                          total_norm: Tensor | float, foreach: bool | None = None) -> None:
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1 (the second
    half of ``clip_grad_norm_``, with a norm computed by ``get_total_norm``).

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
        >>> cr.nn.utils.clip_grads_with_norm_([w], 1.0, cr.tensor(5.0))
        >>> [round(v, 3) for v in w.grad.tolist()]
        [0.6, 0.8]
    """
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    _scale(_grads(parameters), max_norm, total)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place.

    Example:
        >>> import chainrule as cr
        >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([-3.0, 0.5])
        >>> cr.nn.utils.clip_grad_value_([w], 1.0); w.grad.tolist()
        [-1.0, 0.5]
    """
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
