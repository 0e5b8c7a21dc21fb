"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a ``cr.save`` safetensors file holding:

- ``model``: the model's ``state_dict`` (``cr.load(path)["model"]`` is ready for
  ``load_state_dict``); ``optimizer`` and ``scheduler``: their ``state_dict``\\ s;
- ``callbacks``: per callback its class name, ``state_dict()`` and the generators it holds;
- ``data``: the ``state_dict()`` of the training and validation loaders: their generators, their
  samplers' and the dataset's, and the position inside a pass when saved mid-epoch;
- ``rng``: the global generator (dropout, shuffling without ``generator=``), the generators
  held by the model's modules, the optimizer, the scheduler and the loss, and any others named
  by the caller;
- ``training``: the format, the epoch to continue from, the optimizer step count, the history,
  the running sums of an epoch interrupted mid-way, and free-form ``extra`` values.

Restoring all of it makes a resumed run produce bit for bit the uninterrupted run's weights,
optimizer state and history. Every field is checked before anything is restored (the file's
own fields, and the optimizer's and scheduler's states against the objects they go into); if
restoring still fails (a model of another shape, say), what was already restored is put back.
Whatever the reason, a checkpoint that cannot be restored raises ``cr.CheckpointError`` (a
``ValueError``) naming the file, with the original error as its cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..random import (
    _generator_state,
    _held_generator_restorers,
    _held_generator_states,
    _held_generators,
    _is_generator,
    _state_restorer,
    get_rng_state,
    set_rng_state,
)
from ..serialization.errors import CheckpointError
from ..tensor import Tensor
from ._checkpoint_fields import FORMAT, FORMAT_V1, check, check_optimizer, check_scheduler

__all__ = ["load_checkpoint", "resume", "save_checkpoint"]


