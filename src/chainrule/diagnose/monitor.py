"""``GradientMonitor``: per-layer gradient, weight and activation statistics during training.

The monitor only *records*; ``monitor.report()`` turns the records into verdicts
(``chainrule.diagnose.verdicts``) and ``monitor.plot_*`` draws them. It works in a hand-written
loop (``monitor.record()`` after ``backward()``) and as a ``cr.train.fit`` callback, reading the
same tensors in both cases: each layer's parameters and ``.grad`` after backward, and each
activation module's output through a forward hook.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Activation modules watched by forward hooks, by class name (so subclasses of other libraries'
# modules with the same names work too), and the op each applies: whether its units die or
# saturate, and its local derivative, come from that op's registry entry.
ACTIVATION_KINDS = {"ReLU": "relu", "ReLU6": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}

# A unit counts as saturated when its local derivative is below this fraction of the
# activation's largest derivative (0.25 for sigmoid, 1 for tanh): sigmoid outside
# [0.013, 0.987], tanh beyond |t| > 0.975. Such a unit passes on < 5% of the gradient it gets.
SATURATION_DERIVATIVE = 0.05

try:  # a real Callback when the training package is importable, so fit() treats it as one
    from ..train.callbacks.base import Callback as _CallbackBase
except ImportError:  # pragma: no cover - the hook names below are all fit() needs
    _CallbackBase = object


def gate(kind: str) -> str | None:
    """"dies" or "saturates": what the units of the activation op ``kind`` (an op name) can
    suffer, from the op registry (None for an op that does neither)."""
    from ..ops import gated_ops

    op = gated_ops().get(kind)
    return op.gate if op is not None else None


def _norm(a) -> float:
    return float(np.sqrt(np.sum(np.square(np.asarray(a, dtype=np.float64)))))


def _active_units(a: np.ndarray) -> np.ndarray:
    """Which units (features / channels: axis 1) output something non-zero for some sample."""
    if a.ndim < 2:
        return a != 0
    return (a != 0).reshape(a.shape[0], a.shape[1], -1).any(axis=(0, 2))


def _activation_stats(kind: str, a: np.ndarray) -> dict[str, float]:
    """Statistics of one activation output: silent units (relu) or saturated units.

    ``kind`` names the op (``relu``, ``sigmoid``, ``tanh``); whether its units die or saturate,
    and its local derivative read off the output, come from the op registry.
    """
    from ..ops import gated_ops

    op = gated_ops()[kind]
    a = np.asarray(a)
    if op.gate == "dies":
        # silent on this batch; "dead" (silent on every batch of a window) is decided later
        return {"dead_fraction": float(1.0 - _active_units(a).mean()),
                "zero_fraction": float((a == 0).mean())}
    deriv = op.slope(a.astype(np.float64))
    return {"saturated_fraction": float((deriv < SATURATION_DERIVATIVE * op.max_slope).mean()),
            "mean_derivative": float(deriv.mean())}


class GradientMonitor(_CallbackBase):
    """Record gradient health per layer: gradient norm, weight norm, update/weight ratio, dead
    ReLUs and saturated sigmoid/tanh units.

    A *layer* is a module with parameters of its own (``Linear``, ``Conv2d``, ``BatchNorm1d``...);
    its statistics use its ``weight`` (all its parameters when it has no ``weight``). Activation
    statistics come from ``ReLU``/``Sigmoid``/``Tanh`` *modules*; functional calls such as
    ``x.relu()`` inside a custom ``forward`` are not observed.

    Hand-written loop::

        monitor = GradientMonitor(model)
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            monitor.record(loss)        # gradients are in p.grad, before the step
            optimizer.step()            # the next record() measures this step's update
        print(monitor.report())

    As a callback: ``cr.train.fit(model, data, ..., callbacks=[GradientMonitor(model)])``.

    Args:
        model: the ``cr.nn.Module`` to watch.
        every: record every ``every``-th step (``record()`` must still be called each step).

    Example:
        >>> import chainrule as cr
        >>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> monitor = GradientMonitor(model)
        >>> loss = model(cr.randn(16, 4)).pow(2).mean()
        >>> loss.backward(); monitor.record(loss)
        >>> monitor.layer_names
        ['0', '2']
    """

    def __init__(self, model: Any, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientMonitor: every must be an int >= 1, got {every!r}")
        self.model = model
        self.every = every
        self.records: list[dict[str, Any]] = []  # one dict per recorded step
        self.curves: list[dict[str, float]] = []  # loss (and metrics) of every step
        self.epochs: list[dict[str, float]] = []  # epoch logs when used as a fit callback
        self._layers: dict[str, Any] = {}
        self._kinds: dict[str, str] = {}  # activation module name -> relu / sigmoid / tanh
        self._order: list[str] = []  # layers in the order the forward first called them
        self._calls = 0  # record() calls so far = training steps seen
        self._pending_acts: dict[str, dict[str, float]] = {}
        self._pending_masks: dict[str, np.ndarray] = {}
        self._active: dict[str, list[np.ndarray]] = {}  # relu module -> active units per record
        self._call_count: dict[str, int] = {}
        self._snapshot: tuple[dict, dict] | None = None  # (record, {layer: weights copy})
        self._handles: list[Any] = []
        self._find_modules()
        self.attach()

    # ---- wiring ---------------------------------------------------------------------------
    def _find_modules(self) -> None:
        for name, module in self.model.named_modules():
            label = name or type(module).__name__
            own = [p for _, p in module.named_parameters(recurse=False) if p.requires_grad]
            if own:
                self._layers[label] = module
            kind = ACTIVATION_KINDS.get(type(module).__name__)
            if kind is not None:
                self._kinds[label] = kind
        if not self._layers:
            raise ValueError("GradientMonitor: the model has no parameters that require grad")

    def attach(self) -> None:
        """Register the forward hooks (done by the constructor; call after ``detach()``)."""
        if self._handles:
            return
        modules = dict(self.model.named_modules())
        for label, module in self._layers.items():
            self._handles.append(module.register_forward_hook(self._layer_hook(label)))
        for name, module in modules.items():
            label = name or type(module).__name__
            if label in self._kinds:
                self._handles.append(module.register_forward_hook(self._act_hook(label)))

    def detach(self) -> None:
        """Remove the forward hooks (the records stay)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def _layer_hook(self, label):
        def hook(module, args, out):
            if label not in self._order:
                self._order.append(label)

        return hook

    def _act_hook(self, label):
        kind = self._kinds[label]

        def hook(module, args, out):
            # only training forwards of steps that will be recorded
            if not getattr(module, "training", True) or self._calls % self.every:
                return
            n = self._call_count.get(label, 0) + 1
            self._call_count[label] = n
            key = label if n == 1 else f"{label}#{n}"  # one module applied several times
            self._pending_acts[key] = _activation_stats(kind, out._data)
            if gate(kind) == "dies":
                self._pending_masks[key] = _active_units(np.asarray(out._data))
            self._kinds.setdefault(key, kind)

        return hook

    # ---- recording --------------------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        """Parameterised layers, in forward order once a forward has run."""
        seen = [n for n in self._order if n in self._layers]
        return seen + [n for n in self._layers if n not in seen]

    @property
    def activation_names(self) -> list[str]:
        names: list[str] = []
        for r in self.records:
            names.extend(k for k in r["activations"] if k not in names)
        return names

    def activation_kind(self, name: str) -> str:
        return self._kinds[name]

    def weight_layers(self) -> list[str]:
        """Layers whose main parameter is a matrix or a kernel (not a norm layer's scale)."""
        return [n for n in self.layer_names if self._main(self._layers[n])[0].ndim >= 2]

    @staticmethod
    def _main(module) -> list:
        own = dict(module.named_parameters(recurse=False))
        w = own.get("weight")
        if w is not None and w.requires_grad:
            return [w]
        return [p for p in own.values() if p.requires_grad]

    def record(self, loss=None, **metrics: float) -> None:
        """Record the gradients now in ``p.grad`` (call after ``backward()``, before the step).

        ``loss`` and any ``metrics`` (e.g. ``accuracy=0.9``) are kept for the training curves.
        """
        self._finish_update()
        if loss is not None or metrics:
            row = {"step": self._calls}
            if loss is not None:
                row["loss"] = float(getattr(loss, "_data", loss))
            row.update({k: float(v) for k, v in metrics.items()})
            self.curves.append(row)
        self._record_grads(self._calls)

    def _record_grads(self, step: int) -> None:
        recorded = step % self.every == 0
        self._calls += 1
        acts, self._pending_acts, self._call_count = self._pending_acts, {}, {}
        masks, self._pending_masks = self._pending_masks, {}
        if not recorded:
            return
        for key, mask in masks.items():
            self._active.setdefault(key, []).append(mask)
        layers, weights = {}, {}
        for name in self.layer_names:
            params = self._main(self._layers[name])
            grads = [p.grad._data for p in params if p.grad is not None]
            layers[name] = {
                "grad_norm": math.sqrt(sum(_norm(g) ** 2 for g in grads)) if grads else 0.0,
                "weight_norm": math.sqrt(sum(_norm(p._data) ** 2 for p in params)),
                "update_ratio": None,
            }
            weights[name] = [p._data.copy() for p in params]
        rec = {"step": step, "layers": layers, "activations": acts}
        self.records.append(rec)
        self._snapshot = (rec, weights)

    def record_update(self) -> None:
        """Measure the update the optimizer just made (call after ``step()``; optional: the next
        ``record()`` does it too)."""
        self._finish_update()

    def _finish_update(self) -> None:
        if self._snapshot is None:
            return
        rec, weights = self._snapshot
        self._snapshot = None
        for name, before in weights.items():
            params = self._main(self._layers[name])
            delta = math.sqrt(sum(_norm(p._data - b) ** 2 for p, b in zip(params, before)))
            ref = math.sqrt(sum(_norm(b) ** 2 for b in before))
            rec["layers"][name]["update_ratio"] = delta / ref if ref > 0 else math.inf

    def series(self, layer: str, key: str) -> np.ndarray:
        """One statistic of one layer (or activation) over the recorded steps (NaN if absent)."""
        out = []
        for r in self.records:
            d = r["layers"].get(layer) or r["activations"].get(layer) or {}
            v = d.get(key)
            out.append(np.nan if v is None else v)
        return np.asarray(out, dtype=np.float64)

    def dead_fraction(self, name: str, window: int = 10) -> float:
        """Fraction of a ReLU module's units that output 0 for every sample of each of the last
        ``window`` recorded batches: dead, not merely silent on one batch."""
        masks = self._active.get(name, [])[-window:]
        if not masks:
            return math.nan
        return float(1.0 - np.logical_or.reduce(masks).mean())

    @property
    def steps(self) -> np.ndarray:
        return np.asarray([r["step"] for r in self.records])

    # ---- fit callback hooks -----------------------------------------------------------------
    def on_train_begin(self, trainer: Any) -> None:
        self.attach()

    def on_after_backward(self, trainer: Any) -> None:
        self._finish_update()
        self._record_grads(self._calls)

    def on_batch_end(self, trainer: Any, batch: int, logs: dict[str, float]) -> None:
        self._finish_update()
        row = {"step": self._calls - 1}
        row.update({k: float(v) for k, v in logs.items() if k != "size"})
        self.curves.append(row)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append({"epoch": epoch, **{k: float(v) for k, v in logs.items()}})

    # ---- results ----------------------------------------------------------------------------
    def report(self, thresholds: Any = None) -> Any:
        """Verdicts computed from the records: a ``DiagnosisReport`` (text, ``zh`` text, dict)."""
        from .verdicts import diagnose

        return diagnose(self, thresholds)

    def to_dict(self) -> dict[str, Any]:
        """The raw records (JSON-ready)."""
        return {"every": self.every, "layers": self.layer_names,
                "weight_layers": self.weight_layers(),
                "activations": {n: self._kinds[n] for n in self.activation_names},
                "records": self.records, "curves": self.curves, "epochs": self.epochs}

    def plot_gradient_flow(self, path: str | None = None, ax=None):
        """Per-layer gradient norms (log scale) at a few moments of training."""
        from .plots import plot_gradient_flow

        return plot_gradient_flow(self, path, ax)

    def plot_curves(self, path: str | None = None, ax=None):
        """Loss (and accuracy) over the training steps."""
        from .plots import plot_curves

        return plot_curves(self, path, ax)

    def plot_update_ratios(self, path: str | None = None, ax=None):
        """Update/weight ratio of each layer over the steps, with the ~1e-3 guide line."""
        from .plots import plot_update_ratios

        return plot_update_ratios(self, path, ax)

    def plot_activations(self, path: str | None = None, ax=None):
        """Dead-ReLU and saturated-unit fractions of each activation over the steps."""
        from .plots import plot_activations

        return plot_activations(self, path, ax)

    def save_plots(self, directory: str) -> list[str]:
        """Write every plot as a PNG into ``directory``; returns the paths."""
        from .plots import save_all

        return save_all(self, directory)
