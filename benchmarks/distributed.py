"""Data-parallel training over MPI on this machine: step times at P=1 and P=2 ranks, the
all-reduce time per step and how much of it the backward pass hides.

    python benchmarks/distributed.py                 # both cases, prints a markdown report
    python benchmarks/distributed.py --cases B --steps 6 --rounds 1   # a quick look
    python benchmarks/distributed.py --write         # also rewrites benchmarks/DISTRIBUTED.md

Two MPI jobs per case (``chainrule launch``), run alternately ``--rounds`` times, float32, the
same weights and global batch at every P (each rank takes a 1/P slice). Inside a job the
variants below are timed interleaved, sample by sample in a rotating order, each sample after a
50 ms pause and one untimed step (as benchmarks/run.py does), so their ratios hold even while
the shared machine's load moves:

- 1 rank: the plain step (no DistributedDataParallel) with 1 and with 2 BLAS threads, the
  baselines a second process must beat, and the step through DistributedDataParallel (bucket
  copies, no communication to speak of): its own overhead;
- 2 ranks, 1 thread each: DistributedDataParallel as shipped (bucketed non-blocking all-reduce
  started from the gradient hooks; no progress thread on 2 cores with 2 ranks); the same with
  the progress thread forced on; and the same step under ``no_sync()``, which communicates
  nothing.

Every timed step starts and ends with a barrier, so a step lasts until the slower rank is
done whether or not it communicates. At 2 ranks, per step: ``all-reduce alone`` is the step's
buckets all-reduced with blocking ``MPI_Allreduce`` and nothing else running; ``exposed`` is
how much longer the step is than the one without communication;
``overlap = 1 - exposed / all-reduce alone`` is the share of the communication the backward pass
hid. And once, the all-reduce time between two ranks for 4 KiB to 64 MiB, fitted as
``t(n) = alpha + n / beta``: the numbers docs/distributed.md's scaling model uses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLP_B = dict(sizes=(784, 1024, 1024, 10), batch=256, lr=0.01)
CONVNET = dict(batch=64, lr=0.01, momentum=0.9)
CASES = {"B": "MLP 784-1024-1024-10, ReLU, softmax cross-entropy, SGD, batch 256",
         "convnet": "PyTorch's MNIST example convnet (32/64 ch 3x3, fc 9216-128), SGD "
                    "momentum, batch 64"}
# What each job times, interleaved sample by sample inside the job.
ONE_RANK = ["1 rank, 1 thread", "1 rank, 2 threads", "DDP, 1 rank"]
TWO_RANKS = ["DDP, 2 ranks", "DDP, 2 ranks, progress thread", "2 ranks, no communication"]


# ---- inside a rank --------------------------------------------------------------------------


def _build(case: str, cr):
    """(model, loss(model, x, y), optimizer, global x, global y), float32, fixed weights."""
    sys.path.insert(0, str(HERE))
    if case == "B":
        from cases import MLPSpec, _cr_model, batch_data, init_weights

        spec = MLPSpec(MLP_B["sizes"], "relu", "cross_entropy", "sgd", MLP_B["lr"],
                       MLP_B["batch"])
        _, model, loss_fn, opt = _cr_model(spec, init_weights(spec.sizes))
        x, y = batch_data(spec.sizes, spec.batch, "cross_entropy")
        return model, lambda m, a, b: loss_fn(m(a), b), opt, x, y
    from models import convnet_model, set_weights

    model = convnet_model(cr)
    set_weights(cr, model)
    rng = np.random.default_rng(1)
    x = ((rng.random((CONVNET["batch"], 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32)
    y = rng.integers(0, 10, CONVNET["batch"]).astype(np.int64)
    opt = cr.optim.SGD(model.parameters(), lr=CONVNET["lr"], momentum=CONVNET["momentum"])
    return model, lambda m, a, b: cr.nn.functional.nll_loss(m(a), b), opt, x, y


def rank_job(case: str, steps: int, out: str) -> None:
    import contextlib

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel

    cr.tune_allocator()  # as fit and the command line do
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    plain, loss_of, plain_opt, x, y = _build(case, cr)
    model, _, opt, _, _ = _build(case, cr)
    net = DistributedDataParallel(model)
    reducer = net._reducer
    shipped = reducer.progress  # what this machine gets by default (None on 2 cores, 2 ranks)
    progress = shipped
    if world > 1 and progress is None:
        from chainrule.nn.parallel.reducer import PROGRESS_INTERVAL_S, Progress

        progress = Progress(reducer.comm.Dup(), PROGRESS_INTERVAL_S)
    share = len(x) // world
    xs = cr.tensor(x[rank * share:(rank + 1) * share])
    ys = cr.tensor(y[rank * share:(rank + 1) * share])
    modes = ONE_RANK if world == 1 else TWO_RANKS

    def step(mode: str) -> tuple:
        ddp = mode.startswith("DDP") or mode.startswith("2 ranks")
        m, o = (net, opt) if ddp else (plain, plain_opt)
        reducer.progress = progress if "progress thread" in mode else shipped
        quiet = net.no_sync() if "no communication" in mode else contextlib.nullcontext()
        dist.barrier()  # the ranks start the step together
        t0 = time.perf_counter()
        o.zero_grad()
        with quiet:
            loss = loss_of(m, xs, ys)
            t1 = time.perf_counter()
            loss.backward()
        t2 = time.perf_counter()
        o.step()
        dist.barrier()  # until the slower rank is done: no_sync steps must wait for it too
        t3 = time.perf_counter()
        wait = reducer.stats["wait_s"] if ddp and "no communication" not in mode else 0.0
        return t3 - t0, t1 - t0, t2 - t1, t3 - t2, wait

    rows = {mode: [] for mode in modes}
    for i in range(steps):
        for mode in modes[i % len(modes):] + modes[:i % len(modes)]:  # a rotating order
            cr.set_num_threads(2 if "2 threads" in mode else 1)
            time.sleep(0.05)  # let BLAS threads of the previous sample go quiet
            step(mode)  # untimed: the first step after a switch warms caches
            rows[mode].append(step(mode))
    result = {"step": rows, "grad_bytes": int(sum(p._data.nbytes for p in model.parameters())),
              "buckets": [b.nbytes for b in reducer.buckets],
              "early": reducer.stats["started_early"]}
    if world > 1:
        result["allreduce"] = _blocking_allreduce(reducer, dist, steps)
    if rank == 0:
        Path(out).write_text(json.dumps(result))
    dist.destroy_process_group()


def _blocking_allreduce(reducer, dist, repeats: int) -> list[float]:
    MPI = reducer.MPI
    times = []
    for _ in range(repeats + 3):
        dist.barrier()
        t0 = time.perf_counter()
        for b in reducer.buckets:
            reducer.comm.Allreduce(MPI.IN_PLACE, b.buffer, op=MPI.SUM)
        times.append(time.perf_counter() - t0)
    return times[3:]


def bandwidth_job(out: str) -> None:
    import chainrule.distributed as dist
    from chainrule.distributed._mpi import mpi

    dist.init_process_group("mpi")
    MPI, comm = mpi(), dist.group.WORLD.comm
    rows = []
    for n_bytes in [4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]:
        buf = np.ones(n_bytes // 4, np.float32)
        repeats = 30 if n_bytes <= (1 << 20) else 8
        times = []
        for _ in range(repeats):
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - t0)
        rows.append((n_bytes, float(np.median(times))))
    if dist.get_rank() == 0:
        Path(out).write_text(json.dumps(rows))
    dist.destroy_process_group()


# ---- the driver -----------------------------------------------------------------------------


def _job(nproc: int, threads: int, *args: str) -> None:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run([sys.executable, "-m", "chainrule.cli", "launch", "--nproc", str(nproc),
                    __file__, *args], check=True, env=env, timeout=600)


def _ms(values) -> float:
    return 1000 * float(np.median(values))


def measure(case: str, steps: int, rounds: int) -> dict:
    """The 1-rank and the 2-rank job, alternately ``rounds`` times; samples pooled."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.json")
        for _ in range(rounds):
            for nproc in (1, 2):
                _job(nproc, 2 if nproc == 1 else 1, "--rank-job", case, str(steps), path)
                res = json.loads(Path(path).read_text())
                for mode, rows in res.pop("step").items():
                    out.setdefault("step", {}).setdefault(mode, []).extend(rows)
                if nproc == 2:
                    out.setdefault("allreduce", []).extend(res.pop("allreduce"))
                    out.update(res)
    return out


