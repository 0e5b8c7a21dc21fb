"""mpi4py, imported on first use only: ``import chainrule`` never loads an MPI library.

The ``mpi`` extra installs it together with MPICH's wheel (``pip install 'chainrule[mpi]'``),
which puts ``mpiexec`` next to the Python interpreter.
"""

from __future__ import annotations

MISSING = ("chainrule.distributed needs mpi4py and an MPI library: install the 'mpi' extra "
           "(pip install 'chainrule[mpi]', which brings mpi4py and MPICH)")


def mpi():
    """The ``mpi4py.MPI`` module; ImportError naming the ``mpi`` extra when it is missing.

    Example:
        >>> from chainrule.distributed._mpi import mpi
        >>> mpi().COMM_WORLD.Get_size() >= 1  # doctest: +SKIP
        True
    """
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{MISSING} ({e})") from None
    return MPI


def available() -> bool:
    """Whether mpi4py can be imported, without importing it (which would start MPI)."""
    import importlib.util

    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False
