"""``cr.cuda``: PyTorch's ``torch.cuda``, answered as a CPU-only PyTorch build answers it.

chainrule computes on the CPU only, so ``is_available()`` is False and ``device_count()`` is 0,
and the usual device-selection preamble picks the CPU::

    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")

What a CPU-only PyTorch does without complaint stays a harmless no-op here (``manual_seed``,
``empty_cache``, the memory counters, which read 0). What it refuses (``synchronize``,
``current_device``, ``get_device_name``...) raises :class:`~chainrule.devices.
DeviceUnavailableError`, a ``RuntimeError`` that is also an ``AssertionError`` like PyTorch's.

Example:
    >>> import chainrule as cr
    >>> cr.cuda.is_available(), cr.cuda.device_count()
    (False, 0)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .. import devices
from . import amp  # noqa: F401  (cr.cuda.amp)


def _refuse(where: str):
    raise devices.unavailable("cuda", f"cuda.{where}")


# ---- what a CPU-only PyTorch answers ----------------------------------------------------------
def is_available() -> bool:
    """False: there is no CUDA device (chainrule computes on the CPU)."""
    return False


def device_count() -> int:
    """0: the number of CUDA devices."""
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def get_arch_list() -> list[str]:
    return []


def manual_seed(seed: int) -> None:
    """No-op (there is no CUDA generator); seed the CPU with ``cr.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """No-op (there is no CUDA generator); seed the CPU with ``cr.manual_seed``."""


def seed() -> None:
    """No-op."""


def seed_all() -> None:
    """No-op."""


def get_rng_state_all() -> list:
    return []


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """No-op."""


def set_rng_state_all(new_states: Any) -> None:
    """No-op."""


def empty_cache() -> None:
    """No-op: there is no CUDA memory cache."""


def memory_allocated(device: Any = None) -> int:
    """0 bytes."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """0 bytes."""
    return 0


def memory_reserved(device: Any = None) -> int:
    """0 bytes."""
    return 0


def max_memory_reserved(device: Any = None) -> int:
    """0 bytes."""
    return 0


def memory_stats(device: Any = None) -> OrderedDict:
    """An empty dict, as PyTorch gives without CUDA."""
    return OrderedDict()


# ---- what it refuses ----------------------------------------------------------------------------
def init() -> None:
    _refuse("init()")


def synchronize(device: Any = None) -> None:
    _refuse("synchronize()")


def current_device() -> int:
    _refuse("current_device()")


def set_device(device: Any) -> None:
    if isinstance(device, (str, devices.device)) and devices.device(device).type != "cuda":
        raise ValueError(f"cuda.set_device(): expected a cuda device, got {device}")
    _refuse("set_device()")


def get_device_name(device: Any = None) -> str:
    _refuse("get_device_name()")


def get_device_properties(device: Any = None):
    _refuse("get_device_properties()")


def get_device_capability(device: Any = None) -> tuple[int, int]:
    _refuse("get_device_capability()")


def initial_seed() -> int:
    _refuse("initial_seed()")


def get_rng_state(device: Any = "cuda"):
    _refuse("get_rng_state()")


def ipc_collect() -> None:
    _refuse("ipc_collect()")


def current_stream(device: Any = None):
    _refuse("current_stream()")


def default_stream(device: Any = None):
    _refuse("default_stream()")


def mem_get_info(device: Any = None) -> tuple[int, int]:
    _refuse("mem_get_info()")


def reset_peak_memory_stats(device: Any = None) -> None:
    _refuse("reset_peak_memory_stats()")


def reset_max_memory_allocated(device: Any = None) -> None:
    _refuse("reset_max_memory_allocated()")


def memory_summary(device: Any = None, abbreviated: bool = False) -> str:
    _refuse("memory_summary()")


class Stream:
    """Refused: CUDA streams need a CUDA device."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse("Stream()")


class Event:
    """Refused: CUDA events need a CUDA device."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse("Event()")


class device:  # noqa: N801  (PyTorch's name)
    """``with cr.cuda.device(i):``: selects CUDA device ``i``, so entering it raises, except
    for ``None`` or a negative index, which select nothing (as in PyTorch).

    Example:
        >>> import chainrule as cr
        >>> with cr.cuda.device(-1):
        ...     pass
    """

    def __init__(self, device: Any) -> None:
        self.idx = -1 if device is None else device

    def __enter__(self) -> None:
        if not (isinstance(self.idx, int) and self.idx < 0):
            _refuse("device()")

    def __exit__(self, *exc) -> bool:
        return False


class device_of(device):  # noqa: N801
    """``with cr.cuda.device_of(t):``: the device of ``t``, which is the CPU, so nothing."""

    def __init__(self, obj: Any) -> None:
        super().__init__(-1)
