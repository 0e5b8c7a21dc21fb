"""Plots of a ``GradientMonitor``'s records (needs the ``plot`` extra: matplotlib).

Figures are built with ``matplotlib.figure.Figure`` directly, not ``pyplot``: no GUI backend,
no global state, so they render the same on a server as on a laptop. Each function returns the
figure and writes a PNG when given a path.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .monitor import gate


def _figure(ax, size=(7.0, 4.0)):
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install chainrule[plot]") from None
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def _positive(a) -> np.ndarray:
    """Log axes cannot show 0 or NaN: those points become gaps."""
    a = np.asarray(a, dtype=np.float64).copy()
    a[~(a > 0) | ~np.isfinite(a)] = np.nan
    return a


def plot_gradient_flow(monitor, path: str | None = None, ax=None) -> Any:
    """Gradient norm per layer (log scale), at five moments of training and the median.

    Example:
        >>> fig = monitor.plot_gradient_flow("flow.png")  # doctest: +SKIP
    """
    fig, ax = _figure(ax)
    layers = monitor.weight_layers() or monitor.layer_names
    if not monitor.records:
        raise ValueError("plot_gradient_flow: nothing recorded yet; call monitor.record()")
    G = np.array([monitor.series(name, "grad_norm") for name in layers]).T  # steps x layers
    x = np.arange(len(layers))
    picks = sorted(set(np.linspace(0, len(G) - 1, 5).round().astype(int)))
    cmap = _cmap()
    for k, i in enumerate(picks):
        ax.plot(x, _positive(G[i]), marker="o", ms=3, lw=1,
                color=cmap(k / max(len(picks) - 1, 1)), label=f"step {monitor.steps[i]}")
    ax.plot(x, _positive(np.nanmedian(G, axis=0)), color="black", lw=2.2, label="median")
    ax.set_yscale("log")
    ax.set_xticks(x, layers, rotation=45 if len(layers) > 8 else 0)
    ax.set_xlabel("layer (input -> output)")
    ax.set_ylabel("gradient norm ||dL/dW||")
    ax.set_title("Gradient flow")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _cmap():
    from matplotlib import colormaps

    return colormaps["viridis"]


def _moving_average(y, k):
    if len(y) < k or k < 2:
        return y
    c = np.cumsum(np.insert(np.asarray(y, dtype=np.float64), 0, 0.0))
    out = (c[k:] - c[:-k]) / k
    return np.concatenate([np.full(k - 1, np.nan), out])


def plot_curves(monitor, path: str | None = None, ax=None) -> Any:
    """Training loss (and accuracy, if logged) over the steps, raw and smoothed."""
    fig, ax = _figure(ax)
    rows = [r for r in monitor.curves if "loss" in r]
    if not rows:
        raise ValueError("plot_curves: no loss recorded; pass it: monitor.record(loss)")
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    k = max(1, len(rows) // 25)
    ax.plot(steps, loss, color="tab:blue", alpha=0.3, lw=0.8)
    ax.plot(steps, _moving_average(loss, k), color="tab:blue", lw=1.8, label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    ax.set_title("Training curves")
    ax.grid(True, alpha=0.3)
    acc = [r.get("accuracy") for r in rows]
    if any(a is not None for a in acc):
        ax2 = ax.twinx()
        acc = np.array([np.nan if a is None else a for a in acc])
        ax2.plot(steps, _moving_average(acc, k), color="tab:orange", lw=1.8, label="accuracy")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("accuracy", color="tab:orange")
    return _save(fig, path)


def plot_update_ratios(monitor, path: str | None = None, ax=None) -> Any:
    """||dW|| / ||W|| of each layer per step (log scale), with the ~1e-3 guide line."""
    fig, ax = _figure(ax)
    layers = monitor.weight_layers() or monitor.layer_names
    cmap = _cmap()
    steps = monitor.steps
    for j, name in enumerate(layers):
        ax.plot(steps, _positive(monitor.series(name, "update_ratio")), lw=1,
                color=cmap(j / max(len(layers) - 1, 1)), label=name)
    ax.axhline(1e-3, color="black", ls="--", lw=1.2, label="~1e-3 (typical)")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / weight  ||dW|| / ||W||")
    ax.set_title("Update ratios (first layer dark, last layer light)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, path)


def plot_activations(monitor, path: str | None = None, ax=None) -> Any:
    """Per step: fraction of ReLU units silent on the whole batch, of saturated sigmoid/tanh
    outputs."""
    fig, ax = _figure(ax)
    names = monitor.activation_names
    if not names:
        raise ValueError("plot_activations: the model has no ReLU/Sigmoid/Tanh modules")
    cmap = _cmap()
    for j, name in enumerate(names):
        kind = monitor.activation_kind(name)
        dies = gate(kind) == "dies"
        key = "dead_fraction" if dies else "saturated_fraction"
        what = "silent units" if dies else "saturated outputs"
        ax.plot(monitor.steps, monitor.series(name, key), lw=1,
                color=cmap(j / max(len(names) - 1, 1)), label=f"{name} ({kind}): {what}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("fraction")
    ax.set_title("Activation health")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, path)


def save_all(monitor, directory: str) -> list[str]:
    """Every plot that has data, as PNGs in ``directory``; returns the written paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    plots = [("gradient_flow.png", plot_gradient_flow), ("curves.png", plot_curves),
             ("update_ratios.png", plot_update_ratios), ("activations.png", plot_activations)]
    for filename, fn in plots:
        path = os.path.join(directory, filename)
        try:
            fn(monitor, path)
        except ValueError:  # nothing to draw (no loss logged, no activation modules)
            continue
        paths.append(path)
    return paths
