"""``cr.backends.openmp``: chainrule runs no OpenMP code of its own.

Example:
    >>> import chainrule as cr
    >>> cr.backends.openmp.is_available()
    False
"""


def is_available() -> bool:
    """False: chainrule has no OpenMP parallel region (BLAS threads: ``cr.set_num_threads``)."""
    return False
