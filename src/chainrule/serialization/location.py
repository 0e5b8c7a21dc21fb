"""``map_location``: where ``cr.load`` puts the storages of a checkpoint.

chainrule computes on the CPU, so every storage must end up there. ``map_location`` takes
PyTorch's forms: ``None`` (where it was saved), a device string or device object
(``'cpu'``, ``torch.device('cpu')``), a dict from saved locations to targets
(``{'cuda:0': 'cpu'}``) or a callable ``f(storage, location)`` returning the storage (or
``None`` for the default). Any target other than the CPU is a ``DeviceUnavailableError`` (a
``RuntimeError``, as ``cr.devices`` raises for every other placement) that says so; when a
storage of the file is what lands there, the error is a ``CheckpointDeviceError``, also a
``CheckpointError``. A saved location that names no device PyTorch knows is a corrupt file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..devices import DeviceUnavailableError
from .errors import CheckpointError, UnpicklingError


class CheckpointDeviceError(CheckpointError, DeviceUnavailableError):
    """A storage of a checkpoint would be restored to a device other than the CPU (saved on
    a GPU and loaded without ``map_location='cpu'``, or mapped there): both a
    ``CheckpointError`` and the ``DeviceUnavailableError`` (a ``RuntimeError``) PyTorch's
    users expect."""


# The device types PyTorch parses in a location string (torch.device's list).
_DEVICE_TYPES = frozenset((
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone"))
_LOCATION = re.compile(r"([a-z]+)(?::(?:0|[1-9][0-9]{0,8}))?")


def check_saved_location(location: Any, where: str) -> str:
    """A storage's saved location, as ``torch.device`` would parse it; else a corrupt file."""
    match = _LOCATION.fullmatch(location) if isinstance(location, str) else None
    if match is None or match.group(1) not in _DEVICE_TYPES:
        raise UnpicklingError(f"{where}: invalid storage location {location!r:.40}; the file is "
                              "corrupt")
    return location

MapLocation = Any  # None | str | device-like | dict | callable


def _device_name(target: Any, where: str) -> str:
    if isinstance(target, str):
        return target
    kind = getattr(target, "type", None)  # torch.device and look-alikes
    if isinstance(kind, str):
        index = getattr(target, "index", None)
        return kind if index is None else f"{kind}:{index}"
    raise TypeError(f"{where}: map_location must be a device string, a device, a dict or a "
                    f"callable, got {type(target).__name__}")


def _is_cpu(name: str) -> bool:
    base, _, index = name.partition(":")
    return base == "cpu" and (not index or index.isdigit())


def _refuse(target: str, saved: str, where: str) -> CheckpointDeviceError:
    how = ("pass map_location='cpu'" if target == saved
           else "map it to 'cpu' instead")
    return CheckpointDeviceError(
        f"{where}: a storage saved on {saved!r} would be restored to {target!r}, but chainrule "
        f"computes on the CPU only (NumPy arrays): {how}")


def check_map_location(map_location: MapLocation, where: str) -> Callable[[Any, str], None]:
    """Validate ``map_location`` now and return ``restore(storage, saved_location)``, which
    raises if that storage would land anywhere but the CPU.

    Example:
        >>> restore = check_map_location({"cuda:0": "cpu"}, "load")
        >>> restore(None, "cuda:0")  # mapped to the CPU: fine
    """
    if map_location is None:
        def restore(storage, saved):
            if not _is_cpu(saved):
                raise _refuse(saved, saved, where)
        return restore
    if isinstance(map_location, dict):
        table = {}
        for k, v in map_location.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: map_location dict keys must be saved location "
                                f"strings such as 'cuda:0', got {type(k).__name__}")
            table[k] = _device_name(v, where)

        def restore(storage, saved):
            target = table.get(saved, saved)
            if not _is_cpu(target):
                raise _refuse(target, saved, where)
        return restore
    if callable(map_location) and not isinstance(map_location, str) and not hasattr(
            map_location, "type"):
        def restore(storage, saved):
            result = map_location(storage, saved)
            if result is None:
                if not _is_cpu(saved):
                    raise _refuse(saved, saved, where)
            elif result is not storage:
                raise TypeError(
                    f"{where}: the map_location callable returned a {type(result).__name__}; "
                    "chainrule's storages live on the CPU, so it must return the storage it "
                    "was given (lambda storage, loc: storage) or None")
        return restore
    target = _device_name(map_location, where)
    if not _is_cpu(target):
        raise DeviceUnavailableError(
            f"{where}: map_location={target!r}, but chainrule computes on the CPU only (NumPy "
            "arrays); use map_location='cpu' or leave it out")

    def restore(storage, saved):
        return None
    return restore