def bandwidth() -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bw.json")
        _job(2, 1, "--bandwidth-job", path)
        return json.loads(Path(path).read_text())


def fit_bandwidth(rows: list) -> tuple[float, float]:
    """t = alpha + n / beta fitted in relative error (each size weighs the same, so the small
    ones set alpha and the large ones beta): (alpha in seconds, beta in bytes/s).

    Example:
        >>> alpha, beta = fit_bandwidth([(1e3, 2e-6), (1e6, 1.001e-3), (1e7, 1.0001e-2)])
        >>> round(alpha * 1e6, 3), round(beta / 1e9, 3)
        (1.0, 1.0)
    """
    n = np.array([r[0] for r in rows], float)
    t = np.array([r[1] for r in rows], float)
    design = np.stack([np.ones_like(n), n], axis=1) / t[:, None]
    (alpha, slope), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    return max(float(alpha), 0.0), 1.0 / float(slope)


def report(results: dict, bw: list) -> str:
    alpha, beta = fit_bandwidth(bw)
    modes = ONE_RANK + TWO_RANKS[:1]
    lines = ["# Data-parallel training: measured on this machine", "",
             f"`python benchmarks/distributed.py` ({time.strftime('%Y-%m-%d')}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end, "
             "float32, MPICH from the `mpi` extra over shared memory). Medians of samples "
             "interleaved within each job; the machine is shared, so read ratios.", "",
             "## Step time", "",
             "| case | " + " | ".join(modes) + " | 2 ranks vs 1 rank, 1 thread | "
             "vs 1 rank, 2 threads |", "|---|" + "---|" * (len(modes) + 2)]
    for case, res in results.items():
        steps = {m: _ms([r[0] for r in rows]) for m, rows in res["step"].items()}
        two = steps["DDP, 2 ranks"]
        lines.append(f"| {case} | " + " | ".join(f"{steps[m]:.1f} ms" for m in modes) +
                     f" | {steps['1 rank, 1 thread'] / two:.2f}x faster | "
                     f"{steps['1 rank, 2 threads'] / two:.2f}x faster |")
    lines += ["", "## Communication at 2 ranks, per step", "",
              "`all-reduce alone`: the step's buckets all-reduced with blocking MPI_Allreduce, "
              "nothing else running. `exposed`: how much longer the step is than the same step "
              "with no communication at all (`no_sync`), both timed interleaved in one job. "
              "`overlap = 1 - exposed / all-reduce alone`.", "",
              "| case | gradients | buckets | backward | all-reduce alone | wait after backward "
              "| exposed | overlap | exposed with the progress thread forced on |",
              "|---|---|---|---|---|---|---|---|---|"]
    for case, res in results.items():
        st = res["step"]
        sync = _ms([r[0] for r in st["DDP, 2 ranks"]])
        silent = _ms([r[0] for r in st["2 ranks, no communication"]])
        threaded = _ms([r[0] for r in st["DDP, 2 ranks, progress thread"]])
        alone = _ms(res["allreduce"])
        exposed = max(sync - silent, 0.0)
        overlap = min(max(1.0 - exposed / alone, 0.0), 1.0) if alone > 0 else 0.0
        lines.append(
            f"| {case} | {res['grad_bytes'] / 2**20:.2f} MiB | {len(res['buckets'])} "
            f"({res['early']} started during backward) | "
            f"{_ms([r[2] for r in st['DDP, 2 ranks']]):.1f} ms | {alone:.2f} ms | "
            f"{_ms([r[4] for r in st['DDP, 2 ranks']]):.2f} ms | {exposed:.2f} ms | "
            f"{100 * overlap:.0f}% | {max(threaded - silent, 0.0):.2f} ms |")
    lines += ["", "## All-reduce between 2 ranks (float32 sum, in place)", "",
              "| size | time | algorithm bandwidth |", "|---|---|---|"]
    for n, t in bw:
        size = f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 2**10:g} KiB"
        lines.append(f"| {size} | {1e3 * t:.3f} ms | {n / t / 1e9:.2f} GB/s |")
    lines += ["", f"Fit `t(n) = alpha + n / beta` (relative error): alpha = {1e6 * alpha:.0f} us, "
              f"beta = {beta / 1e9:.2f} GB/s.", "",
              "Cases: " + "; ".join(f"**{k}**: {v}" for k, v in CASES.items() if k in results)
              + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--steps", type=int, default=10, help="timed samples per job and mode")
    p.add_argument("--rounds", type=int, default=2, help="1-rank and 2-rank jobs, alternately")
    p.add_argument("--write", action="store_true", help="rewrite benchmarks/DISTRIBUTED.md")
    p.add_argument("--rank-job", nargs=3, help=argparse.SUPPRESS)
    p.add_argument("--bandwidth-job", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rank_job:
        case, steps, out = args.rank_job
        rank_job(case, int(steps), out)
        return 0
    if args.bandwidth_job:
        bandwidth_job(args.bandwidth_job)
        return 0
    results = {case: measure(case, args.steps, args.rounds) for case in args.cases}
    text = report(results, bandwidth())
    print(text)
    if args.write:
        (HERE / "DISTRIBUTED.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
