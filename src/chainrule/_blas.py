"""A fused ``y += a * x`` (BLAS ``axpy``) from the BLAS library NumPy itself loaded.

NumPy has no fused multiply-add over arrays: ``y += a * x`` writes the temporary ``a * x`` the
size of ``x`` and reads it back, so an optimizer update on a large weight streams it through
memory three times. BLAS ``axpy`` makes one pass (vectorised, with FMA), and BLAS runs it on
its own thread pool, the one that just did the layer's matrix products. On a 1M-element
float32 weight that is about 2x faster than NumPy's two passes.

NumPy's wheels bundle OpenBLAS as "scipy-openblas" next to the package; that is the library
searched for, so no second BLAS is loaded. Elsewhere (conda's MKL, macOS Accelerate, a NumPy
built from source) nothing is found and ``axpy_`` does NumPy's two passes: the same values up to
the last bit (a fused multiply-add rounds once). ``CHAINRULE_NO_BLAS=1`` in the environment
turns the BLAS path off.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

# Below this many elements the ctypes call (about a microsecond) is not worth it.
MIN_SIZE = 8192


def libraries():
    """The OpenBLAS libraries bundled with NumPy (as loaded ``ctypes.CDLL``), usually one."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    here = os.path.dirname(np.__file__)
    candidates = []
    for pattern in (os.path.join(root, "numpy.libs", "libscipy_openblas*"),
                    os.path.join(here, ".dylibs", "libscipy_openblas*")):
        candidates += sorted(glob.glob(pattern))
    found = []
    for path in candidates:
        try:
            found.append(ctypes.CDLL(path))
        except OSError:
            continue
    return found


def _find():
    """``{dtype: axpy function}`` from NumPy's bundled OpenBLAS, or ``{}``."""
    if os.environ.get("CHAINRULE_NO_BLAS", "").strip() not in ("", "0"):
        return {}
    for lib in libraries():
        found = {}
        for dtype, name, ctype in ((np.dtype(np.float32), "saxpy", ctypes.c_float),
                                   (np.dtype(np.float64), "daxpy", ctypes.c_double)):
            for symbol, int_t in ((f"scipy_cblas_{name}64_", ctypes.c_int64),
                                  (f"scipy_cblas_{name}", ctypes.c_int)):
                fn = getattr(lib, symbol, None)
                if fn is not None:
                    fn.restype = None
                    fn.argtypes = [int_t, ctype, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t]
                    found[dtype] = fn
                    break
        if found:
            return found
    return {}


_AXPY = _find()
available = bool(_AXPY)


def _address(a: np.ndarray) -> int:
    """The address of a C-contiguous array's first element. ``a.ctypes.data`` builds a Python
    helper object on every call (~1.4 us); a ctypes view of a writable buffer is ~0.4 us."""
    if a.flags.writeable:
        return ctypes.addressof(ctypes.c_char.from_buffer(a))
    return a.ctypes.data


def axpy_(y: np.ndarray, x: np.ndarray, alpha, scratch: np.ndarray | None = None) -> None:
    """``y += alpha * x`` in place (``scratch``, shaped like ``y``, may be overwritten; without
    one the NumPy fallback allocates its temporary).

    Example:
        >>> import numpy as np
        >>> from chainrule._blas import axpy_
        >>> y = np.ones(3); axpy_(y, np.arange(3.0), 2.0, np.empty(3)); y.tolist()
        [1.0, 3.0, 5.0]
    """
    fn = _AXPY.get(y.dtype) if y.size >= MIN_SIZE else None
    if (fn is not None and x.dtype is y.dtype and x.shape == y.shape
            and y.flags.c_contiguous and y.flags.writeable and x.flags.c_contiguous
            and not np.may_share_memory(x, y)):
        fn(y.size, float(alpha), _address(x), 1, _address(y), 1)
        return
    np.add(y, np.multiply(x, alpha, out=scratch), out=y)
