"""Instance normalisation: each channel of each sample normalised over its own spatial dims."""

from __future__ import annotations

import warnings

from ... import _validate as check
from ...tensor import Tensor
from .. import functional as F
from .batchnorm import _NormBase
from .lazy import _lazy_norm


class _InstanceNorm(_NormBase):
    _spatial = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        name, n = type(self).__name__, self._spatial
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"{name}: expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                             f"input, got shape {input.shape}")
        channels = input.shape[input.ndim - n - 1]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(f"{name}({self.num_features}): input of shape {input.shape} "
                                 f"has {channels} channels")
            warnings.warn(f"{name}: input's size at dim={input.ndim - n - 1} does not match "
                          "num_features. You can silence this warning by not passing in "
                          "num_features, which is not used because affine=False", stacklevel=2)
        x = input if input.ndim == n + 2 else input.unsqueeze(0)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out if input.ndim == n + 2 else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs; no affine parameters and no
    running statistics unless asked (``affine``, ``track_running_stats``).

    Example:
        >>> import chainrule as cr
        >>> y = cr.nn.InstanceNorm1d(3)(cr.randn(2, 3, 8))
        >>> [abs(round(v, 4)) for v in y.mean(dim=-1)[0].tolist()]
        [0.0, 0.0, 0.0]
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) images (style transfer's norm).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.InstanceNorm2d(3, affine=True)(cr.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) volumes.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.InstanceNorm3d(2)(cr.randn(1, 2, 2, 3, 3)).shape
        (1, 2, 2, 3, 3)
    """

    _spatial = 3


LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, """An ``InstanceNorm1d`` whose
    ``num_features`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyInstanceNorm1d()(cr.randn(2, 3, 5)).shape
        (2, 3, 5)
    """, 2)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, """An ``InstanceNorm2d`` whose
    ``num_features`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyInstanceNorm2d(affine=True)(cr.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """, 3)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, """An ``InstanceNorm3d`` whose
    ``num_features`` comes from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyInstanceNorm3d()(cr.randn(1, 2, 2, 3, 3)).shape
        (1, 2, 2, 3, 3)
    """, 4)
