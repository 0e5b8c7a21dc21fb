"""Collectives on tensors, PyTorch's signatures over MPI: every rank of the default group calls
the same ones in the same order.

Results are written into the tensors passed in, as in PyTorch: ``all_reduce`` and
``broadcast`` change ``tensor``, ``all_gather`` fills ``tensor_list``, ``reduce_scatter``
fills ``output``. ``async_op=True`` returns a ``Work`` whose ``wait()`` finishes the call (the
tensors hold the result only after it); otherwise the call returns None once it is done.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

import numpy as np

from ..tensor import Tensor
from ._mpi import mpi
from .process_group import ProcessGroup, default_group
from .reduce_op import ReduceOp, mpi_op


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it is done and the
    result is in the tensors; ``is_completed()`` asks without blocking.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist
        >>> work = dist.all_reduce(cr.ones(3), async_op=True)  # doctest: +SKIP
        >>> work.wait()  # doctest: +SKIP
        True
    """

    def __init__(self, request, finish: Callable[[], None] | None = None) -> None:
        self._request, self._finish, self._done = request, finish, False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()


def _tensor(t, where: str, arg: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: {arg} must be a chainrule Tensor, got {type(t).__name__}")
    return t


def _writable(t: Tensor) -> tuple[np.ndarray, Callable[[], None]]:
    """A contiguous array holding ``t``'s values that MPI may write into, and the function
    that makes ``t`` hold what was written there."""
    a = t._data
    if type(a) is np.ndarray and a.flags.c_contiguous and a.flags.writeable:
        def done() -> None:
            t._version += 1
        return a, done
    buf = np.ascontiguousarray(a).copy() if type(a) is np.ndarray else np.array(a)

    def copy_back() -> None:
        if type(t._data) is np.ndarray and t._data.flags.writeable:
            np.copyto(t._data, buf)
        else:  # a NumPy scalar or read-only array: nobody else can see its storage
            t._data = buf
        t._version += 1
    return buf, copy_back


def _wire(a: np.ndarray) -> np.ndarray:
    """What MPI sends: bools as bytes (MPI has no arithmetic on C bool)."""
    return a.view(np.uint8) if a.dtype == np.bool_ else a


def _run(comm_call, async_call, async_op: bool, finish: Callable[[], None]):
    if async_op:
        return Work(async_call(), finish)
    comm_call()
    finish()
    return None


def _root(value, pg: ProcessGroup, where: str, arg: str) -> int:
    if value is None:
        raise ValueError(f"{where}: {arg} is required (the rank that holds the data)")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {arg} must be an integer rank, got {type(value).__name__}")
    if not 0 <= int(value) < pg.size():
        raise ValueError(f"{where}: {arg}={value} is not a rank of this job "
                         f"(0 to {pg.size() - 1})")
    return int(value)


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op``; every rank gets the result in place.

    Every rank receives the same bits: MPI reduces in one order for all of them.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist
        >>> t = cr.tensor([1.0, 2.0]) * (dist.get_rank() + 1)  # doctest: +SKIP
        >>> dist.all_reduce(t); t  # with 2 ranks  # doctest: +SKIP
        tensor([3., 6.])
    """
    where = "all_reduce"
    pg = default_group(group, where)
    a, done = _writable(_tensor(tensor, where))
    MPI = mpi()
    mop = mpi_op(MPI, op, a.dtype, where)
    buf = _wire(a)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(a, pg.size(), out=a)
        done()

    return _run(lambda: pg.comm.Allreduce(MPI.IN_PLACE, buf, op=mop),
                lambda: pg.comm.Iallreduce(MPI.IN_PLACE, buf, op=mop), async_op, finish)


def reduce(tensor: Tensor, dst: int | None = None, op: ReduceOp = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op`` into rank ``dst``'s tensor (the others'
    tensors are left as they were).

    Example:
        >>> dist.reduce(t, dst=0)  # doctest: +SKIP
    """
    where = "reduce"
    pg = default_group(group, where)
    root = _root(dst if dst is not None else group_dst, pg, where, "dst")
    a, done = _writable(_tensor(tensor, where))
    MPI = mpi()
    mop = mpi_op(MPI, op, a.dtype, where)
    buf = _wire(a)
    mine = pg.rank() == root
    send = MPI.IN_PLACE if mine else buf
    recv = buf if mine else None

    def finish() -> None:
        if mine:
            if op is ReduceOp.AVG:
                np.divide(a, pg.size(), out=a)
            done()

    return _run(lambda: pg.comm.Reduce(send, recv, op=mop, root=root),
                lambda: pg.comm.Ireduce(send, recv, op=mop, root=root), async_op, finish)


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
              async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist
        >>> t = cr.full((2,), float(dist.get_rank()))  # doctest: +SKIP
        >>> dist.broadcast(t, src=0); t  # doctest: +SKIP
        tensor([0., 0.])
    """
    where = "broadcast"
    pg = default_group(group, where)
    root = _root(src if src is not None else group_src, pg, where, "src")
    a, done = _writable(_tensor(tensor, where))
    buf = _wire(a)
    return _run(lambda: pg.comm.Bcast(buf, root=root),
                lambda: pg.comm.Ibcast(buf, root=root), async_op, done)


def _same_as(t: Tensor, like: Tensor, where: str, what: str) -> None:
    if t.shape != like.shape or t.dtype != like.dtype:
        raise ValueError(f"{where}: {what} has shape {tuple(t.shape)} and dtype {t.dtype}; it "
                         f"must match tensor's {tuple(like.shape)} and {like.dtype}")


def _tensor_list(tensors, pg: ProcessGroup, like: Tensor, where: str,
                 arg: str) -> list[Tensor]:
    if not isinstance(tensors, Sequence) or isinstance(tensors, Tensor):
        raise TypeError(f"{where}: {arg} must be a list of Tensors, got "
                        f"{type(tensors).__name__}")
    tensors = list(tensors)
    if len(tensors) != pg.size():
        raise ValueError(f"{where}: {arg} holds {len(tensors)} tensors; it must hold one per "
                         f"rank ({pg.size()})")
    for i, t in enumerate(tensors):
        _same_as(_tensor(t, where, f"{arg}[{i}]"), like, where, f"{arg}[{i}]")
    return tensors


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Every rank's ``tensor``, in rank order, copied into ``tensor_list`` on every rank.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist
        >>> out = [cr.zeros(1) for _ in range(dist.get_world_size())]  # doctest: +SKIP
        >>> dist.all_gather(out, cr.tensor([float(dist.get_rank())])); out  # doctest: +SKIP
        [tensor([0.]), tensor([1.])]
    """
    where = "all_gather"
    pg = default_group(group, where)
    _tensor(tensor, where)
    targets = _tensor_list(tensor_list, pg, tensor, where, "tensor_list")
    send = np.ascontiguousarray(tensor._data)
    recv = np.empty((pg.size(), *send.shape), send.dtype)

    def finish() -> None:
        for t, part in zip(targets, recv):
            a, done = _writable(t)
            np.copyto(a, part)
            done()

    return _run(lambda: pg.comm.Allgather(_wire(send), _wire(recv)),
                lambda: pg.comm.Iallgather(_wire(send), _wire(recv)), async_op, finish)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's ``input_tensor`` in rank order, into ``output_tensor``: concatenated along
    the first dimension (world size times as long) or stacked (a new first dimension).

    Example:
        >>> out = cr.zeros(2 * dist.get_world_size())  # doctest: +SKIP
        >>> dist.all_gather_into_tensor(out, cr.ones(2))  # doctest: +SKIP
    """
    where = "all_gather_into_tensor"
    pg = default_group(group, where)
    inp, out = _tensor(input_tensor, where, "input_tensor"), _tensor(output_tensor, where,
                                                                   "output_tensor")
    _check_gathered(out, inp, pg, where, "output_tensor", "input_tensor")
    send = np.ascontiguousarray(inp._data)
    a, done = _writable(out)
    return _run(lambda: pg.comm.Allgather(_wire(send), _wire(a)),
                lambda: pg.comm.Iallgather(_wire(send), _wire(a)), async_op, done)


def _check_gathered(big: Tensor, part: Tensor, pg: ProcessGroup, where: str, big_arg: str,
                    part_arg: str) -> None:
    n, shape = pg.size(), tuple(part.shape)
    stacked = (n, *shape)
    joined = (n * shape[0], *shape[1:]) if shape else None
    if big.dtype != part.dtype or tuple(big.shape) not in (stacked, joined):
        raise ValueError(f"{where}: {big_arg} has shape {tuple(big.shape)} and dtype "
                         f"{big.dtype}; for {part_arg} of shape {shape} and dtype {part.dtype} "
                         f"on {n} ranks it must have shape {joined or stacked}"
                         + (f" or {stacked}" if joined else "") + " and the same dtype")


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Combine ``input_list[r]`` over all ranks with ``op`` into rank ``r``'s ``output``.

    Example:
        >>> import chainrule as cr, chainrule.distributed as dist
        >>> n = dist.get_world_size()  # doctest: +SKIP
        >>> out = cr.zeros(1)  # doctest: +SKIP
        >>> dist.reduce_scatter(out, [cr.ones(1) * r for r in range(n)]); out  # doctest: +SKIP
        tensor([0.])
    """
    where = "reduce_scatter"
    pg = default_group(group, where)
    _tensor(output, where, "output")
    parts = _tensor_list(input_list, pg, output, where, "input_list")
    send = np.stack([np.asarray(t._data) for t in parts]) if parts else None
    return _reduce_scatter(output, send, op, pg, async_op, where)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None,
                          async_op: bool = False) -> Work | None:
    """``reduce_scatter`` with the inputs as one tensor: rank ``r`` gets the combined ``r``-th
    block of ``input`` (split along the first dimension, or indexed by it when stacked).

    Example:
        >>> out = cr.zeros(2)  # doctest: +SKIP
        >>> dist.reduce_scatter_tensor(out, cr.ones(2 * dist.get_world_size()))  # doctest: +SKIP
    """
    where = "reduce_scatter_tensor"
    pg = default_group(group, where)
    _tensor(output, where, "output")
    _check_gathered(_tensor(input, where, "input"), output, pg, where, "input", "output")
    return _reduce_scatter(output, np.ascontiguousarray(input._data), op, pg, async_op, where)


def _reduce_scatter(output: Tensor, send: np.ndarray, op, pg: ProcessGroup, async_op: bool,
                    where: str) -> Work | None:
    MPI = mpi()
    a, done = _writable(output)
    mop = mpi_op(MPI, op, a.dtype, where)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(a, pg.size(), out=a)
        done()

    return _run(lambda: pg.comm.Reduce_scatter_block(_wire(send), _wire(a), op=mop),
                lambda: pg.comm.Ireduce_scatter_block(_wire(send), _wire(a), op=mop),
                async_op, finish)


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None,
            timeout: datetime.timedelta | None = None) -> Work | None:
    """Wait until every rank has reached this call.

    Example:
        >>> import chainrule.distributed as dist
        >>> dist.barrier()  # doctest: +SKIP
    """
    pg = default_group(group, "barrier")
    return _run(pg.comm.Barrier, pg.comm.Ibarrier, async_op, lambda: None)
