"""chainrule's allocator tuning, on against off, in training loops written as a user would.

    python benchmarks/alloc.py                          # B, CNN, CNN256; 1 thread
    python benchmarks/alloc.py --cases CNN --pairs 6 --out /tmp/alloc.md

glibc adapts its malloc thresholds to what the process has freed so far: after a block of S
bytes (up to 32 MiB) comes back from ``mmap``, blocks up to S come from the heap, and the heap
is trimmed when more than 2S lies free at its top. Whether a training step pays page faults
under glibc's defaults therefore depends on the process's history. ``run.py``'s processes
build every implementation's weights and data first (float64 arrays cast to float32), which
raises the thresholds; a user's script that builds its model with chainrule and trains it is
the case this measures.

Every measurement is one fresh process that applies ``cr.tune_allocator()`` first (on) or keeps
glibc's defaults (off: ``CHAINRULE_NO_MALLOPT=1``), builds the case's network with chainrule's
own layers and initialisation and a fixed batch from ``cr.randn``, and runs the training loop
(zero_grad, forward, loss, backward, SGD step) one step at a time, recording each step's
wall-clock time, the process's CPU time and its minor page faults (pages the kernel maps and
zero-fills on first touch). The processes alternate on, off, off, on, ... so that a drift in
the machine's speed favours neither setting.

On a shared machine CPU time is the steadier measure: it counts the kernel's work on page
faults but not the time another process held the core (with one thread; with more, it also
counts BLAS worker threads spinning).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import (  # noqa: E402
    limit_threads,
    machine_info,
    malloc_env,
    minor_faults,
    thread_env,
    tune_malloc,
)

SETTINGS = ("on", "off")

# The networks of run.py's cases B and CNN (cases.py), and the CNN at batch 256; float32, SGD
# with lr 0.01.
LOOPS = {
    "B": ("MLP 784-1024-1024-10, ReLU, cross-entropy, batch 256", "mlp", (784, 1024, 1024, 10),
          256),
    "CNN": ("LeNet-like CNN (conv 6 and 16 channels 5x5, ReLU, max-pool 2, dense 120-84-10), "
            "cross-entropy, batch 64", "cnn", None, 64),
    "CNN256": ("the same CNN, batch 256", "cnn", None, 256),
}


def user_loop(key: str):
    """The training step of case ``key`` as a user would write it with chainrule alone."""
    import chainrule as cr

    nn = cr.nn
    _, kind, sizes, batch = LOOPS[key]
    cr.manual_seed(0)
    if kind == "mlp":
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
        x = cr.randn(batch, sizes[0])
    else:
        model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                              nn.Linear(84, 10))
        x = cr.randn(batch, 1, 28, 28)
    y = cr.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def worker(args) -> None:
    """One process: one case, one setting; prints its numbers as JSON."""
    # First, as a user's script would: the setup's allocations already run under it.
    tuned = tune_malloc(args.malloc_tuning)
    step = user_loop(args.worker)
    limit_threads(args.threads)
    units = []
    for _ in range(args.warmup + args.steps):
        f0, c0, t0 = minor_faults(), time.process_time(), time.perf_counter()
        step()
        t1, c1, f1 = time.perf_counter(), time.process_time(), minor_faults()
        units.append((t1 - t0, c1 - c0, f1 - f0))
    from chainrule import _alloc

    timed = units[args.warmup:]
    print(json.dumps({
        "tuned": tuned and _alloc.applied,
        "wall": statistics.median(u[0] for u in timed),
        "cpu": statistics.median(u[1] for u in timed),
        "faults": statistics.mean(u[2] for u in timed),
        "first_wall": units[0][0], "first_faults": units[0][2],
    }))


def _run_one(key: str, tuning: str, args) -> dict:
    cmd = [sys.executable, str(HERE / "alloc.py"), "--worker", key, "--malloc-tuning",
           tuning, "--threads", str(args.threads), "--steps", str(args.steps), "--warmup",
           str(args.warmup)]
    res = subprocess.run(cmd, env=malloc_env(thread_env(args.threads), tuning),
                         stdout=subprocess.PIPE, text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["tuned"] != (tuning == "on"):
        raise RuntimeError(f"{key}: malloc tuning {tuning} was not in force "
                           "(not glibc?)")
    return out


def _ms(s: float) -> str:
    return f"{s * 1e3:.2f}" if s < 1 else f"{s * 1e3:.0f}"


def _faults(n: float) -> str:
    return f"{n:.0f}" if n >= 10 or n == 0 else f"{n:.1f}"


def _ratio(on: list[dict], off: list[dict], what: str) -> str:
    """Ratio of the medians over processes, then the range of the per-pair ratios."""
    mid = statistics.median(o[what] for o in off) / statistics.median(o[what] for o in on)
    pairs = [b[what] / a[what] for a, b in zip(on, off)]
    return f"{mid:.2f} ({min(pairs):.2f}-{max(pairs):.2f})"


def report(results: dict, args) -> str:
    info = machine_info()
    lines = ["# Allocator tuning: on against off", "",
             "Written by `benchmarks/alloc.py`: chainrule training steps written as a user "
             f"would, each case in fresh processes, {args.pairs} per setting, alternating; on: "
             "`cr.tune_allocator()` applied first, off: glibc's defaults. Per process: the "
             f"median over {args.steps} steps after {args.warmup} of warm-up. Milliseconds are "
             "medians over the processes; off / on is the ratio of those medians, then the "
             "range over the pairs of processes. Page faults: minor faults per step. "
             f"{args.threads} thread{'s' if args.threads > 1 else ''}, float32.", "",
             "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info.items() if k not in ("torch", "jax")]
    lines += ["", "| case | what |", "|---|---|"]
    lines += [f"| {key} | {LOOPS[key][0]} |" for key in args.cases]
    lines += ["", "| case | wall ms on | wall ms off | wall off / on | CPU ms on | CPU ms off "
              "| CPU off / on | page faults on | page faults off | first step ms on "
              "| first step ms off |", "|---|---|---|---|---|---|---|---|---|---|---|"]

    def med(runs, what):
        return statistics.median(r[what] for r in runs)

    for key in args.cases:
        on, off = results[key]["on"], results[key]["off"]
        lines.append(
            f"| {key} | {_ms(med(on, 'wall'))} | {_ms(med(off, 'wall'))} | "
            f"{_ratio(on, off, 'wall')} | {_ms(med(on, 'cpu'))} | {_ms(med(off, 'cpu'))} | "
            f"{_ratio(on, off, 'cpu')} | {_faults(med(on, 'faults'))} | "
            f"{_faults(med(off, 'faults'))} | {_ms(med(on, 'first_wall'))} | "
            f"{_ms(med(off, 'first_wall'))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", default=list(LOOPS), choices=list(LOOPS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pairs", type=int, default=4, help="processes per setting")
    p.add_argument("--steps", type=int, default=20, help="timed units per process")
    p.add_argument("--warmup", type=int, default=3, help="untimed units first")
    p.add_argument("--out", help="also write the report to this file")
    p.add_argument("--worker", metavar="CASE", help=argparse.SUPPRESS)
    p.add_argument("--malloc-tuning", choices=SETTINGS, default="on", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    results: dict = {}
    for k in range(args.pairs):
        # on, off, off, on, ...: a slow drift in the machine's speed favours neither setting
        for tuning in SETTINGS if k % 2 == 0 else SETTINGS[::-1]:
            for key in args.cases:
                out = _run_one(key, tuning, args)
                results.setdefault(key, {"on": [], "off": []})[tuning].append(out)
                print(f"  {key} {tuning}: {_ms(out['wall'])} ms wall, {_ms(out['cpu'])} ms CPU, "
                      f"{_faults(out['faults'])} faults", file=sys.stderr, flush=True)
    text = report(results, args)
    if args.out:
        Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
