"""Why chainrule's elementwise work stays on one thread: the three measurements behind it.

    python benchmarks/threads.py            # prints the tables
    python benchmarks/threads.py --write    # also writes benchmarks/THREADS.md

1. **Cost per element, one thread.** NumPy's float32 ``exp``/``log``/``tanh`` against an
   arithmetic pass, and PyTorch's same ops in the same process.
2. **Handing half of a NumPy kernel to a second Python thread.** NumPy releases the GIL inside
   a ufunc, so two threads can each run half of it; what decides the gain is the hand-off (a
   queue, the worker waking up, the GIL passing back and forth). OpenBLAS is limited to one
   thread here, so no spinning BLAS worker competes.
3. **Two spinning thread pools on two cores.** OpenBLAS's workers spin for a while after a
   product, and so do OpenMP's (PyTorch's pool): a product with 2 OpenBLAS threads followed by
   an elementwise op on 2 PyTorch threads, each alone and one after the other.

Each part runs in its own child process with the thread counts set before NumPy and PyTorch
load; implementations and sizes are interleaved round by round, medians reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (65_536, 393_216, 1_572_864, 7_000_000)


def _median(v):
    v = sorted(v)
    return v[len(v) // 2]


def _rounds(tasks: dict, repeats: int) -> dict:
    """Median seconds of each task, run round by round in a rotating order."""
    times = {k: [] for k in tasks}
    keys = list(tasks)
    for f in tasks.values():  # warm-up
        f()
    for r in range(repeats):
        for k in keys[r % len(keys):] + keys[:r % len(keys)]:
            t = time.perf_counter()
            tasks[k]()
            times[k].append(time.perf_counter() - t)
    return {k: _median(v) for k, v in times.items()}


def _cost_tasks(n: int) -> dict:
    import numpy as np
    import torch

    x = np.random.default_rng(0).uniform(-5, 5, n).astype(np.float32)
    xp = np.abs(x) + np.float32(0.5)
    o = np.empty_like(x)
    tx, txp, to = torch.from_numpy(x), torch.from_numpy(xp), torch.empty(n)
    return {
        "add": lambda: np.add(x, x, out=o),
        "exp": lambda: np.exp(x, out=o),
        "log": lambda: np.log(xp, out=o),
        "tanh": lambda: np.tanh(x, out=o),
        "torch add": lambda: torch.add(tx, tx, out=to),
        "torch exp": lambda: torch.exp(tx, out=to),
        "torch log": lambda: torch.log(txp, out=to),
        "torch tanh": lambda: torch.tanh(tx, out=to),
    }


def part_costs(repeats: int) -> dict:
    import torch

    torch.set_num_threads(1)
    # ns per element
    return {n: {k: v / n * 1e9 for k, v in _rounds(_cost_tasks(n), repeats).items()}
            for n in (SIZES[1], SIZES[3])}


def _split_tasks(n: int, split) -> dict:
    import numpy as np

    x = np.random.default_rng(0).uniform(-5, 5, n).astype(np.float32)
    o = np.empty_like(x)
    h = n // 2
    return {
        "add, 1 thread": lambda: np.add(x, x, out=o),
        "add, split": lambda: split(np.add, (x[:h], x[:h], o[:h]), (x[h:], x[h:], o[h:])),
        "exp, 1 thread": lambda: np.exp(x, out=o),
        "exp, split": lambda: split(np.exp, (x[:h], o[:h]), (x[h:], o[h:])),
    }


def part_split(repeats: int) -> dict:
    import queue
    import threading

    jobs, done = queue.SimpleQueue(), queue.SimpleQueue()

    def worker():
        while True:
            f, args = jobs.get()
            f(*args)
            done.put(None)

    threading.Thread(target=worker, daemon=True).start()

    def split(f, first, second):
        jobs.put((f, second))
        f(*first)
        done.get()

    out = {"handoff": _rounds({"empty task": lambda: split(lambda: None, (), ())},
                              repeats * 4)["empty task"] * 1e6}
    for n in SIZES:  # microseconds
        out[n] = {k: v * 1e6 for k, v in _rounds(_split_tasks(n, split), repeats).items()}
    return out


def part_pools(repeats: int) -> dict:
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    a = rng.standard_normal((768, 128), np.float32)
    b = rng.standard_normal((128, 512), np.float32)
    c = np.empty((768, 512), np.float32)
    x = torch.from_numpy(rng.standard_normal(393_216).astype(np.float32))
    y = torch.empty_like(x)
    out = {}
    for t in (1, 2):
        torch.set_num_threads(t)
        tasks = {
            "product alone": lambda: np.dot(a, b, out=c),
            "torch exp alone": lambda: torch.exp(x, out=y),
            "product, then torch exp": lambda: (np.dot(a, b, out=c), torch.exp(x, out=y)),
        }
        out[t] = {k: v * 1e6 for k, v in _rounds(tasks, repeats).items()}
    return out


PARTS = {"costs": (part_costs, 1), "split": (part_split, 1), "pools": (part_pools, 2)}


def _child(part: str, repeats: int) -> dict:
    threads = PARTS[part][1]
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    res = subprocess.run([sys.executable, __file__, "--part", part, "--repeats", str(repeats)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def report(costs: dict, split: dict, pools: dict) -> str:
    import numpy as np

    lines = ["# Elementwise work and threads", "",
             "Written by `benchmarks/threads.py --write`; see its docstring for the method. "
             f"Float32, medians of interleaved samples. Load average at the end: "
             f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} cores; "
             f"numpy {np.__version__}.", "",
             "## 1. Cost per element, one thread (ns)", "",
             "| op | " + " | ".join(f"{int(n):,} elements" for n in costs) + " |",
             "|---|" + "---|" * len(costs)]
    first = next(iter(costs.values()))
    for op in first:
        lines.append(f"| {op} | " + " | ".join(f"{costs[n][op]:.2f}" for n in costs) + " |")
    lines += ["", "## 2. Half of a NumPy kernel on a second Python thread (us)", "",
              f"A round trip with an empty task costs {split.pop('handoff'):.0f} us.", "",
              "| elements | add, 1 thread | add, split | exp, 1 thread | exp, split |",
              "|---|---|---|---|---|"]
    for n, r in split.items():
        lines.append(f"| {int(n):,} | " + " | ".join(
            f"{r[k]:.0f}" for k in ("add, 1 thread", "add, split", "exp, 1 thread",
                                    "exp, split")) + " |")
    lines += ["", "## 3. A product on 2 OpenBLAS threads next to PyTorch's pool (us)", "",
              "768x128 times 128x512 (`np.dot`), then `torch.exp` over 393,216 elements.", "",
              "| PyTorch threads | product alone | torch exp alone | product, then torch exp |",
              "|---|---|---|---|"]
    for t, r in pools.items():
        lines.append(f"| {t} | " + " | ".join(
            f"{r[k]:.0f}" for k in ("product alone", "torch exp alone",
                                    "product, then torch exp")) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=101)
    ap.add_argument("--write", action="store_true", help="write benchmarks/THREADS.md")
    ap.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part][0](args.repeats)))
        return
    text = report(*(_child(p, args.repeats) for p in ("costs", "split", "pools")))
    print(text)
    if args.write:
        (HERE / "THREADS.md").write_text(text)


if __name__ == "__main__":
    main()
