"""Flatten parameters into one vector and back (for line searches, second-order methods...)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ...autograd.grad_mode import no_grad
from ...ops.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.utils.parameters_to_vector(cr.nn.Linear(3, 2).parameters()).shape
        (8,)
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` in place.

    Example:
        >>> import chainrule as cr
        >>> lin = cr.nn.Linear(2, 1)
        >>> cr.nn.utils.vector_to_parameters(cr.zeros(3), lin.parameters())
        >>> lin.bias.tolist()
        [0.0]
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(p._data.size for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} entries but the "
                         f"parameters hold {total}")
    data, i = vec._data, 0
    with no_grad():
        for p in params:
            n = p._data.size
            np.copyto(p._data, data[i:i + n].reshape(p.shape), casting="unsafe")
            p._version += 1
            i += n
