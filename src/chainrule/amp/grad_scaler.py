"""``GradScaler``: PyTorch's loss scaling, step for step.

``GradScaler('cpu')`` scales for real, as PyTorch's CPU scaler does: ``scale(loss)`` multiplies
by the scale (65536 at first), ``unscale_`` divides the gradients back and notes any inf or NaN,
``step`` skips the optimizer step when it found one, and ``update`` halves the scale after a
skipped step or doubles it after ``growth_interval`` good ones. The scale is a float32 number, as
in PyTorch, so the values match it bit for bit.

``GradScaler()`` / ``GradScaler('cuda')`` (the defaults, and ``cr.cuda.amp.GradScaler``) warn
that the device is not available and disable themselves, as a CPU-only PyTorch does. A disabled
scaler passes everything through: ``scale`` returns the loss, ``step`` calls
``optimizer.step()``, ``update`` does nothing, ``get_scale()`` is 1.0 and ``state_dict()`` is
empty. A training loop with a disabled scaler therefore equals the plain loop.
"""

from __future__ import annotations

import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class OptState(Enum):
    """Where an optimizer is in the current iteration (PyTorch's names)."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Loss scaling for mixed-precision training, with PyTorch's API and arithmetic.

    Example:
        >>> import chainrule as cr
        >>> w = cr.tensor([1.0], requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.1)
        >>> scaler = cr.amp.GradScaler("cpu")
        >>> scaler.scale((w * 3).sum()).backward()
        >>> w.grad.item()                       # scaled by 65536
        196608.0
        >>> scaler.step(opt); scaler.update()   # unscaled before the step
        >>> round(w.item(), 4)
        0.7
    """

    _warn_depth = 2  # a deprecated subclass's __init__ adds a frame

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled and str(device).split(":", 1)[0] != "cpu":
            warnings.warn(f"GradScaler(device={device!r}) is enabled, but that device is not "
                          "available (this build of chainrule computes on the CPU only). "
                          "Disabling: scale() returns the loss unchanged and step() calls "
                          "optimizer.step().", UserWarning, stacklevel=self._warn_depth)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got "
                                 f"{backoff_factor}")
            self._scale = np.float32(init_scale)
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._growth_tracker = 0
            self._per_optimizer_states: dict[int, dict[str, Any]] = defaultdict(_fresh_state)

    # ---- the three calls of a training step ----------------------------------------------------
    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples/iterables of tensors) times the scale.

        Returns ``outputs`` unchanged when the scaler is disabled.
        """
        if not self._enabled:
            return outputs
        factor = float(self._scale)

        def apply(val):
            if isinstance(val, Tensor):
                return val * factor
            if isinstance(val, abc.Iterable):
                scaled = map(apply, val)
                return type(val)(scaled) if isinstance(val, (list, tuple)) else scaled
            raise ValueError(f"GradScaler.scale(): outputs must be a Tensor or an iterable of "
                             f"Tensors, got {type(val).__name__}")

        return apply(outputs)

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place, noting any inf or NaN.

        Optional: call it before clipping gradients; ``step`` calls it otherwise. Once per
        optimizer between ``update`` calls, as in PyTorch.
        """
        if not self._enabled:
            return
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("GradScaler.unscale_(): already called on this optimizer since "
                               "the last update()")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler.unscale_(): called after step(); call update() "
                               "first")
        # PyTorch: the reciprocal in float64, rounded to float32
        inv_scale = np.float32(1.0 / np.float64(self._scale))
        state["found_inf"] = self._unscale_grads(optimizer, inv_scale, allow_fp16=False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args: Any, **kwargs: Any):
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, skipped when any gradient
        is inf or NaN; returns what ``optimizer.step`` returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step(): a closure is not supported while the scaler "
                               "is enabled (as in PyTorch)")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler.step(): already called since the last update()")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        retval = None
        if not state["found_inf"]:
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adjust the scale for the next iteration (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("GradScaler.update(): new_scale must be a float or a "
                                     "one-element tensor that does not require grad")
                new_scale = new_scale.item()
            self._scale = np.float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("GradScaler.update(): no inf checks were recorded; call "
                                   "scaler.step(optimizer) (or unscale_) first")
            if any(found):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
        self._per_optimizer_states = defaultdict(_fresh_state)

    def _unscale_grads(self, optimizer, inv_scale: np.float32, allow_fp16: bool) -> bool:
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype == np.float16:
                        raise ValueError("GradScaler.unscale_(): attempting to unscale float16 "
                                         "gradients (keep the parameters in float32, as "
                                         "PyTorch requires)")
                    if not found_inf and not bool(g.isfinite().all()):
                        found_inf = True
                    if inv_scale != 1.0:
                        g.mul_(inv_scale)
        return found_inf

    # ---- settings and state ----------------------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return float(self._scale) if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (PyTorch's keys); empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; a no-op when disabled."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict(): the state dict is empty, possibly "
                               "because it was saved from a disabled GradScaler")
        self._scale = np.float32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
