"""Weight normalisation, PyTorch's original hook-based form: ``weight = g * v / ||v||``.

``weight_norm(module)`` replaces the parameter ``weight`` by two, ``weight_g`` (the norms) and
``weight_v`` (the directions), and recomputes ``weight`` from them before every forward, so
the gradient reaches g and v through the formula.
"""

from __future__ import annotations

import warnings

from ...tensor import Tensor
from ..parameter import Parameter


def _norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """The 2-norm of ``v`` over every dim but ``dim`` (kept as size 1); of all of v for None."""
    if dim is None:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(dim=dims, keepdim=True).sqrt()


def _weight_norm(v: Tensor, g: Tensor, dim: int | None) -> Tensor:
    return v * (g / _norm_except_dim(v, dim))


class _WeightNormHook:
    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module) -> Tensor:
        d = module.__dict__
        return _weight_norm(d[self.name + "_v"], d[self.name + "_g"], self.dim)

    def __call__(self, module, args) -> None:
        module.__dict__[self.name] = self.compute_weight(module)


def _hooks(module) -> dict:
    return module.__dict__.setdefault("_weight_norm_hooks", {})


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrise ``module.<name>`` as g * v / ||v|| (the norm over every dim but ``dim``;
    ``dim=None`` for one norm of the whole tensor). Returns the module.

    Deprecated in PyTorch (which warns the same way) in favour of
    ``nn.utils.parametrizations.weight_norm``; both are here.

    Example:
        >>> import warnings
        >>> import chainrule as cr
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = cr.nn.utils.weight_norm(cr.nn.Linear(3, 2))
        >>> [name for name, _ in layer.named_parameters()], layer.weight_g.shape
        (['bias', 'weight_g', 'weight_v'], (2, 1))
    """
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    weight = module.__dict__.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
    if name in _hooks(module):
        raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same "
                           f"parameter {name!r}")
    if dim is not None and dim < -1:
        dim += weight.ndim
    if dim == -1:
        dim = None  # PyTorch's spelling of "one norm for the whole tensor"
    hook = _WeightNormHook(name, dim)
    g = _norm_except_dim(weight.detach(), dim)
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(g._data.copy()))
    module.register_parameter(name + "_v", Parameter(weight._data))
    module.__dict__[name] = hook.compute_weight(module)
    _hooks(module)[name] = (hook, module.register_forward_pre_hook(hook))
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter again (its current value).

    Example:
        >>> import warnings
        >>> import chainrule as cr
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     layer = cr.nn.utils.weight_norm(cr.nn.Linear(3, 2))
        >>> [n for n, _ in cr.nn.utils.remove_weight_norm(layer).named_parameters()]
        ['bias', 'weight']
    """
    entry = _hooks(module).pop(name, None)
    if entry is None:
        raise ValueError(f"remove_weight_norm: weight_norm of {name!r} not found in "
                         f"{type(module).__name__}")
    hook, handle = entry
    handle.remove()
    value = hook.compute_weight(module).detach()
    del module.__dict__[name]
    delattr(module, name + "_g")
    delattr(module, name + "_v")
    module.register_parameter(name, Parameter(value._data))
    return module

