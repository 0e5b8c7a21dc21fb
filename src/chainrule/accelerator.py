"""``cr.accelerator``: PyTorch's device-generic accelerator API, which here finds none.

As on a CPU-only PyTorch, ``is_available()`` is False, ``current_accelerator()`` is None and
``device_count()`` is 0, so device-generic code picks the CPU::

    acc = cr.accelerator.current_accelerator()
    device = acc if acc is not None else cr.device("cpu")

The calls that need a device (``synchronize``, ``current_device_index``, the memory counters...)
raise :class:`~chainrule.devices.DeviceUnavailableError` (a ``RuntimeError``, as in PyTorch).

Example:
    >>> import chainrule as cr
    >>> cr.accelerator.is_available(), cr.accelerator.current_accelerator()
    (False, None)
"""

from __future__ import annotations

from typing import Any

from . import devices


def _refuse(where: str):
    raise devices.DeviceUnavailableError(
        f"accelerator.{where}: there is no accelerator; this build of chainrule computes on the "
        "CPU only (NumPy arrays). Check cr.accelerator.is_available() first.")


def is_available() -> bool:
    """False: no accelerator."""
    return False


def current_accelerator(check_available: bool = False) -> devices.device | None:
    """None: no accelerator."""
    return None


def device_count() -> int:
    """0."""
    return 0


def current_device_index() -> int:
    _refuse("current_device_index()")


current_device_idx = current_device_index


def set_device_index(device: Any) -> None:
    _refuse("set_device_index()")


set_device_idx = set_device_index


def synchronize(device: Any = None) -> None:
    _refuse("synchronize()")


def current_stream(device: Any = None):
    _refuse("current_stream()")


def set_stream(stream: Any) -> None:
    _refuse("set_stream()")


def get_device_capability(device: Any = None):
    _refuse("get_device_capability()")


def empty_cache() -> None:
    _refuse("empty_cache()")


def memory_stats(device_index: Any = None):
    _refuse("memory_stats()")


def memory_allocated(device_index: Any = None) -> int:
    _refuse("memory_allocated()")


def max_memory_allocated(device_index: Any = None) -> int:
    _refuse("max_memory_allocated()")


def memory_reserved(device_index: Any = None) -> int:
    _refuse("memory_reserved()")


def max_memory_reserved(device_index: Any = None) -> int:
    _refuse("max_memory_reserved()")


def reset_peak_memory_stats(device_index: Any = None) -> None:
    _refuse("reset_peak_memory_stats()")


def get_memory_info(device_index: Any = None):
    _refuse("get_memory_info()")


class device_index:  # noqa: N801  (PyTorch's name)
    """``with cr.accelerator.device_index(i):``: ``None`` selects nothing; any index raises on
    entry, as in PyTorch without an accelerator.

    Example:
        >>> import chainrule as cr
        >>> with cr.accelerator.device_index(None):
        ...     pass
    """

    def __init__(self, device: Any, /) -> None:
        self.idx = device

    def __enter__(self) -> None:
        if self.idx is not None:
            _refuse("device_index()")

    def __exit__(self, *exc) -> bool:
        return False
