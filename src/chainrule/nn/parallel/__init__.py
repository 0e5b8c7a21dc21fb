"""``chainrule.nn.parallel``: ``DistributedDataParallel`` over MPI ranks.

``DistributedDataParallel`` trains one model replica per process of an MPI job (see
``chainrule.distributed``). ``DataParallel`` and its helpers split a batch over several
devices of one process; chainrule has only the CPU, so constructing ``DataParallel`` or calling
one of the functions raises ``NotImplementedError``.

Example:
    >>> import chainrule as cr
    >>> cr.nn.DataParallel(cr.nn.Linear(2, 2))
    Traceback (most recent call last):
    ...
    NotImplementedError: chainrule.nn.parallel.DataParallel: data-parallel training ...
"""

from ..._unavailable import unavailable_class, unavailable_function
from ..modules.module import Module
from .distributed import DistributedDataParallel

_DP = "data-parallel training over several devices"

DataParallel = unavailable_class(_DP, "chainrule.nn.parallel.DataParallel", Module)
data_parallel = unavailable_function(_DP, "chainrule.nn.parallel.data_parallel")
replicate = unavailable_function(_DP, "chainrule.nn.parallel.replicate")
scatter = unavailable_function(_DP, "chainrule.nn.parallel.scatter")
gather = unavailable_function(_DP, "chainrule.nn.parallel.gather")
parallel_apply = unavailable_function(_DP, "chainrule.nn.parallel.parallel_apply")

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather",
           "parallel_apply", "replicate", "scatter"]
