"""``fit``: the explicit PyTorch training loop, with progress, history and callbacks around it.

The inner loop is exactly the one you would write by hand::

    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

Everything else (metrics, callbacks, display) is arranged so that a step pays for nothing it
does not use: hooks that no callback overrides are never called, and per-batch logs are only
built when a callback wants them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._alloc import tune_allocator
from ..autograd import detect_anomaly as _detect_anomaly
from ..random import manual_seed
from ._data import as_batches, split_batch
from ._resolve import loss_takes_logits, resolve_loss, resolve_optimizer
from .callbacks.base import HOOKS, overriding
from .evaluate import evaluate_loader
from .history import History
from .metrics import Metric, metric_value, resolve_metrics
from .progress import make_progress


def _is_plateau(scheduler) -> bool:
    # ReduceLROnPlateau.step takes the monitored value; every other scheduler takes nothing.
    return type(scheduler).__name__ == "ReduceLROnPlateau"


def _check_positive_int(value, name: str, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"fit: {name} must be an integer >= {low}, got {value!r}")
    return value


class _EpochSums:
    """The running sums of the epoch in progress: what a checkpoint taken inside the epoch
    must carry for the resumed run to log the same epoch means."""

    __slots__ = ("batch", "seen", "loss_sum", "sums", "lr", "elapsed", "_t0")

    def __init__(self, names: list[str], lr: float, state: dict | None = None) -> None:
        self._t0 = time.perf_counter()
        if state is None:
            self.batch, self.seen, self.loss_sum, self.lr, self.elapsed = 0, 0, 0.0, lr, 0.0
            self.sums = [0.0] * len(names)
        else:
            self.batch, self.seen = int(state["batch"]), int(state["seen"])
            self.loss_sum, self.lr = float(state["loss_sum"]), float(state["lr"])
            self.elapsed = float(state["elapsed"])
            self.sums = [float(state["sums"][name]) for name in names]

    def seconds(self) -> float:
        return self.elapsed + time.perf_counter() - self._t0

    def state_dict(self, names: list[str]) -> dict:
        return {"batch": self.batch, "seen": self.seen, "loss_sum": self.loss_sum,
                "sums": dict(zip(names, self.sums)), "lr": self.lr, "elapsed": self.seconds()}


class Trainer:
    """The object behind ``fit``; callbacks receive it in every hook.

    Attributes: ``model``, ``optimizer``, ``loss_fn``, ``scheduler``, ``history`` (a
    ``History``), ``epoch`` (0-based, the current epoch), ``step`` (optimizer steps taken),
    ``loss`` (the current step's loss tensor, while hooks of that step run), ``stop_training``
    (set True to stop after the current step), ``metrics`` (name -> fn), ``epochs``,
    ``has_validation``, ``callbacks``.

    Example:
        >>> import chainrule as cr
        >>> model = cr.nn.Linear(1, 1)
        >>> t = Trainer(model, loss="mse", optimizer="sgd", lr=0.1, metrics=["mae"])
        >>> X = cr.randn(16, 1); h = t.fit((X, 2 * X), epochs=2, verbose=0)
        >>> len(h.history["loss"])
        2
    """

    def __init__(self, model: Any, loss: str | Callable, optimizer: Any, *,
                 lr: float | None = None,
                 metrics: Iterable[str | Metric] | Mapping[str, Metric] | None = ("accuracy",),
                 scheduler: Any = None, scheduler_interval: str = "epoch",
                 callbacks: Sequence[Any] = ()) -> None:
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError(f"fit: model must be a Module (callable with parameters()), got "
                            f"{type(model).__name__}")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', "
                             f"got {scheduler_interval!r}")
        if scheduler_interval == "step" and _is_plateau(scheduler):
            raise ValueError("ReduceLROnPlateau watches an epoch quantity: use "
                             "scheduler_interval='epoch'")
        self.model = model
        self.loss_fn = resolve_loss(loss)
        self.optimizer = resolve_optimizer(optimizer, model, lr)
        self.metrics = resolve_metrics(metrics, logits=loss_takes_logits(self.loss_fn))
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not any(hasattr(cb, h) for h in HOOKS):
                raise TypeError(f"fit: {type(cb).__name__} is not a Callback")
        self.history = History()
        self.epoch = 0
        self.step = 0
        self.loss = None
        self.stop_training = False
        self.has_validation = False
        self.epochs = 0
        self.train_loader = None
        self.val_loader = None
        self._partial: _EpochSums | None = None
        self._phase: str | None = None  # "batch" or "epoch" while those end hooks run
        self._to_save: list = []  # checkpoints asked for during the hooks now running

    def save_checkpoint(self, path: str | os.PathLike,
                        on_saved: Callable[[str], None] | None = None,
                        extra: dict | None = None) -> None:
        """Write a resumable checkpoint of this run to ``path``; call it from a callback's
        ``on_batch_end`` (a checkpoint inside the epoch, with the data position) or
        ``on_epoch_end``. The file is written once every callback has finished that hook,
        so all their states are in it; ``on_saved(path)`` is called then. ``extra``: free-form
        values stored with it (``load_checkpoint(path)["extra"]``), as ``save_checkpoint``'s.

        Example:
            >>> class EveryHundredSteps(cr.train.Callback):  # doctest: +SKIP
            ...     def on_batch_end(self, trainer, batch, logs):
            ...         if trainer.step % 100 == 0:
            ...             trainer.save_checkpoint(f"ckpt/step{trainer.step}.safetensors")
        """
        if self._phase is None:
            raise ValueError("Trainer.save_checkpoint: call it from a callback's on_batch_end "
                             "or on_epoch_end")
        if extra is not None and not isinstance(extra, dict):
            raise TypeError(f"Trainer.save_checkpoint: extra must be a dict, got "
                            f"{type(extra).__name__}")
        self._to_save.append((os.fspath(path), self._phase == "batch", on_saved, extra))

    def _write_checkpoints(self) -> None:
        from .checkpoint import save_trainer

        to_save, self._to_save = self._to_save, []
        for path, mid_epoch, on_saved, extra in to_save:
            save_trainer(path, self, mid_epoch=mid_epoch, extra=extra)
            if on_saved is not None:
                on_saved(path)

    # -- the loop ---------------------------------------------------------------------------

    def fit(self, train: Any, epochs: int = 1, batch_size: int = 32, val: Any = None,
            shuffle: bool = True, verbose: int = 1, seed: int | None = None,
            detect_anomaly: bool = False, initial_epoch: int = 0,
            resume: str | None = None) -> History:
        """Train for ``epochs`` epochs; see ``chainrule.train.fit`` for the arguments."""
        from .checkpoint import restore

        # fit owns the loop, so it may set the process-wide malloc options that keep each
        # step's large temporaries mapped (see cr.tune_allocator; CHAINRULE_NO_MALLOPT=1 vetoes).
        tune_allocator()
        _check_positive_int(epochs, "epochs", allow_zero=True)
        _check_positive_int(batch_size, "batch_size")
        _check_positive_int(initial_epoch, "initial_epoch", allow_zero=True)
        if resume is not None and initial_epoch:
            raise ValueError("fit: pass initial_epoch or resume, not both (the checkpoint "
                             "says which epoch to continue from)")
        if seed is not None:
            manual_seed(seed)
        loader = as_batches(train, batch_size, shuffle, "fit train")
        val_loader = None if val is None else as_batches(val, batch_size, False, "fit val")
        self.train_loader, self.val_loader, self.epochs = loader, val_loader, epochs
        self.has_validation = val_loader is not None
        resumed, stopped = None, False
        if resume is not None:
            # After seeding: the checkpoint's RNG state must win over the seed.
            initial_epoch, resumed, stopped = restore(resume, self)
        try:
            steps = len(loader)
        except TypeError:
            steps = None
        self.history.params = {"epochs": epochs, "steps": steps, "batch_size": batch_size,
                               "verbose": verbose}
        # The display goes first: an epoch's line is complete before any callback prints.
        progress = make_progress(verbose, epochs, steps)
        callbacks = ([progress] if progress is not None else []) + list(self.callbacks)
        hooks = {h: overriding(callbacks, h) for h in HOOKS}

        self.stop_training = False
        if hasattr(self.model, "train"):
            self.model.train()
        for fn in hooks["on_train_begin"]:
            fn(self)
        anomaly = _detect_anomaly() if detect_anomaly else contextlib.nullcontext()
        # A checkpoint written as the run stopped (EarlyStopping, TerminateOnNaN) resumes to the
        # same end: the rest of its epoch without more batches, or nothing at an epoch end.
        first = epochs if stopped and resumed is None else initial_epoch
        try:
            for epoch in range(first, epochs):
                self._run_epoch(epoch, loader, val_loader, hooks, anomaly, resumed, progress,
                                stopped)
                resumed, stopped = None, False
                if self.stop_training:
                    break
        except BaseException:
            if progress is not None and hasattr(progress, "abort"):
                progress.abort()  # end a half-drawn bar so the traceback starts on its own line
            raise
        finally:
            self._partial, self._phase, self._to_save = None, None, []
        for fn in hooks["on_train_end"]:
            fn(self)
        return self.history

    def _run_epoch(self, epoch: int, loader, val_loader, hooks, anomaly,
                   resumed: dict | None = None, display: Any = None,
                   stopped: bool = False) -> None:
        """Train one epoch, validate, step the scheduler, record and report the logs.

        ``resumed``: the running sums of this epoch from a checkpoint taken inside it. Its
        ``on_epoch_begin`` hooks ran before that checkpoint, so only the display's runs again.
        """
        self.epoch = epoch
        names = list(self.metrics)
        if resumed is None:
            for fn in hooks["on_epoch_begin"]:
                fn(self, epoch)
            # After on_epoch_begin: schedules set it.
            self._partial = _EpochSums(names, self.optimizer.param_groups[0]["lr"])
        else:
            for fn in hooks["on_epoch_begin"]:
                if getattr(fn, "__self__", None) is display:
                    fn(self, epoch)
            self._partial = _EpochSums(names, 0.0, resumed)
        with anomaly:
            logs = self._train_epoch(loader, hooks, self._partial, skip=resumed is not None,
                                     stopped=stopped)
        if val_loader is not None:
            val_logs = evaluate_loader(self.model, val_loader, self.loss_fn, self.metrics)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        logs["lr"] = float(self._partial.lr)
        logs["time"] = self._partial.seconds()
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if _is_plateau(self.scheduler):
                self.scheduler.step(logs["val_loss" if val_loader is not None else "loss"])
            else:
                self.scheduler.step()
        self.history.append(epoch, logs)
        self._phase = "epoch"
        try:
            for fn in hooks["on_epoch_end"]:
                fn(self, epoch, logs)
        finally:
            self._phase = None
        if self._to_save:
            self._write_checkpoints()

    def _train_epoch(self, loader, hooks, acc: _EpochSums, skip: bool = False,
                     stopped: bool = False) -> dict[str, float]:
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        metrics = list(self.metrics.items())
        names = [name for name, _ in metrics]
        sums = acc.sums
        begin, after, end = (hooks["on_batch_begin"], hooks["on_after_backward"],
                             hooks["on_batch_end"])
        sched = self.scheduler if self.scheduler_interval == "step" else None
        if stopped:  # the checkpoint was written by the step that stopped the run
            self.stop_training = True
            source = batches = iter(())
        else:
            source = batches = iter(loader)
        if skip and acc.batch and not callable(getattr(loader, "load_state_dict", None)):
            # A resumed epoch over a list of batches: skip what was trained before the
            # checkpoint (a DataLoader was put at its position by the checkpoint itself).
            batches = itertools.islice(source, acc.batch, None)
        try:
            for batch, data in enumerate(batches, start=acc.batch):
                x, y = split_batch(data, "fit")
                for fn in begin:
                    fn(self, batch)
                optimizer.zero_grad()
                out = model(x)
                loss = loss_fn(out, y)
                loss.backward()
                if after:
                    self.loss = loss
                    for fn in after:
                        fn(self)
                optimizer.step()
                if sched is not None:
                    sched.step()
                self.step += 1
                n = len(x)
                value = float(loss._data)
                acc.loss_sum += value * n
                acc.seen += n
                acc.batch = batch + 1
                values = [metric_value(fn(out, y)) for _, fn in metrics]
                for i, v in enumerate(values):
                    sums[i] += v * n
                if end:
                    self.loss = loss
                    logs = {"loss": value, "size": n}
                    logs.update(zip(names, values))
                    self._phase = "batch"
                    for fn in end:
                        fn(self, batch, logs)
                    self._phase = None
                    if self._to_save:
                        self._write_checkpoints()
                if self.stop_training:
                    break
        finally:
            # A pass left early is over: the loader must not count it as still in progress.
            # (Only an iterator made here is closed, never one the caller handed in.)
            if source is not loader and hasattr(source, "close"):
                source.close()
        if acc.seen == 0:
            raise ValueError("fit: the training data produced no batches")
        logs = {"loss": acc.loss_sum / acc.seen}
        logs.update({name: s / acc.seen for name, s in zip(names, sums)})
        return logs


def fit(model: Any, train: Any, loss: str | Callable | None = None, optimizer: Any = None,
        epochs: int = 1, batch_size: int = 32, val: Any = None,
        metrics: Iterable[str | Metric] | Mapping[str, Metric] | None = ("accuracy",),
        scheduler: Any = None, callbacks: Sequence[Any] = (), shuffle: bool = True,
        verbose: int = 1, seed: int | None = None, detect_anomaly: bool = False, *,
        lr: float | None = None, initial_epoch: int = 0, resume: str | None = None,
        scheduler_interval: str = "epoch") -> History:
    """Train ``model`` with the explicit loop (zero_grad, forward, loss, backward, step).

    Args:
        model: a ``cr.nn.Module``.
        train / val: a Dataset, a DataLoader, or an ``(X, y)`` pair of tensors/arrays.
        loss: a loss module/callable, or a name: ``"mse"``, ``"cross_entropy"``, ``"bce"``,
            ``"bce_with_logits"``, ``"l1"``, ``"nll"``, ``"huber"``.
        optimizer: an Optimizer, or a name (``"adam"``, ``"sgd"``, ``"adamw"``, ``"rmsprop"``,
            ``"adagrad"``) built over ``model.parameters()`` with ``lr=``.
        epochs: train until this epoch count (counting ``initial_epoch``, like Keras).
        batch_size / shuffle: used when ``train``/``val`` is not already a DataLoader.
        metrics: names (``"accuracy"``, ``"mae"``, ``"mse"``), callables ``fn(output, target)``
            returning a batch mean, or a dict name -> callable.
        scheduler: an LR scheduler, stepped once per epoch after validation
            (``ReduceLROnPlateau`` gets ``val_loss``, or ``loss`` without validation);
            ``scheduler_interval="step"`` steps it after every optimizer step instead.
        callbacks: ``cr.train.callbacks.Callback`` objects.
        verbose: 0 silent, 1 a live bar on a terminal and one line per epoch elsewhere,
            2 one line per epoch.
        seed: seeds the global generator first (shuffling, dropout) for a reproducible run.
        detect_anomaly: run the training steps under ``cr.autograd.detect_anomaly()``.
        initial_epoch / resume: continue a run; ``resume`` is a checkpoint path written by
            ``ModelCheckpoint`` or ``save_checkpoint`` and restores model, optimizer,
            scheduler, history, callbacks and RNG state, so the result matches an
            uninterrupted run exactly.

    On glibc (Linux) ``fit`` first calls ``cr.tune_allocator()``, which keeps freed large
    arrays in the process for the next step instead of returning them to the OS; the setting
    is process-wide and stays. ``CHAINRULE_NO_MALLOPT=1`` in the environment keeps glibc's
    defaults.

    Returns:
        ``History``: ``history.history["loss"]``, ``["val_accuracy"]``, ``["lr"]``...

    Example:
        >>> import chainrule as cr
        >>> X = cr.randn(64, 2); y = (X[:, 0] > 0).long()
        >>> model = cr.nn.Linear(2, 2)
        >>> h = cr.train.fit(model, (X, y), loss="cross_entropy", optimizer="adam", lr=0.1,
        ...                  epochs=3, verbose=0)
        >>> h.epoch
        [0, 1, 2]
    """
    trainer = Trainer(model, loss, optimizer, lr=lr, metrics=metrics, scheduler=scheduler,
                      scheduler_interval=scheduler_interval, callbacks=callbacks)
    return trainer.fit(train, epochs=epochs, batch_size=batch_size, val=val, shuffle=shuffle,
                       verbose=verbose, seed=seed, detect_anomaly=detect_anomaly,
                       initial_epoch=initial_epoch, resume=resume)
