"""``LearningRateScheduler``: set the learning rate from a function of the epoch."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .base import Callback


class LearningRateScheduler(Callback):
    """At the start of each epoch, set every parameter group's ``lr`` to ``schedule(epoch)``
    (or ``schedule(epoch, lr)`` if it takes two arguments, like Keras). ``epoch`` is 0-based.

    Example:
        >>> sched = LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)
        >>> # cr.train.fit(..., callbacks=[sched]); history.history["lr"] == [0.1, 0.05, ...]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable")
        self.schedule = schedule
        self.verbose = verbose
        try:
            params = inspect.signature(schedule).parameters.values()
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                           p.POSITIONAL_OR_KEYWORD)]
            self._with_lr = len(positional) >= 2
        except (TypeError, ValueError):
            self._with_lr = False

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        groups = trainer.optimizer.param_groups
        lr = (self.schedule(epoch, groups[0]["lr"]) if self._with_lr
              else self.schedule(epoch))
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            raise TypeError(f"LearningRateScheduler: schedule({epoch}) returned "
                            f"{type(lr).__name__}, expected a number") from None
        if not lr >= 0:
            raise ValueError(f"LearningRateScheduler: schedule({epoch}) returned {lr}")
        for group in groups:
            group["lr"] = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.4g}")
