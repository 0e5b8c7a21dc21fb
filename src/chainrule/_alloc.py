"""Allocator tuning: stop glibc from handing big freed arrays back to the OS on every step.

A training step allocates the same large temporaries (activations, their gradients) again and
again. By default glibc serves any block above 128 KiB-32 MiB (a threshold that adapts) with
its own ``mmap`` and unmaps it on ``free``, and it trims the top of the heap when more than
128 KiB is free. Each step may then map fresh memory, and the kernel zero-fills it page by page
on first touch: page faults that can make a step slower than its arithmetic.

``tune_allocator`` sets three ``mallopt`` options so freed blocks stay in the process for reuse:

- ``M_MMAP_THRESHOLD`` 32 MiB (the largest glibc accepts): blocks below it come from the heap;
  setting it also turns off the adaptive threshold.
- ``M_TRIM_THRESHOLD`` 1 GiB: do not give free heap memory back to the OS until that much is
  free at the top.
- ``M_TOP_PAD`` 64 MiB: grow the heap in large steps, so fewer ``brk`` calls.

The settings belong to the whole process, not to chainrule: the cost is that the process keeps
up to ~1 GiB of freed memory mapped instead of returning it, which a program that embeds
chainrule may not want. So importing chainrule leaves malloc alone. The settings are applied:

- by an explicit ``cr.tune_allocator()`` (call it before your own training loop);
- by ``cr.train.fit``, the ``chainrule`` command line and the benchmarks, which own their loop;
- when chainrule is imported, if ``CHAINRULE_MALLOPT=1`` is in the environment (for any
  program, without changing its code).

``CHAINRULE_NO_MALLOPT=1`` keeps glibc's defaults everywhere: it wins over all of the above.
On other C libraries (macOS, Windows, musl) nothing happens. Once applied, the settings stay for
the life of the process (glibc cannot turn its adaptive threshold back on).
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

ENV_ON = "CHAINRULE_MALLOPT"  # apply at import
ENV_OFF = "CHAINRULE_NO_MALLOPT"  # never apply

applied = False  # True once the settings are in force (for tests and diagnostics)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # no confstr, or the name is unknown here
        return False


def tune_allocator() -> bool:
    """Make glibc keep freed large arrays for reuse; return whether the settings are in force.

    Call it once before a training loop you write yourself: without it, the large
    temporaries of each step may be unmapped on ``free`` and mapped (and zero-filled by the
    kernel) again on the next step. ``cr.train.fit`` and the ``chainrule`` command line call
    it for you. It changes malloc for the whole process and for the rest of its life: freed
    memory, up to about 1 GiB, stays with the process instead of going back to the OS.

    Returns False, changing nothing, where the C library is not glibc or the environment has
    ``CHAINRULE_NO_MALLOPT=1``. Calling it again is harmless.

    Example:
        >>> import chainrule as cr
        >>> on = cr.tune_allocator()  # True on glibc (Linux), False elsewhere
        >>> isinstance(on, bool)
        True
    """
    global applied
    if applied:
        return True
    if _env_flag(ENV_OFF) or not _is_glibc():
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


if _env_flag(ENV_ON):
    tune_allocator()
