"""``Callback``: the hooks ``fit`` calls around every epoch and step."""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class of training callbacks; override only the hooks you need.

    ``fit`` calls, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``, per step
    ``on_batch_begin`` -> forward, loss, ``backward()`` -> ``on_after_backward`` (gradients are in
    ``p.grad``, the optimizer has not stepped yet) -> ``optimizer.step()`` -> ``on_batch_end``,
    then ``on_epoch_end`` (after validation, with the epoch's logs) and finally ``on_train_end``.

    Every hook gets the ``Trainer`` running the loop: ``trainer.model``, ``.optimizer``,
    ``.loss_fn``, ``.history``, ``.epoch`` (0-based), ``.step`` (optimizer steps so far),
    ``.scheduler``, ``.loss`` (the current step's loss tensor) and ``.stop_training`` (set it to
    True to stop after the current step).

    Hooks a subclass does not override cost nothing per step: the trainer only calls the ones
    that are overridden.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, trainer, epoch, logs):
        ...         print(epoch, round(logs["loss"], 3))
    """

    def on_train_begin(self, trainer: Any) -> None:
        pass

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        pass

    def on_batch_begin(self, trainer: Any, batch: int) -> None:
        pass

    def on_after_backward(self, trainer: Any) -> None:
        pass

    def on_batch_end(self, trainer: Any, batch: int, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        pass

    def on_train_end(self, trainer: Any) -> None:
        pass

    # Checkpoints carry the state of stateful callbacks (EarlyStopping's patience counter...),
    # so that a resumed run behaves exactly like the uninterrupted one.
    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_after_backward",
         "on_batch_end", "on_epoch_end", "on_train_end")


def overriding(callbacks, hook: str) -> list:
    """The callbacks whose class overrides ``hook`` (bound methods, ready to call)."""
    base = getattr(Callback, hook)
    out = []
    for cb in callbacks:
        fn = getattr(type(cb), hook, None)
        if fn is not None and fn is not base:
            out.append(getattr(cb, hook))
    return out
