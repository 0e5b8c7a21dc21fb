"""Every collective on every rank, checked against values worked out by hand.

Run as ``chainrule launch --nproc P collectives_ranks.py``: a failed check raises, which ends
the job with the traceback (so the test sees a non-zero exit). Rank r contributes values built
from r, so each expected result is a closed formula in the world size.
"""

from __future__ import annotations

import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import ReduceOp


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(f"rank {dist.get_rank()}: {what}")


def same(t, values, what: str) -> None:
    got = t.detach().numpy() if isinstance(t, cr.Tensor) else t
    expect(np.array_equal(got, np.asarray(values, dtype=got.dtype)) and
           got.dtype == np.asarray(values, dtype=got.dtype).dtype,
           f"{what}: got {got}, expected {values}")


def raises(kind, fn, text: str) -> None:
    try:
        fn()
    except kind as e:
        expect(text in str(e), f"{kind.__name__} without {text!r}: {e}")
        return
    raise AssertionError(f"rank {dist.get_rank()}: no {kind.__name__} ({text})")


def main() -> None:
    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    expect(dist.is_initialized() and dist.get_backend() == "mpi", "initialized, mpi")
    expect(dist.group.WORLD is not None and dist.group.WORLD.size() == n, "group.WORLD")
    ranks = np.arange(n)

    # all_reduce: every op, in place, on every rank alike
    for dtype in (cr.float64, cr.float32, cr.int64, cr.int32):
        t = cr.tensor([1, 2, 3], dtype=dtype) * (r + 1)
        dist.all_reduce(t)
        k = n * (n + 1) // 2
        same(t, [k, 2 * k, 3 * k], f"SUM {dtype}")
    t = cr.tensor([2.0, -1.0]) * (r + 1)
    dist.all_reduce(t, op=ReduceOp.AVG)
    same(t, [(n + 1), -(n + 1) / 2], "AVG")
    t = cr.tensor([float(r), -float(r)])
    dist.all_reduce(t, op=ReduceOp.MAX)
    same(t, [n - 1, 0.0], "MAX")
    t = cr.tensor([float(r), -float(r)])
    dist.all_reduce(t, op=ReduceOp.MIN)
    same(t, [0.0, -(n - 1)], "MIN")
    t = cr.tensor([r + 1, 2])
    dist.all_reduce(t, op=ReduceOp.PRODUCT)
    same(t, [int(np.prod(ranks + 1)), 2 ** n], "PRODUCT")
    t = cr.tensor([1 << r, 7])
    dist.all_reduce(t, op=ReduceOp.BOR)
    same(t, [(1 << n) - 1, 7], "BOR")
    b = cr.tensor([r == 0, True, False])
    dist.all_reduce(b)  # a logical or, as for PyTorch's bool SUM
    same(b, [True, True, False], "bool SUM")
    b = cr.tensor([r == 0, True, False])
    dist.all_reduce(b, op=ReduceOp.MIN)
    same(b, [n == 1, True, False], "bool MIN")
    # a non-contiguous tensor is written back in place
    x = cr.arange(6.0).reshape(2, 3).t() * (r + 1)
    dist.all_reduce(x)
    same(x, np.arange(6.0).reshape(2, 3).T * n * (n + 1) / 2, "SUM of a transpose")
    # async: the result is there after wait()
    t = cr.ones(4) * r
    work = dist.all_reduce(t, async_op=True)
    expect(work.wait() is True and work.is_completed(), "Work.wait")
    same(t, np.full(4, ranks.sum(), np.float32), "async SUM")
    # a tensor that requires grad keeps it; the version moves on
    p = cr.ones(2, requires_grad=True)
    v = p._version
    with cr.no_grad():
        dist.all_reduce(p)
    expect(p.requires_grad and p._version > v, "version bump")
    same(p.detach(), [n, n], "SUM into a parameter")

    # broadcast from every root
    for src in range(n):
        t = cr.full((3,), float(r))
        dist.broadcast(t, src=src)
        same(t, [src] * 3, f"broadcast from {src}")
    work = dist.broadcast(t := cr.tensor([r]), src=n - 1, async_op=True)
    work.wait()
    same(t, [n - 1], "async broadcast")

    # reduce to one rank
    t = cr.tensor([float(r + 1)])
    dist.reduce(t, dst=0)
    same(t, [n * (n + 1) / 2 if r == 0 else r + 1], "reduce to 0")

    # all_gather into a list, and into one tensor (joined or stacked)
    out = [cr.zeros(2, dtype=cr.int64) for _ in range(n)]
    dist.all_gather(out, cr.tensor([r, 10 * r]))
    for i, o in enumerate(out):
        same(o, [i, 10 * i], f"all_gather[{i}]")
    joined = cr.zeros(2 * n)
    dist.all_gather_into_tensor(joined, cr.tensor([float(r), 0.5]))
    same(joined, np.ravel([[i, 0.5] for i in range(n)]), "all_gather_into_tensor")
    stacked = cr.zeros(n, 2)
    dist.all_gather_into_tensor(stacked, cr.tensor([float(r), 0.5]))
    same(stacked, [[i, 0.5] for i in range(n)], "all_gather_into_tensor stacked")

    # reduce_scatter: rank i gets sum over ranks of input_list[i]
    out = cr.zeros(2)
    dist.reduce_scatter(out, [cr.tensor([float(i), float(r)]) for i in range(n)])
    same(out, [n * r, ranks.sum()], "reduce_scatter")
    out = cr.zeros(2)
    dist.reduce_scatter(out, [cr.tensor([float(i), float(r)]) for i in range(n)],
                        op=ReduceOp.AVG)
    same(out, [r, ranks.mean()], "reduce_scatter AVG")
    out = cr.zeros(1)
    dist.reduce_scatter_tensor(out, cr.arange(float(n)) + r)
    same(out, [n * r + ranks.sum()], "reduce_scatter_tensor")

    dist.barrier()
    dist.barrier(async_op=True).wait()

    # bad arguments: the same error on every rank, before any message is sent
    raises(ValueError, lambda: dist.broadcast(cr.ones(1), src=n), "src")
    raises(ValueError, lambda: dist.broadcast(cr.ones(1)), "src is required")
    raises(TypeError, lambda: dist.all_reduce([1.0]), "must be a chainrule Tensor")
    raises(TypeError, lambda: dist.all_reduce(cr.ones(1), op="sum"), "ReduceOp")
    raises(TypeError, lambda: dist.all_reduce(cr.ones(1, dtype=cr.int64), op=ReduceOp.AVG),
           "floating-point")
    raises(ValueError, lambda: dist.all_reduce(cr.ones(1), op=ReduceOp.PREMUL_SUM),
           "PREMUL_SUM")
    raises(ValueError, lambda: dist.all_gather([cr.zeros(1)] * (n + 1), cr.zeros(1)),
           "one per rank")
    raises(ValueError, lambda: dist.all_gather([cr.zeros(2)] * n, cr.zeros(1)), "shape")
    raises(ValueError, lambda: dist.all_gather_into_tensor(cr.zeros(n + 1), cr.zeros(1)),
           "must have shape")
    raises(ValueError, lambda: dist.init_process_group("mpi"), "twice")
    raises(ValueError, lambda: dist.get_rank(group=object()), "group must be None")

    dist.destroy_process_group()
    expect(not dist.is_initialized() and dist.group.WORLD is None, "destroyed")
    raises(ValueError, dist.get_world_size, "has not been initialized")
    dist.init_process_group(backend="MPI", world_size=n, rank=r)  # again, after destroy
    expect(dist.get_world_size() == n, "re-initialized")
    dist.destroy_process_group()
    sys.stdout.write(f"rank {r} of {n}: collectives ok\n")


if __name__ == "__main__":
    main()
