"""``EarlyStopping``: stop when a monitored quantity has stopped improving."""

from __future__ import annotations

import numpy as np

from ._monitor import Monitor
from .base import Callback


class EarlyStopping(Callback):
    """Stop training after ``patience`` epochs without an improvement of ``monitor``.

    An epoch improves when the value beats the best so far by more than ``min_delta``
    (lower for ``mode="min"``, higher for ``"max"``; ``"auto"`` picks max for accuracy-like
    names). With ``restore_best_weights=True`` the model ends training with the weights of its
    best epoch, whether the run stopped early or used all its epochs.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        >>> # cr.train.fit(model, train, val=val, ..., callbacks=[stop]); stop.stopped_epoch
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 verbose: int = 0) -> None:
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self.monitor = Monitor(monitor, mode, min_delta, owner="EarlyStopping")
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best_weights: dict | None = None

    @property
    def best(self) -> float:
        return self.monitor.best

    def on_train_begin(self, trainer) -> None:
        self.monitor.check_available(trainer)
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = self.monitor.value(logs)
        if self.monitor.improved(value):
            self.monitor.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_weights = {k: np.array(v._data if hasattr(v, "_data") else v, copy=True)
                                      for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            trainer.stop_training = True
            self.stopped_epoch = epoch
            if self.verbose:
                print(f"EarlyStopping: no improvement of {self.monitor.key} for "
                      f"{self.wait} epochs; stopping after epoch {epoch + 1}")

    def on_train_end(self, trainer) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            trainer.model.load_state_dict(self._best_weights)
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best_epoch": self.best_epoch,
                "best_weights": self._best_weights, **self.monitor.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.wait = int(state["wait"])
        self.best_epoch = state["best_epoch"]
        weights = state.get("best_weights")
        self._best_weights = None if weights is None else {
            k: np.array(getattr(v, "_data", v), copy=True) for k, v in weights.items()}
        self.monitor.load_state_dict(state)
