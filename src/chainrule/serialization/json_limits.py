"""JSON from files that may be hostile: strict, and bounded before the parser starts.

Python's ``json`` accepts what JSON forbids and a safetensors reader must refuse (``NaN`` and
``Infinity``, duplicate keys, the last of which silently wins) and recurses once per level of
nesting, so ``[[[[...`` of a few megabytes ends in a ``RecursionError``. ``loads`` refuses
duplicates and non-finite constants, and measures the nesting depth first with a linear scan
(NumPy, in chunks: memory stays flat for any size), so the parser never goes deeper than
``max_depth``.

Example:
    >>> from chainrule.serialization.json_limits import depth, loads
    >>> depth(b'{"a": [[1], "]]]"], "b": {}}', max_depth=3)
    3
    >>> loads('{"a": [1, 2]}', max_depth=2, what="the header", where="f.safetensors")
    {'a': [1, 2]}
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import CheckpointError

_CHUNK = 1 << 22
_QUOTE, _OPENS, _CLOSES = 0x22, (0x5B, 0x7B), (0x5D, 0x7D)


def depth(raw: bytes, max_depth: int) -> int:
    """How deeply ``raw`` (JSON text, UTF-8) nests arrays and objects, as far as comparing
    with ``max_depth`` needs: past it the scan stops and returns a number above it, and a text
    with no more than ``max_depth`` brackets in all is not scanned (its bracket count, a bound
    on its depth, comes back).

    Brackets inside strings do not count. The scan agrees with a JSON parser on every valid
    prefix of the text, which is all a parser reads before it fails, so a parser given text
    that passed never recurses deeper than ``max_depth``.
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:  # cannot nest deeper: most texts
        return min(raw.count(b"[") + raw.count(b"{"), max_depth)
    # Escaped backslashes first, then escaped quotes: every '"' left delimits a string.
    raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    data = np.frombuffer(raw, dtype=np.uint8)
    deepest = level = quotes = 0
    for start in range(0, data.size, _CHUNK):
        chunk = data[start:start + _CHUNK]
        seen = np.cumsum(chunk == _QUOTE, dtype=np.int64)
        outside = ((seen + quotes) & 1) == 0
        quotes += int(seen[-1])
        opens = ((chunk == _OPENS[0]) | (chunk == _OPENS[1])) & outside
        closes = ((chunk == _CLOSES[0]) | (chunk == _CLOSES[1])) & outside
        run = np.cumsum(opens.astype(np.int8) - closes.astype(np.int8), dtype=np.int64)
        deepest = max(deepest, level + int(run.max()))
        level += int(run[-1])
        if deepest > max_depth:
            break
    return deepest


class _Refused(Exception):
    pass


def _unique_keys(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"the key {key!r:.80} appears twice in one object")
            seen.add(key)
    return out


def _no_constant(name: str):
    raise _Refused(f"{name} is not JSON")


def loads(text: str, max_depth: int, what: str, where: str, raw: bytes | None = None,
          constants: bool = False) -> Any:
    """Parse strict JSON nested at most ``max_depth`` deep; anything else is a
    ``CheckpointError`` naming ``where`` (the file) and ``what`` (the part of it). ``raw``:
    ``text`` as UTF-8, when the caller has it already; ``constants``: accept ``NaN`` and
    ``Infinity``, as Python's ``json.dumps`` writes them for non-finite floats."""
    if raw is None:
        raw = text.encode("utf-8", "surrogatepass")
    if depth(raw, max_depth) > max_depth:
        raise CheckpointError(f"{where}: {what} nests more than {max_depth} levels deep; the "
                              "file is corrupt or crafted")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys,
                          parse_constant=None if constants else _no_constant)
    except _Refused as e:
        raise CheckpointError(f"{where}: {what} is not valid: {e}") from None
    except (ValueError, RecursionError) as e:  # JSONDecodeError, over-long integers
        raise CheckpointError(f"{where}: {what} is not valid JSON ({e})") from None
