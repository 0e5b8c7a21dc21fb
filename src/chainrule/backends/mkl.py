"""``cr.backends.mkl``: Intel MKL, which chainrule does not use (NumPy's OpenBLAS does its BLAS).

Example:
    >>> import chainrule as cr
    >>> cr.backends.mkl.is_available()
    False
"""


def is_available() -> bool:
    """False: chainrule does not use MKL."""
    return False
