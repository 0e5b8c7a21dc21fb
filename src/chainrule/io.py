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
- ``chainrule.sha256``: a checksum of the tensor bytes, so ``load`` detects corrupted data,
  not just a corrupted header.

Writes are atomic and durable: a temporary file in the same directory, flushed and fsynced,
renamed over the target, then the directory is fsynced.

``load`` tells the formats apart by their first bytes: a zip archive or a legacy stream is a
PyTorch checkpoint and goes to ``chainrule.serialization.torch_archive``; anything else is
read as safetensors.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
from typing import Any, BinaryIO

import numpy as np

from .tensor import Tensor, _wrap

_TO_NAME = {np.dtype(t): n for n, t in [
    ("F64", np.float64), ("F32", np.float32), ("F16", np.float16), ("I64", np.int64),
    ("I32", np.int32), ("I16", np.int16), ("I8", np.int8), ("U64", np.uint64),
    ("U32", np.uint32), ("U16", np.uint16), ("U8", np.uint8), ("BOOL", np.bool_)]}
_FROM_NAME = {n: t.newbyteorder("<") for t, n in _TO_NAME.items()}
_BF16 = "BF16"  # NumPy has no bfloat16: read as float32 (exact), never written
_MAX_HEADER = 100_000_000  # the limit safetensors itself enforces
_STRUCTURE, _SHA256, _FORMAT = "chainrule.structure", "chainrule.sha256", "chainrule.format"
_RESERVED = (_STRUCTURE, _SHA256, _FORMAT)
_FORMAT_VERSION = "1"  # files with modules, dtypes or globals say "2"
_KNOWN_FORMATS = ("1", "2")

PathOrFile = str | os.PathLike | BinaryIO


