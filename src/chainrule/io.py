"""``cr.save`` / ``cr.load``: tensors, training state and whole modules in the safetensors
format; ``cr.load`` also reads PyTorch's own checkpoints, without executing pickle.

A safetensors file is an 8-byte little-endian header length, a JSON header that gives each
tensor's ``dtype``, ``shape`` and ``data_offsets`` (plus a ``__metadata__`` dict of strings),
then the raw little-endian bytes. Files written here load in any safetensors reader
(``safetensors.torch.load_file`` included) and vice versa; nothing but NumPy is needed.

What ``save`` adds on top, all inside ``__metadata__`` so other readers simply ignore it:

- nested dicts, lists and tuples: arrays are stored under dotted names (``{"fc": {"w": t}}``
  -> ``"fc.w"``), every other value (numbers, strings, ``None``, bools, lists and str-keyed
  dicts of those) as a JSON string under its dotted name, and ``chainrule.structure``
  records the tree (key order, int keys, tuples), so ``load`` rebuilds the same object;
- whole ``cr.nn.Module`` trees, as data: class names, attributes, parameters and buffers
  (see ``chainrule.serialization.structure``); ``load`` rebuilds only allow-listed classes;
- ``chainrule.checksum``: the SHA-256 of the whole content (every tensor's name, dtype,
  shape and bytes, and the metadata), so ``load`` detects a changed byte, offset, dtype or
  value (``chainrule.serialization.checksum``).

Writes are atomic and durable (``chainrule.serialization.files``): a temporary file in the
same directory, flushed and fsynced, renamed over the target, then the directory is fsynced;
the temporary files of saves killed on the way are removed by the next save of that path.

Reading is strict (``chainrule.serialization.safetensors_format``): what the safetensors
format forbids is refused, with bounds on sizes and nesting checked before anything is
allocated; every refusal is a ``CheckpointError`` naming the file.

``load`` tells the formats apart by their first bytes: a zip archive or a legacy stream is a
PyTorch checkpoint and goes to ``chainrule.serialization.torch_archive``; anything else is
read as safetensors.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, BinaryIO

import numpy as np

from .serialization import checksum
from .serialization.errors import CheckpointError
from .serialization.files import atomic_write, open_regular
from .serialization.safetensors_format import (
    WRITABLE,
    array_of,
    header_bytes,
    read_header,
)
from .tensor import Tensor, _wrap

_STRUCTURE, _FORMAT = "chainrule.structure", "chainrule.format"
_RESERVED = (_STRUCTURE, _FORMAT, checksum.KEY, checksum.LEGACY_KEY)
_FORMAT_VERSION = "1"  # files with modules, dtypes or globals say "2"
_KNOWN_FORMATS = ("1", "2")

PathOrFile = str | os.PathLike | BinaryIO


# ---- arrays as safetensors stores them ------------------------------------------------------
def _to_storable(a: np.ndarray | np.generic, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.newbyteorder("<") not in WRITABLE:
        raise TypeError(f"save: {name!r} has dtype {a.dtype}, which safetensors cannot store "
                        f"(supported: {', '.join(str(d.newbyteorder('=')) for d in WRITABLE)})")
    # Contiguous little-endian bytes: safetensors' own NumPy writer gets views (a.T, a[::2]) wrong.
    # (ascontiguousarray turns 0-d into 1-d, hence the reshape.)
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(a.shape)


# ---- writing ----------------------------------------------------------------------------------
def _bytes_of(a: np.ndarray) -> memoryview:
    return memoryview(a.reshape(-1).view(np.uint8))


def save(obj: Any, path: PathOrFile, metadata: dict[str, str] | None = None) -> None:
    """Write ``obj`` to ``path`` in the safetensors format, atomically: a tensor, an array, a
    whole ``cr.nn.Module`` (as ``torch.save(model, f)`` does), or nested dicts/lists/tuples of
    them and plain values.

    ``metadata`` is extra ``str -> str`` information for the header's ``__metadata__``
    (read it back with ``cr.io.load_metadata``). ``path`` may also be a binary file object.
    Tensors are stored without their autograd state, except inside a module, whose parameters
    keep ``requires_grad``. A module is stored as data (class name, attributes, parameters,
    buffers, ``training``); its forward hooks are not saved. A checksum of the whole content
    (tensors, names, shapes, metadata) lets ``load`` detect any change.

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> cr.save({"w": cr.ones(2, 3), "opt": {"step": 10, "lrs": [0.1, 0.01]}}, path)
        >>> ckpt = cr.load(path)
        >>> ckpt["w"].shape, ckpt["opt"]
        ((2, 3), {'step': 10, 'lrs': [0.1, 0.01]})
    """
    from .serialization.structure import MAX_DEPTH, Flattener, check_depth

    meta = _check_metadata(metadata)
    flat = Flattener(_to_storable, _RESERVED)
    try:
        structure = flat.node(obj, "", root=True)
        text = json.dumps(structure)
    except RecursionError:
        raise ValueError(f"save: obj nests more than {MAX_DEPTH} levels deep; chainrule files "
                         "allow at most that") from None
    check_depth(text, "obj")
    for key in flat.values:
        if key in meta:
            raise ValueError(f"save: metadata key {key!r} clashes with an entry of obj")
    # Larger items first: every tensor then starts aligned to its own item size.
    arrays = dict(sorted(flat.arrays.items(), key=lambda kv: -kv[1].dtype.itemsize))
    for key, value in flat.values.items():
        check_depth(value, f"the value at {key!r}")
    meta.update(flat.values)
    meta.update({_FORMAT: "2" if flat.uses_modules else _FORMAT_VERSION, _STRUCTURE: text})
    meta[checksum.KEY] = checksum.digest(
        {name: (WRITABLE[a.dtype], a.shape, _bytes_of(a)) for name, a in arrays.items()}, meta)
    header = header_bytes(arrays, meta)

    def write(f: BinaryIO) -> None:
        f.write(header)
        for a in arrays.values():
            f.write(_bytes_of(a))

    if hasattr(path, "write"):
        write(path)
        return
    atomic_write(os.fspath(path), write)


def _check_metadata(metadata) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"save: metadata must be a dict of str to str, got "
                        f"{type(metadata).__name__}")
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"save: metadata must map str to str (safetensors stores only "
                            f"strings); got {k!r}: {type(v).__name__}. Use json.dumps for values")
        if k in _RESERVED:
            raise ValueError(f"save: metadata key {k!r} is reserved by chainrule")
    return dict(metadata)


# ---- reading ----------------------------------------------------------------------------------
def _open(path: PathOrFile) -> tuple[BinaryIO, int, str]:
    if hasattr(path, "read"):
        data = path.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"load: the file object must be opened in binary mode ('rb'); its "
                            f"read() returned {type(data).__name__}")
        return io.BytesIO(data), len(data), "load"
    path = os.fspath(path)
    f, size = open_regular(path)
    return f, size, path


def _read_exactly(f: BinaryIO, n: int, where: str) -> np.ndarray:
    buf = np.empty(n, dtype=np.uint8)
    view, got = memoryview(buf), 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            raise CheckpointError(f"{where}: the file changed size while being read")
        got += k
    if f.read(1):
        raise CheckpointError(f"{where}: the file changed size while being read")
    return buf


def _read(f: BinaryIO, size: int, where: str, verify: bool):
    header = read_header(f, size, where)
    data = _read_exactly(f, size - header.data_start, where)
    if verify:
        checksum.verify(header, data, _RESERVED, where)
    tensors = {name: _wrap(array_of(data, e)) for name, e in header.entries.items()}
    return tensors, header.metadata


def _sniff(path: PathOrFile) -> tuple[BinaryIO, int, str, bytes]:
    f, size, where = _open(path)
    head = f.read(512)
    f.seek(0)
    return f, size, where, head


def _check_load_options(pickle_module, weights_only, mmap, pickle_load_args) -> str:
    if pickle_module is not None:
        raise TypeError("load: pickle_module must be None; chainrule never uses a pickle "
                        "module (it reads PyTorch files with its own restricted interpreter)")
    for name, flag in (("weights_only", weights_only), ("mmap", mmap)):
        if flag is not None and not isinstance(flag, bool):
            raise TypeError(f"load: {name} must be a bool, got {flag!r}")
    encoding = pickle_load_args.pop("encoding", "ASCII")
    if pickle_load_args:
        raise TypeError(f"load: unexpected keyword arguments {sorted(pickle_load_args)}; of "
                        "pickle's load arguments only encoding= is supported")
    if not isinstance(encoding, str):
        raise TypeError(f"load: encoding must be a str, got {type(encoding).__name__}")
    return encoding


def load(f: PathOrFile, map_location=None, pickle_module=None, *,
         weights_only: bool | None = None, mmap: bool | None = None, verify: bool = True,
         **pickle_load_args) -> Any:
    """Read a checkpoint: a safetensors file (from ``cr.save`` or any safetensors writer) or
    a PyTorch ``.pt`` / ``.pth`` file from ``torch.save``; PyTorch's keywords are accepted.

    A file from ``cr.save`` comes back as the object that was saved (arrays as Tensors, a
    saved module as the module); any other safetensors file as a flat ``{name: Tensor}``
    dict, ready for ``load_state_dict``. The header is checked strictly to the safetensors
    format, with bounds on its size, nesting, ranks and dimensions, before any tensor memory
    is allocated, and files from ``cr.save`` are checked against their checksum (tensors,
    names, shapes and metadata) unless ``verify=False``. BF16 tensors are widened to float32.

    Every file refused, whatever its format, raises ``cr.CheckpointError`` (a ``ValueError``)
    naming the file and the problem; only regular files are opened (a pipe or a directory is
    refused, never waited on); a missing file is a ``FileNotFoundError``.

    A PyTorch checkpoint (the zip format of ``torch.save`` and the legacy stream) is read by
    chainrule's own restricted pickle interpreter: tensors (sharing storage as saved),
    parameters, dtypes and plain containers come back; anything else raises
    ``cr.serialization.UnsafeGlobalError`` naming it. **chainrule never executes pickle**:
    ``weights_only=False`` is accepted but enables nothing more (a deliberate difference from
    ``torch.load``); whole ``cr.nn.Module`` files load through the allow-list
    (``cr.serialization.add_safe_globals``) instead.

    ``map_location`` takes PyTorch's forms (``'cpu'``, a device, a dict, a callable); any
    target other than the CPU is an error, as chainrule computes on the CPU. ``mmap`` is
    accepted and the file read eagerly; ``pickle_module`` must be None; ``encoding`` decodes
    Python 2 strings in legacy files.

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> cr.save({"fc.weight": cr.eye(2)}, path)
        >>> cr.load(path, map_location="cpu")["fc.weight"]
        tensor([[1., 0.],
                [0., 1.]])
    """
    from .serialization import torch_archive
    from .serialization.location import check_map_location

    encoding = _check_load_options(pickle_module, weights_only, mmap, pickle_load_args)
    if not isinstance(verify, bool):
        raise TypeError(f"load: verify must be a bool, got {verify!r}")
    file, size, where, head = _sniff(f)
    with file:
        if head.startswith(torch_archive.ZIP_MAGIC):
            return torch_archive.load_zip(file, size, where, map_location, weights_only,
                                          encoding)
        if torch_archive.looks_like_legacy(head):
            return torch_archive.load_legacy(file, size, where, map_location, weights_only,
                                             encoding)
        if torch_archive.looks_like_tar(head):
            raise CheckpointError(f"{where}: a tar-format PyTorch file (PyTorch before 0.4); "
                             "chainrule does not read it: re-save it with a recent torch "
                             "(torch.save(torch.load(f), f2)) and load that")
        restore = check_map_location(map_location, where)
        tensors, meta = _read(file, size, where, verify)
    _restore_all(tensors, restore)
    if _STRUCTURE not in meta:
        return tensors
    return _rebuild(tensors, meta, where)


def _restore_all(tensors: dict[str, Tensor], restore) -> None:
    """Apply ``map_location`` to the storages of a safetensors file (all on the CPU)."""
    from .serialization.storage import Storage

    for name, t in tensors.items():
        restore(Storage(name, t._data.dtype, t._data.nbytes, "cpu", lambda: None), "cpu")


def _rebuild(tensors: dict[str, Tensor], meta: dict[str, str], where: str) -> Any:
    from .serialization.structure import Rebuilder, parse

    version = meta.get(_FORMAT, _FORMAT_VERSION)
    if version not in _KNOWN_FORMATS:
        raise CheckpointError(f"{where}: chainrule format {version!r:.20} is newer than this "
                              f"version of chainrule reads ({', '.join(_KNOWN_FORMATS)}); "
                              "upgrade chainrule")
    return Rebuilder(tensors, meta, where).rebuild(parse(meta[_STRUCTURE], _STRUCTURE, where))


def load_metadata(path: PathOrFile) -> dict[str, str]:
    """The ``metadata`` given to ``cr.save`` (or, for other files, their whole
    ``__metadata__``), read from the header alone (checked as ``load`` checks it; the
    checksum, which needs the tensor data, is checked by ``load`` only).

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> cr.save({"w": cr.ones(1)}, path, metadata={"author": "me"})
        >>> cr.io.load_metadata(path)
        {'author': 'me'}
    """
    f, size, where = _open(path)
    with f:
        meta = read_header(f, size, where).metadata
    if _STRUCTURE not in meta:
        return meta
    from .serialization.structure import parse, value_paths

    own = set(_RESERVED) | value_paths(parse(meta[_STRUCTURE], _STRUCTURE, where))
    return {k: v for k, v in meta.items() if k not in own}
