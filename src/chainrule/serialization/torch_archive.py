"""Reading PyTorch's checkpoint files (``torch.save``) without executing pickle.

Two container formats exist:

- the zip archive ``torch.save`` writes since PyTorch 1.6: ``<name>/data.pkl`` (the object,
  pickled, with each storage as a persistent id ``('storage', type, key, location, numel)``),
  ``<name>/data/<key>`` (each storage's raw bytes), ``<name>/byteorder``, ``<name>/version``;
- the legacy stream (``_use_new_zipfile_serialization=False``): a magic-number pickle, a
  protocol-version pickle, a system-info pickle, the object's pickle, a pickle of the storage
  keys, then each storage as an 8-byte element count and its bytes.

Both are read with chainrule's restricted interpreter (``pickle_vm``) and PyTorch's
tensor allow-list (``torch_globals``). Archive members are read by exact name, only when
uncompressed and inside the file, with every size checked before anything is allocated; the
older tar format (PyTorch < 0.4) and TorchScript archives are refused.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

from .errors import UnpicklingError
from .location import check_map_location, check_saved_location
from .pickle_vm import Unpickler
from .storage import Storage, itemsize
from .torch_globals import StorageType, TorchGlobals

ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_PICKLE = 1 << 30  # bytes of data.pkl; real ones are kilobytes to a few megabytes
_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")


def looks_like_legacy(head: bytes) -> bool:
    """The legacy stream starts with a pickle (PROTO opcode) of the magic number."""
    return head[:1] == b"\x80" and _LEGACY_MAGIC.to_bytes(10, "little") in head[:32]


def looks_like_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"


class _Options:
    def __init__(self, where: str, map_location, weights_only: bool | None,
                 encoding: str) -> None:
        self.where, self.encoding = where, encoding
        self.restore = check_map_location(map_location, where)
        self.weights_only_false = weights_only is False


def _persistent_load(opts: _Options, storages: dict[str, Storage],
                     reader: Callable[[str, int], Callable[[], np.ndarray]], byteorder: str,
                     check_location: bool = True):
    """Turn a storage's persistent id into a ``Storage`` (one per key, shared)."""
    def load(pid: Any) -> Storage:
        if not isinstance(pid, tuple) or len(pid) not in (5, 6):
            raise UnpicklingError(f"{opts.where}: unexpected persistent id {pid!r:.80}")
        kind, storage_type, key, location, numel = (
            v.decode("ascii", "replace") if isinstance(v, bytes) else v for v in pid[:5])
        if kind != "storage" or not isinstance(storage_type, StorageType):
            raise UnpicklingError(f"{opts.where}: unexpected persistent id {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise UnpicklingError(f"{opts.where}: storage views (saved by PyTorch before 0.4) "
                                  "are not supported")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise UnpicklingError(f"{opts.where}: invalid storage key {key!r:.80}")
        if type(numel) is not int or numel < 0:
            raise UnpicklingError(f"{opts.where}: invalid size for storage {key!r}")
        check_saved_location(location, opts.where)
        if key in storages:
            return storages[key]
        dtype = storage_type.dtype
        nbytes = numel * (itemsize(dtype) if dtype is not None else 1)
        storage = Storage(key, dtype, nbytes, location, reader(key, nbytes), byteorder)
        if check_location:
            opts.restore(storage, location)
        storages[key] = storage
        return storage
    return load


def _run(data, pos: int, opts: _Options, persistent_load=None,
         dry_run: bool = False) -> tuple[Any, int]:
    g = TorchGlobals(opts.where, opts.weights_only_false, dry_run)
    u = Unpickler(data, pos, find_global=g.find_global, persistent_load=persistent_load,
                  new_object=g.new_object, build=g.build, encoding=opts.encoding)
    try:
        return u.load(), u.pos
    except UnpicklingError as e:
        if not str(e).startswith(opts.where):  # name the file in every message
            e.args = (f"{opts.where}: {e}",)
        raise


# ---- the zip archive ---------------------------------------------------------------------------
def _members(zf: zipfile.ZipFile, size: int, where: str) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
            raise UnpicklingError(f"{where}: the archive holds a member with an unsafe path "
                                  f"{name!r}; refusing it")
        if name in members:
            raise UnpicklingError(f"{where}: the archive holds two members named {name!r}")
        if info.header_offset + info.compress_size > size:
            raise UnpicklingError(f"{where}: member {name!r} claims more bytes than the file "
                                  "holds; the archive is corrupt")
        members[name] = info
    return members


def _prefix(members: dict[str, zipfile.ZipInfo], where: str) -> str:
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in members):
        raise UnpicklingError(f"{where}: this is a TorchScript archive (torch.jit.save); "
                              "chainrule cannot run TorchScript. Save a state_dict with "
                              "torch.save(model.state_dict(), f) instead")
    roots = [n[:-len("data.pkl")] for n in members
             if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(roots) == 1:
        return roots[0]
    found = "no" if not roots else "several"
    raise UnpicklingError(f"{where}: a zip file with {found} '<name>/data.pkl' members is not a "
                          "PyTorch checkpoint")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, expected: int | None,
                 where: str) -> np.ndarray:
    if info.flag_bits & 0x41:
        raise UnpicklingError(f"{where}: member {info.filename!r} is encrypted; torch.save "
                              "never encrypts")
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise UnpicklingError(f"{where}: member {info.filename!r} is compressed; torch.save "
                              "never compresses, and chainrule refuses compressed members "
                              "(a zip bomb could hide behind them)")
    if expected is not None and info.file_size != expected:
        raise UnpicklingError(f"{where}: storage member {info.filename!r} holds "
                              f"{info.file_size} bytes but the pickle describes {expected}")
    buf = np.empty(info.file_size, dtype=np.uint8)
    view = memoryview(buf)
    try:
        with zf.open(info) as member:
            got = 0
            while got < len(buf):
                n = member.readinto(view[got:])
                if not n:
                    break
                got += n
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as e:  # a corrupt local header: bad offsets, names, flags
        raise UnpicklingError(f"{where}: cannot read member {info.filename!r}: {e}") from None
    if got != len(buf):
        raise UnpicklingError(f"{where}: member {info.filename!r} is truncated")
    return buf


