"""PyTorch's implementation options, and the dtype PyTorch keeps an optimizer's scalar state in.

``torch.optim`` optimizers take options that choose among PyTorch's own kernels (``foreach``,
``fused``), prepare for CUDA graphs (``capturable``) or record the step in autograd
(``differentiable``). chainrule has one implementation of each optimizer, a loop over the
parameters that computes what PyTorch's for-loop kernels compute, so it accepts each option at
the values that ask for exactly that (``foreach=None/False``, ``fused=None/False``,
``capturable=False``, ``differentiable=False``) and refuses the others with a message saying why.
The options are not stored in the param groups: they would mean nothing to chainrule.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes

_WHY = {
    "foreach": ("foreach=True asks for PyTorch's multi-tensor kernels; chainrule has one "
                "implementation, a loop over the parameters that computes what foreach=False "
                "computes", "leave foreach at None or False"),
    "fused": ("fused=True asks for PyTorch's fused kernels; chainrule has one implementation, "
              "a loop over the parameters that computes what fused=None computes",
              "leave fused at None or False"),
    "capturable": ("capturable=True prepares the step for CUDA graph capture; chainrule runs "
                   "on NumPy, where there is nothing to capture", "leave capturable False"),
    "differentiable": ("differentiable=True records the step in autograd; chainrule's steps "
                       "update the parameters outside the graph",
                       "to differentiate through an update, write it with tensor operations "
                       "(e.g. w - lr * g) and differentiate that with cr.autograd.grad"),
}


def check_options(optimizer: str, **options: bool | None) -> None:
    """Raise ValueError for an implementation option chainrule cannot honour.

    Example:
        >>> check_options("Adam", foreach=None, fused=False, capturable=False)
        >>> check_options("Adam", foreach=True)
        Traceback (most recent call last):
        ...
        ValueError: Adam(foreach=True): foreach=True asks for PyTorch's multi-tensor kernels; ...
    """
    for name, value in options.items():
        if value is None or value is False:
            continue
        why, instead = _WHY[name]
        if value is True:
            raise ValueError(f"{optimizer}({name}=True): {why}; {instead}")
        raise ValueError(f"{optimizer}({name}={value!r}): {name} must be True, False or None; "
                         f"{instead}")


def scalar_dtype() -> np.dtype:
    """The dtype of 0-d optimizer state such as NAdam's ``mu_product`` and ASGD's ``eta``.

    PyTorch keeps it in float64 only when the default dtype is float64, else in float32 (also
    for float64 parameters); the rounding this implies is part of its results, so chainrule
    keeps the same dtype.

    Example:
        >>> scalar_dtype()
        dtype('float32')
    """
    if dtypes.get_default_dtype() == np.float64:
        return np.dtype(np.float64)
    return np.dtype(np.float32)
