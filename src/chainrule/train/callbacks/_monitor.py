"""Watching one logged quantity for improvement: shared by EarlyStopping and ModelCheckpoint."""

from __future__ import annotations

import math

_MAX_HINTS = ("acc", "accuracy", "auc", "precision", "recall", "f1")


class Monitor:
    """Tracks the best value of ``logs[key]``; ``mode`` ``"auto"`` guesses from the name."""

    def __init__(self, key: str, mode: str = "auto", min_delta: float = 0.0,
                 owner: str = "callback") -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta}")
        if mode == "auto":
            base = key[4:] if key.startswith("val_") else key
            mode = "max" if base in _MAX_HINTS or base.endswith(_MAX_HINTS) else "min"
        self.key, self.mode, self.min_delta, self.owner = key, mode, float(min_delta), owner
        self.best = math.inf if mode == "min" else -math.inf

    def check_available(self, trainer) -> None:
        if self.key.startswith("val_") and not trainer.has_validation:
            raise ValueError(f"{self.owner} monitors {self.key!r} but fit() got no validation "
                             f"data: pass val=... or monitor a training quantity such as 'loss'")

    def value(self, logs: dict) -> float:
        if self.key not in logs:
            raise ValueError(f"{self.owner} monitors {self.key!r}, which is not logged; "
                             f"available: {sorted(logs)}")
        return float(logs[self.key])

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
