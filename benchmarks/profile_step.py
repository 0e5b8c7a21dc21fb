"""Where a real model's training step spends its time, function by function.

    python benchmarks/profile_step.py gpt                 # 1 thread
    python benchmarks/profile_step.py lstm --threads 2 --top 15

Runs the chainrule side of a case from ``models.py`` under ``cProfile`` and prints each
function's own time per step (NumPy's kernels count in the function that calls them: the
profiler sees ufuncs and ``np.dot`` as part of their caller), next to the step's median time
without the profiler and the case's GEMM-only bound. The profiler adds 10-20% of Python
overhead, so read the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNERS = {"gpt": "gpt_runner", "gpt-sdpa": "gpt_runner", "convnet": "convnet_runner",
           "lstm": "lstm_runner", "transformer": "transformer_runner"}
PRODUCTS = {"gpt": "gpt_products", "gpt-sdpa": "gpt_products", "convnet": "convnet_products",
            "lstm": "lstm_products", "transformer": "transformer_products"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(RUNNERS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=9)
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

    import cProfile
    import pstats
    import time

    import models

    import chainrule as cr

    cr.tune_allocator()
    kwargs = {"sdpa": True} if args.case == "gpt-sdpa" else {}
    runner = getattr(models, RUNNERS[args.case])(cr, **kwargs)
    bound = models.ProductsBound(getattr(models, PRODUCTS[args.case])())
    for _ in range(3):
        runner.step()
        bound.step()

    def median_ms(step) -> float:
        times = []
        for _ in range(args.steps):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        return sorted(times)[len(times) // 2] * 1e3

    step_ms, bound_ms = median_ms(runner.step), median_ms(bound.step)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.steps):
        runner.step()
    prof.disable()
    stats = pstats.Stats(prof).stats
    rows = sorted(((tt, nc, key) for key, (_, nc, tt, _, _) in stats.items()), reverse=True)
    total = sum(r[0] for r in rows)
    print(f"{args.case}, {args.threads} thread(s): step {step_ms:.1f} ms (median of "
          f"{args.steps}), GEMM-only bound {bound_ms:.1f} ms\n")
    print("| function | calls per step | own ms per step (profiled) | share |")
    print("|---|---|---|---|")
    root = str(HERE.parent)
    for tt, nc, (file, line, func) in rows[:args.top]:
        where = file.replace(root + os.sep, "") if file.startswith(root) else Path(file).name
        print(f"| `{where}:{line}({func})` | {nc / args.steps:g} | "
              f"{tt / args.steps * 1e3:.2f} | {tt / total:.0%} |")


if __name__ == "__main__":
    main()
