"""Spectral normalisation, PyTorch's original hook-based form: ``weight = W / sigma(W)``.

sigma, the largest singular value of W (as a matrix with ``dim`` first), is estimated by power
iteration: the buffers ``weight_u`` and ``weight_v`` hold the singular vector estimates and
are refined ``n_power_iterations`` times per training forward (not recorded; in eval mode
they are used as they are). The gradient flows through W and sigma = u^T W v.
"""

from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...random import _gen
from ...tensor import Tensor, _wrap
from ..parameter import Parameter


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), eps)


class _SpectralNormHook:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, \
            dim, eps

    def matrix(self, weight):
        """W with ``dim`` first, as (h, w) (a Tensor or an array alike)."""
        if self.dim != 0:
            order = (self.dim,) + tuple(d for d in range(weight.ndim) if d != self.dim)
            weight = weight.permute(*order) if isinstance(weight, Tensor) else \
                weight.transpose(order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration: bool) -> Tensor:
        d = module.__dict__
        weight, u, v = d[self.name + "_orig"], d[self.name + "_u"], d[self.name + "_v"]
        if do_power_iteration:
            with no_grad():
                mat = self.matrix(weight._data)
                uu, vv = u._data, v._data
                for _ in range(self.n_power_iterations):
                    vv[...] = _normalize(mat.T @ uu, self.eps)
                    uu[...] = _normalize(mat @ vv, self.eps)
                u._version += 1
                v._version += 1
        # the buffers change in place at the next training forward: use copies in the graph
        uc, vc = _wrap(u._data.copy()), _wrap(v._data.copy())
        sigma = (uc * (self.matrix(weight) @ vc)).sum()
        return weight / sigma

    def __call__(self, module, args) -> None:
        module.__dict__[self.name] = self.compute_weight(module, module.training)


def _hooks(module) -> dict:
    return module.__dict__.setdefault("_spectral_norm_hooks", {})


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None):
    """Divide ``module.<name>`` by its spectral norm, estimated by power iteration (Miyato et
    al., 2018). ``dim`` defaults to 1 for transposed convolutions, else 0. Returns the module.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.utils.spectral_norm(cr.nn.Linear(4, 3))
        >>> list(layer.state_dict())
        ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    from ..modules.conv import _ConvTransposeNd

    weight = module.__dict__.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    if name in _hooks(module):
        raise RuntimeError(f"spectral_norm: cannot register two spectral_norm hooks on the "
                           f"same parameter {name!r}")
    if n_power_iterations < 0:
        raise ValueError(f"spectral_norm: n_power_iterations must be >= 0, got "
                         f"{n_power_iterations}")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    h, w = hook.matrix(weight._data).shape
    rng = _gen(None)
    u = _normalize(rng.normal(0.0, 1.0, h), eps).astype(weight.dtype)
    v = _normalize(rng.normal(0.0, 1.0, w), eps).astype(weight.dtype)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    module.__dict__[name] = weight.detach()
    module.register_buffer(name + "_u", _wrap(u))
    module.register_buffer(name + "_v", _wrap(v))
    _hooks(module)[name] = (hook, module.register_forward_pre_hook(hook))
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter holding W / sigma.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.utils.remove_spectral_norm(cr.nn.utils.spectral_norm(cr.nn.Linear(4, 3)))
        >>> list(layer.state_dict())
        ['bias', 'weight']
    """
    entry = _hooks(module).pop(name, None)
    if entry is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in "
                         f"{type(module).__name__}")
    hook, handle = entry
    handle.remove()
    value = hook.compute_weight(module, do_power_iteration=False).detach()
    module.__dict__.pop(name, None)
    delattr(module, name + "_orig")
    delattr(module, name + "_u")
    delattr(module, name + "_v")
    module.register_parameter(name, Parameter(value._data))
    return module
