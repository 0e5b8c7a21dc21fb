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
    meta = header.setdefault("__metadata__", {})
    meta.pop(checksum.KEY, None)
    tensors = {name: (e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]])
               for name, e in header.items() if name != "__metadata__"}
    meta[checksum.KEY] = checksum.digest(tensors, meta)
    return header
