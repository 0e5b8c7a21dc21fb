"""``chainrule.distributed``: PyTorch's multi-process communication, not available yet.

The questions ``is_available()``, ``is_initialized()`` and ``is_*_available()`` answer False, as
PyTorch's do in a build without distributed support, so programs that check first run as one
process. Every other function (``init_process_group``, ``all_reduce``, ``get_rank`` ...) and
class raises ``NotImplementedError`` when used.

Example:
    >>> import chainrule.distributed as dist
    >>> dist.is_available(), dist.is_initialized()
    (False, False)
"""

from __future__ import annotations

from .._unavailable import unavailable_class, unavailable_function

_FEATURE = "distributed training (chainrule.distributed)"


def is_available() -> bool:
    """False: chainrule has no distributed backend yet.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.is_available()
        False
    """
    return False


def is_initialized() -> bool:
    """False: no process group can have been initialised.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.is_initialized()
        False
    """
    return False


def _no(name: str):
    def answer() -> bool:
        return False

    answer.__name__ = answer.__qualname__ = name
    answer.__doc__ = "False: chainrule has no distributed backend yet."
    return answer


def _stub(name: str):
    return unavailable_function(_FEATURE, f"chainrule.distributed.{name}")


is_nccl_available = _no("is_nccl_available")
is_gloo_available = _no("is_gloo_available")
is_mpi_available = _no("is_mpi_available")
is_torchelastic_launched = _no("is_torchelastic_launched")

init_process_group = _stub("init_process_group")
destroy_process_group = _stub("destroy_process_group")
new_group = _stub("new_group")
get_rank = _stub("get_rank")
get_world_size = _stub("get_world_size")
get_backend = _stub("get_backend")
get_global_rank = _stub("get_global_rank")
barrier = _stub("barrier")
monitored_barrier = _stub("monitored_barrier")
broadcast = _stub("broadcast")
broadcast_object_list = _stub("broadcast_object_list")
all_reduce = _stub("all_reduce")
reduce = _stub("reduce")
all_gather = _stub("all_gather")
all_gather_object = _stub("all_gather_object")
gather = _stub("gather")
scatter = _stub("scatter")
reduce_scatter = _stub("reduce_scatter")
all_to_all = _stub("all_to_all")
send = _stub("send")
recv = _stub("recv")
isend = _stub("isend")
irecv = _stub("irecv")

ReduceOp = unavailable_class(_FEATURE, "chainrule.distributed.ReduceOp")
ProcessGroup = unavailable_class(_FEATURE, "chainrule.distributed.ProcessGroup")
Backend = unavailable_class(_FEATURE, "chainrule.distributed.Backend")
