"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's ``state_dict``, the optimizer's and the scheduler's, the
history, the state of stateful callbacks, the epoch count and the global random generator's
state (shuffling and dropout draw from it). Restoring all of it makes a resumed run produce
bit-for-bit the weights of the uninterrupted one.

The file is a ``cr.save`` safetensors file; ``cr.load(path)["model"]`` is the model's state
dict, ready for ``load_state_dict``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

FORMAT = "chainrule.train.checkpoint/1"


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


def save_checkpoint(path: str | os.PathLike, model: Any, optimizer: Any = None, *,
                    epoch: int = 0, scheduler: Any = None, history: Any = None,
                    callbacks: Any = (), step: int = 0, extra: dict | None = None) -> str:
    """Write a resumable checkpoint to ``path`` (safetensors, written atomically).

    ``epoch`` is the number of completed epochs: ``fit(..., resume=path)`` continues with the
    next one.

    Example:
        >>> import chainrule as cr, tempfile, os
        >>> model = cr.nn.Linear(2, 1); opt = cr.optim.SGD(model.parameters(), lr=0.1)
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> _ = save_checkpoint(path, model, opt, epoch=3)
        >>> resume(path, cr.nn.Linear(2, 1))["epoch"]
        3
    """
    from ..io import save

    training = {
        "format": FORMAT, "epoch": int(epoch), "step": int(step),
        # PCG64's 128-bit integers as text: some JSON readers round big numbers.
        "rng": json.dumps(get_rng_state(), default=str),
        "history": history.state_dict() if history is not None else None,
        "extra": extra or {},
    }
    callback_states = [{"type": type(cb).__name__, "state": _state_of(cb)} for cb in callbacks]
    save({"model": model.state_dict(), "optimizer": _state_of(optimizer),
          "scheduler": _state_of(scheduler), "callbacks": callback_states,
          "training": training}, os.fspath(path))
    return os.fspath(path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint at ``path`` as ``{"model", "optimizer", "scheduler", "callbacks",
    "epoch", "step", "rng", "history", "extra"}`` (arrays as NumPy arrays).

    Example:
        >>> # ckpt = load_checkpoint("runs/demo/model.safetensors"); ckpt["epoch"]
    """
    from ..io import load

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    raw = load(path)
    training = raw.get("training") if isinstance(raw, dict) else None
    if not isinstance(training, dict) or training.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a chainrule training checkpoint; load plain "
                         f"weights with cr.load")
    out = {k: _arrays(raw.get(k)) for k in ("model", "optimizer", "scheduler", "callbacks")}
    out.update({k: v for k, v in training.items() if k != "format"})
    out["rng"] = json.loads(training["rng"])
    return out


def _fix_rng(state: dict) -> dict:
    bits = state.get("state", {})
    for k in ("state", "inc"):
        if isinstance(bits.get(k), str):
            bits[k] = int(bits[k])
    return state


def resume(path: str | os.PathLike, model: Any, optimizer: Any = None,
           scheduler: Any = None) -> dict:
    """Restore model, optimizer, scheduler and the global RNG from a checkpoint.

    Returns the checkpoint (``["epoch"]`` is the number of completed epochs); continue with
    ``fit(..., initial_epoch=ckpt["epoch"])``, or let ``fit(..., resume=path)`` do all of it
    (it also restores the history and callback state).

    Example:
        >>> # ckpt = cr.train.resume("ckpt.safetensors", model, opt)
        >>> # cr.train.fit(model, data, ..., epochs=10, initial_epoch=ckpt["epoch"])
    """
    ckpt = load_checkpoint(path)
    model.load_state_dict(ckpt["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if ckpt[name] is None:
            raise ValueError(f"{os.fspath(path)!r} holds no {name} state")
        obj.load_state_dict(ckpt[name])
    set_rng_state(_fix_rng(ckpt["rng"]))
    return ckpt


def restore(path: str | os.PathLike, trainer: Any) -> int:
    """Restore a whole ``Trainer`` from a checkpoint; returns the epoch to continue from."""
    ckpt = resume(path, trainer.model, trainer.optimizer, trainer.scheduler)
    if ckpt["history"] is not None:
        trainer.history.load_state_dict(ckpt["history"])
    # Matched by class and order, so adding or removing another callback does not shift them.
    saved = list(ckpt["callbacks"] or [])
    for cb in trainer.callbacks:
        for i, entry in enumerate(saved):
            if entry["type"] == type(cb).__name__:
                if entry["state"] and hasattr(cb, "load_state_dict"):
                    cb.load_state_dict(entry["state"])
                del saved[i]
                break
    trainer.step = int(ckpt["step"])
    return int(ckpt["epoch"])
