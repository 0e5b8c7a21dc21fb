"""The gradient reducer behind ``DistributedDataParallel``: buckets of gradients, all-reduced
while the backward pass goes on.

Parameters are grouped into buckets in reverse order of ``module.parameters()`` (roughly the
order backward finishes them), one dtype per bucket; the first bucket closes after 1 MiB, the
others after ``bucket_cap_mb``, as in PyTorch. During backward each parameter's
post-accumulate-grad hook copies its ``.grad`` into its bucket; when a bucket is full it is
handed to MPI as a non-blocking ``Iallreduce`` and the backward pass continues. Buckets are
started strictly in bucket order, so every rank issues the same collectives in the same order
even when their graphs differ. At the end of the pass (an engine callback) the reducer waits
for every bucket and writes the averaged gradients back into ``.grad``: when ``backward()``
returns, every rank holds the same gradients, bit for bit.

MPI moves a non-blocking collective forward only inside MPI calls, and the backward pass makes
none while NumPy multiplies matrices. So while buckets are in flight a helper thread can poke
MPI's progress engine (``Iprobe`` on a communicator of its own, which touches none of the
requests) every ``PROGRESS_INTERVAL_S``, sleeping in between; NumPy releases the GIL in its
products, so the all-reduce advances during them. The thread needs a core to run on: by
default (``PROGRESS_THREAD = None``) it is used when the machine has more cores than this job
has ranks on it, and MPI grants full thread support (mpi4py asks for it). Without it the
buckets advance at the hooks and at the end of the pass.

A parameter that got no gradient on a rank contributes zeros; each bucket also carries one
"used" count per parameter, so a parameter no rank used keeps its ``.grad`` unchanged (PyTorch's
``find_unused_parameters`` behaviour, always on).
"""

from __future__ import annotations

import os
import threading
import time
import weakref

import numpy as np

from ...autograd.engine import _queue_callback
from ...tensor import _wrap

FIRST_BUCKET_BYTES = 1 << 20  # PyTorch's first bucket: small, so communication starts early
PROGRESS_THREAD: bool | None = None  # None: when there are more cores than local ranks
PROGRESS_INTERVAL_S = 2e-4  # a poke costs microseconds; sleeping frees the core


class Progress(threading.Thread):
    """Pokes MPI's progress engine every ``interval`` seconds while ``active``."""

    def __init__(self, comm, interval: float) -> None:
        super().__init__(name="chainrule-mpi-progress", daemon=True)
        self.comm, self.interval = comm, interval
        self.cond = threading.Condition()
        self.active = self.closed = False

    def run(self) -> None:
        while True:
            with self.cond:
                while not (self.active or self.closed):
                    self.cond.wait()
                if self.closed:
                    return
            self.comm.Iprobe()  # no point-to-point messages here: it only drives progress
            time.sleep(self.interval)

    def set_active(self, active: bool) -> None:
        with self.cond:
            self.active = active
            self.cond.notify()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()


class Bucket:
    """One flat buffer: the gradients of ``params`` then one used-count per parameter."""

    __slots__ = ("params", "offsets", "buffer", "waiting", "request", "nbytes")

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p._data.size
        self.buffer = np.zeros(n + len(params), dtype)
        self.nbytes = self.buffer.nbytes
        self.waiting, self.request = len(params), None

    def used(self) -> np.ndarray:
        return self.buffer[self.buffer.size - len(self.params):]

    def grad(self, i: int) -> np.ndarray:
        p, start = self.params[i], self.offsets[i]
        return self.buffer[start:start + p._data.size].reshape(p._data.shape)


def assign_buckets(params: list, cap_bytes: int) -> list[list]:
    """Parameters (in the order given) into buckets: per dtype, a bucket closes once it holds
    at least its limit (1 MiB, or ``cap_bytes`` if smaller, for the first of each dtype, then
    ``cap_bytes``).

    Example:
        >>> import chainrule as cr
        >>> ps = [cr.nn.Parameter(cr.zeros(300_000)), cr.nn.Parameter(cr.zeros(10))]
        >>> [len(b) for b in assign_buckets(ps, 25 << 20)]
        [1, 1]
    """
    open_, done, limits = {}, [], {}
    for p in params:
        key = p._data.dtype
        bucket = open_.setdefault(key, [])
        bucket.append(p)
        limit = limits.setdefault(key, min(FIRST_BUCKET_BYTES, cap_bytes))
        if sum(q._data.nbytes for q in bucket) >= limit:
            done.append(bucket)
            open_[key], limits[key] = [], cap_bytes
    done += [b for b in open_.values() if b]
    first = {id(p): i for i, p in enumerate(params)}
    return sorted(done, key=lambda b: first[id(b[0])])


