"""``chainrule.distributed``: PyTorch's multi-process communication, over MPI.

A job is several processes (ranks) started together by ``mpiexec``: ``chainrule launch --nproc
N script.py`` runs one. Each calls ``init_process_group("mpi")``, then the collectives
(``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``, ``barrier``...) with
PyTorch's signatures and in-place results. ``chainrule.nn.parallel.DistributedDataParallel``
builds data-parallel training on them and ``chainrule.data.DistributedSampler`` splits the data.

MPI comes from the ``mpi`` extra (mpi4py and MPICH); it is imported only when a process group
is created, so ``import chainrule.distributed`` costs nothing. Point-to-point messages, other
groups than the default one and the object collectives are not available (they raise
``NotImplementedError``); see docs/distributed.md.

Example:
    >>> import chainrule.distributed as dist
    >>> dist.is_available(), dist.is_initialized()
    (True, False)
"""

from __future__ import annotations

from .._unavailable import unavailable_function
from . import _mpi
from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .process_group import (
    Backend,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_initialized,
)
from .reduce_op import ReduceOp


def is_available() -> bool:
    """True: the package is there (a process group also needs the ``mpi`` extra).

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.is_available()
        True
    """
    return True


def is_mpi_available() -> bool:
    """Whether the MPI backend can be used: mpi4py is installed (the ``mpi`` extra).

    Example:
        >>> import chainrule.distributed as dist
        >>> isinstance(dist.is_mpi_available(), bool)
        True
    """
    return _mpi.available()


def _no(name: str, what: str):
    def answer() -> bool:
        return False

    answer.__name__ = answer.__qualname__ = name
    answer.__doc__ = f"False: {what}"
    return answer


is_nccl_available = _no("is_nccl_available", "chainrule's only backend is MPI.")
is_gloo_available = _no("is_gloo_available", "chainrule's only backend is MPI.")
is_torchelastic_launched = _no("is_torchelastic_launched",
                               "chainrule jobs are started by mpiexec, not torchelastic.")

_FEATURE = "this part of distributed training (chainrule.distributed)"


def _stub(name: str):
    return unavailable_function(_FEATURE, f"chainrule.distributed.{name}")


new_group = _stub("new_group")
get_global_rank = _stub("get_global_rank")
monitored_barrier = _stub("monitored_barrier")
broadcast_object_list = _stub("broadcast_object_list")
all_gather_object = _stub("all_gather_object")
gather = _stub("gather")
scatter = _stub("scatter")
all_to_all = _stub("all_to_all")
send = _stub("send")
recv = _stub("recv")
isend = _stub("isend")
irecv = _stub("irecv")

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_reduce", "barrier", "broadcast", "destroy_process_group",
    "get_backend", "get_rank", "get_world_size", "group", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available", "reduce", "reduce_scatter", "reduce_scatter_tensor",
]
