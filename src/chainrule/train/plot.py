"""Loss and accuracy curves of a ``History`` (needs the optional matplotlib: ``plot`` extra)."""

from __future__ import annotations

import os
from typing import Any


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install chainrule[plot]") from None
    # Files only, never a window: works headless (CI, ssh) and never blocks.
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_history(history: Any, path: str | os.PathLike,
                 val_label: str = "validation") -> str:
    """Save a figure with the loss curves and, if logged, the accuracy curves.

    ``history`` is a ``History`` or its ``.history`` dict. ``val_label`` names the ``val_*``
    curves (e.g. ``"test"`` when the held-out data is the test set).

    Example:
        >>> # plot_history(cr.train.fit(...), "runs/curves.png")
    """
    plt = _pyplot()
    logs = getattr(history, "history", history)
    if not logs.get("loss"):
        raise ValueError("plot_history: the history has no 'loss' values")
    panels = [("loss", "loss")] + ([("accuracy", "accuracy")] if "accuracy" in logs else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels):
        epochs = range(1, len(logs[key]) + 1)
        ax.plot(epochs, logs[key], marker="o", label="train")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], marker="o", label=val_label)
        ax.set_xlabel("epoch")
        _integer_ticks(ax)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=100)
    plt.close(fig)
    return os.fspath(path)
