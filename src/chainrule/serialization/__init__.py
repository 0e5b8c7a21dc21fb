"""``cr.serialization``: PyTorch's serialization names, and how chainrule loads safely.

chainrule never executes pickle. ``cr.load`` reads PyTorch's checkpoints with its own
restricted interpreter (``pickle_vm``) that rebuilds tensors, dtypes and plain containers
only (``torch_globals``, ``torch_archive``, ``storage``), and whole chainrule modules from
data (``structure``). Which classes a file may name is decided here, by the allow-list:

- ``add_safe_globals([...])`` / ``get_safe_globals()`` / ``clear_safe_globals()``;
- ``safe_globals([...])``, a context manager, for one block;

chainrule's own classes are always allowed. ``load`` and ``save`` are ``cr.load`` and
``cr.save``.

Every file ``load`` refuses (malformed, truncated, tampered, hostile; any format) raises
``CheckpointError``, a ``ValueError`` also exported as ``cr.CheckpointError``; its subclasses
say more: ``UnpicklingError`` and ``UnsafeGlobalError`` (a PyTorch pickle, or a class that is
not allow-listed), ``CheckpointDeviceError`` (a storage saved on a GPU, also a
``DeviceUnavailableError``).

Example:
    >>> import chainrule as cr
    >>> cr.serialization.get_safe_globals()
    []
"""

from __future__ import annotations

from .allowlist import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .errors import CheckpointError, UnpicklingError, UnsafeGlobalError
from .location import CheckpointDeviceError

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "CheckpointError", "CheckpointDeviceError", "UnpicklingError", "UnsafeGlobalError",
           "load", "save"]


def __getattr__(name: str):
    # chainrule.io imports this package, so its functions are fetched on first use.
    if name in ("load", "save"):
        from .. import io

        return getattr(io, name)
    raise AttributeError(f"module 'chainrule.serialization' has no attribute {name!r}")
