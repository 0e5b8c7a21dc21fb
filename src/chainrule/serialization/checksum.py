"""The checksum ``cr.save`` writes into every file, and its check on ``cr.load``.

``chainrule.checksum`` (in ``__metadata__``) is ``"sha256:"`` and the SHA-256 of the file's
*content*: every tensor's name, dtype, shape and bytes, and every metadata entry (the
structure of the saved object and its values included), the checksum itself aside. So a
changed offset (two tensors' bytes swapped), dtype, shape, name, metadata value or data byte
is detected, while a file another tool rewrites with the same content (another tensor order,
other padding) still passes. It guards against corruption, not against a forger, who can
recompute it.

Files written before this checksum carry ``chainrule.sha256``, the digest of the tensor bytes
alone, in file order; they are still checked that way. A file that carries chainrule's
entries but neither checksum is refused: one flipped bit in the checksum's key must not turn
the check off. Files from other writers (no chainrule entries) have nothing to check.

Example:
    >>> import numpy as np
    >>> from chainrule.serialization.checksum import digest
    >>> a = np.zeros(2, "<f4")
    >>> digest({"w": ("F32", (2,), memoryview(a).cast("B"))}, {}).startswith("sha256:")
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import struct
from collections.abc import Iterable, Mapping

import numpy as np

from .errors import CheckpointError
from .safetensors_format import Header

KEY = "chainrule.checksum"
LEGACY_KEY = "chainrule.sha256"
_SCHEME = b"chainrule.checksum/1\n"
_VALUE = re.compile(r"sha256:[0-9a-f]{64}")


def digest(tensors: Mapping[str, tuple[str, Iterable[int], memoryview | bytes]],
           metadata: Mapping[str, str]) -> str:
    """``"sha256:<hex>"`` of ``tensors`` (name -> (dtype name, shape, bytes)) and
    ``metadata``: a canonical summary (sorted, JSON) of the names, dtypes, shapes and metadata,
    then each tensor's bytes in name order."""
    names = sorted(tensors)
    summary = json.dumps({
        "metadata": sorted([k, v] for k, v in metadata.items() if k != KEY),
        "tensors": [[n, tensors[n][0], list(tensors[n][1])] for n in names],
    }, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    h = hashlib.sha256(_SCHEME)
    h.update(struct.pack("<Q", len(summary)))
    h.update(summary)
    for n in names:
        h.update(tensors[n][2])
    return "sha256:" + h.hexdigest()


def verify(header: Header, data: np.ndarray, reserved: tuple[str, ...], where: str) -> None:
    """Check the checksum of a file whose checked ``header`` and tensor ``data`` (uint8) were
    read; files that hold none of chainrule's ``reserved`` entries have nothing to check."""
    meta = header.metadata
    if KEY in meta:
        if not _VALUE.fullmatch(meta[KEY]):
            raise CheckpointError(f"{where}: the {KEY} entry is malformed: "
                                  f"{meta[KEY]!r:.80}")
        view = memoryview(data)
        got = digest({n: (e.dtype, e.shape, view[e.begin:e.end])
                      for n, e in header.entries.items()}, meta)
        if not hmac.compare_digest(got, meta[KEY]):
            raise CheckpointError(
                f"{where}: checksum mismatch: the file changed after it was written (a tensor's "
                "bytes, name, dtype, shape or offsets, or a metadata entry); it is corrupt or "
                "was edited. cr.load(..., verify=False) reads it anyway")
    elif LEGACY_KEY in meta:
        if hashlib.sha256(data).hexdigest() != meta[LEGACY_KEY]:
            raise CheckpointError(f"{where}: checksum mismatch: the tensor data is corrupt")
    elif any(k in meta for k in reserved):
        found = ", ".join(k for k in reserved if k in meta)
        raise CheckpointError(
            f"{where}: the file holds chainrule's entries ({found}) but not its checksum "
            f"({KEY}); it is corrupt or was edited. cr.load(..., verify=False) reads it anyway")
