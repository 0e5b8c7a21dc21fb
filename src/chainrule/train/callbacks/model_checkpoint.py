"""``ModelCheckpoint``: write a resumable checkpoint after every epoch or every improvement."""

from __future__ import annotations

import os

from ._monitor import Monitor
from .base import Callback


class ModelCheckpoint(Callback):
    """Save a resumable checkpoint (see ``cr.train.save_checkpoint`` for what it holds).

    ``save_freq="epoch"`` (the default) saves after every epoch; ``save_freq=n`` (Keras's
    name) after every ``n``-th optimizer step instead, inside epochs too. ``path`` may contain
    ``{epoch}`` (1-based: at an epoch end the number of completed epochs, inside an epoch the
    current one), ``{step}`` (optimizer steps so far), ``{batch}`` (1-based, step saves only)
    and any logged quantity, e.g. ``"ckpt/e{epoch:02d}-{val_loss:.3f}.safetensors"``. With
    ``save_best_only=True`` a file is written only when ``monitor`` improves (epoch saves
    only). Each file is enough to continue exactly: ``cr.train.fit(..., resume=file)``.
    ``extra``: free-form values (a run's settings, say) written into every file, read back as
    ``cr.train.load_checkpoint(file)["extra"]``.

    Example:
        >>> ckpt = ModelCheckpoint("runs/ckpt-{epoch}.safetensors")
        >>> steps = ModelCheckpoint("runs/step-{step}.safetensors", save_freq=100)
        >>> # cr.train.fit(model, train, ..., callbacks=[ckpt]); ckpt.last_path
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto", min_delta: float = 0.0,
                 verbose: int = 0, save_freq: str | int = "epoch",
                 extra: dict | None = None) -> None:
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or an integer >= 1 "
                             f"(optimizer steps), got {save_freq!r}")
        if save_freq != "epoch" and save_best_only:
            raise ValueError("ModelCheckpoint: save_best_only compares epoch logs; use it with "
                             "save_freq='epoch'")
        self.save_freq = save_freq
        self.path = os.fspath(path)
        self.save_best_only = save_best_only
        self.monitor = Monitor(monitor, mode, min_delta, owner="ModelCheckpoint")
        self.verbose = verbose
        self.extra = extra  # free-form values written into every checkpoint
        self.last_path: str | None = None
        self.saved: list[str] = []

    def on_train_begin(self, trainer) -> None:
        if self.save_best_only:
            self.monitor.check_available(trainer)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.save_freq != "epoch":
            return
        if self.save_best_only:
            value = self.monitor.value(logs)
            if not self.monitor.improved(value):
                return
            self.monitor.best = value
        self._save(trainer, {"epoch": epoch + 1, "step": trainer.step, **logs})

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        if self.save_freq == "epoch" or trainer.step % self.save_freq:
            return
        self._save(trainer, {"epoch": trainer.epoch + 1, "batch": batch + 1,
                             "step": trainer.step, **logs})

    def _save(self, trainer, fields: dict) -> None:
        try:
            path = self.path.format(**fields)
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"ModelCheckpoint: cannot format {self.path!r} with "
                             f"{sorted(fields)}: {e}") from None
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        # Written once every callback has finished this hook, so their state is in the file.
        trainer.save_checkpoint(path, on_saved=self._saved, extra=self.extra)

    def _saved(self, path: str) -> None:
        self.last_path = path
        self.saved.append(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict:
        return self.monitor.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.monitor.load_state_dict(state)
