"""``ModelCheckpoint``: write a resumable checkpoint after every epoch or every improvement."""

from __future__ import annotations

import os

from ._monitor import Monitor
from .base import Callback


class ModelCheckpoint(Callback):
    """Save model, optimizer, scheduler, history, RNG state and epoch with ``cr.save``.

    ``path`` may contain ``{epoch}`` (1-based, the number of completed epochs) and any logged
    quantity, e.g. ``"ckpt/e{epoch:02d}-{val_loss:.3f}.safetensors"``. With
    ``save_best_only=True`` a file is written only when ``monitor`` improves. Each file is
    enough to continue exactly: ``cr.train.fit(..., resume=file)``.

    Example:
        >>> ckpt = ModelCheckpoint("runs/ckpt-{epoch}.safetensors")
        >>> # cr.train.fit(model, train, ..., callbacks=[ckpt]); ckpt.last_path
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto", min_delta: float = 0.0,
                 verbose: int = 0) -> None:
        self.path = os.fspath(path)
        self.save_best_only = save_best_only
        self.monitor = Monitor(monitor, mode, min_delta, owner="ModelCheckpoint")
        self.verbose = verbose
        self.last_path: str | None = None
        self.saved: list[str] = []

    def on_train_begin(self, trainer) -> None:
        if self.save_best_only:
            self.monitor.check_available(trainer)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.save_best_only:
            value = self.monitor.value(logs)
            if not self.monitor.improved(value):
                return
            self.monitor.best = value
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"ModelCheckpoint: cannot format {self.path!r} with epoch and "
                             f"{sorted(logs)}: {e}") from None
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        from ..checkpoint import save_checkpoint

        # The history does not hold this epoch's logs yet when the callback runs after it.
        save_checkpoint(path, trainer.model, trainer.optimizer, epoch=epoch + 1,
                        scheduler=trainer.scheduler, history=trainer.history,
                        callbacks=trainer.callbacks, step=trainer.step)
        self.last_path = path
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict:
        return self.monitor.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.monitor.load_state_dict(state)
