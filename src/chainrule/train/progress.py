"""Progress display for ``fit``: a live bar on a terminal, one plain line per epoch elsewhere.

CI logs and pipes are not terminals: there a ``\\r``-refreshed bar turns into one huge line, so
off a terminal the display writes exactly one line per epoch and never a carriage return.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .callbacks.base import Callback

_REFRESH_S = 0.1  # at most ~10 redraws a second: drawing costs more than a small step
_WIDTH = 24


def _fmt_value(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}"


def format_logs(logs: dict[str, float], skip: tuple[str, ...] = ("time", "size")) -> str:
    """``loss: 0.1234 - accuracy: 0.9650`` for every key but ``skip``."""
    return " - ".join(f"{k}: {v:.3g}" if k == "lr" else f"{k}: {_fmt_value(v)}"
                      for k, v in logs.items() if k not in skip)


def format_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


class EpochLine(Callback):
    """One plain line per epoch, never a carriage return: the display off a terminal.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> EpochLine(epochs=3, stream=out).on_epoch_end(None, 0, {"loss": 0.5, "time": 1.0})
        >>> out.getvalue()
        'Epoch 1/3 - 1.0s - loss: 0.5000\\n'
    """

    def __init__(self, epochs: int, steps: int | None = None,
                 stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.epochs, self.steps = epochs, steps

    def _epoch_line(self, epoch: int, logs: dict[str, float]) -> str:
        return (f"Epoch {epoch + 1}/{self.epochs} - {format_seconds(logs.get('time', 0.0))} - "
                f"{format_logs(logs)}")

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self.stream.write(self._epoch_line(epoch, logs) + "\n")
        self.stream.flush()


class ProgressBar(EpochLine):
    """A live bar on a terminal: step/steps, running loss and metrics, ETA, redrawn with
    ``\\r`` at most ~10 times a second; the finished epoch stays as one line.

    Example:
        >>> import io
        >>> bar = ProgressBar(epochs=2, steps=10, stream=io.StringIO())
    """

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self._t0 = self._last = time.monotonic()
        self._seen, self._batches, self._sums = 0, 0, {}
        self._epoch = epoch
        self._width = 0

    def on_batch_end(self, trainer, batch: int, logs: dict[str, float]) -> None:
        n = logs.get("size", 1)
        self._seen += n
        self._batches = batch + 1
        for k, v in logs.items():
            if k != "size":
                self._sums[k] = self._sums.get(k, 0.0) + v * n
        now = time.monotonic()
        if now - self._last >= _REFRESH_S:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        done, total = self._batches, self.steps
        elapsed = now - self._t0
        if total:
            filled = min(_WIDTH, _WIDTH * done // total)
            bar = ("=" * (filled - 1) + (">" if filled < _WIDTH else "=")) if filled else ""
            eta = elapsed / done * max(total - done, 0) if done else 0.0
            where = f"{done}/{total} [{bar:<{_WIDTH}}] ETA {format_seconds(eta)}"
        else:
            where = f"{done} steps {format_seconds(elapsed)}"
        line = f"Epoch {self._epoch + 1}/{self.epochs} {where}"
        if self._seen:
            line += " - " + format_logs({k: s / self._seen for k, s in self._sums.items()})
        self._write_over(line)
        self.stream.flush()

    def _write_over(self, line: str) -> None:
        # Pad with spaces to wipe the tail of a longer previous line.
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)

    def abort(self) -> None:
        if getattr(self, "_width", 0):
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

    def on_epoch_end(self, trainer, epoch: int, logs: dict[str, float]) -> None:
        self._write_over(self._epoch_line(epoch, logs))
        self.stream.write("\n")
        self.stream.flush()


def make_progress(verbose: int, epochs: int, steps: int | None,
                  stream: TextIO | None = None) -> Callback | None:
    """The display for ``fit(verbose=...)``: 0 none, 1 a bar on a terminal and one line per
    epoch elsewhere, 2 one line per epoch always."""
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    if verbose == 0:
        return None
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    if verbose == 1 and isatty is not None and isatty():
        return ProgressBar(epochs, steps, stream)
    return EpochLine(epochs, steps, stream)
