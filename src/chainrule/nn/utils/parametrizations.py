"""The parametrizations PyTorch ships: weight normalisation and spectral normalisation (on
``parametrize``). ``orthogonal`` is not available yet."""

from __future__ import annotations

import numpy as np

from ..._unavailable import unavailable_function
from ...autograd.grad_mode import no_grad
from ...random import _gen
from ...tensor import Tensor, _wrap
from ..modules.module import Module
from . import parametrize
from .weight_norm import _norm_except_dim
from .weight_norm import _weight_norm as _wn


class _WeightNorm(Module):
    """weight = g * v / ||v||, from (g, v) = (original0, original1)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = None if dim == -1 else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _wn(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight.detach(), self.dim), weight.detach()


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalisation as a parametrization: ``module.<name>`` is computed from
    ``parametrizations.<name>.original0`` (g, the norms over every dim but ``dim``) and
    ``original1`` (v, the directions). Returns the module.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.utils.parametrizations.weight_norm(cr.nn.Linear(3, 2))
        >>> list(layer.state_dict())
        ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
    """
    weight = module.__dict__.get(name)
    if isinstance(weight, Tensor) and dim is not None and dim < -1:
        dim += weight.ndim
    return parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), eps)


class _SpectralNorm(Module):
    """weight / sigma(weight), sigma by power iteration on the buffers ``_u`` and ``_v``."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < max(ndim, 1):
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a weight of shape "
                             f"{weight.shape}")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.dim = dim % ndim if ndim else 0
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if ndim > 1:
            mat = self._matrix(weight._data)
            rng = _gen(None)
            u = _normalize(rng.normal(0.0, 1.0, mat.shape[0]), eps).astype(weight.dtype)
            v = _normalize(rng.normal(0.0, 1.0, mat.shape[1]), eps).astype(weight.dtype)
            self.register_buffer("_u", _wrap(u))
            self.register_buffer("_v", _wrap(v))
            self._power_method(mat, 15)

    def _matrix(self, w):
        if self.dim != 0:
            order = (self.dim,) + tuple(d for d in range(w.ndim) if d != self.dim)
            w = w.permute(*order) if isinstance(w, Tensor) else w.transpose(order)
        return w.reshape(w.shape[0], -1)

    def _power_method(self, mat: np.ndarray, iterations: int) -> None:
        u, v = self._u._data, self._v._data
        with no_grad():
            for _ in range(iterations):
                u[...] = _normalize(mat @ v, self.eps)
                v[...] = _normalize(mat.T @ u, self.eps)
            self._u._version += 1
            self._v._version += 1

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return _vector_norm(weight, self.eps)
        if self.training:
            self._power_method(self._matrix(weight._data), self.n_power_iterations)
        u, v = _wrap(self._u._data.copy()), _wrap(self._v._data.copy())
        sigma = (u * (self._matrix(weight) @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _vector_norm(weight: Tensor, eps: float) -> Tensor:
    # a 1-D weight's spectral norm is its 2-norm (PyTorch's F.normalize)
    return weight / (weight * weight).sum().sqrt().clamp(min=eps)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalisation as a parametrization: ``module.<name>`` is
    ``original / sigma(original)``, sigma estimated by power iteration (buffers
    ``parametrizations.<name>.0._u`` and ``._v``, refined in training mode). ``dim`` defaults
    to 1 for transposed convolutions, else 0. Returns the module.

    Example:
        >>> import chainrule as cr
        >>> layer = cr.nn.utils.parametrizations.spectral_norm(cr.nn.Linear(4, 3))
        >>> list(layer.state_dict())
        ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0._u', \
'parametrizations.weight.0._v']
    """
    from ..modules.conv import _ConvTransposeNd

    weight = module.__dict__.get(name)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter or buffer "
                         f"named {name!r}")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    return parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


orthogonal = unavailable_function("the orthogonal parametrization",
                                  "chainrule.nn.utils.parametrizations.orthogonal")

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]
