"""``chainrule.nn.parallel``: PyTorch's data-parallel wrappers, not available yet.

chainrule runs in one process on the CPU. This module exists so that programs importing
``torch.nn.parallel`` names load; constructing ``DataParallel`` or
``DistributedDataParallel``, or calling one of the functions, raises ``NotImplementedError``.

Example:
    >>> import chainrule as cr
    >>> cr.nn.DataParallel(cr.nn.Linear(2, 2))
    Traceback (most recent call last):
    ...
    NotImplementedError: chainrule.nn.parallel.DataParallel: data-parallel training ...
"""

from ..._unavailable import unavailable_class, unavailable_function
from ..modules.module import Module

_DP = "data-parallel training over several devices"
_DDP = "distributed data-parallel training (several processes)"

DataParallel = unavailable_class(_DP, "chainrule.nn.parallel.DataParallel", Module)
DistributedDataParallel = unavailable_class(
    _DDP, "chainrule.nn.parallel.DistributedDataParallel", Module)
data_parallel = unavailable_function(_DP, "chainrule.nn.parallel.data_parallel")
replicate = unavailable_function(_DP, "chainrule.nn.parallel.replicate")
scatter = unavailable_function(_DP, "chainrule.nn.parallel.scatter")
gather = unavailable_function(_DP, "chainrule.nn.parallel.gather")
parallel_apply = unavailable_function(_DP, "chainrule.nn.parallel.parallel_apply")

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather",
           "parallel_apply", "replicate", "scatter"]
