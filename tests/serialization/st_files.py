"""Safetensors files taken apart and put back together by hand, for tests that edit them."""

import json
import struct

from chainrule.serialization import checksum


def split(raw: bytes) -> tuple[dict, bytes]:
    """The parsed header and the tensor bytes of a (valid) safetensors file."""
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def join(header: dict | str | bytes, data: bytes, n: int | None = None) -> bytes:
    """A file from a header (a dict, or JSON text used as is) and tensor bytes; ``n``
    overrides the length prefix."""
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(header, str):
        header = header.encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(header) if n is None else n) + header + data


def reseal(header: dict, data: bytes) -> dict:
    """``header`` with its ``chainrule.checksum`` recomputed for its (edited) content, as a
    forger would, so a test reaches the checks behind the checksum."""
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        return header  # nothing to reseal: the header is refused before its checksum
    meta.pop(checksum.KEY, None)
    tensors = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        try:
            begin, end = e["data_offsets"]
            tensors[name] = (e["dtype"], list(e["shape"]), data[begin:end])
        except Exception:  # a malformed entry, refused before the checksum is looked at
            tensors[name] = (repr(e), [], b"")
    meta[checksum.KEY] = checksum.digest(tensors, meta)
    return header
