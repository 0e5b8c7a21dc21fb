"""``History``: what ``fit`` returns, one entry per epoch, shaped like Keras's ``History``."""

from __future__ import annotations

import math


class History:
    """Per-epoch logs of a training run.

    ``history.history`` maps each key (``loss``, each metric, ``val_loss``, ``val_<metric>``,
    ``lr``, ``time``) to a list with one value per epoch; ``history.epoch`` lists the epoch
    indices (0-based, like Keras); ``history.params`` the run's settings (``epochs``,
    ``steps``, ``batch_size``, ``verbose``). A run resumed from a checkpoint continues the lists.

    Example:
        >>> h = History()
        >>> h.append(0, {"loss": 0.5, "accuracy": 0.8})
        >>> h.history["loss"], h.epoch, h.last("accuracy")
        ([0.5], [0], 0.8)
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict = {}

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        """Record the logs of ``epoch``; a key first seen late is padded with NaN before."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            self.history.setdefault(key, [math.nan] * n).append(float(value))
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)

    def last(self, key: str) -> float:
        """The most recent value of ``key``."""
        if key not in self.history or not self.history[key]:
            raise KeyError(f"History has no {key!r}; keys: {sorted(self.history)}")
        return self.history[key][-1]

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """``(epoch, value)`` of the best value of ``key`` (``mode`` ``"min"`` or ``"max"``)."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        values = self.history.get(key)
        if not values:
            raise KeyError(f"History has no {key!r}; keys: {sorted(self.history)}")
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=lambda k: values[k])
        return self.epoch[i], values[i]

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict:
        """JSON-able contents, for checkpoints."""
        return {"history": {k: list(v) for k, v in self.history.items()},
                "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict) -> None:
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs; {keys})"
