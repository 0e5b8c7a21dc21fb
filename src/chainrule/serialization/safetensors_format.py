"""The safetensors format, read strictly: what the reference ``safetensors`` library refuses,
chainrule refuses, and a little more, all before the tensor data is allocated.

A file is an 8-byte little-endian header length ``N``, ``N`` bytes of UTF-8 JSON, then the
tensor bytes. The rules checked here, each a ``CheckpointError`` naming the file:

- the file holds at least 8 bytes; ``N`` is at most 100,000,000 (the reference limit) and fits
  in the file;
- the header is UTF-8, starts with ``{``, is strict JSON (no ``NaN``, no key twice in one
  object, whitespace only after it) and nests at most 3 levels (``{"name": {"shape": [..]}}``);
- ``__metadata__``, if present, is an object of strings to strings;
- every other key is a tensor whose entry has exactly the fields ``dtype``, ``shape`` and
  ``data_offsets``; the dtype is one the format defines (those NumPy cannot hold, float8 and
  smaller, are refused with a message saying so); the shape is at most 64 non-negative
  integers (NumPy's limits) whose product times the item size stays below 2**63 (zeros
  aside, as NumPy counts);
  the offsets are two integers ``begin <= end`` with ``end - begin`` the tensor's size;
- the tensors, sorted by offset, tile the data exactly: no gap, no overlap, nothing after;
- names and metadata are valid Unicode (no lone surrogates).

Example:
    >>> import io
    >>> from chainrule.serialization.safetensors_format import read_header, header_bytes
    >>> import numpy as np
    >>> raw = header_bytes({"w": np.zeros(2, "<f4")}, {"k": "v"}) + bytes(8)
    >>> h = read_header(io.BytesIO(raw), len(raw), "f.safetensors")
    >>> h.entries["w"].shape, h.metadata
    ((2,), {'k': 'v'})
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from .errors import CheckpointError
from .json_limits import loads

MAX_HEADER = 100_000_000  # the reference library's limit
MAX_RANK = 64  # NumPy's
MAX_BYTES = 2**63 - 1  # NumPy's sizes are signed 64-bit
HEADER_DEPTH = 3
METADATA = "__metadata__"
FIELDS = ("dtype", "shape", "data_offsets")

# The format's dtypes NumPy holds, little-endian as stored. BF16 is read as float32 (exact).
NUMPY_DTYPES: dict[str, np.dtype] = {name: np.dtype(code) for name, code in [
    ("F64", "<f8"), ("F32", "<f4"), ("F16", "<f2"), ("I64", "<i8"), ("I32", "<i4"),
    ("I16", "<i2"), ("I8", "i1"), ("U64", "<u8"), ("U32", "<u4"), ("U16", "<u2"), ("U8", "u1"),
    ("BOOL", "?"), ("C64", "<c8")]}
BF16 = "BF16"
# Defined by the format, but NumPy has no such types.
NOT_IN_NUMPY = ("F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F6_E2M3",
                "F6_E3M2", "F4")
WRITABLE = {dt: name for name, dt in NUMPY_DTYPES.items() if name != "C64"}


def itemsize(dtype_name: str) -> int:
    return 2 if dtype_name == BF16 else NUMPY_DTYPES[dtype_name].itemsize


@dataclass(frozen=True)
class Entry:
    """One tensor of the header: its dtype name, shape and byte range in the data."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A checked header: the tensors in the order the file lists them, ``__metadata__``,
    where the data starts, and the header's raw bytes (length prefix included)."""

    entries: dict[str, Entry]
    metadata: dict[str, str]
    data_start: int
    raw: bytes