def _arrays(tree: Any) -> Any:
    """``cr.load`` returns Tensors; state dicts are restored from plain arrays."""
    if isinstance(tree, Tensor):
        return tree._data
    if isinstance(tree, dict):
        return {k: _arrays(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_arrays(v) for v in tree]
    if isinstance(tree, tuple):
        return tuple(_arrays(v) for v in tree)
    return tree


def _state_of(obj) -> dict | None:
    return obj.state_dict() if obj is not None and hasattr(obj, "state_dict") else None


def _module_generators(model) -> dict:
    """The generators held by a model's modules (or by any object: an optimizer, a
    scheduler, a loss), by ``module.attribute`` name."""
    if model is None:
        return {}
    modules = model.named_modules() if hasattr(model, "named_modules") else [("", model)]
    out = {}
    for name, module in modules:
        for attr, gen in _held_generators(module).items():
            out[f"{name}.{attr}" if name else attr] = gen
    return out


def _loader_state(loader) -> dict | None:
    method = getattr(loader, "state_dict", None)
    return method() if callable(method) else None


def _holds_state(tree) -> bool:
    """Whether a loader's ``state_dict()`` holds anything to restore: a generator's state or
    a pass in progress (a loader shuffling from the global generator, between passes, has
    nothing of its own)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key in ("generator", "pass") and value is not None:
                return True
            if key == "generators" and value:
                return True
            if _holds_state(value):
                return True
    return False


def _check_generators(generators: Mapping | None, where: str) -> dict:
    generators = dict(generators or {})
    for name, gen in generators.items():
        if not isinstance(name, str) or not _is_generator(gen):
            raise TypeError(f"{where}: generators must map names to cr.Generator objects, got "
                            f"{name!r}: {type(gen).__name__}")
    return generators


def _states(generators: dict) -> dict:
    return {name: _generator_state(g) for name, g in generators.items()}


def _payload(model, optimizer, scheduler, callbacks, loaders: dict, generators: dict,
             training: dict, loss: Any = None) -> dict:
    return {
        "model": model.state_dict(),
        "optimizer": _state_of(optimizer),
        "scheduler": _state_of(scheduler),
        "callbacks": [{"type": type(cb).__name__, "state": _state_of(cb),
                       "generators": _held_generator_states(cb)} for cb in callbacks],
        "data": {name: _loader_state(loader) for name, loader in loaders.items()},
        "rng": {"global": get_rng_state(), "model": _states(_module_generators(model)),
                "optimizer": _states(_module_generators(optimizer)),
                "scheduler": _states(_module_generators(scheduler)),
                "loss": _states(_module_generators(loss)), "extra": _states(generators)},
        "training": {"format": FORMAT, **training},
    }


def _write(path, payload: dict) -> str:
    from ..io import save

    save(payload, os.fspath(path))
    return os.fspath(path)


def save_checkpoint(path: str | os.PathLike, model: Any, optimizer: Any = None, *,
                    epoch: int = 0, scheduler: Any = None, history: Any = None,
                    callbacks: Sequence[Any] = (), step: int = 0, extra: dict | None = None,
                    loader: Any = None, val_loader: Any = None,
                    generators: Mapping[str, Any] | None = None) -> str:
    """Write a resumable checkpoint to ``path`` (safetensors, written atomically).

    ``epoch`` is the epoch to continue from: the number of completed epochs at an epoch end.
    ``loader`` / ``val_loader``: the data loaders (their generators, and the position inside a
    pass when saved mid-epoch, so the data order continues exactly); ``generators``: any other
    ``cr.Generator`` your loop draws from, by name. The global generator and the generators
    held by the model's modules are always saved.

    Example:
        >>> import chainrule as cr, tempfile, os
        >>> model = cr.nn.Linear(2, 1); opt = cr.optim.SGD(model.parameters(), lr=0.1)
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> _ = save_checkpoint(path, model, opt, epoch=3)
        >>> resume(path, cr.nn.Linear(2, 1))["epoch"]
        3
    """
    where = "save_checkpoint"
    for name, value in (("epoch", epoch), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}: {name} must be an integer >= 0, got {value!r}")
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"{where}: extra must be a dict, got {type(extra).__name__}")
    training = {"epoch": epoch, "step": step,
                "history": history.state_dict() if history is not None else None,
                "extra": extra or {}, "progress": None, "stop_training": False}
    return _write(path, _payload(model, optimizer, scheduler, list(callbacks),
                                 {"train": loader, "val": val_loader},
                                 _check_generators(generators, where), training))


def save_trainer(path: str | os.PathLike, trainer: Any, *, mid_epoch: bool = False,
                 extra: dict | None = None) -> str:
    """``fit``'s checkpoint: at an epoch end, or after a step with the epoch's running sums."""
    progress = None
    if mid_epoch:
        progress = trainer._partial.state_dict(list(trainer.metrics))
        loader = trainer.train_loader
        if not callable(getattr(loader, "state_dict", None)) and not isinstance(
                loader, (list, tuple)):
            raise ValueError(
                f"a checkpoint inside an epoch needs the training loader's position; "
                f"{type(loader).__name__} cannot report it: train from a cr.data.DataLoader, "
                f"a Dataset, an (X, y) pair, a list of batches, or an object with "
                f"state_dict()/load_state_dict()")
    training = {"epoch": trainer.epoch + (0 if mid_epoch else 1), "step": trainer.step,
                "history": trainer.history.state_dict(), "extra": extra or {},
                "progress": progress, "stop_training": bool(trainer.stop_training)}
    return _write(path, _payload(trainer.model, trainer.optimizer, trainer.scheduler,
                                 trainer.callbacks,
                                 {"train": trainer.train_loader, "val": trainer.val_loader},
                                 {}, training, loss=trainer.loss_fn))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint at ``path``, checked, as ``{"model", "optimizer", "scheduler",
    "callbacks", "data", "rng", "generators", "epoch", "step", "history", "extra",
    "progress", "format"}`` (arrays as NumPy arrays).

    A file ``cr.load`` refuses, or a field of the wrong type or out of range (``epoch=-3``,
    a missing RNG state), raises ``cr.CheckpointError`` (a ``ValueError``) naming the file
    and the field.

    Example:
        >>> # ckpt = load_checkpoint("runs/demo/model.safetensors"); ckpt["epoch"]
    """
    from ..io import load

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    raw = load(path)
    training = check(raw, path)
    out = {k: _arrays(raw[k]) for k in ("model", "optimizer", "scheduler", "callbacks")}
    out.update(training)
    out["data"] = _arrays(out["data"])
    out["rng"] = _arrays(out["rng"])
    out["generators"] = _arrays(out["generators"])
    return out


class _Restore:
    """Restores from a checked checkpoint; on failure, puts back what it had changed."""

    def __init__(self, path: str, ckpt: dict) -> None:
        self.path, self.ckpt = path, ckpt
        self.steps: list[tuple[str, Callable[[], None], Callable[[], None] | None]] = []

    def add(self, what: str, apply: Callable[[], None],
            undo: Callable[[], None] | None) -> None:
        self.steps.append((what, apply, undo))

    def run(self) -> None:
        done = []
        what = ""
        try:
            for step, apply, undo in self.steps:
                what = step
                apply()
                done.append(undo)
        except BaseException as e:
            for undo in reversed(done):
                if undo is not None:
                    undo()
            if isinstance(e, Exception) and not isinstance(e, CheckpointError):
                raise CheckpointError(f"{self.path!r}: cannot restore {what} from this "
                                      f"checkpoint ({type(e).__name__}: {e}); nothing was "
                                      "restored") from e
            raise

    def fail(self, what: str) -> CheckpointError:
        return CheckpointError(f"{self.path!r}: {what}")

    # -- the pieces ---------------------------------------------------------------------------

    def model(self, model) -> None:
        before = {k: np.array(v._data if isinstance(v, Tensor) else v, copy=True)
                  for k, v in model.state_dict().items()}
        self.add("the model", lambda: model.load_state_dict(self.ckpt["model"]),
                 lambda: model.load_state_dict(before))
        self.held_generators("model", model)

    def stateful(self, name: str, obj) -> None:
        if obj is None:
            return
        if self.ckpt[name] is None:
            raise self.fail(f"holds no {name} state")
        (check_optimizer if name == "optimizer" else check_scheduler)(
            self.path, self.ckpt[name], obj)
        before = obj.state_dict()
        self.add(f"the {name}", lambda: obj.load_state_dict(self.ckpt[name]),
                 lambda: obj.load_state_dict(before))
        self.held_generators(name, obj)

    def held_generators(self, owner: str, obj) -> None:
        """The generators ``obj`` (the model, optimizer, scheduler or loss) holds."""
        if self.ckpt["format"] == FORMAT:
            self._generators(_module_generators(obj), self.ckpt["generators"][owner],
                             f"the {owner}'s generators")

    def loader(self, name: str, loader) -> None:
        if self.ckpt["format"] == FORMAT_V1 or loader is None:
            return  # older checkpoints hold no loader state
        saved = self.ckpt["data"][name]
        stateful = callable(getattr(loader, "load_state_dict", None))
        if saved is None:
            if stateful and _holds_state(loader.state_dict()):
                raise self.fail(f"holds no state for the {name} loader "
                                f"({type(loader).__name__}), whose generators decide the "
                                f"data order; it was saved without loader=")
            return
        if not stateful:
            raise self.fail(f"holds the state of a {name} DataLoader, but the {name} data "
                            f"given now ({type(loader).__name__}) cannot take it")
        before = loader.state_dict()
        self.add(f"the {name} loader", lambda: loader.load_state_dict(saved),
                 lambda: loader.load_state_dict(before))

    def generators(self, generators: dict) -> None:
        saved = self.ckpt["generators"]["extra"] if self.ckpt["format"] == FORMAT else {}
        self._generators(generators, saved, "generators")

    def _generators(self, held: dict, saved: dict, what: str) -> None:
        if set(held) != set(saved):
            raise self.fail(f"{what}: the checkpoint has {sorted(saved)}, given "
                            f"{sorted(held)}")
        for name, gen in held.items():
            apply = _state_restorer(gen, saved[name], f"{self.path!r}: {what} {name!r}")
            before = _state_restorer(gen, _generator_state(gen), "undo")
            self.add(f"{what} {name!r}", apply, before)

    def callbacks(self, callbacks) -> None:
        # Matched by class and order, so adding or removing another callback does not shift them.
        saved = list(self.ckpt["callbacks"] or [])
        for cb in callbacks:
            for i, entry in enumerate(saved):
                if entry["type"] != type(cb).__name__:
                    continue
                if entry.get("state") and hasattr(cb, "load_state_dict"):
                    state, before = entry["state"], _state_of(cb)
                    self.add(f"callback {type(cb).__name__}",
                             lambda cb=cb, s=state: cb.load_state_dict(s),
                             lambda cb=cb, s=before: cb.load_state_dict(s))
                gens = entry.get("generators", {})
                for apply in _held_generator_restorers(
                        cb, gens, f"{self.path!r}: callback {type(cb).__name__}"):
                    self.add(f"the generators of callback {type(cb).__name__}", apply, None)
                del saved[i]
                break

    def global_rng(self) -> None:
        before = get_rng_state()
        state = self.ckpt["rng"]
        self.add("the global generator", lambda: set_rng_state(state),
                 lambda: set_rng_state(before))


def resume(path: str | os.PathLike, model: Any, optimizer: Any = None, scheduler: Any = None,
           *, loader: Any = None, val_loader: Any = None, callbacks: Sequence[Any] = (),
           generators: Mapping[str, Any] | None = None) -> dict:
    """Restore a checkpoint into your objects: model, optimizer, scheduler, the global
    generator and the generators the model holds, and, when given, the loaders (their
    generators and the position inside a pass), callbacks and named ``generators``.

    Returns the checkpoint (``["epoch"]`` is the epoch to continue from); continue with
    ``fit(..., initial_epoch=ckpt["epoch"])``, your own loop from that epoch, or let
    ``fit(..., resume=path)`` do all of it (it also restores the history and callbacks).

    Example:
        >>> # ckpt = cr.train.resume("ckpt.safetensors", model, opt, loader=loader)
        >>> # for epoch in range(ckpt["epoch"], 10): ...
    """
    path = os.fspath(path)
    ckpt = load_checkpoint(path)
    r = _Restore(path, ckpt)
    r.model(model)
    r.stateful("optimizer", optimizer)
    r.stateful("scheduler", scheduler)
    r.loader("train", loader)
    r.loader("val", val_loader)
    r.callbacks(callbacks)
    r.generators(_check_generators(generators, "resume"))
    r.global_rng()
    r.run()
    return ckpt


def _check_inside_epoch(path: str, ckpt: dict, trainer: Any) -> None:
    """A checkpoint from inside an epoch continues that epoch: the metrics must be the same
    and the training data must be able to continue at the saved position."""
    progress, names = ckpt["progress"], list(trainer.metrics)
    if list(progress["sums"]) != names:
        raise CheckpointError(f"{path!r}: the checkpoint was taken inside an epoch with "
                              f"metrics {list(progress['sums'])}; this run has {names}")
    loader = trainer.train_loader
    if callable(getattr(loader, "load_state_dict", None)):
        saved = ckpt["data"]["train"]
        if saved is None or not isinstance(saved, dict) or saved.get("pass") is None:
            raise CheckpointError(f"{path!r}: the checkpoint was taken inside an epoch but "
                                  "holds no position in the training data for "
                                  f"{type(loader).__name__}")
    elif not isinstance(loader, (list, tuple)):
        raise CheckpointError(f"{path!r}: the checkpoint was taken inside an epoch; continuing "
                              f"it needs training data that can start at batch "
                              f"{progress['batch']} (a DataLoader or a list of batches), not "
                              f"{type(loader).__name__}")


def restore(path: str | os.PathLike, trainer: Any) -> tuple[int, dict | None, bool]:
    """Restore a whole ``Trainer`` from a checkpoint; returns the epoch to continue from, the
    running sums of an epoch interrupted mid-way (None at an epoch end) and whether the run
    had been told to stop when the checkpoint was written."""
    path = os.fspath(path)
    ckpt = load_checkpoint(path)
    progress = ckpt["progress"]
    if progress is not None:
        _check_inside_epoch(path, ckpt, trainer)
    r = _Restore(path, ckpt)
    r.model(trainer.model)
    r.stateful("optimizer", trainer.optimizer)
    r.stateful("scheduler", trainer.scheduler)
    r.loader("train", trainer.train_loader)
    r.loader("val", trainer.val_loader)
    r.callbacks(trainer.callbacks)
    r.held_generators("loss", trainer.loss_fn)
    r.global_rng()
    history_before = trainer.history.state_dict()
    if ckpt["history"] is not None:
        r.add("the history", lambda: trainer.history.load_state_dict(ckpt["history"]),
              lambda: trainer.history.load_state_dict(history_before))
    r.run()
    trainer.step = int(ckpt["step"])
    return int(ckpt["epoch"]), progress, bool(ckpt["stop_training"])
