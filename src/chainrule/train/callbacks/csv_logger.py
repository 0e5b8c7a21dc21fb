"""``CSVLogger``: one CSV row per epoch."""

from __future__ import annotations

import csv
import os

from .base import Callback


class CSVLogger(Callback):
    """Append each epoch's logs (``epoch``, ``loss``, metrics, ``val_*``, ``lr``, ``time``) to
    a CSV file, flushed every epoch so a crash loses nothing.

    ``append=True`` continues an existing file (for resumed runs) instead of overwriting it.

    Example:
        >>> log = CSVLogger("runs/log.csv")
        >>> # cr.train.fit(..., callbacks=[log]); then pandas.read_csv("runs/log.csv")
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys: list[str] | None = None

    def on_train_begin(self, trainer) -> None:
        parent = os.path.dirname(self.filename)
        if parent:
            os.makedirs(parent, exist_ok=True)
        resume_file = self.append and os.path.exists(self.filename) \
            and os.path.getsize(self.filename) > 0
        if resume_file:
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        self._file = open(self.filename, "a" if resume_file else "w", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self._keys)])
        self._file.flush()

    def on_train_end(self, trainer) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
