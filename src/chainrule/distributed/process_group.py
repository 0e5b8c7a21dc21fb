"""The default process group: ``init_process_group`` and the questions about it.

chainrule has one backend, MPI (``"mpi"``): the ranks and the world size are MPI's, so a job is
started by ``mpiexec`` (``chainrule launch`` runs it for you), and there is no rendezvous to set
up (no ``MASTER_ADDR``, ``init_method`` or store). The group talks over a private duplicate of
``MPI_COMM_WORLD``, so a program's own mpi4py messages never mix with chainrule's.
"""

from __future__ import annotations

import datetime
import os

from ._mpi import mpi


class Backend:
    """Backend names, as PyTorch spells them; chainrule implements ``MPI`` only.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.Backend.MPI
        'mpi'
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"


class ProcessGroup:
    """A set of ranks that run collectives together; chainrule has the default group (every
    rank of the job) only. ``rank()`` and ``size()`` answer as in PyTorch.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.ProcessGroup  # doctest: +ELLIPSIS
        <class '...ProcessGroup'>
    """

    def __init__(self, comm) -> None:
        self.comm = comm
        self._rank, self._size = comm.Get_rank(), comm.Get_size()

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return Backend.MPI

    def __repr__(self) -> str:
        return f"<ProcessGroup mpi rank {self._rank} of {self._size}>"


class _State:
    group: ProcessGroup | None = None


_STATE = _State()


class group:
    """``dist.group.WORLD``: the default group once initialised (None before), as in PyTorch."""

    WORLD: ProcessGroup | None = None


GroupMember = group
_World = group  # functions below take PyTorch's argument name ``group``


def _not_initialized(where: str) -> ValueError:
    return ValueError(f"{where}: Default process group has not been initialized, please make "
                      "sure to call init_process_group.")


def default_group(group_arg=None, where: str = "chainrule.distributed") -> ProcessGroup:
    """The default group; ``group_arg`` must be None or that group."""
    pg = _STATE.group
    if pg is None:
        raise _not_initialized(where)
    if group_arg is not None and group_arg is not pg:
        raise ValueError(f"{where}: group must be None or dist.group.WORLD (chainrule has only "
                         f"the default group), got {group_arg!r}")
    return pg


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Join the job's process group: every rank started by ``mpiexec`` calls it once.

    ``backend`` must be ``"mpi"`` (or None, which means it). ``world_size`` and ``rank`` may be
    given only to check them against MPI's; ``init_method``, ``store`` and the rest of
    PyTorch's rendezvous arguments do not apply to MPI and must stay unset. Run as a plain
    ``python script.py``, the job is a single rank (world size 1).

    Example:
        >>> import chainrule.distributed as dist  # in a script run by `chainrule launch`
        >>> dist.init_process_group("mpi")  # doctest: +SKIP
        >>> dist.get_rank(), dist.get_world_size()  # doctest: +SKIP
        (0, 2)
    """
    where = "init_process_group"
    if _STATE.group is not None:
        raise ValueError(f"{where}: trying to initialize the default process group twice!")
    name = Backend.MPI if backend is None else backend
    if not isinstance(name, str) or name.lower() != Backend.MPI:
        raise ValueError(
            f"{where}: backend {backend!r} is not available: chainrule's only backend is "
            "'mpi' (start the job with `chainrule launch --nproc N script.py` and pass "
            "backend='mpi')")
    for arg, value in (("init_method", init_method), ("store", store),
                       ("pg_options", pg_options)):
        if value is not None:
            raise ValueError(f"{where}: {arg} does not apply to the MPI backend (mpiexec "
                             f"starts and connects the ranks); leave it unset")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{where}: timeout must be a datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()
    pg = ProcessGroup(comm)
    for arg, value, actual in (("world_size", world_size, pg.size()),
                               ("rank", rank, pg.rank())):
        if isinstance(value, bool) or not isinstance(value, int):
            comm.Free()
            raise TypeError(f"{where}: {arg} must be an integer, got {type(value).__name__}")
        if value != -1 and value != actual:
            comm.Free()
            raise ValueError(f"{where}: {arg}={value} but mpiexec started this process as "
                             f"{arg} {actual}; leave {arg} unset (MPI decides it)")
    _STATE.group = _World.WORLD = pg


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the process group; ``init_process_group`` may be called again afterwards.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.destroy_process_group()  # doctest: +SKIP
    """
    pg = default_group(group, "destroy_process_group")
    _STATE.group = _World.WORLD = None
    pg.comm.Free()


def is_initialized() -> bool:
    """Whether ``init_process_group`` has been called (and not destroyed since).

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.is_initialized()
        False
    """
    return _STATE.group is not None


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank, 0 to ``get_world_size() - 1``.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.get_rank()  # doctest: +SKIP
        0
    """
    return default_group(group, "get_rank").rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in the job.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.get_world_size()  # doctest: +SKIP
        2
    """
    return default_group(group, "get_world_size").size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """``"mpi"``, the backend of the default group.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.get_backend()  # doctest: +SKIP
        'mpi'
    """
    return default_group(group, "get_backend").name()


def launched_rank() -> tuple[int, int] | None:
    """``(rank, world_size)`` from the environment mpiexec gives its processes, without
    starting MPI; None outside an MPI job."""
    for r, s in (("PMI_RANK", "PMI_SIZE"), ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")):
        if r in os.environ and s in os.environ:
            try:
                return int(os.environ[r]), int(os.environ[s])
            except ValueError:
                return None
    return None