# ---- arrays as safetensors stores them ------------------------------------------------------
def _to_storable(a: np.ndarray | np.generic, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.newbyteorder("=") not in _TO_NAME:
        raise TypeError(f"save: {name!r} has dtype {a.dtype}, which safetensors cannot store "
                        f"(supported: {', '.join(str(d) for d in _TO_NAME)})")
    # Contiguous little-endian bytes: safetensors' own NumPy writer gets views (a.T, a[::2]) wrong.
    # (ascontiguousarray turns 0-d into 1-d, hence the reshape.)
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(a.shape)


# ---- writing ----------------------------------------------------------------------------------
def _serialize_header(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, a in arrays.items():
        header[name] = {"dtype": _TO_NAME[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad so the tensor bytes start 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw


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
    buffers, ``training``); its forward hooks are not saved.

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> cr.save({"w": cr.ones(2, 3), "opt": {"step": 10, "lrs": [0.1, 0.01]}}, path)
        >>> ckpt = cr.load(path)
        >>> ckpt["w"].shape, ckpt["opt"]
        ((2, 3), {'step': 10, 'lrs': [0.1, 0.01]})
    """
    from .serialization.structure import Flattener

    meta = _check_metadata(metadata)
    flat = Flattener(_to_storable, _RESERVED)
    structure = flat.node(obj, "", root=True)
    for key in flat.values:
        if key in meta:
            raise ValueError(f"save: metadata key {key!r} clashes with an entry of obj")
    # Larger items first: every tensor then starts aligned to its own item size.
    arrays = dict(sorted(flat.arrays.items(), key=lambda kv: -kv[1].dtype.itemsize))
    digest = hashlib.sha256()
    for a in arrays.values():
        digest.update(_bytes_of(a))
    meta.update(flat.values)
    meta.update({_FORMAT: "2" if flat.uses_modules else _FORMAT_VERSION,
                 _STRUCTURE: json.dumps(structure),
                 _SHA256: digest.hexdigest()})
    header = _serialize_header(arrays, meta)
    if hasattr(path, "write"):
        _write_all(path, header, arrays)
        return
    _atomic_write(os.fspath(path), header, arrays)


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


def _write_all(f: BinaryIO, header: bytes, arrays: dict[str, np.ndarray]) -> None:
    f.write(header)
    for a in arrays.values():
        f.write(_bytes_of(a))


def _atomic_write(path: str, header: bytes, arrays: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; match a plain open()
        with os.fdopen(fd, "wb") as f:
            _write_all(f, header, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    # The rename itself survives a power cut only once the directory entry is on disk.
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ---- reading ----------------------------------------------------------------------------------
def _read_header(f: BinaryIO, size: int, where: str) -> tuple[dict, int]:
    if size < 8:
        raise ValueError(f"{where}: {size} bytes is too short for a safetensors file")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER or 8 + n > size:
        raise ValueError(f"{where}: header length {n} does not fit the file ({size} bytes); "
                         "it is truncated or not a safetensors file")
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{where}: the header is not valid JSON; the file is corrupt") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: the header is not a JSON object; the file is corrupt")
    return header, 8 + n


def _check_entries(header: dict, data_len: int,
                   where: str) -> tuple[dict[str, tuple], dict[str, str]]:
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise ValueError(f"{where}: __metadata__ must map strings to strings")
    entries = {}
    for name, info in header.items():
        try:
            dtype_name, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise ValueError(f"{where}: malformed header entry for {name!r}") from None
        if dtype_name != _BF16 and dtype_name not in _FROM_NAME:
            raise ValueError(f"{where}: tensor {name!r} has unsupported dtype {dtype_name!r}")
        itemsize = 2 if dtype_name == _BF16 else _FROM_NAME[dtype_name].itemsize
        ints = [*shape, begin, end] if isinstance(shape, list) else None
        if ints is None or not all(type(v) is int and v >= 0 for v in ints):
            raise ValueError(f"{where}: tensor {name!r} has an invalid shape or offsets")
        if end - begin != int(np.prod(shape, dtype=np.int64)) * itemsize:
            raise ValueError(f"{where}: tensor {name!r}: offsets [{begin}, {end}] do not match "
                             f"shape {shape} of {dtype_name}")
        entries[name] = (dtype_name, tuple(shape), begin, end)
    pos = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2:]):
        if begin != pos:
            kind = "overlaps another tensor" if begin < pos else "leaves a gap before it"
            raise ValueError(f"{where}: tensor {name!r} {kind}; the header is corrupt")
        pos = end
    if pos > data_len:
        raise ValueError(f"{where}: the file is truncated: the header describes {pos} bytes of "
                         f"tensor data but only {data_len} follow it")
    if pos < data_len:
        raise ValueError(f"{where}: {data_len - pos} unexpected bytes after the tensor data; "
                         "the file is corrupt")
    return entries, meta


def _open(path: PathOrFile):
    if hasattr(path, "read"):
        data = path.read()
        return io.BytesIO(data), len(data), "load"
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {path!r}")
    return open(path, "rb"), os.path.getsize(path), path


def _read(f: BinaryIO, size: int, where: str, verify: bool):
    header, start = _read_header(f, size, where)
    entries, meta = _check_entries(header, size - start, where)
    buf = np.empty(size - start, dtype=np.uint8)
    if f.readinto(memoryview(buf)) != buf.size:
        raise ValueError(f"{where}: the file changed size while being read")
    if verify and _SHA256 in meta and hashlib.sha256(buf).hexdigest() != meta[_SHA256]:
        raise ValueError(f"{where}: checksum mismatch: the tensor data is corrupt")
    tensors = {}
    for name, (dtype_name, shape, begin, end) in entries.items():
        raw = buf[begin:end]
        if dtype_name == _BF16:
            a = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = raw.view(_FROM_NAME[dtype_name])
            if not a.dtype.isnative:
                a = a.astype(a.dtype.newbyteorder("="))
            elif begin % a.dtype.itemsize:
                a = a.copy()  # a foreign writer left it unaligned
        tensors[name] = _wrap(a.reshape(shape))
    return tensors, meta


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
    dict, ready for ``load_state_dict``. The header is validated (size, dtypes, offsets in
    range, no overlaps) and, for files from ``cr.save``, the tensor bytes are checked against
    their checksum unless ``verify=False``; problems raise ``ValueError``. BF16 tensors are
    widened to float32.

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
            raise ValueError(f"{where}: a tar-format PyTorch file (PyTorch before 0.4); "
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
    from .serialization.structure import Rebuilder

    version = meta.get(_FORMAT, _FORMAT_VERSION)
    if version not in _KNOWN_FORMATS:
        raise ValueError(f"{where}: chainrule format {version!r:.20} is newer than this "
                         f"version of chainrule reads ({', '.join(_KNOWN_FORMATS)}); upgrade "
                         "chainrule")
    try:
        structure = json.loads(meta[_STRUCTURE])
        return Rebuilder(tensors, meta, where).node(structure)
    except RecursionError:
        raise ValueError(f"{where}: the {_STRUCTURE} entry is nested too deeply") from None
    except json.JSONDecodeError:
        raise ValueError(f"{where}: the {_STRUCTURE} entry is not valid JSON") from None


def load_metadata(path: PathOrFile) -> dict[str, str]:
    """The ``metadata`` given to ``cr.save`` (or, for other files, their whole
    ``__metadata__``), read from the header alone.

    Example:
        >>> import chainrule as cr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
        >>> cr.save({"w": cr.ones(1)}, path, metadata={"author": "me"})
        >>> cr.io.load_metadata(path)
        {'author': 'me'}
    """
    f, size, where = _open(path)
    with f:
        header, start = _read_header(f, size, where)
    _, meta = _check_entries(header, size - start, where)
    if _STRUCTURE not in meta:
        return meta
    from .serialization.structure import value_paths

    own = set(_RESERVED) | value_paths(json.loads(meta[_STRUCTURE]))
    return {k: v for k, v in meta.items() if k not in own}

