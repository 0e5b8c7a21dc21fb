"""Opening checkpoint files safely, and replacing them atomically.

Reading: only regular files are opened. ``stat`` looks first, so a named pipe, a directory, a
device or a socket is refused before ``open`` touches it (opening a pipe blocks until a writer
comes, reading ``/dev/zero`` never ends); the file is then opened non-blocking and checked
again with ``fstat``, in case the name was swapped in between.

Writing: ``cr.save`` writes a temporary file next to the target (``.<name>.<random>.tmp``),
flushes and fsyncs it, renames it over the target and fsyncs the directory, so the target is
always the old file or the new one. A save killed on the way leaves its temporary file behind;
the next save of the same path removes it. A save in progress holds an exclusive ``flock`` on
its temporary file until the rename, and the kernel drops the lock when a process dies, so a
temporary file nobody holds a lock on is garbage, and one still locked belongs to a live save
(another process writing the same path) and is left alone. Where ``flock`` does not exist
(Windows), leftovers are not cleaned.

Example:
    >>> import os, tempfile
    >>> from chainrule.serialization.files import atomic_write, open_regular
    >>> path = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> atomic_write(path, lambda f: f.write(b"abc"))
    >>> f, size = open_regular(path, "load")
    >>> with f:
    ...     f.read(), size
    (b'abc', 3)
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from .errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_TEMP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")  # tempfile's names


def _kind(mode: int) -> str | None:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def _require_regular(mode: int, path: str) -> None:
    kind = _kind(mode)
    if kind is not None:
        raise CheckpointError(f"{path}: is {kind}, not a regular file; chainrule reads "
                              "checkpoints only from regular files")


def open_regular(path: str, who: str = "load") -> tuple[BinaryIO, int]:
    """Open the regular file ``path`` for reading, never blocking; returns it and its size.
    Anything but a regular file is a ``CheckpointError``; a missing file a
    ``FileNotFoundError``."""
    try:
        _require_regular(os.stat(path).st_mode, path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{who}: no such file {path!r}") from None
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        _require_regular(st.st_mode, path)
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


# ---- atomic replacement -----------------------------------------------------------------------
def _temp_names(directory: str, base: str) -> list[str]:
    prefix = f".{base}."
    out = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            middle = name[len(prefix):-len(".tmp")]
            if (name.startswith(prefix) and name.endswith(".tmp") and len(middle) == 8
                    and set(middle) <= _TEMP_CHARS):
                out.append(entry.path)
    return out


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def remove_stale_temps(directory: str, base: str) -> int:
    """Remove the temporary files that interrupted saves of ``directory/base`` left behind:
    those no live save holds a lock on. Returns how many were removed."""
    if fcntl is None:
        return 0
    removed = 0
    for path in _temp_names(directory, base):
        try:
            fd = os.open(path, _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            held = os.fstat(fd)
            if not stat.S_ISREG(held.st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a save in progress
            if _same_file(os.lstat(path), held):
                os.unlink(path)
                removed += 1
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def _locked_temp(directory: str, base: str) -> tuple[int, str]:
    """A new temporary file for ``base`` in ``directory``, locked by this save."""
    for _ in range(100):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # A concurrent cleanup may have taken it between mkstemp and flock.
            if _same_file(os.stat(tmp), os.fstat(fd)):
                return fd, tmp
        except OSError:
            pass  # locked by a cleanup, which removes it
        os.close(fd)
    raise OSError(f"save: could not create a temporary file in {directory!r}")


def atomic_write(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Replace ``path`` with what ``write(f)`` writes, atomically and durably: the target is
    always either its old content or the new one, even if the process is killed."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} does not exist")
    remove_stale_temps(directory, base)
    fd, tmp = _locked_temp(directory, base)
    f = None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; match a plain open()
        f = os.fdopen(fd, "wb")
        write(f)
        f.flush()
        os.fsync(f.fileno())
        if fcntl is None:  # Windows cannot rename an open file
            f.close()
        os.replace(tmp, path)  # under the lock: no cleanup can take the file before this
    except BaseException:
        if f is None:
            os.close(fd)
        elif not f.closed:
            f.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if not f.closed:
        f.close()
    # The rename itself survives a power cut only once the directory entry is on disk.
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
