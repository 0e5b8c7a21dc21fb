"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model's ``state_dict``, the optimizer's and the scheduler's, the
history, the state of stateful callbacks, the epoch count and the global random generator's
state (shuffling and dropout draw from it). Restoring all of it makes a resumed run produce
bit-for-bit the weights of the uninterrupted one.

The file is a ``cr.save`` safetensors file. Arrays are stored flat under dotted keys; the rest
(int-keyed optimizer state, hyper-parameters, RNG state) goes into one JSON document, because
JSON object keys are always strings and would turn the optimizer's ``{0: ...}`` into
``{"0": ...}``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

FORMAT = "chainrule.train.checkpoint/1"


def _pack(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON tree for ``obj`` with each array replaced by ``{"@array": flat_key}``."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        arrays[key] = np.ascontiguousarray(obj)
        return {"@array": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"@dict": {k: _pack(v, f"{key}.{k}", arrays) for k, v in obj.items()}}
        return {"@items": [[k, _pack(v, f"{key}.{k}", arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"@tuple": [_pack(v, f"{key}.{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_pack(v, f"{key}.{i}", arrays) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint: cannot store a {type(obj).__name__} at {key!r}")


def _unpack(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, list):
        return [_unpack(v, arrays) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "@array" in tree:
        return np.array(arrays[tree["@array"]], copy=True)
    if "@dict" in tree:
        return {k: _unpack(v, arrays) for k, v in tree["@dict"].items()}
    if "@items" in tree:
        return {k: _unpack(v, arrays) for k, v in tree["@items"]}
    if "@tuple" in tree:
        return tuple(_unpack(v, arrays) for v in tree["@tuple"])
    raise ValueError(f"checkpoint: unreadable entry {tree!r}")


def _state_of(obj) -> dict | None:
    return obj.state_dict() if obj is not None and hasattr(obj, "state_dict") else None


def _rng_json(state: dict) -> str:
    # PCG64's 128-bit integers survive JSON as text; some JSON readers round big numbers.
    return json.dumps(state, default=str)


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

    arrays: dict[str, np.ndarray] = {}
    state = {
        "model": _pack(model.state_dict(), "model", arrays),
        "optimizer": _pack(_state_of(optimizer), "optimizer", arrays),
        "scheduler": _pack(_state_of(scheduler), "scheduler", arrays),
        "callbacks": _pack([_state_of(cb) for cb in callbacks], "callbacks", arrays),
    }
    meta = {
        "format": FORMAT, "epoch": int(epoch), "step": int(step), "rng": _rng_json(get_rng_state()),
        "history": history.state_dict() if history is not None else None,
        "extra": extra or {},
    }
    doc = json.dumps({"state": state, "meta": meta})
    save({"arrays": arrays, "checkpoint": doc}, os.fspath(path))
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
    if not isinstance(raw, dict) or "checkpoint" not in raw:
        raise ValueError(f"{path!r} is not a training checkpoint (no 'checkpoint' entry); "
                         f"load plain weights with cr.load")
    doc = json.loads(raw["checkpoint"])
    if doc.get("meta", {}).get("format") != FORMAT:
        raise ValueError(f"{path!r}: unknown checkpoint format {doc.get('meta', {}).get('format')}")
    arrays = {k: (v.data if isinstance(v, Tensor) else np.asarray(v))
              for k, v in _flatten(raw.get("arrays", {})).items()}
    out = {k: _unpack(v, arrays) for k, v in doc["state"].items()}
    out.update(doc["meta"])
    out["rng"] = json.loads(out["rng"])
    return out


def _flatten(tree, prefix: str = "") -> dict:
    """Flat dotted keys, whether ``cr.load`` returns the arrays flat or nested."""
    flat = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


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
    states = ckpt["callbacks"] or []
    if len(states) == len(trainer.callbacks):
        for cb, st in zip(trainer.callbacks, states):
            if st is not None and hasattr(cb, "load_state_dict"):
                cb.load_state_dict(st)
    trainer.step = int(ckpt["step"])
    return int(ckpt["epoch"])
