"""A pickle reader that only rebuilds NumPy arrays (for the classic ``mnist.pkl.gz``).

This is the one place in chainrule that touches ``pickle``. Unpickling can run arbitrary code
through the globals a stream names; this reader admits only the few globals a pickled
``ndarray`` needs, so a malicious file fails with an error instead of running anything.
"""

from __future__ import annotations

import codecs
import io
import pickle

import numpy as np

try:  # NumPy 2 moved the module; old pickles still name numpy.core
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes at protocol 2
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` refuses everything but array reconstruction."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this file may only contain NumPy arrays"
            ) from None


def _check(obj):
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise pickle.UnpicklingError("refusing an object array: only numeric arrays allowed")
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _check(item)
    elif obj is not None and not isinstance(obj, (int, float, str, bytes)):
        raise pickle.UnpicklingError(f"unexpected {type(obj).__name__} in an array pickle")
    return obj


def load_arrays(data: bytes, encoding: str = "latin1"):
    """Unpickle ``data`` that holds only (tuples/lists of) numeric NumPy arrays.

    ``encoding='latin1'`` reads Python 2 pickles, whose array bytes are stored as ``str``.

    Example:
        >>> import pickle, numpy as np
        >>> load_arrays(pickle.dumps((np.arange(3),)))[0].tolist()
        [0, 1, 2]
    """
    return _check(NumpyOnlyUnpickler(io.BytesIO(data), encoding=encoding).load())
