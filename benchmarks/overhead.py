"""Framework overhead: the 1-1-1 network's training step and per-op costs, against PyTorch.

    python benchmarks/overhead.py [--repeats 9]

With one-element arrays the arithmetic is free, so this measures what a framework spends per
operation: Python dispatch, graph recording, the backward loop, leaf accumulation. The step is
written twice: with raw ``cr.tensor`` parameters and functions, and with ``nn``/``optim``;
PyTorch eager runs the same two programs in the same process, interleaved.
Target: the chainrule step at most 0.3x PyTorch's time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import interleaved, limit_threads, tune_malloc  # noqa: E402

LR = 0.1


def raw_step(fw, fn):
    """The 1-1-1 net with bare tensors: sigmoid hidden, linear output, MSE, SGD in place."""
    params = [fw.tensor(v, requires_grad=True) for v in ([[0.5]], [0.1], [[-0.3]], [0.2])]
    x, y = fw.tensor([[1.5]]), fw.tensor([[0.8]])
    w1, b1, w2, b2 = params

    def step():
        h = fw.sigmoid(fn.linear(x, w1, b1))
        loss = ((fn.linear(h, w2, b2) - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with fw.no_grad():
            for p in params:
                p -= LR * p.grad

    return step


def module_step(fw):
    """The same net with the framework's nn and optim."""
    model = fw.nn.Sequential(fw.nn.Linear(1, 1), fw.nn.Sigmoid(), fw.nn.Linear(1, 1))
    loss_fn, opt = fw.nn.MSELoss(), fw.optim.SGD(model.parameters(), lr=LR)
    x, y = fw.tensor([[1.5]]), fw.tensor([[0.8]])

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


class _Run:
    def __init__(self, step) -> None:
        self.step = step


def micro_ops(fw, chain: int = 20):
    """Per-op costs: a recorded forward op, backward per node, making a tensor."""
    a = fw.tensor([[1.0]], requires_grad=True)
    b = fw.tensor([[2.0]], requires_grad=True)

    def forward_op():
        a * b

    def chain_backward():
        y = a
        for _ in range(chain):
            y = y * b
        y.sum().backward()

    def chain_forward():
        y = a
        for _ in range(chain):
            y = y * b
        y.sum()

    def create():
        fw.tensor(1.0)

    return {"forward op (a * b, recorded)": forward_op, "create tensor (tensor(1.0))": create,
            "_chain_fb": chain_backward, "_chain_f": chain_forward}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--min-time", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--malloc-tuning", choices=("on", "off"), default="on",
                   help="apply cr.tune_allocator() first (on), or keep glibc's defaults")
    args = p.parse_args()
    tuned = tune_malloc(args.malloc_tuning)

    import torch
    import torch.nn.functional as tF

    import chainrule as cr

    limit_threads(args.threads)
    torch.set_num_threads(args.threads)
    runs = {
        "chainrule raw": _Run(raw_step(cr, cr)),
        "pytorch raw": _Run(raw_step(torch, tF)),
        "chainrule nn/optim": _Run(module_step(cr)),
        "pytorch nn/optim": _Run(module_step(torch)),
    }
    chain = 20
    ops = {}
    for name, fw in (("chainrule", cr), ("pytorch", torch)):
        for op, fn in micro_ops(fw, chain).items():
            ops[f"{name}|{op}"] = _Run(fn)
    samples = interleaved({**runs, **ops}, args.repeats, args.min_time, args.min_time)
    med = {k: statistics.median(v) * 1e6 for k, v in samples.items()}

    print(f"# Overhead ({args.threads} thread, medians of {args.repeats} interleaved samples, "
          f"malloc {'tuned' if tuned else 'defaults'})\n")
    print("| training step of the 1-1-1 net | chainrule us | PyTorch us | ratio (target <= 0.30) |")
    print("|---|---|---|---|")
    for style in ("raw", "nn/optim"):
        c, t = med[f"chainrule {style}"], med[f"pytorch {style}"]
        print(f"| {style} | {c:.1f} | {t:.1f} | {c / t:.2f} |")
    print("\n| per-op cost | chainrule us | PyTorch us | ratio |")
    print("|---|---|---|---|")
    rows = {}
    for name in ("chainrule", "pytorch"):
        fb, f = med[f"{name}|_chain_fb"], med[f"{name}|_chain_f"]
        rows.setdefault("backward per node (chain of a * b)", []).append((fb - f) / (chain + 1))
        for op in ("forward op (a * b, recorded)", "create tensor (tensor(1.0))"):
            rows.setdefault(op, []).append(med[f"{name}|{op}"])
    for op, (c, t) in rows.items():
        print(f"| {op} | {c:.2f} | {t:.2f} | {c / t:.2f} |")
    x = np.ones((1, 1), np.float32)
    print(f"\n(for scale: NumPy's x * x on a 1x1 array: "
          f"{_time_np(lambda: x * x):.2f} us)")


def _time_np(fn, n: int = 20000) -> float:
    import time

    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


if __name__ == "__main__":
    main()
