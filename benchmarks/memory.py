"""Activation checkpointing: the memory it saves and the time it costs, per training step.

    python benchmarks/memory.py                     # both models, writes benchmarks/MEMORY.md
    python benchmarks/memory.py --models mlp --repeats 3 --out /tmp/memory.md

Two models, each trained plain and checkpointed (``cr.utils.checkpoint``):

- ``mlp``: 48 layers of Linear(512) + ReLU (one ``nn.Sequential`` of 96 modules), batch 2048,
  MSE loss, SGD; checkpointed with ``checkpoint_sequential(net, round(sqrt(48)) = 7, x)``.
  Targets: peak memory above the model's own at most 0.4x the plain step's, time at most 1.4x.
- ``gpt``: ``models.py``'s nanoGPT-shaped decoder with 8 blocks (dropout on, AdamW), its
  blocks checkpointed two ways: ``checkpoint_sequential(blocks, round(sqrt(8)) = 3, x)``
  (PyTorch's rule leaves the last segment, half the blocks here, unchecked) and one
  ``checkpoint`` per block.

Method:

- **Correct first.** Before measuring, each checkpointed step's gradients are compared with the
  plain step's from the same weights and seed: they must be equal bit for bit (dropout masks
  included: the RNG state is replayed).
- **Peak memory above the model's own.** Each variant runs in a fresh process with glibc's
  mmap threshold fixed at 64 KiB (``MALLOC_MMAP_THRESHOLD_``): every array larger than that is
  its own mapping, returned to the system when freed, so the resident size follows what is
  allocated. Before each step the peak is reset (``/proc/self/clear_refs``) and the resident
  size read (after ``zero_grad(set_to_none=True)``): the model, its optimizer state and the
  batch. The step's peak resident size minus that is the memory the step needs (activations
  kept for backward, gradients, temporaries). Median of 3 steps, after one warm-up step. The
  same step is also measured with ``tracemalloc`` (NumPy reports its arrays to it): bytes
  requested rather than pages touched.
- **Time.** Plain and checkpointed steps interleaved in one process (rotating order, a pause and
  an untimed step before each sample, as ``timing.interleaved``), one BLAS thread,
  ``cr.tune_allocator()`` applied as the other benchmarks do; medians of wall-clock and of CPU
  time (with one thread, CPU time does not count the time other processes held the core: on a
  shared machine it is the steadier of the two).
- **What explain_memory sees.** ``cr.explain_memory`` of each variant's loss, before backward:
  the activations the graph keeps, which the step's peak adds gradients and temporaries to.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from timing import limit_threads, machine_info, thread_env  # noqa: E402

MLP = dict(layers=48, width=512, batch=2048, lr=0.01)
TARGETS = {"mlp": {"memory": 0.4, "time": 1.4}}


# ---- the models ------------------------------------------------------------------------------


def mlp_case(variant: str):
    """(step, loss_fn, params, optimizer) of the 48-layer MLP; ``variant``: plain or sqrt."""
    import chainrule as cr
    from chainrule.utils.checkpoint import checkpoint_sequential

    cr.manual_seed(0)
    mods = []
    for _ in range(MLP["layers"]):
        mods += [cr.nn.Linear(MLP["width"], MLP["width"]), cr.nn.ReLU()]
    net = cr.nn.Sequential(*mods)
    x = cr.randn(MLP["batch"], MLP["width"])
    target = cr.randn(MLP["batch"], MLP["width"])
    opt = cr.optim.SGD(net.parameters(), lr=MLP["lr"])
    segments = round(math.sqrt(MLP["layers"]))

    def loss():
        if variant == "plain":
            out = net(x)
        else:
            out = checkpoint_sequential(net, segments, x, use_reentrant=False)
        return cr.nn.functional.mse_loss(out, target)

    def step():
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()

    return step, loss, list(net.parameters()), opt


def gpt_case(variant: str):
    """(step, loss_fn, params, optimizer) of models.py's GPT with 8 blocks; plain, sqrt or
    each."""
    import models  # noqa: I001  (benchmarks/models.py, next to this file)

    import chainrule as cr
    from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential

    cfg = dict(models.GPT, n_layer=8)
    model = models.gpt_model(cr, cfg)
    models.set_weights(cr, model)
    x_np, y_np = models.gpt_data(cfg)
    idx, targets = cr.from_numpy(x_np), cr.from_numpy(y_np)
    opt = models.gpt_optimizer(cr, model, cfg)
    F = cr.nn.functional
    segments = round(math.sqrt(cfg["n_layer"]))

    def blocks(h):
        if variant == "sqrt":
            return checkpoint_sequential(model.h, segments, h, use_reentrant=False)
        for block in model.h:
            h = checkpoint(block, h, use_reentrant=False) if variant == "each" else block(h)
        return h

    def loss():
        # GPTModel.forward with its blocks run through ``blocks``
        b, t = idx.size()
        pos = cr.arange(0, t, dtype=cr.long)
        h = blocks(model.drop(model.wte(idx) + model.wpe(pos)))
        logits = model.lm_head(model.ln_f(h))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    def step():
        opt.zero_grad(set_to_none=True)
        loss().backward()
        opt.step()

    return step, loss, [p for _, p in sorted(model.named_parameters())], opt


CASES = {"mlp": (mlp_case, ("plain", "sqrt")), "gpt": (gpt_case, ("plain", "sqrt", "each"))}
LABELS = {"plain": "plain", "sqrt": "checkpoint_sequential, sqrt(n) segments",
          "each": "one checkpoint per block"}


# ---- one process per measurement -----------------------------------------------------------


def _status() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def memory_worker(model: str, variant: str, steps: int) -> dict:
    """Peak resident and traced memory of one step above what exists before it."""
    import chainrule as cr

    make, _ = CASES[model]
    step, loss, _, opt = make(variant)
    step()  # warm-up: optimizer state, lazy caches
    rss = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)  # the gradients are the step's, not the model's
        _reset_peak()
        base = _status()["VmRSS"]
        step()
        rss.append(_status()["VmHWM"] - base)
    opt.zero_grad(set_to_none=True)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    step()
    traced = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    report = cr.explain_memory(loss())
    return {"rss": statistics.median(rss), "rss_all": rss, "traced": traced,
            "kept": report.total_bytes, "kept_activations": report.activation_bytes,
            "ops": len(report.by_op)}


def grads_worker(model: str, variants) -> dict:
    """Whether each variant's gradients equal the plain step's bit for bit (same seed)."""
    import chainrule as cr

    make, _ = CASES[model]
    out = {}
    want = None
    for variant in ("plain",) + tuple(v for v in variants if v != "plain"):
        _, loss, params, _ = make(variant)
        cr.manual_seed(123)
        for p in params:
            p.grad = None
        loss().backward()
        grads = [p.grad.numpy().copy() for p in params]
        if want is None:
            want = grads
            continue
        out[variant] = all(np.array_equal(a, b) for a, b in zip(grads, want))
    return out


def time_worker(model: str, variants, repeats: int) -> dict:
    """Wall-clock and CPU seconds per step, the variants interleaved (rotating order, a pause
    and an untimed step before each sample, as ``timing.interleaved``)."""
    import chainrule as cr

    cr.tune_allocator()
    limit_threads(1)
    make, _ = CASES[model]
    steps = {v: make(v)[0] for v in variants}
    for step in steps.values():
        step()
    wall: dict = {v: [] for v in variants}
    cpu: dict = {v: [] for v in variants}
    names = list(variants)
    for k in range(repeats):
        for v in names[k % len(names):] + names[:k % len(names)]:
            time.sleep(0.05)
            steps[v]()
            c0, t0 = time.process_time(), time.perf_counter()
            steps[v]()
            wall[v].append(time.perf_counter() - t0)
            cpu[v].append(time.process_time() - c0)
    return {"wall": {v: statistics.median(s) for v, s in wall.items()},
            "cpu": {v: statistics.median(s) for v, s in cpu.items()},
            "samples": wall}


def _child(kind: str, model: str, extra: list[str]) -> dict:
    env = thread_env(1)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE.parent / "src"),
                                                   env.get("PYTHONPATH", "")] if p)
    if kind == "memory":
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"  # every array its own mapping (see the doc)
        env["CHAINRULE_NO_MALLOPT"] = "1"
    cmd = [sys.executable, str(HERE / "memory.py"), "--worker", kind, "--models", model, *extra]
    res = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---- the report ------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def report(results: dict, args) -> str:
    lines = ["# Activation checkpointing: memory and time", "",
             "Generated by `python benchmarks/memory.py` (method in its docstring). Peak memory "
             "is what a training step needs above the model's own (parameters, optimizer "
             "state, batch); time is the step's median, plain and checkpointed interleaved "
             "in one process, 1 thread.", ""]
    for model, res in results.items():
        title = ("48-layer Linear(512)+ReLU MLP, batch 2048, MSE, SGD" if model == "mlp" else
                 "nanoGPT-shaped decoder, 8 blocks (d=128, T=64, batch 12), dropout 0.1, AdamW")
        lines += [f"## {model}: {title}", "",
                  "| variant | grads equal plain | peak RSS above model | ratio | tracemalloc "
                  "peak | ratio | kept for backward (explain_memory) | step ms | ratio | CPU ms "
                 "| ratio |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        plain = res["memory"]["plain"]
        wall, cpu = res["time"]["wall"], res["time"]["cpu"]
        for v, mem in res["memory"].items():
            same = "-" if v == "plain" else ("yes" if res["grads"][v] else "**NO**")
            lines.append(
                f"| {LABELS[v]} | {same} | {_mib(mem['rss'])} | {mem['rss'] / plain['rss']:.2f} "
                f"| {_mib(mem['traced'])} | {mem['traced'] / plain['traced']:.2f} "
                f"| {_mib(mem['kept'])} | {wall[v] * 1e3:.0f} | {wall[v] / wall['plain']:.2f} "
                f"| {cpu[v] * 1e3:.0f} | {cpu[v] / cpu['plain']:.2f} |")
        target = TARGETS.get(model)
        if target:
            best = res["memory"]["sqrt"]
            ok_m = best["rss"] / plain["rss"] <= target["memory"]
            ok_t = wall["sqrt"] / wall["plain"] <= target["time"]
            ok_c = cpu["sqrt"] / cpu["plain"] <= target["time"]
            lines += ["", f"Targets: memory <= {target['memory']}x "
                          f"({'met' if ok_m else 'MISSED'}), time <= {target['time']}x "
                          f"(wall-clock {'met' if ok_t else 'MISSED'}, CPU time "
                          f"{'met' if ok_c else 'MISSED'})."]
        lines.append("")
    info = machine_info()
    lines += ["## Machine", ""] + [f"- {k}: {v}" for k, v in info.items()] + [""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--models", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--repeats", type=int, default=7, help="timed samples per variant")
    p.add_argument("--steps", type=int, default=3, help="memory: steps measured per process")
    p.add_argument("--out", default=str(HERE / "MEMORY.md"))
    p.add_argument("--worker", choices=("memory", "time", "grads"), help=argparse.SUPPRESS)
    p.add_argument("--variant", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        model = args.models[0]
        variants = CASES[model][1]
        if args.worker == "memory":
            out = memory_worker(model, args.variant, args.steps)
        elif args.worker == "grads":
            out = grads_worker(model, variants)
        else:
            out = time_worker(model, variants, args.repeats)
        print(json.dumps(out))
        return
    results = {}
    for model in args.models:
        variants = CASES[model][1]
        t0 = time.perf_counter()
        res = {"grads": _child("grads", model, []), "memory": {}}
        for v in variants:
            res["memory"][v] = _child("memory", model, ["--variant", v, "--steps",
                                                        str(args.steps)])
        res["time"] = _child("time", model, ["--repeats", str(args.repeats)])
        results[model] = res
        print(f"{model}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    text = report(results, args)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
