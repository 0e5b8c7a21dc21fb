"""Allocator tuning: stop glibc from handing big freed arrays back to the OS on every step.

A training step allocates the same large temporaries (activations, their gradients) again and
again. By default glibc serves any block above 128 KiB-32 MiB (a threshold that adapts) with
its own ``mmap`` and unmaps it on ``free``, and it trims the top of the heap when more than
128 KiB is free. Each step then maps fresh memory, and the kernel zero-fills it page by page on
first touch: page faults that made the big MLP and the CNN 1.6-2x slower than the arithmetic.

Three ``mallopt`` settings at import make freed blocks stay in the process for reuse:

- ``M_MMAP_THRESHOLD`` 32 MiB (the largest glibc accepts): blocks below it come from the heap;
  setting it also turns off the adaptive threshold.
- ``M_TRIM_THRESHOLD`` 1 GiB: do not give free heap memory back to the OS until that much is
  free at the top.
- ``M_TOP_PAD`` 64 MiB: grow the heap in large steps, so fewer ``brk`` calls.

The cost is that the process keeps up to ~1 GiB of freed memory mapped instead of returning it.
Set the environment variable ``CHAINRULE_NO_MALLOPT=1`` before importing chainrule to keep
glibc's defaults. On other C libraries (macOS, Windows, musl) this module does nothing.
"""

from __future__ import annotations

import ctypes
import os

# glibc's option numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

SETTINGS = {
    M_MMAP_THRESHOLD: 32 * 1024 * 1024,
    M_TRIM_THRESHOLD: 1024 * 1024 * 1024,
    M_TOP_PAD: 64 * 1024 * 1024,
}

applied = False  # True once the settings are in force (for tests and diagnostics)


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # no confstr, or the name is unknown here
        return False


def tune_malloc() -> bool:
    """Apply the settings above; return whether they are now in force."""
    global applied
    if applied:
        return True
    if os.environ.get("CHAINRULE_NO_MALLOPT", "") not in ("", "0") or not _is_glibc():
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; keep going on a refusal so the other settings still apply.
    applied = all([mallopt(option, value) == 1 for option, value in SETTINGS.items()])
    return applied


tune_malloc()
