"""Checking a training checkpoint's contents before anything is restored from it.

Every field is checked for its type and range, so a damaged or hand-edited file stops with a
``CheckpointError`` (a ``ValueError``) that names the file and the field, never a ``KeyError``
halfway through a restore or a run that silently trains epochs -3..2. ``check`` looks at the
file alone; ``check_optimizer`` and ``check_scheduler`` compare a saved state with the object
it is about to be restored into.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from ..random import _bits_from_dict, _parse_state
from ..serialization.errors import CheckpointError
from ..tensor import Tensor

FORMAT_V1 = "chainrule.train.checkpoint/1"  # global RNG only, no loader state
FORMAT = "chainrule.train.checkpoint/2"

# Who holds the generators saved under "rng" besides the global one ("extra": named by the
# caller of save_checkpoint).
GENERATOR_OWNERS = ("model", "optimizer", "scheduler", "loss", "extra")

# The running sums of an epoch interrupted by a checkpoint: keys and what each must be.
PROGRESS_FIELDS = ("batch", "seen", "loss_sum", "sums", "lr", "elapsed")


class _Fields:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, field: str, why: str, value: Any = ...) -> CheckpointError:
        got = "" if value is ... else f", got {_short(value)}"
        return CheckpointError(f"{self.path!r} is not a valid training checkpoint: field "
                               f"{field!r} {why}{got}")

    def int_at_least(self, value, field: str, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(field, f"must be an integer >= {low}", value)
        return value

    def number(self, value, field: str, finite: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                finite and not math.isfinite(value)):
            raise self.fail(field, "must be a finite number" if finite else "must be a number",
                            value)
        return float(value)

    def dict_or_none(self, value, field: str) -> dict | None:
        if value is not None and not isinstance(value, dict):
            raise self.fail(field, "must be a dict or null", value)
        return value

    def dict_of(self, value, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, "must be a dict", value)
        return value

    def generator_state(self, value, field: str) -> None:
        try:
            if isinstance(value, dict) and value.get("bit_generator") == "PCG64":
                _bits_from_dict(value, field)
            elif isinstance(value, (Tensor, np.ndarray)):
                _parse_state(value, field)
            elif not isinstance(value, dict):  # another NumPy bit generator's dict
                raise TypeError(type(value).__name__)
        except (TypeError, ValueError) as e:
            raise self.fail(field, f"is not a generator state ({e})") from None

    def generator_states(self, value, field: str) -> None:
        for name, state in self.dict_of(value, field).items():
            self.generator_state(state, f"{field}.{name}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check(raw: Any, path: str) -> dict:
    """The checkpoint ``raw`` (what ``cr.load`` returned), checked whole; returns its
    ``training`` dict with the v1 RNG state decoded and every optional v2 field present."""
    f = _Fields(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("training"), dict) or (
            raw["training"].get("format") not in (FORMAT, FORMAT_V1)):
        raise CheckpointError(f"{path!r} is not a chainrule training checkpoint; load plain "
                              "weights with cr.load")
    training = dict(raw["training"])
    for key in ("model", "optimizer", "scheduler", "callbacks"):
        if key not in raw:
            raise f.fail(key, "is missing")
    for key, value in f.dict_of(raw["model"], "model").items():
        if not isinstance(value, (Tensor, np.ndarray)):
            raise f.fail(f"model.{key}", "must be a tensor", value)
    f.dict_or_none(raw["optimizer"], "optimizer")
    f.dict_or_none(raw["scheduler"], "scheduler")
    _check_callbacks(f, raw["callbacks"])
    for key in ("epoch", "step"):
        if key not in training:
            raise f.fail(f"training.{key}", "is missing")
        f.int_at_least(training[key], f"training.{key}")
    _check_history(f, training.get("history"))
    stop = training.setdefault("stop_training", False)
    if not isinstance(stop, bool):
        raise f.fail("training.stop_training", "must be true or false", stop)
    f.dict_of(training.get("extra", {}), "training.extra")
    if training["format"] == FORMAT_V1:
        training["rng"] = _v1_rng(f, training.get("rng"))
        training.update(progress=None, data=None,
                        generators={owner: {} for owner in GENERATOR_OWNERS})
        return training
    rng = f.dict_of(raw.get("rng"), "rng")
    if "global" not in rng:
        raise f.fail("rng.global", "is missing (the global generator's state)")
    f.generator_state(rng["global"], "rng.global")
    if not isinstance(rng["global"], (Tensor, np.ndarray)):
        raise f.fail("rng.global", "must be the uint8 tensor of cr.get_rng_state()",
                     rng["global"])
    for owner in GENERATOR_OWNERS:
        f.generator_states(rng.get(owner, {}), f"rng.{owner}")
    data = f.dict_of(raw.get("data"), "data")
    for name in ("train", "val"):
        if name not in data:
            raise f.fail(f"data.{name}", "is missing")
        f.dict_or_none(data[name], f"data.{name}")
    progress = training.get("progress")
    if progress is not None:
        _check_progress(f, progress)
    training.update(rng=rng["global"], data=data, progress=progress,
                    generators={owner: rng.get(owner, {}) for owner in GENERATOR_OWNERS})
    return training


def _v1_rng(f: _Fields, text) -> dict:
    if not isinstance(text, str):
        raise f.fail("training.rng", "is missing (the global generator's state)", text)
    try:
        state = json.loads(text)
    except ValueError:
        raise f.fail("training.rng", "is not valid JSON") from None
    f.generator_state(state, "training.rng")
    return state


def _check_callbacks(f: _Fields, callbacks) -> None:
    if not isinstance(callbacks, list):
        raise f.fail("callbacks", "must be a list", callbacks)
    for i, entry in enumerate(callbacks):
        field = f"callbacks.{i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise f.fail(field, "must be a dict with a 'type' string", entry)
        f.dict_or_none(entry.get("state"), f"{field}.state")
        f.generator_states(entry.get("generators", {}), f"{field}.generators")


def _check_history(f: _Fields, history) -> None:
    if history is None:
        return
    f.dict_of(history, "training.history")
    epochs, logs = history.get("epoch"), history.get("history")
    if not isinstance(epochs, list):
        raise f.fail("training.history.epoch", "must be a list of epoch indices", epochs)
    for e in epochs:
        f.int_at_least(e, "training.history.epoch")
    f.dict_of(logs, "training.history.history")
    for key, values in logs.items():
        field = f"training.history.history.{key}"
        if not isinstance(values, list) or len(values) != len(epochs):
            raise f.fail(field, f"must be a list of {len(epochs)} numbers (one per epoch)",
                         values)
        for v in values:
            f.number(v, field)


def _check_progress(f: _Fields, progress) -> None:
    f.dict_of(progress, "training.progress")
    for key in PROGRESS_FIELDS:
        if key not in progress:
            raise f.fail(f"training.progress.{key}", "is missing")
    f.int_at_least(progress["batch"], "training.progress.batch")
    f.int_at_least(progress["seen"], "training.progress.seen")
    f.number(progress["loss_sum"], "training.progress.loss_sum")
    f.number(progress["lr"], "training.progress.lr")
    if f.number(progress["elapsed"], "training.progress.elapsed", finite=True) < 0:
        raise f.fail("training.progress.elapsed", "must be >= 0", progress["elapsed"])
    sums = f.dict_of(progress["sums"], "training.progress.sums")
    for name, v in sums.items():
        f.number(v, f"training.progress.sums.{name}")


# ---- saved states against the objects they are restored into ---------------------------------
def _is_int(v: Any) -> bool:
    return type(v) is int or (isinstance(v, np.integer) and not isinstance(v, np.bool_))


def _is_number(v: Any) -> bool:
    return not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.integer,
                                                                  np.floating))


def _array(v: Any) -> np.ndarray | None:
    if isinstance(v, Tensor):
        return v._data
    return v if isinstance(v, np.ndarray) else None


def like(f: _Fields, saved: Any, live: Any, field: str) -> None:
    """``saved`` must be of the kind of ``live`` (the object's own current value): a bool for
    a bool, a number for a number, a string for a string, a list of the same length, an array
    of the same shape, recursively; ``None`` on either side and other objects are not
    judged."""
    if live is None or saved is None:
        return
    if isinstance(live, (bool, np.bool_)):
        ok = isinstance(saved, (bool, np.bool_))
    elif _is_number(live):
        ok = _is_number(saved) or (_array(saved) is not None and _array(saved).ndim == 0
                                   and _array(saved).dtype.kind in "iuf")
    elif isinstance(live, str):
        ok = isinstance(saved, str)
    elif isinstance(live, (list, tuple)):
        if not isinstance(saved, (list, tuple)) or (live and len(saved) != len(live)):
            raise f.fail(field, f"must be a list of {len(live)} items", saved)
        for i, (s, v) in enumerate(zip(saved, live)):
            like(f, s, v, f"{field}.{i}")
        return
    elif isinstance(live, dict):
        if not isinstance(saved, dict):
            raise f.fail(field, "must be a dict", saved)
        for key in saved.keys() & live.keys():
            like(f, saved[key], live[key], f"{field}.{key}")
        return
    elif _array(live) is not None:
        a = _array(saved)
        ok = a is not None and a.shape == _array(live).shape
    else:
        return
    if not ok:
        raise f.fail(field, f"must be of the kind of {_short(live)}", saved)


def check_optimizer(path: str, saved: Any, optimizer: Any) -> None:
    """The optimizer state ``saved`` fits ``optimizer``: its groups and parameter ids, each
    hyper-parameter of the kind the optimizer holds, ``step`` a non-negative integer and
    every buffer either a number or an array of its parameter's shape (for the optimizers
    that keep per-parameter buffers; L-BFGS keeps flat ones)."""
    from ..optim.optimizer import Optimizer

    if not isinstance(optimizer, Optimizer):
        return  # another library's optimizer checks its own state
    per_parameter = type(optimizer)._load_state_value is Optimizer._load_state_value
    f = _Fields(path)
    live = optimizer.state_dict()
    if not isinstance(saved, dict) or not {"state", "param_groups"} <= saved.keys():
        raise f.fail("optimizer", "must be a dict with 'state' and 'param_groups'", saved)
    groups, state = saved["param_groups"], saved["state"]
    if not isinstance(groups, list) or len(groups) != len(live["param_groups"]):
        raise f.fail("optimizer.param_groups", f"must be a list of "
                     f"{len(live['param_groups'])} groups (as this optimizer has)", groups)
    shapes = {}
    for i, (group, mine) in enumerate(zip(groups, optimizer.param_groups)):
        field = f"optimizer.param_groups.{i}"
        if not isinstance(group, dict) or not all(isinstance(k, str) for k in group):
            raise f.fail(field, "must be a dict of hyper-parameters", group)
        ids = group.get("params")
        if not isinstance(ids, list) or len(ids) != len(mine["params"]) or not all(
                _is_int(k) and k >= 0 for k in ids):
            raise f.fail(f"{field}.params", f"must be {len(mine['params'])} parameter ids",
                         ids)
        for k in ids:
            if k in shapes:
                raise f.fail(f"{field}.params", f"lists parameter id {k} twice", ids)
        shapes.update(zip(ids, (p._data.shape if per_parameter else None
                                for p in mine["params"])))
        for key, value in group.items():
            if key not in ("params", "param_names"):
                like(f, value, mine.get(key), f"{field}.{key}")
    f.dict_of(state, "optimizer.state")
    for pid, values in state.items():
        field = f"optimizer.state.{pid}"
        if pid not in shapes:
            raise f.fail("optimizer.state", f"holds state for parameter {pid!r}, which no "
                         "group lists")
        if not isinstance(values, dict):
            raise f.fail(field, "must be a dict", values)
        for name, value in values.items():
            _check_buffer(f, name, value, shapes[pid], f"{field}.{name}")


def _check_buffer(f: _Fields, name: Any, value: Any, shape: tuple | None, field: str) -> None:
    if not isinstance(name, str):
        raise f.fail(field, "must be named by a string")
    a = _array(value)
    if name == "step":
        step = a.item() if a is not None and a.ndim == 0 and a.dtype.kind in "iuf" else value
        if not _is_number(step) or not math.isfinite(step) or step < 0 or step != int(step):
            raise f.fail(field, "must be an integer >= 0", value)
    elif a is not None:
        if a.dtype.kind not in "biufc" or (a.ndim and shape is not None and a.shape != shape):
            raise f.fail(field, f"must be a number or an array of shape {shape}", value)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_buffer(f, f"{name}.{i}", v, shape, f"{field}.{i}")
    elif value is not None and not _is_number(value) and not isinstance(value, bool):
        raise f.fail(field, "must be a number or an array", value)


def check_scheduler(path: str, saved: Any, scheduler: Any) -> None:
    """The scheduler state ``saved`` fits ``scheduler``: no unknown keys, ``last_epoch`` an
    integer >= -1, every value of the kind the scheduler holds."""
    from ..optim.lr_scheduler import LRScheduler

    if not isinstance(scheduler, LRScheduler):
        return  # another library's scheduler checks its own state
    f = _Fields(path)
    live = scheduler.state_dict()
    if not isinstance(saved, dict):
        raise f.fail("scheduler", "must be a dict", saved)
    unknown = [k for k in saved if k not in live]
    if unknown:
        raise f.fail("scheduler", f"holds keys a {type(scheduler).__name__} does not have: "
                     f"{unknown}")
    if "last_epoch" in saved:
        f.int_at_least(saved["last_epoch"], "scheduler.last_epoch", -1)
    if "_step_count" in saved:
        f.int_at_least(saved["_step_count"], "scheduler._step_count")
    like(f, saved, live, "scheduler")
