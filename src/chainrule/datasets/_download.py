"""Fetch a file over HTTP(S) with a SHA-256 check, a progress line and an atomic move."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

_CHUNK = 1 << 16


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "f"); _ = open(p, "wb").write(b"abc")
        >>> sha256_file(p)[:16]
        'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_readable(path: str) -> None:
    """Give a ``mkstemp`` file (created 0600) the permissions a plain ``open`` would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


class _Progress:
    """``\\r``-updated bar on a terminal; one plain line at the end otherwise (clean logs)."""

    def __init__(self, name: str, total: int | None, stream=None) -> None:
        self.name, self.total, self.done = name, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.last = time.monotonic()

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty and now - self.last > 0.1:
            self.last = now
            if self.total:
                frac = self.done / self.total
                bar = "#" * int(30 * frac)
                self.stream.write(f"\r{self.name}: [{bar:<30}] {100 * frac:5.1f}%")
            else:
                self.stream.write(f"\r{self.name}: {self.done / 1e6:.1f} MB")
            self.stream.flush()

    def close(self) -> None:
        secs = time.monotonic() - self.start
        end = "\r" if self.tty else ""
        self.stream.write(f"{end}{self.name}: {self.done / 1e6:.1f} MB in {secs:.1f} s\n")
        self.stream.flush()


def download(url: str, dest: str | os.PathLike, sha256: str | None = None,
             timeout: float = 10.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest``, verify its SHA-256, and move it into place atomically.

    The bytes go to a temporary file next to ``dest``, so an interrupted download never
    leaves a partial file under the final name. Raises ``OSError`` on network failure and
    ``ValueError`` on a checksum mismatch (the temporary file is removed in both cases).

    Example:
        >>> download("https://example.org/train-images-idx3-ubyte.gz", "/tmp/x.gz",
        ...          sha256="440f...")  # doctest: +SKIP
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        make_readable(tmp)
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            bar = _Progress(dest.name, int(length) if length else None) if progress else None
            for block in iter(lambda: resp.read(_CHUNK), b""):
                out.write(block)
                h.update(block)
                if bar:
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if bar:
            bar.close()
        if sha256 is not None and h.hexdigest() != sha256.lower():
            raise ValueError(f"{url}: SHA-256 mismatch (expected {sha256}, got {h.hexdigest()})")
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest
