"""Benchmark chainrule's training step against PyTorch, hand-written NumPy and the GEMM bound.

    python benchmarks/run.py                 # every case, 1 and 2 threads -> benchmarks/RESULTS.md
    python benchmarks/run.py --cases C A128 --threads 2 --quick
    python benchmarks/run.py --cases B CNN --malloc-tuning off   # glibc's malloc defaults

For each thread count a fresh child process (with the BLAS/OpenMP thread variables set before
NumPy or PyTorch load, and threadpoolctl limits when installed) first checks that chainrule's
gradients equal PyTorch's on one batch from the same weights, then times every implementation
interleaved (see timing.py). Peak memory is measured per implementation in its own fresh process
that imports only that implementation's framework. The parent writes the markdown report.

chainrule's allocator tuning (``cr.tune_allocator()``) is applied at the start of each timing
process, as a user's loop would; ``--malloc-tuning off`` keeps glibc's defaults instead. The
setting is process-wide: every implementation in a timing process runs under it, and what the
others allocated first shapes glibc's adaptive thresholds; ``alloc.py`` measures each
implementation alone with and without it.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cases import CASES, CHAINRULE, CHAINRULE_FIT, GEMM, HAVE_JAX, IMPLS, JAX, NUMPY, TORCH  # noqa: E402
from timing import (  # noqa: E402
    interleaved,
    limit_threads,
    machine_info,
    malloc_env,
    peak_rss_mib,
    thread_env,
    tune_malloc,
)

GRAD_RTOL = 1e-4  # float32: max |difference| / max |gradient| over each parameter


# ---- child processes ---------------------------------------------------------------------------


def _max_rel_err(a, b) -> float:
    import numpy as np

    worst = 0.0
    for x, y in zip(a, b):
        scale = max(float(np.max(np.abs(y))), 1e-12)
        worst = max(worst, float(np.max(np.abs(np.asarray(x) - y))) / scale)
    return worst


def grad_check(case) -> dict:
    """Gradients of chainrule, the NumPy reference (and JAX) against PyTorch's, same
    weights and batch."""
    ref = case.builders[TORCH]().grads()
    out = {}
    for impl in (i for i in (CHAINRULE, NUMPY, JAX) if i in case.builders):
        got = case.builders[impl]().grads()
        if len(got) != len(ref) or any(g.shape != r.shape for g, r in zip(got, ref)):
            out[impl] = float("inf")
        else:
            out[impl] = _max_rel_err(got, ref)
    return out


def worker(args) -> None:
    threads = args.threads[0]
    # Before anything is built: the first steps must already run under the chosen malloc.
    tuned = tune_malloc(args.malloc_tuning)
    how = limit_threads(threads)
    result = {"threads": threads, "how": how, "cases": {}, "checks": {}, "data": {},
              "faults": {}}
    for key in args.cases:
        case = CASES[key]
        result["checks"][key] = grad_check(case)
        runners = {impl: build() for impl, build in case.builders.items()}
        limit_threads(threads)  # again, now that the builders have loaded PyTorch
        # PyTorch and JAX load hundreds of thousands of Python objects into this process;
        # without this every full garbage collection would rescan them, a cost charged to
        # whichever implementation allocates Python objects at the time.
        gc.collect()
        gc.freeze()
        epoch = case.unit == "epoch"
        faults: dict = {}
        samples = interleaved(runners, args.repeats,
                              min_seconds=0.0 if epoch else args.min_time,
                              warmup_seconds=0.0 if epoch else args.min_time, faults=faults)
        result["cases"][key] = samples
        result["faults"][key] = {impl: statistics.median(f) for impl, f in faults.items()}
        if hasattr(case, "describe_data"):
            result["data"][key] = case.describe_data()
        del runners
        print(f"  threads={threads} {key}: " + ", ".join(
            f"{impl} {statistics.median(s) * 1e3:.3f} ms" for impl, s in samples.items()),
            file=sys.stderr, flush=True)
    result["info"] = machine_info()
    # Read back at the end: nothing in the run (fit included) may have changed it.
    from chainrule import _alloc

    if _alloc.applied != tuned:
        raise RuntimeError("the allocator tuning changed during the run")
    result["malloc_tuned"] = tuned
    Path(args.json_out).write_text(json.dumps(result))


def rss_worker(args) -> None:
    """Setup plus a few units of one implementation; print RSS after setup and the peak."""
    case = CASES[args.rss[0]]
    if args.rss[1] in (CHAINRULE, CHAINRULE_FIT):  # as its users get it; others untouched
        tune_malloc(args.malloc_tuning)
    runner = case.builders[args.rss[1]]()
    limit_threads(args.threads[0])
    after_setup = peak_rss_mib()
    for _ in range(1 if case.unit == "epoch" else 5):
        runner.step()
    print(json.dumps({"setup": after_setup, "peak": peak_rss_mib()}))


def _child(argv: list[str], threads: int, tuning: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "run.py"), *argv,
                           "--malloc-tuning", tuning],
                          env=malloc_env(thread_env(threads), tuning),
                          stdout=subprocess.PIPE, text=True, check=True)


# ---- the report --------------------------------------------------------------------------------


def _ms(s) -> str:
    return f"{s * 1e3:.3f}" if s < 0.1 else f"{s * 1e3:.1f}"


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def _summary_rows(case, med: dict) -> tuple[str, list[str]]:
    cr = med.get(CHAINRULE)
    cells, verdicts = [], []
    for impl in (TORCH, NUMPY, GEMM):
        ref = med.get(impl)
        r = cr / ref if cr and ref else None
        target = case.targets.get(impl, 1.25 if impl == NUMPY else None)
        text = f"{r:.2f}" if r is not None else "-"
        if r is not None and target is not None:
            ok = r <= target
            verdicts.append(ok)
            text += f" (<= {target:.2f} {'met' if ok else 'MISSED'})"
        cells.append(text)
    times = " | ".join(_ms(med[i]) if i in med else "-" for i in (CHAINRULE, TORCH, NUMPY, GEMM))
    fit = f"{_ms(med[CHAINRULE_FIT])}" if CHAINRULE_FIT in med else "-"
    fit_ratio = _ratio(med.get(CHAINRULE_FIT), med.get(TORCH))
    jax = f"{_ms(med[JAX])}" if JAX in med else "-"
    row = (f"| {case.key} | {times} | {fit} | {jax} | " + " | ".join(cells)
           + f" | {fit_ratio} | {_ratio(cr, med.get(JAX))} |")
    return row, verdicts


def report(runs: dict, rss: dict, args) -> str:
    info = next(iter(runs.values()))["info"]
    lines = ["# Benchmark results", "",
             "Written by `benchmarks/run.py` (`make bench`). Float32 throughout; one unit is one "
             "training step (forward + loss + backward + optimizer update) or, for E, one epoch "
             "with shuffling and data loading. Times are medians of interleaved samples "
             f"({args.repeats} per implementation, after warm-up) in one process per thread "
             "count; ratios compare medians from the same process.", "",
             "| machine | |", "|---|---|"]
    load_key = "load average (1, 5, 15 min) at the end"
    if load_key in info:  # one per timing process, as each thread count ran at its own time
        info = dict(info)
        info[load_key] = "; ".join(
            f"{t} thread{'s' if t > 1 else ''}: {r['info'].get(load_key, '?')}"
            for t, r in sorted(runs.items()))
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines.append(f"| thread control | {next(iter(runs.values()))['how']} |")
    tuned = {r["malloc_tuned"] for r in runs.values()}
    lines.append("| malloc | " + ", ".join(
        "`cr.tune_allocator()` applied in the timing processes" if t else "glibc's defaults "
        "(`--malloc-tuning off`, or not glibc)" for t in sorted(tuned)) + " |")
    data = {k: v for r in runs.values() for k, v in r["data"].items()}
    for key, text in data.items():
        lines.append(f"| data of case {key} | {text} |")
    lines += ["", "## Cases", "", "| case | what |", "|---|---|"]
    lines += [f"| {k} | {CASES[k].title}{' (' + CASES[k].note + ')' if CASES[k].note else ''} |"
              for k in args.cases]

    for threads, run in sorted(runs.items()):
        lines += ["", f"## Summary, {threads} thread{'s' if threads > 1 else ''}", "",
                  "Milliseconds per unit (median), then chainrule's time divided by each "
                  "reference's (lower is better for chainrule) with its target.", "",
                  "| case | chainrule ms | PyTorch ms | NumPy ms | GEMM bound ms "
                  "| chainrule fit ms | JAX jit ms | chainrule / PyTorch | chainrule / NumPy "
                  "| chainrule / GEMM bound | fit / PyTorch | chainrule / JAX jit |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for key in args.cases:
            med = {i: statistics.median(s) for i, s in run["cases"][key].items()}
            row, _ = _summary_rows(CASES[key], med)
            lines.append(row)

    lines += ["", "## Every measurement", "",
              "| case | threads | implementation | median ms | min ms | max ms | vs PyTorch "
              "| GEMM GFLOP/s | page faults per unit |", "|---|---|---|---|---|---|---|---|---|"]
    for key in args.cases:
        case = CASES[key]
        for threads, run in sorted(runs.items()):
            samples = run["cases"][key]
            torch_med = statistics.median(samples[TORCH]) if TORCH in samples else None
            for impl in IMPLS:
                if impl not in samples:
                    continue
                s = samples[impl]
                med = statistics.median(s)
                gflops = f"{case.flops / med / 1e9:.1f}" if case.flops and key != "C" else "-"
                flt = run.get("faults", {}).get(key, {}).get(impl)
                flt = _faults(flt) if flt is not None else "-"
                lines.append(f"| {key} | {threads} | {impl} | {_ms(med)} | {_ms(min(s))} | "
                             f"{_ms(max(s))} | {_ratio(med, torch_med)} | {gflops} | {flt} |")
            if not HAVE_JAX:
                lines.append("| | | jax jit | - | - | - | - | not installed: skipped | - |")

    if rss:
        lines += ["", f"## Peak memory ({args.rss_threads} threads)", "",
                  "Each implementation in a fresh process that imports only its own framework: "
                  "resident set size after building the model and data, and the peak "
                  "(`getrusage` maxrss) after running " "5 steps (1 epoch for E).", "",
                  "| case | implementation | after setup MiB | peak MiB | peak vs PyTorch |",
                  "|---|---|---|---|---|"]
        for key in args.cases:
            torch_peak = rss.get(key, {}).get(TORCH, {}).get("peak")
            for impl, r in rss.get(key, {}).items():
                lines.append(f"| {key} | {impl} | {r['setup']:.0f} | {r['peak']:.0f} | "
                             f"{_ratio(r['peak'], torch_peak)} |")

    lines += ["", "## Gradient check", "",
              "Before timing, each case computes the parameter gradients of one batch from the "
              "same weights; the error is max |difference| / max |PyTorch gradient| per "
              f"parameter, worst parameter shown (pass: <= {GRAD_RTOL:g})."
              + (" The real-model cases (" + ", ".join(k for k in args.cases
                                                       if CASES[k].float64_check)
                 + ") compare float64 gradients with dropout off (eval mode): in float32 the "
                 "two frameworks' roundings flip a few ReLU signs or max-pool choices among "
                 "millions of values, which moves a weight gradient by up to 1e-2 relative "
                 "although both are right." if any(CASES[k].float64_check for k in args.cases)
                 else ""), "",
              "| case | threads | chainrule vs PyTorch | NumPy reference vs PyTorch "
              "| JAX vs PyTorch | pass |",
              "|---|---|---|---|---|---|"]
    for threads, run in sorted(runs.items()):
        for key in args.cases:
            c = run["checks"][key]
            ok = all(v <= GRAD_RTOL for v in c.values())
            cells = " | ".join(f"{c[i]:.1e}" if i in c else "-" for i in (CHAINRULE, NUMPY, JAX))
            lines.append(f"| {key} | {threads} | {cells} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines) + "\n"


def _faults(n: float) -> str:
    return f"{n:.0f}" if n >= 10 or n == 0 else f"{n:.1f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--repeats", type=int, default=25,
                   help="interleaved samples per implementation (more: a burst of load on "
                   "the machine moves the medians less)")
    p.add_argument("--min-time", type=float, default=0.15,
                   help="seconds per timing sample (step cases)")
    p.add_argument("--quick", action="store_true", help="3 repeats, short samples, no memory")
    p.add_argument("--no-rss", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--rss-threads", type=int, default=2)
    p.add_argument("--out", default=str(HERE / "RESULTS.md"))
    p.add_argument("--malloc-tuning", choices=("on", "off"), default="on",
                   help="run with cr.tune_allocator() applied (on, as fit and a tuned loop do) "
                   "or with glibc's default malloc settings (off)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    p.add_argument("--rss", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.repeats, args.min_time, args.no_rss = 3, 0.05, True
    if args.worker:
        return worker(args)
    if args.rss:
        return rss_worker(args)

    import tempfile

    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in args.threads:
            out = Path(tmp) / f"t{threads}.json"
            print(f"timing with {threads} thread(s)...", file=sys.stderr, flush=True)
            _child(["--worker", "--threads", str(threads), "--repeats", str(args.repeats),
                    "--min-time", str(args.min_time), "--json-out", str(out),
                    "--cases", *args.cases], threads, args.malloc_tuning)
            runs[threads] = json.loads(out.read_text())
    rss: dict = {}
    if not args.no_rss:
        print("peak memory, one process per implementation...", file=sys.stderr, flush=True)
        for key in args.cases:
            for impl in CASES[key].builders:
                res = _child(["--rss", key, impl, "--threads", str(args.rss_threads)],
                             args.rss_threads, args.malloc_tuning)
                rss.setdefault(key, {})[impl] = json.loads(res.stdout.strip().splitlines()[-1])
    text = report(runs, rss, args)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
