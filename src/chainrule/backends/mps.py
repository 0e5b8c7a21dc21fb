"""``cr.backends.mps``: Apple's Metal backend, which chainrule does not have.

Example:
    >>> import chainrule as cr
    >>> cr.backends.mps.is_available(), cr.backends.mps.is_built()
    (False, False)
"""


def is_available() -> bool:
    """False: no MPS device."""
    return False


def is_built() -> bool:
    """False: chainrule has no MPS backend."""
    return False
