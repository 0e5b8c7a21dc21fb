"""``cr.cpu.amp``: PyTorch's deprecated ``torch.cpu.amp.autocast`` / ``GradScaler``.

Each warns that it is deprecated (``FutureWarning``, as in PyTorch 2.13) and then behaves as
``cr.amp.autocast('cpu', ...)`` / ``cr.amp.GradScaler('cpu', ...)``.

Example:
    >>> import chainrule as cr
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cr.cpu.amp.GradScaler().get_scale()
    65536.0
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import amp as _amp


class autocast(_amp.autocast):  # noqa: N801
    """Deprecated: ``cr.amp.autocast('cpu', ...)``."""

    _warn_depth = 3

    def __init__(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`cr.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`cr.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """Deprecated: ``cr.amp.GradScaler('cpu', ...)``."""

    _warn_depth = 3

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`cr.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`cr.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
