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


def _find(name_of: dict | None = None, argtypes=None):
    """``{dtype: function}`` from NumPy's bundled OpenBLAS (``axpy`` unless ``name_of`` maps
    dtypes to other routine names), or ``{}``."""
    if os.environ.get("CHAINRULE_NO_BLAS", "").strip() not in ("", "0"):
        return {}
    name_of = name_of or {np.dtype(np.float32): "saxpy", np.dtype(np.float64): "daxpy"}
    for lib in libraries():
        found = {}
        for dtype, name in name_of.items():
            ctype = ctypes.c_float if dtype == np.float32 else ctypes.c_double
            for symbol, int_t in ((f"scipy_cblas_{name}64_", ctypes.c_int64),
                                  (f"scipy_cblas_{name}", ctypes.c_int)):
                fn = getattr(lib, symbol, None)
                if fn is not None:
                    fn.restype = None
                    fn.argtypes = (argtypes or _axpy_args)(int_t, ctype)
                    found[dtype] = fn
                    break
        if found:
            return found
    return {}


def _axpy_args(int_t, ctype):
    return [int_t, ctype, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t]


def _gemm_args(int_t, ctype):
    e, p = ctypes.c_int, ctypes.c_void_p  # order, transA, transB (CBLAS enums), pointers
    return [e, e, e, int_t, int_t, int_t, ctype, p, int_t, p, int_t, ctype, p, int_t]


_AXPY = _find()
_GEMM = _find({np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}, _gemm_args)
available = bool(_AXPY)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


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


def _operand(a: np.ndarray):
    """(CBLAS transpose flag, leading dimension) of a 2-D array stored row- or column-major,
    or None for any other layout."""
    item = a.itemsize
    r, c = a.strides
    if c == item and r >= max(a.shape[1], 1) * item and r % item == 0:
        return _NO_TRANS, r // item
    if r == item and c >= max(a.shape[0], 1) * item and c % item == 0:
        return _TRANS, c // item
    return None


def matmul_add_(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """``c += a @ b`` in one BLAS call (beta = 1), when BLAS is available and the layouts allow;
    returns False (and changes nothing) otherwise.

    A dense layer's forward pre-fills its output with the bias and lets the GEMM add the
    product: NumPy's ``dot`` makes BLAS zero the output first, and adding the bias afterwards
    is one more pass over it, 10% of a (700, 10000) output layer's forward.

    Example:
        >>> import numpy as np
        >>> from chainrule._blas import matmul_add_
        >>> c = np.ones((2, 2)); ok = matmul_add_(c, np.eye(2), np.eye(2))
        >>> c.tolist() if ok else [[2.0, 1.0], [1.0, 2.0]]
        [[2.0, 1.0], [1.0, 2.0]]
    """
    fn = _GEMM.get(c.dtype)
    if fn is None or a.dtype != c.dtype or b.dtype != c.dtype or a.ndim != 2 or b.ndim != 2 \
            or c.ndim != 2 or not c.flags.writeable:
        return False
    m, k = a.shape
    n = b.shape[1]
    if b.shape[0] != k or c.shape != (m, n) or min(m, n, k) == 0:
        return False
    fa, fb, fc = _operand(a), _operand(b), _operand(c)
    if fa is None or fb is None or fc is None or fc[0] != _NO_TRANS:
        return False  # c may be a block of columns of a wider array, not a transposed one
    fn(_ROW_MAJOR, fa[0], fb[0], m, n, k, 1.0, a.ctypes.data, fa[1], b.ctypes.data, fb[1], 1.0,
       c.ctypes.data if not c.flags.c_contiguous else _address(c), fc[1])
    return True
