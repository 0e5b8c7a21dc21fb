"""``DistributedDataParallel``: data-parallel training over the ranks of an MPI job.

Each rank runs the same model on its share of every batch; during backward the gradients are
averaged over the ranks (``reducer.Reducer``), so after ``backward()`` every rank holds the
gradient of the mean loss over the whole global batch, and identical optimizer steps keep the
replicas identical.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...autograd.grad_mode import GRAD
from ..modules.module import Module
from .reducer import Reducer


def _group(process_group, where: str):
    from ...distributed.process_group import default_group

    return default_group(process_group, where)


def _broadcast_from_zero(tensors: list, group) -> None:
    """Rank 0's values into ``tensors`` on every rank: one broadcast per dtype."""
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for dtype, ts in by_dtype.items():
        flat = np.concatenate([np.ravel(t._data) for t in ts]) if ts else np.zeros(0, dtype)
        group.comm.Bcast(flat.view(np.uint8) if dtype == np.bool_ else flat, root=0)
        start = 0
        for t in ts:
            n = t._data.size
            if group.rank() != 0:
                np.copyto(t._data, flat[start:start + n].reshape(t._data.shape))
                t._version += 1
            start += n


def _check_same_model(named: list, group) -> None:
    """Every rank must wrap a model of the same parameter and buffer shapes and dtypes."""
    text = ";".join(f"{name}:{tuple(t.shape)}:{t._data.dtype.str}" for name, t in named)
    mine = np.array([len(named), zlib.crc32(text.encode())], np.int64)
    every = np.empty((group.size(), 2), np.int64)
    group.comm.Allgather(mine, every)
    if not (every == mine).all():
        raise RuntimeError(
            "DistributedDataParallel: the ranks wrap different models (their parameters and "
            f"buffers differ in number, names, shapes or dtypes); rank {group.rank()} has "
            f"{len(named)} tensors. Build the same model on every rank.")


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: one replica per rank, gradients averaged.

    - At construction, rank 0's parameters and buffers are copied to every rank (so the
      replicas start equal whatever each rank's seed was).
    - Each forward runs ``module`` on this rank's inputs; with ``broadcast_buffers`` (the
      default) a training forward first copies rank 0's buffers (BatchNorm's running stats).
    - Backward averages the gradients over the ranks in buckets, overlapping the all-reduce with
      the rest of the backward pass; when ``backward()`` returns the gradients are averaged and
      identical on every rank, so clip or inspect them before ``optimizer.step()`` as usual.
    - ``no_sync()``: backward passes of forwards run inside it only accumulate local gradients
      (gradient accumulation); the next synchronised backward averages the accumulated sum.
    - ``module`` is the wrapped model. ``state_dict()`` keys start with ``module.``, as in
      PyTorch: save ``ddp.module.state_dict()`` for a checkpoint that loads into the bare model
      (or strip the prefix with ``consume_prefix_in_state_dict_if_present``).

    Parameters no rank used in a forward keep their ``.grad``, and a parameter used on some
    ranks only is averaged with zeros from the others (PyTorch's ``find_unused_parameters=True``
    behaviour, always on; the flag is accepted). ``device_ids`` and ``output_device`` must be
    None (CPU); ``gradient_as_bucket_view`` and ``static_graph`` are accepted and change nothing.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist  # under `chainrule launch`
        >>> dist.init_process_group("mpi")  # doctest: +SKIP
        >>> model = cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(4, 2))  # doctest: +SKIP
        >>> model(cr.randn(8, 4)).sum().backward()  # doctest: +SKIP
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False) -> None:
        where = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{where}: module must be a chainrule.nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError(f"{where}: device_ids and output_device must be None: chainrule "
                             "runs on the CPU, one replica per process")
        if dim != 0:
            raise ValueError(f"{where}: dim must be 0 (each rank gets its own batch), got {dim}")
        cap = 25.0 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not cap > 0:
            raise ValueError(f"{where}: bucket_cap_mb must be a number > 0, got "
                             f"{bucket_cap_mb!r}")
        group = _group(process_group, where)
        super().__init__()
        self.module = module
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(f"{where} is not needed when a module doesn't have any "
                               "parameter that requires a gradient.")
        d = self.__dict__  # plain attributes, kept out of the module tree and the state dict
        d["process_group"], d["dim"] = group, dim
        d["broadcast_buffers"] = bool(broadcast_buffers)
        d["find_unused_parameters"] = bool(find_unused_parameters)
        d["gradient_as_bucket_view"], d["static_graph"] = gradient_as_bucket_view, static_graph
        d["require_backward_grad_sync"] = True
        d["bucket_bytes_cap"] = int(cap * 1024 * 1024)
        named = list(module.named_parameters()) + list(module.named_buffers())
        if group.size() > 1:
            _check_same_model(named, group)
            if init_sync:
                _broadcast_from_zero([t for _, t in named], group)
        # Reverse registration order: the last layers' gradients are ready first.
        d["_reducer"] = Reducer(params[::-1], group, d["bucket_bytes_cap"])

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        reducer = self._reducer
        if reducer.in_pass:  # an exception interrupted the last backward
            reducer.reset()
        if GRAD.enabled:
            reducer.sync = self.require_backward_grad_sync
            if self.broadcast_buffers and self.module.training and self.process_group.size() > 1:
                buffers = list(self.module.buffers())
                if buffers:
                    _broadcast_from_zero(buffers, self.process_group)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside it, forwards prepare backward passes that keep gradients local (accumulated
        in ``.grad``); the first forward-backward outside it averages the accumulated total.

        Example:
            >>> with ddp.no_sync():  # doctest: +SKIP
            ...     loss_fn(ddp(x1), y1).backward()  # local gradients only
            >>> loss_fn(ddp(x2), y2).backward()  # doctest: +SKIP
        """
        old = self.require_backward_grad_sync
        self.__dict__["require_backward_grad_sync"] = False
        try:
            yield
        finally:
            self.__dict__["require_backward_grad_sync"] = old

    def extra_repr(self) -> str:
        return f"world_size={self.process_group.size()}"