# ---- writing ----------------------------------------------------------------------------------
def header_bytes(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The length prefix and header for ``arrays`` (little-endian, contiguous, stored in this
    order), padded with spaces so the tensor data starts 8-byte aligned."""
    header: dict[str, Any] = {METADATA: metadata}
    offset = 0
    for name, a in arrays.items():
        header[name] = {"dtype": WRITABLE[a.dtype.newbyteorder("<")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


# ---- reading ----------------------------------------------------------------------------------
def read_header(f: BinaryIO, size: int, where: str) -> Header:
    """Read and check the header of the safetensors file ``f`` (``size`` bytes, positioned at
    its start); ``f`` is left at the start of the tensor data."""
    if size < 8:
        raise CheckpointError(f"{where}: {size} bytes is too short for a safetensors file (at "
                              "least 8)")
    prefix = f.read(8)
    if len(prefix) != 8:
        raise CheckpointError(f"{where}: the file changed size while being read")
    (n,) = struct.unpack("<Q", prefix)
    if n > MAX_HEADER:
        raise CheckpointError(f"{where}: header length {n} is over the format's limit of "
                              f"{MAX_HEADER} bytes; the file is corrupt or not safetensors")
    if 8 + n > size:
        raise CheckpointError(f"{where}: header length {n} does not fit the file ({size} "
                              "bytes); it is truncated or not a safetensors file")
    raw = f.read(n)
    if len(raw) != n:
        raise CheckpointError(f"{where}: the file changed size while being read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{where}: the header is not UTF-8 JSON ({e.reason} at byte "
                              f"{8 + e.start}); the file is corrupt or not safetensors") from None
    if not text.startswith("{"):
        raise CheckpointError(f"{where}: the header does not start with '{{' (it must be a JSON "
                              "object); the file is corrupt or not safetensors")
    parsed = loads(text, HEADER_DEPTH, "the header", where, raw=raw)
    entries, metadata = check_header(parsed, size - 8 - n, where)
    return Header(entries, metadata, 8 + n, prefix + raw)


def _unicode(text: str, what: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{where}: {what} holds an unpaired surrogate (\\ud800-\\udfff); "
                              "it is not valid Unicode") from None


def _metadata(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise CheckpointError(f"{where}: {METADATA} must be an object of strings to strings, "
                              f"got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(v, str):
            raise CheckpointError(f"{where}: {METADATA} entry {k!r:.80} is a "
                                  f"{type(v).__name__}; the format allows only strings")
        _unicode(k, f"{METADATA} key {k!r:.80}", where)
        _unicode(v, f"{METADATA} entry {k!r:.80}", where)
    return value


def _is_count(v: Any) -> bool:
    return type(v) is int and v >= 0


def _entry(name: str, info: Any, where: str) -> Entry:
    what = f"{where}: tensor {name!r:.80}"
    if not isinstance(info, dict):
        raise CheckpointError(f"{what}: malformed entry: it must be an object, got "
                              f"{type(info).__name__}")
    if set(info) != set(FIELDS):
        missing = [k for k in FIELDS if k not in info]
        extra = [k for k in info if k not in FIELDS]
        raise CheckpointError(f"{what}: malformed entry: it must have exactly the fields "
                              f"{list(FIELDS)}; "
                              + (f"missing {missing}" if missing else f"unknown {extra}"))
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or (dtype not in NUMPY_DTYPES and dtype != BF16):
        if dtype in NOT_IN_NUMPY:
            raise CheckpointError(f"{what} has dtype {dtype}, which NumPy (and so chainrule) "
                                  "cannot hold")
        raise CheckpointError(f"{what} has unknown dtype {dtype!r:.40}")
    if not isinstance(shape, list) or len(shape) > MAX_RANK or not all(map(_is_count, shape)):
        raise CheckpointError(f"{what}: invalid shape {shape!r:.80}: it must be a list of at "
                              f"most {MAX_RANK} non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets)):
        raise CheckpointError(f"{what}: invalid data_offsets {offsets!r:.80}: they must be "
                              "two non-negative integers")
    begin, end = offsets
    # NumPy refuses an array whose non-zero dimensions times the item size pass 2**63 - 1,
    # even an empty one; the product is checked as it grows, so it stays small.
    span, numel = itemsize(dtype), 1
    for n in shape:
        numel *= n
        span *= max(n, 1)
        if span > MAX_BYTES:
            raise CheckpointError(f"{what}: shape {shape!r:.80} of {dtype} spans more than "
                                  f"2**63 - 1 bytes (NumPy's limit); the header is corrupt")
    nbytes = numel * itemsize(dtype)
    if begin > end or end - begin != nbytes:
        raise CheckpointError(f"{what}: data_offsets [{begin}, {end}] do not hold shape "
                              f"{shape!r:.80} of {dtype} ({nbytes} bytes)")
    return Entry(dtype, tuple(shape), begin, end)


def check_header(parsed: dict, data_len: int, where: str) -> tuple[dict[str, Entry],
                                                                    dict[str, str]]:
    """The tensors and metadata of a parsed header, checked against ``data_len`` bytes of
    tensor data."""
    metadata: dict[str, str] = {}
    entries: dict[str, Entry] = {}
    for name, info in parsed.items():
        if name == METADATA:
            metadata = _metadata(info, where)
            continue
        _unicode(name, f"tensor name {name!r:.80}", where)
        entries[name] = _entry(name, info, where)
    pos = 0
    for name, e in sorted(entries.items(), key=lambda kv: (kv[1].begin, kv[1].end)):
        if e.begin != pos:
            kind = "overlaps the one before it" if e.begin < pos else "leaves a gap before it"
            raise CheckpointError(f"{where}: tensor {name!r:.80} at bytes [{e.begin}, {e.end}] "
                                  f"{kind}; the header is corrupt")
        pos = e.end
    if pos > data_len:
        raise CheckpointError(f"{where}: the file is truncated: the header describes {pos} "
                              f"bytes of tensor data but only {data_len} follow it")
    if pos < data_len:
        raise CheckpointError(f"{where}: {data_len - pos} unexpected bytes after the tensor "
                              "data; the file is corrupt")
    return entries, metadata


def array_of(data: np.ndarray, entry: Entry) -> np.ndarray:
    """The tensor ``entry`` of the checked ``data`` (a uint8 buffer), in native byte order:
    a view where the bytes are aligned, else a copy."""
    raw = data[entry.begin:entry.end]
    if entry.dtype == BF16:
        # bfloat16 is the top half of a float32: shifting it up is exact.
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).reshape(entry.shape)
    a = raw.view(NUMPY_DTYPES[entry.dtype])
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    elif entry.begin % a.dtype.itemsize:
        a = a.copy()  # a foreign writer left it unaligned
    return a.reshape(entry.shape)
