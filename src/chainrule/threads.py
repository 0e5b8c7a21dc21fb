"""``set_num_threads`` / ``get_num_threads``: the threads chainrule's matrix products use.

chainrule's heavy work (matrix products, convolutions as products) runs in the OpenBLAS that
NumPy ships; its elementwise work is single-threaded NumPy. So the thread count PyTorch's
``set_num_threads`` sets is OpenBLAS's, changed for the whole process through OpenBLAS's own
``openblas_set_num_threads``. Where NumPy uses another BLAS (a conda MKL build, macOS
Accelerate) no such call is found: the number is then stored and reported but changes nothing;
set ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` before starting Python instead.

Example:
    >>> import chainrule as cr
    >>> n = cr.get_num_threads()
    >>> cr.set_num_threads(1); cr.get_num_threads()
    1
    >>> cr.set_num_threads(n)
"""

from __future__ import annotations

import ctypes
import os

from . import _blas

_SET = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
        "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
        "openblas_get_num_threads64_", "openblas_get_num_threads")
_control: tuple | None = None  # (set, get) from OpenBLAS, () when there is none
_stored = {"intra": None, "interop": None}


def _openblas() -> tuple:
    global _control
    if _control is None:
        _control = ()
        for lib in _blas.libraries():
            set_ = next((getattr(lib, s) for s in _SET if hasattr(lib, s)), None)
            get = next((getattr(lib, s) for s in _GET if hasattr(lib, s)), None)
            if set_ is not None and get is not None:
                set_.argtypes, set_.restype = [ctypes.c_int], None
                get.argtypes, get.restype = [], ctypes.c_int
                _control = (set_, get)
                break
    return _control


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check(n, where: str) -> int:
    # PyTorch raises RuntimeError for both; matched.
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{where} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{where} expects a positive integer, got {n}")
    return n


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for matrix products (OpenBLAS's pool, process-wide).

    Example:
        >>> import chainrule as cr
        >>> n = cr.get_num_threads(); cr.set_num_threads(2); cr.set_num_threads(n)
    """
    n = _check(n, "set_num_threads")
    control = _openblas()
    if control:
        control[0](n)
    _stored["intra"] = n


def get_num_threads() -> int:
    """The threads matrix products use (OpenBLAS's count; else the stored or core count).

    Example:
        >>> import chainrule as cr
        >>> cr.get_num_threads() >= 1
        True
    """
    control = _openblas()
    if control:
        return int(control[1]())
    return _stored["intra"] or _cores()


def set_num_interop_threads(n: int) -> None:
    """Stored and reported only: chainrule runs no ops in parallel with each other."""
    _stored["interop"] = _check(n, "set_num_interop_threads")


def get_num_interop_threads() -> int:
    """What ``set_num_interop_threads`` stored (the core count by default)."""
    return _stored["interop"] or _cores()
