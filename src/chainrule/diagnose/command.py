"""``chainrule diagnose``: train a demo network on the digits and write its gradient-health
report (report.txt, report.zh.txt, report.json, records.json) and plots into a folder.

Example:
    chainrule diagnose --model deep-sigmoid --dataset digits --steps 300 --out runs/sigmoid
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..cli import positive
from .demo import MODELS


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "diagnose", help="train a demo network and report its gradient health",
        description="Train one of the demo MLPs on the 8x8 digits while recording per-layer "
                    "gradient statistics, then write the verdicts (vanishing/exploding "
                    "gradients, dead ReLUs, saturation, learning rate) with causes and "
                    "remedies, and the plots.")
    p.add_argument("--model", choices=MODELS, default="deep-sigmoid",
                   help="deep-sigmoid: vanishing; relu-he: healthy; tanh-big-init: exploding; "
                        "relu-neg-bias: dead ReLUs (default deep-sigmoid)")
    p.add_argument("--dataset", choices=("digits",), default="digits")
    p.add_argument("--steps", type=positive(int), default=300)
    p.add_argument("--batch-size", type=positive(int), default=64)
    p.add_argument("--lr", type=positive(float), default=0.1)
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument("--clip", type=positive(float), default=None,
                   help="clip the gradient norm to this value before each step")
    p.add_argument("--depth", type=positive(int), default=10, help="Linear layers (default 10)")
    p.add_argument("--width", type=positive(int), default=32, help="hidden units (default 32)")
    p.add_argument("--every", type=positive(int), default=1, help="record every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="language of the report printed on stdout")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--out", default="runs/diagnose", help="output folder (default "
                                                          "runs/diagnose)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Train, judge, write; returns 0 (the verdicts are in the files, not the exit status)."""
    from .demo import run_demo

    if args.depth < 2:
        raise SystemExit("chainrule diagnose: --depth must be >= 2")
    monitor = run_demo(args.model, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                       optimizer=args.optimizer, clip=args.clip, depth=args.depth,
                       width=args.width, every=args.every, seed=args.seed)
    report = monitor.report()
    os.makedirs(args.out, exist_ok=True)
    for lang, name in (("en", "report.txt"), ("zh", "report.zh.txt")):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(report.render(lang) + "\n")
    data = report.to_dict()
    data["run"] = {k: getattr(args, k) for k in ("model", "dataset", "steps", "batch_size",
                                                  "lr", "optimizer", "clip", "depth", "width",
                                                  "every", "seed")}
    with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    from .report import _jsonable

    with open(os.path.join(args.out, "records.json"), "w", encoding="utf-8") as f:
        json.dump(_jsonable(monitor.to_dict()), f)
    written = ["report.txt", "report.zh.txt", "report.json", "records.json"]
    if not args.no_plots:
        try:
            written += [os.path.basename(p) for p in monitor.save_plots(args.out)]
        except ImportError as e:
            print(f"(no plots: {e})")
    print(report.render(args.lang))
    print(f"\nwrote {', '.join(written)} to {args.out}")
    return 0
