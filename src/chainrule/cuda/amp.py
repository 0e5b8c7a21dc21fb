"""``cr.cuda.amp``: PyTorch's deprecated names ``torch.cuda.amp.autocast`` / ``GradScaler``.

As in PyTorch 2.13 each warns that it is deprecated (``FutureWarning``) and then behaves as
``cr.amp.autocast('cuda', ...)`` / ``cr.amp.GradScaler('cuda', ...)``: disabled, with a warning
when asked to be enabled, since there is no CUDA device.

Example:
    >>> import chainrule as cr
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cr.cuda.amp.GradScaler().is_enabled()
    False
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import amp as _amp
from .. import dtypes


class autocast(_amp.autocast):  # noqa: N801
    """Deprecated: ``cr.amp.autocast('cuda', ...)``."""

    _warn_depth = 3

    def __init__(self, enabled: bool = True, dtype: Any = dtypes.float16,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`cr.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`cr.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """Deprecated: ``cr.amp.GradScaler('cuda', ...)``."""

    _warn_depth = 3

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`cr.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`cr.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


def custom_fwd(fwd=None, *, cast_inputs: Any = None):
    """Deprecated: ``cr.amp.custom_fwd(device_type='cuda')``."""
    return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """Deprecated: ``cr.amp.custom_bwd(device_type='cuda')``."""
    return _amp.custom_bwd(bwd, device_type="cuda")
