"""Batch normalisation (1-d, 2-d and 3-d): per-channel normalisation over the batch, with
running statistics. ``_NormBase`` (parameters and buffers) is also the base of the instance
norms."""

from __future__ import annotations

import numpy as np

from ... import _validate as check
from ..._unavailable import unavailable_class
from ...tensor import Tensor, _wrap
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .lazy import _lazy_norm
from .linear import _factory_dtype
from .module import Module


class _NormBase(Module):
    """Parameters and running statistics shared by batch and instance norms (PyTorch's
    ``_NormBase``)."""

    _expected_dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got "
                             f"{num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = _factory_dtype(dtype)
        if affine:
            self.weight = Parameter(check.new_array(np.ones, num_features, dt, self))
            self.bias = Parameter(check.new_array(np.zeros, num_features, dt, self)) \
                if bias else None
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", _wrap(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", _wrap(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", _wrap(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input = check.tensor(input, type(self).__name__)  # noqa: A001
        if input.ndim not in self._expected_dims:
            raise ValueError(f"{type(self).__name__}: expected {self._expected_text} input, got "
                             f"shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): input of shape "
                             f"{input.shape} has {input.shape[1]} channels in dim 1")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            nbt = self.num_batches_tracked._data
            nbt += 1
            self.num_batches_tracked._version += 1
            # momentum=None: a cumulative moving average over all batches seen so far.
            factor = 1.0 / float(nbt) if self.momentum is None else self.momentum
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    Training: normalise with the batch statistics and update ``running_mean`` /
    ``running_var`` (unbiased) with ``momentum``. Eval: use the running statistics.

    Example:
        >>> import chainrule as cr
        >>> bn = cr.nn.BatchNorm1d(3)
        >>> y = bn(cr.randn(8, 3))
        >>> [abs(round(v, 4)) for v in y.mean(dim=0).tolist()]
        [0.0, 0.0, 0.0]
    """

    _expected_dims = (2, 3)
    _expected_text = "2D or 3D (N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C (statistics over N, H, W).

    Example:
        >>> import chainrule as cr
        >>> cr.nn.BatchNorm2d(3)(cr.randn(4, 3, 5, 5)).shape
        (4, 3, 5, 5)
    """

    _expected_dims = (4,)
    _expected_text = "4D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) volumes, per channel C.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.BatchNorm3d(2)(cr.randn(3, 2, 2, 3, 3)).shape
        (3, 2, 2, 3, 3)
    """

    _expected_dims = (5,)
    _expected_text = "5D (N, C, D, H, W)"


def _no_sync(*args, **kwargs):
    raise NotImplementedError(
        "chainrule.nn.SyncBatchNorm.convert_sync_batchnorm: batch norm synchronised across "
        "processes is not available yet in chainrule")


SyncBatchNorm = unavailable_class("batch norm synchronised across processes",
                                  "chainrule.nn.SyncBatchNorm", _BatchNorm)
SyncBatchNorm.convert_sync_batchnorm = staticmethod(_no_sync)


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, """A ``BatchNorm1d`` whose ``num_features`` comes
    from its first input.

    Example:
        >>> import chainrule as cr
        >>> bn = cr.nn.LazyBatchNorm1d()
        >>> bn(cr.randn(4, 3)).shape, bn.running_mean.shape
        ((4, 3), (3,))
    """)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, """A ``BatchNorm2d`` whose ``num_features`` comes
    from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyBatchNorm2d()(cr.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, """A ``BatchNorm3d`` whose ``num_features`` comes
    from its first input.

    Example:
        >>> import chainrule as cr
        >>> cr.nn.LazyBatchNorm3d()(cr.randn(2, 3, 2, 2, 2)).shape
        (2, 3, 2, 2, 2)
    """)