def load_zip(f: BinaryIO, size: int, where: str, map_location=None,
             weights_only: bool | None = None, encoding: str = "ASCII") -> Any:
    """Load a ``torch.save`` zip archive from the seekable binary file ``f`` (``size`` bytes)."""
    opts = _Options(where, map_location, weights_only, encoding)
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise UnpicklingError(f"{where}: not a readable zip archive ({e})") from None
    with zf:
        members = _members(zf, size, where)
        prefix = _prefix(members, where)
        order = members.get(prefix + "byteorder")
        byteorder = "little"
        if order is not None:
            byteorder = bytes(_read_member(zf, order, None, where)).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise UnpicklingError(f"{where}: unknown byte order {byteorder!r:.20}")
        pkl = members[prefix + "data.pkl"]
        if pkl.file_size > _MAX_PICKLE:
            raise UnpicklingError(f"{where}: data.pkl is {pkl.file_size} bytes; refusing "
                                  f"pickles over {_MAX_PICKLE}")
        data = _read_member(zf, pkl, None, where)

        def reader(key: str, nbytes: int):
            name = f"{prefix}data/{key}"
            if name not in members:
                raise UnpicklingError(f"{where}: the pickle refers to storage {key!r}, but the "
                                      f"archive has no member {name!r}")
            info = members[name]
            if info.file_size != nbytes:  # checked now, before anything is read
                raise UnpicklingError(f"{where}: storage member {name!r} holds "
                                      f"{info.file_size} bytes but the pickle describes "
                                      f"{nbytes}")
            return lambda: _read_member(zf, info, nbytes, where)

        storages: dict[str, Storage] = {}
        obj, end = _run(data, 0, opts, _persistent_load(opts, storages, reader, byteorder))
        if end != len(data):
            raise UnpicklingError(f"{where}: {len(data) - end} bytes after the pickle in "
                                  "data.pkl; the file is corrupt")
        return obj


# ---- the legacy stream -------------------------------------------------------------------------
def load_legacy(f: BinaryIO, size: int, where: str, map_location=None,
                weights_only: bool | None = None, encoding: str = "ASCII") -> Any:
    """Load the pre-1.6 stream format (still written with
    ``torch.save(..., _use_new_zipfile_serialization=False)``) from the binary file ``f``."""
    data = np.empty(size, dtype=np.uint8)  # one writable buffer: storages are views of it
    if f.readinto(memoryview(data)) != size:
        raise UnpicklingError(f"{where}: the file changed size while being read")
    opts = _Options(where, map_location, weights_only, encoding)
    magic, pos = _run(data, 0, opts)
    if magic != _LEGACY_MAGIC:
        raise UnpicklingError(f"{where}: invalid magic number; not a PyTorch file")
    version, pos = _run(data, pos, opts)
    if version != _LEGACY_PROTOCOL:
        raise UnpicklingError(f"{where}: unsupported legacy protocol version {version!r:.20}")
    sys_info, pos = _run(data, pos, opts)
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    byteorder = "little" if little else "big"
    start = pos

    # Pass 1 learns each storage's type and size (the data follows the pickle).
    seen: dict[str, Storage] = {}
    _, pos = _run(data, start, opts, _persistent_load(opts, seen, lambda k, n: None, byteorder),
                  dry_run=True)
    keys, pos = _run(data, pos, opts)
    if not isinstance(keys, list) or set(keys) != set(seen) or len(keys) != len(seen):
        raise UnpicklingError(f"{where}: the storage key list does not match the pickle")
    blobs: dict[str, np.ndarray] = {}
    for key in keys:
        if pos + 8 > len(data):
            raise UnpicklingError(f"{where}: the file is truncated before storage {key!r}")
        (count,) = struct.unpack("<q" if little else ">q", data[pos:pos + 8].tobytes())
        pos += 8
        dtype, nbytes = seen[key].dtype, seen[key].nbytes()
        if count * (itemsize(dtype) if dtype is not None else 1) != nbytes or (
                pos + nbytes > len(data)):
            raise UnpicklingError(f"{where}: storage {key!r} does not match its description "
                                  "or the file is truncated")
        blobs[key] = data[pos:pos + nbytes]
        pos += nbytes
    if pos != len(data):
        raise UnpicklingError(f"{where}: {len(data) - pos} unexpected bytes at the end")

    # Pass 2 rebuilds the object on the storages' bytes.
    obj, _ = _run(data, start, opts, _persistent_load(
        opts, {}, lambda k, n: (lambda: blobs[k]), byteorder, check_location=False))
    return obj