class Reducer:
    """Averages the gradients of ``params`` over the ranks of ``group`` during backward."""

    def __init__(self, params: list, group, cap_bytes: int) -> None:
        from ...distributed._mpi import mpi

        self.MPI = mpi()
        self.comm, self.size = group.comm, group.size()
        self.buckets = [Bucket(ps, ps[0]._data.dtype) for ps in assign_buckets(params,
                                                                               cap_bytes)]
        self.where = {}  # id(param) -> (bucket, index in bucket)
        for b in self.buckets:
            for i, p in enumerate(b.params):
                self.where[id(p)] = (b, i)
        self.sync = True  # set by each forward: whether the next backward all-reduces
        self.next = 0  # the next bucket to start
        self.in_pass = False
        # What the last synchronised backward pass cost (read by benchmarks/distributed.py).
        self.stats = {"buckets": len(self.buckets), "wait_s": 0.0, "started_early": 0}
        self.progress = None
        if self.size > 1 and self.MPI.Query_thread() == self.MPI.THREAD_MULTIPLE and \
                _spare_cores(self.MPI, self.comm, PROGRESS_THREAD):
            # Its own communicator, never freed: destroying the process group cannot pull it
            # from under a poke in flight.
            self.progress = Progress(self.comm.Dup(), PROGRESS_INTERVAL_S)
        ref = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(
            lambda p, ref=ref: _ready(ref, p)) for p in params]

    def __del__(self) -> None:
        for h in getattr(self, "handles", ()):
            h.remove()
        if getattr(self, "progress", None) is not None and self.progress.is_alive():
            self.progress.close()

    # -- during backward ------------------------------------------------------------------------
    def ready(self, p) -> None:
        """``p.grad`` is final for this pass: copy it into its bucket, start full buckets."""
        if not self.sync:
            return
        if not self.in_pass:
            self.in_pass = True
            self.stats["started_early"] = 0
            for b in self.buckets:
                b.used()[:] = 0
            _queue_callback(self.finish)
        b, i = self.where[id(p)]
        np.copyto(b.grad(i), p.grad._data)
        b.used()[i] = 1
        b.waiting -= 1
        if b.waiting == 0:
            self._start_ready()
        elif self.next and self.buckets[self.next - 1].request is not None:
            self.buckets[self.next - 1].request.Test()  # MPI progresses only inside its calls

    def _start_ready(self) -> None:
        while self.next < len(self.buckets) and self.buckets[self.next].waiting == 0:
            self._start(self.buckets[self.next])
            self.stats["started_early"] += 1

    def _start(self, b: Bucket) -> None:
        b.request = self.comm.Iallreduce(self.MPI.IN_PLACE, b.buffer, op=self.MPI.SUM)
        self.next += 1
        if self.progress is not None and self.next == 1:
            if not self.progress.is_alive():
                self.progress.start()
            self.progress.set_active(True)

    def finish(self) -> None:
        """After the pass: start what is left (zeros for parameters without a gradient here),
        wait for every bucket, write the averages into ``.grad``."""
        t0 = time.perf_counter()
        for b in self.buckets[self.next:]:
            used = b.used()
            for i in range(len(b.params)):
                if not used[i]:
                    b.grad(i)[...] = 0
            self._start(b)
        if self.progress is not None:
            self.progress.set_active(False)  # Waitall drives progress itself
        self.MPI.Request.Waitall([b.request for b in self.buckets])
        self.stats["wait_s"] = time.perf_counter() - t0
        for b in self.buckets:
            used = b.used()
            for i, p in enumerate(b.params):
                if used[i] == 0:  # no rank had a gradient for it
                    continue
                total = b.grad(i)
                g = p.grad
                a = None if g is None else g._data
                if a is not None and type(a) is np.ndarray and a.flags.writeable and \
                        a.shape == total.shape and a.dtype == total.dtype:
                    np.divide(total, self.size, out=a)
                    g._version += 1
                else:
                    p.grad = _wrap(total / self.size)
            b.waiting, b.request = len(b.params), None
        self.next, self.in_pass = 0, False

    def reset(self) -> None:
        """Forget a pass that an exception interrupted."""
        for b in self.buckets:
            b.waiting, b.request = len(b.params), None
        self.next, self.in_pass = 0, False
        if self.progress is not None:
            self.progress.set_active(False)


def _spare_cores(MPI, comm, wanted: bool | None) -> bool:
    """Whether to run the progress thread: ``wanted``, or when None, whether this machine has
    more cores than the job has ranks on it (the same answer on every rank of a machine)."""
    if wanted is not None:
        return bool(wanted)
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = local.Get_size()
    local.Free()
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores > ranks_here


def _ready(ref, p) -> None:
    reducer = ref()
    if reducer is not None:
        reducer.ready(p)
