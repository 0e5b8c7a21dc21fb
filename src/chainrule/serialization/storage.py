"""PyTorch storages read from a checkpoint, and tensors rebuilt as views of them.

A PyTorch tensor is a window on a storage: ``(storage, storage_offset, size, stride)``.
Rebuilding it as a strided NumPy view of the storage's array keeps what the file says: two
tensors saved from one storage (``x`` and ``x.t()``, a slice, ``x[::2]``) still share memory
after loading, and non-contiguous tensors keep their layout. Every window is checked to lie
inside its storage first, so a crafted file cannot read past it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import UnpicklingError

BFLOAT16 = "bfloat16"  # NumPy has no bfloat16: its storages are widened to float32, exactly
_MAX_OVERLAPPING_NUMEL = 1 << 27  # see _window: an overlapping layout is copied, within reason


def is_bfloat16(dtype) -> bool:
    return isinstance(dtype, str) and dtype == BFLOAT16


def itemsize(dtype: np.dtype | str) -> int:
    return 2 if is_bfloat16(dtype) else np.dtype(dtype).itemsize


class Storage:
    """One storage of a PyTorch checkpoint: ``nbytes`` bytes saved on ``location``, read on
    first use by ``read()``, viewed as elements of any dtype by ``array(dtype)``.

    It plays the part of ``torch.UntypedStorage`` for a ``map_location`` callable: ``cpu()``
    returns it, as does ``to('cpu')``; ``cuda()`` and other devices explain that chainrule has
    only the CPU.
    """

    def __init__(self, key: str, dtype: np.dtype | str | None, nbytes: int, location: str,
                 read: Callable[[], np.ndarray], byteorder: str = "little") -> None:
        self.key, self.dtype, self._nbytes, self.location = key, dtype, nbytes, location
        self._read, self._byteorder = read, byteorder
        self._raw: np.ndarray | None = None
        self._views: dict = {}

    # ---- what a map_location callable sees --------------------------------------------------
    device = "cpu"

    def nbytes(self) -> int:
        return self._nbytes

    def size(self) -> int:
        return self._nbytes // itemsize(self.dtype) if self.dtype is not None else self._nbytes

    def cpu(self) -> Storage:
        return self

    def cuda(self, *args, **kwargs):
        from ..devices import DeviceUnavailableError

        raise DeviceUnavailableError(
            "load: map_location asked for a CUDA storage; chainrule computes on the CPU only: "
            "return the storage itself (lambda storage, loc: storage) or pass "
            "map_location='cpu'")

    def to(self, device="cpu", *args, **kwargs):
        name = getattr(device, "type", device)
        return self if isinstance(name, str) and name.split(":")[0] == "cpu" else self.cuda()

    def __repr__(self) -> str:
        return f"<storage {self.key!r} of a PyTorch checkpoint, {self._nbytes} bytes>"

    # ---- elements ---------------------------------------------------------------------------
    def array(self, dtype: np.dtype | str, where: str) -> np.ndarray:
        """The storage as a 1-d array of ``dtype`` in native byte order (one array per dtype,
        so every tensor of that dtype views the same memory)."""
        key = str(dtype)
        if key in self._views:
            return self._views[key]
        if self._raw is None:
            self._raw = self._read()
        size = itemsize(dtype)
        if self._nbytes % size:
            raise UnpicklingError(f"{where}: storage {self.key!r} holds {self._nbytes} bytes, "
                                  f"not a whole number of {dtype} elements")
        order = "<" if self._byteorder == "little" else ">"
        if is_bfloat16(dtype):
            # bfloat16 is the top half of a float32: shifting it up is exact.
            bits = self._raw.view(f"{order}u2").astype(np.uint32)
            out = (bits << 16).view(np.float32)
        else:
            out = self._raw.view(np.dtype(dtype).newbyteorder(order))
            if not out.dtype.isnative:
                out = out.astype(out.dtype.newbyteorder("="))
        self._views[key] = out
        return out


def _ints(value, what: str, where: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(
            type(v) is int and v >= 0 for v in value):
        raise UnpicklingError(f"{where}: the tensor's {what} must be non-negative integers, got "
                              f"{value!r:.80}")
    return tuple(value)


def _is_non_overlapping(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """True when no two elements share memory (checked dimension by dimension, from the
    smallest stride up: each stride must step past everything the smaller ones reach)."""
    reach = 0
    for n, s in sorted(((n, s) for n, s in zip(size, stride) if n > 1), key=lambda d: d[1]):
        if s <= reach:
            return False
        reach += (n - 1) * s
    return True


def tensor_array(storage: Storage, dtype, offset, size, stride, where: str) -> np.ndarray:
    """The array of a tensor saved as ``(storage, offset, size, stride)`` in elements of
    ``dtype``: a view of the storage when the layout is a plain window on it (the usual case,
    also for transposes and slices), a copy when elements overlap (``expand``), after checking
    that every element lies inside the storage."""
    if type(offset) is not int or offset < 0:
        raise UnpicklingError(f"{where}: invalid storage offset {offset!r:.40}")
    size, stride = _ints(size, "size", where), _ints(stride, "stride", where)
    if len(size) != len(stride):
        raise UnpicklingError(f"{where}: size {size} and stride {stride} differ in length")
    if len(size) > 64:
        raise UnpicklingError(f"{where}: a tensor of {len(size)} dimensions (at most 64)")
    elems = storage.array(dtype, where)
    numel = 1
    for n in size:
        numel *= n
    if numel == 0:
        if offset > len(elems):
            raise UnpicklingError(f"{where}: storage offset {offset} is past the end of storage "
                                  f"{storage.key!r} ({len(elems)} elements)")
        return np.empty(size, dtype=elems.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= len(elems):
        raise UnpicklingError(
            f"{where}: a tensor of size {size}, stride {stride} at offset {offset} reaches "
            f"element {last} of storage {storage.key!r}, which holds {len(elems)}; the file is "
            "corrupt or crafted")
    window = np.lib.stride_tricks.as_strided(
        elems[offset:], shape=size, strides=[s * elems.itemsize for s in stride])
    if _is_non_overlapping(size, stride):
        return window
    if numel > _MAX_OVERLAPPING_NUMEL:
        raise UnpicklingError(f"{where}: a tensor of {numel} elements over {len(elems)} stored "
                              f"ones (an expanded tensor); refusing to materialize more than "
                              f"{_MAX_OVERLAPPING_NUMEL}")
    # NumPy cannot write through a view whose elements alias each other the way torch's
    # expanded tensors forbid it anyway; an independent copy keeps every value.
    return window.copy()
