"""``autocast``: PyTorch's mixed-precision context manager, which chainrule accepts and disables.

chainrule has no mixed-precision execution: NumPy has no bfloat16, and its float16 matrix
products run without BLAS, many times slower than float32. So an ``autocast`` block runs every op
in its own dtype, exactly as ``autocast(..., enabled=False)`` would; programs written for
PyTorch run unchanged, in float32. When a block asks for mixed precision (``enabled=True``, the
default) chainrule says so once per call site with a ``UserWarning``, as PyTorch does when it
disables autocast itself (CUDA absent, or a dtype it does not support). Inside any block
``cr.is_autocast_enabled(device_type)`` is False, as it is in PyTorch after such a warning;
``cr.get_autocast_dtype(device_type)`` reports the dtype the block named.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

from .. import devices, dtypes

# The device types PyTorch 2.13 has autocast for.
_AUTOCAST_TYPES = ("cpu", "cuda", "xpu", "ipu", "hpu", "xla", "mps", "mtia", "maia",
                   "privateuseone")


def _default_dtype(device_type: str):
    # PyTorch: bfloat16 on the CPU, float16 elsewhere. chainrule can name bfloat16 but not store
    # it; before cr.bfloat16 exists the name stands in.
    return getattr(dtypes, "bfloat16", "bfloat16") if device_type == "cpu" else dtypes.float16


def _name(dtype: Any) -> str:
    name = getattr(dtype, "name", None)
    if isinstance(name, str):
        return name
    if isinstance(dtype, str):
        return dtype.removeprefix("torch.")
    try:
        return dtypes.as_dtype(dtype).name
    except TypeError:
        return repr(dtype)


class _State(threading.local):
    def __init__(self) -> None:
        self.dtype: dict[str, Any] = {}


_STATE = _State()


def is_autocast_available(device_type: str) -> bool:
    """Whether PyTorch has autocast for ``device_type`` (chainrule accepts the same types).

    Example:
        >>> import chainrule as cr
        >>> cr.amp.is_autocast_available("cpu")
        True
    """
    return device_type.split(":", 1)[0] in _AUTOCAST_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether ops run in mixed precision: always False (chainrule has none; see ``autocast``).

    Example:
        >>> import chainrule as cr
        >>> with cr.autocast("cpu", enabled=False):
        ...     cr.is_autocast_enabled("cpu")
        False
    """
    if device_type is not None and not isinstance(device_type, str):
        raise TypeError(f"is_autocast_enabled(): device_type must be a str, got "
                        f"{type(device_type).__name__}")
    return False


def get_autocast_dtype(device_type: str):
    """The dtype the innermost ``autocast`` block for ``device_type`` named (PyTorch's defaults:
    ``cr.bfloat16`` on the CPU, ``cr.float16`` elsewhere).

    Example:
        >>> import chainrule as cr
        >>> with cr.autocast("cuda", dtype=cr.float16, enabled=False):
        ...     cr.get_autocast_dtype("cuda")
        dtype('float16')
    """
    if not isinstance(device_type, str):
        raise TypeError(f"get_autocast_dtype(): device_type must be a str, got "
                        f"{type(device_type).__name__}")
    return _STATE.dtype.get(device_type, _default_dtype(device_type))


class autocast:  # noqa: N801  (PyTorch's name)
    """PyTorch's ``torch.autocast``, accepted and always disabled (see the module's notes).

    A context manager and a decorator. ``device_type`` must be a string, as in PyTorch. A block
    that asks for mixed precision warns once per call site and runs every op in its own dtype.

    Example:
        >>> import chainrule as cr
        >>> with cr.autocast(device_type="cpu", dtype=cr.float16, enabled=False):
        ...     y = cr.ones(2, 2) @ cr.ones(2, 2)
        >>> y.dtype
        dtype('float32')
    """

    _warn_depth = 2  # a deprecated subclass's __init__ adds a frame

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"autocast(): expected `device_type` of type `str`, got: "
                             f"`{type(device_type)}`")
        kind = devices.device(device_type).type  # PyTorch's error for an unknown type
        if kind not in _AUTOCAST_TYPES:
            raise RuntimeError(f"autocast(): device_type {device_type!r} has no autocast; "
                               f"expected one of {', '.join(_AUTOCAST_TYPES)}")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = cache_enabled
        if enabled:
            warnings.warn(self._why_disabled(kind), UserWarning, stacklevel=self._warn_depth)
        self._enabled = False
        self._saved: list = []

    def _why_disabled(self, kind: str) -> str:
        name = _name(self.fast_dtype)
        if kind != "cpu":
            return (f"autocast(device_type={self.device!r}): that device is not available "
                    "(this build of chainrule computes on the CPU only). Disabling autocast: "
                    "ops run in their own dtypes.")
        if name not in ("bfloat16", "float16"):
            return (f"autocast(device_type='cpu', dtype={name}): CPU autocast supports only "
                    "bfloat16 and float16 (as in PyTorch). Disabling autocast.")
        return (f"autocast(device_type='cpu', dtype={name}): chainrule has no mixed-precision "
                "autocast (NumPy has no bfloat16, and no fast float16 matrix product). "
                "Disabling autocast: ops run in their own dtypes (float32), as with "
                "enabled=False.")

    def __enter__(self) -> autocast:
        table = _STATE.dtype
        self._saved.append(table.get(self.device, _MISSING))
        table[self.device] = self.fast_dtype
        return self

    def __exit__(self, *exc) -> bool:
        prev = self._saved.pop()
        if prev is _MISSING:
            _STATE.dtype.pop(self.device, None)
        else:
            _STATE.dtype[self.device] = prev
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, got {type(func).__name__}; "
                            "to use autocast as a context manager write `with "
                            "cr.autocast(device_type=...):`")

        @functools.wraps(func)
        def run(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return run


_MISSING = object()


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: Any = None):
    """PyTorch's decorator for a custom ``Function.forward`` under autocast.

    Autocast is never enabled in chainrule, so ``forward`` runs as written and ``cast_inputs``
    has no effect (PyTorch: "a no-op outside an autocast-enabled region").

    Example:
        >>> import chainrule as cr
        >>> class Double(cr.autograd.Function):
        ...     @staticmethod
        ...     @cr.amp.custom_fwd(device_type="cpu")
        ...     def forward(ctx, x):
        ...         return x * 2
        ...     @staticmethod
        ...     @cr.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, g):
        ...         return g * 2
        >>> Double.apply(cr.ones(2)).tolist()
        [2.0, 2.0]
    """
    if not isinstance(device_type, str):
        raise ValueError(f"custom_fwd(): expected `device_type` of type `str`, got: "
                         f"`{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type: str):
    """PyTorch's decorator for a custom ``Function.backward``; see ``custom_fwd``."""
    if not isinstance(device_type, str):
        raise ValueError(f"custom_bwd(): expected `device_type` of type `str`, got: "
                         f"`{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
