"""Regenerate the figures of docs/diagnose.md (PNGs under docs/img/) and print the reports.

Usage:
    python scripts/make_diagnose_figures.py [--steps 300] [--out docs/img]

Every figure comes from a monitored training run of a demo MLP (10 Linear layers, 32 units)
on the 8x8 digits, with SGD at lr 0.1 and batches of 64: the same runs as
``chainrule diagnose --model NAME --steps 300``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from chainrule.diagnose.demo import run_demo
from chainrule.diagnose.plots import (
    _figure,
    plot_activations,
    plot_gradient_flow,
    plot_update_ratios,
)

RUNS = {
    "deep-sigmoid": {"model": "deep-sigmoid"},
    "relu-he": {"model": "relu-he"},
    "tanh-big-init": {"model": "tanh-big-init"},
    "tanh-big-init + clip 1.0": {"model": "tanh-big-init", "clip": 1.0},
    "relu-neg-bias": {"model": "relu-neg-bias"},
}


def _pair(monitors, names, plot, path, title):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, len(names), sharey=True)
    for ax, name in zip(axes, names):
        plot(monitors[name], ax=ax)
        ax.set_title(name)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)


def _curves(monitors, path):
    fig, ax = _figure(None)
    for name, m in monitors.items():
        loss = np.array([r["loss"] for r in m.curves])
        k = 10
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(k - 1, len(loss)), smooth, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (moving average of 10)")
    ax.set_title("Same data, same optimizer: only activation and init differ")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join("docs", "img"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    monitors = {}
    with np.errstate(all="ignore"):
        for name, kw in RUNS.items():
            monitors[name] = run_demo(steps=args.steps, **kw)
            print(f"==== {name}\n{monitors[name].report().render()}\n")
    out = args.out
    _pair(monitors, ["deep-sigmoid", "relu-he"], plot_gradient_flow,
          os.path.join(out, "diagnose_flow_sigmoid_vs_relu.png"),
          "Gradient flow: sigmoid + default init vs ReLU + He init")
    _pair(monitors, ["tanh-big-init", "tanh-big-init + clip 1.0"], plot_gradient_flow,
          os.path.join(out, "diagnose_flow_tanh_clip.png"),
          "Gradient flow: tanh with 5x too large init, without and with clipping")
    _pair(monitors, ["tanh-big-init", "relu-he"], plot_update_ratios,
          os.path.join(out, "diagnose_update_ratios.png"),
          "Update/weight ratio per layer and step")
    plot_activations(monitors["relu-neg-bias"],
                     os.path.join(out, "diagnose_dead_relu.png"))
    _curves(monitors, os.path.join(out, "diagnose_curves.png"))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
