"""``TerminateOnNaN``: stop as soon as the loss is NaN or infinite."""

from __future__ import annotations

import math

from .base import Callback


class TerminateOnNaN(Callback):
    """Stop training after the first step whose loss is NaN or infinite.

    ``terminated_at`` records ``(epoch, batch)``. To find which op produced the NaN, rerun with
    ``fit(..., detect_anomaly=True)``.

    Example:
        >>> stop = TerminateOnNaN()
        >>> # cr.train.fit(..., callbacks=[stop]); stop.terminated_at
    """

    def __init__(self, verbose: int = 1) -> None:
        self.verbose = verbose
        self.terminated_at: tuple[int, int] | None = None

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        loss = logs["loss"]
        if not math.isfinite(loss):
            trainer.stop_training = True
            self.terminated_at = (trainer.epoch, batch)
            if self.verbose:
                print(f"TerminateOnNaN: loss is {loss} at epoch {trainer.epoch + 1}, batch "
                      f"{batch}; stopping. Rerun with detect_anomaly=True to find the op.")
