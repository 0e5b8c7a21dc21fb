"""Activation checkpointing: keep less for backward, compute it again there
(PyTorch's ``torch.utils.checkpoint``).

Backpropagation keeps every array the forward's ops need for their rules until backward uses
it. ``checkpoint(function, *args)`` runs ``function`` so that its ops keep nothing: every array
they would save is replaced by a handle (``saved_tensors_hooks`` inside, as PyTorch's
non-reentrant checkpoint does). Only the arguments are kept. When backward reaches the first
op of the segment, the whole function runs again from those arguments, with grad mode on and
the random-number generator put back where it was, and each op gets the recomputed arrays in
place of its handles. Dropout therefore draws the same mask twice, and the gradients equal those
of the run without checkpointing.

The cost is one more forward of the segment during backward; the saving is everything the
segment's ops would have kept, minus its inputs. ``checkpoint_sequential`` cuts a sequence of
layers into segments; with ``sqrt(n)`` segments of ``n`` layers the memory of activations
falls from ``n`` layers' worth to about ``2 sqrt(n)``.

Deliberate differences from PyTorch 2.13:

- ``use_reentrant`` defaults to False, PyTorch's recommended variant, without a warning; True
  (PyTorch's old default) runs the same implementation, so it also works with
  ``autograd.grad``, keyword arguments and inputs that do not require grad.
- the recomputation always reruns the whole function (PyTorch may stop early once every array
  it needs is back: ``early_stop`` is accepted and changes nothing).
- an argument changed in place between the forward and the backward makes backward raise,
  instead of recomputing from the changed values.

Example:
    >>> import chainrule as cr
    >>> from chainrule.utils.checkpoint import checkpoint
    >>> lin = cr.nn.Linear(4, 4)
    >>> x = cr.randn(2, 4, requires_grad=True)
    >>> y = checkpoint(lambda t: lin(t).relu(), x, use_reentrant=False)
    >>> y.sum().backward(); x.grad.shape
    (2, 4)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.grad_mode import GRAD, enable_grad
from ..autograd.saved import array_hooks, record_arrays
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor, _wrap


class CheckpointError(RuntimeError):
    """The recomputation did not save what the forward saved (PyTorch's name)."""


def noop_context_fn():
    """The default ``context_fn``: no context around the forward or the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


class _Handle:
    """What a node keeps of a checkpointed array: its position among the segment's saves."""

    __slots__ = ("frame", "index")

    def __init__(self, frame: _Frame, index: int) -> None:
        self.frame, self.index = frame, index

    def kept_arrays(self) -> list:
        """The arrays this handle keeps alive: the segment's inputs (read by explain_memory)."""
        return self.frame.kept_arrays()

    def __repr__(self) -> str:
        return f"<checkpointed #{self.index} of {self.frame.name}>"


def _detached(a):
    if isinstance(a, Tensor):
        return _wrap(a._data, a.requires_grad)
    return a


class _Frame:
    """One checkpointed call: the function, its arguments, the RNG state, and the arrays of the
    last recomputation that backward has not taken yet."""

    def __init__(self, function, args, kwargs, preserve_rng_state: bool, context_fn,
                 determinism_check: str) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.name = getattr(function, "__qualname__", None) or type(function).__name__
        self.rng = get_rng_state() if preserve_rng_state else None
        self.context_fn = context_fn
        self.recompute_ctx = None  # the second context of the forward's context_fn() call
        self.check = determinism_check != "none"
        self.metas: list = []  # (shape, dtype) of each array the forward saved
        self.recomputed: dict = {}
        self.versions = [(t, t._version) for t in self._tensors()]

    def _tensors(self) -> list:
        return [a for a in list(self.args) + list(self.kwargs.values()) if isinstance(a, Tensor)]

    def kept_arrays(self) -> list:
        return [t._data for t in self._tensors()]

    def pack(self, a) -> _Handle:
        self.metas.append((a.shape, a.dtype))
        return _Handle(self, len(self.metas) - 1)

    def unpack(self, h: _Handle):
        a = self.recomputed.pop(h.index, None)
        if a is None:  # the first array backward needs from this segment (in this backward)
            self.recompute()
            a = self.recomputed.pop(h.index)
        return a

    def recompute(self) -> None:
        for t, v in self.versions:
            if t._version != v:
                raise RuntimeError(
                    f"checkpoint: an input of {self.name} (shape {t.shape}) was modified by an "
                    f"in-place operation after the forward (version {v} -> {t._version}); "
                    "recomputing the segment would give other values. Clone it before "
                    "changing it in place.")
        store: list = []
        keep = store.append

        args = [_detached(a) for a in self.args]
        kwargs = {k: _detached(v) for k, v in self.kwargs.items()}
        state = None
        if self.rng is not None:
            state = get_rng_state()
            set_rng_state(self.rng)
        try:
            recompute_ctx, self.recompute_ctx = self.recompute_ctx, None
            if recompute_ctx is None:  # a later recomputation (retain_graph): a fresh pair
                recompute_ctx = self.context_fn()[1]
            with enable_grad(), recompute_ctx, record_arrays(keep):
                self.function(*args, **kwargs)
        finally:
            if state is not None:
                set_rng_state(state)
        if len(store) != len(self.metas):
            raise CheckpointError(
                f"checkpoint: recomputing {self.name} saved {len(store)} arrays for backward "
                f"where the forward saved {len(self.metas)}: the function must run the same "
                "operations each time (no branches on global state or on random numbers "
                "drawn outside chainrule's generator)")
        if self.check:
            for i, (a, meta) in enumerate(zip(store, self.metas)):
                if (np.shape(a), a.dtype) != meta:
                    raise CheckpointError(
                        f"checkpoint: recomputing {self.name}, saved array #{i} has shape "
                        f"{np.shape(a)} and dtype {a.dtype} where the forward saved "
                        f"{meta[0]} {meta[1]}: the function must compute the same thing each "
                        "time")
        self.recomputed = dict(enumerate(store))


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = False,
               context_fn: Callable = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, preserve_rng_state: bool = True,
               **kwargs: Any):
    """Run ``function(*args, **kwargs)`` keeping only its arguments for backward; backward
    runs it again to get the arrays its ops need.

    The result is exactly ``function``'s (tensors, tuples, non-tensor values). Gradients equal
    those of the plain call: the RNG state is saved and replayed (``preserve_rng_state``), so
    dropout masks match. Checkpoints nest; arguments that do not require grad are fine (the
    parameters used inside still get their gradients); ``autograd.grad`` works.

    ``context_fn`` returns two context managers, entered around the forward and around the
    recomputation. ``determinism_check="none"`` skips the check that the recomputation saved
    arrays of the same shapes and dtypes.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.utils.checkpoint import checkpoint
        >>> w = cr.tensor([2.0], requires_grad=True)
        >>> y = checkpoint(lambda x: (x * w).exp(), cr.tensor([1.0]), use_reentrant=False)
        >>> y.sum().backward(); round(w.grad.item(), 4)
        7.3891
    """
    if not callable(function):
        raise TypeError(f"checkpoint(): function must be callable, got {type(function).__name__}")
    if determinism_check not in ("default", "none"):
        raise ValueError("checkpoint(): determinism_check should be one of ['default', 'none'], "
                         f"but got {determinism_check!r}")
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint(): use_reentrant must be a bool, got {use_reentrant!r}")
    if not callable(context_fn):
        raise TypeError("checkpoint(): context_fn must be callable")
    contexts = context_fn()
    if not (isinstance(contexts, tuple) and len(contexts) == 2):
        raise TypeError("checkpoint(): context_fn must return two context managers (around the "
                        "forward and around the recomputation)")
    forward_ctx = contexts[0]
    if not GRAD.enabled:  # nothing is recorded, so nothing would be kept: a plain call
        with forward_ctx:
            return function(*args, **kwargs)
    frame = _Frame(function, args, kwargs, preserve_rng_state, context_fn, determinism_check)
    frame.recompute_ctx = contexts[1]
    with forward_ctx, array_hooks(frame.pack, frame.unpack, recomputes=True):
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input: Any,  # noqa: A002
                          use_reentrant: bool | None = False, **kwargs: Any):
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules or functions) one after
    another on ``input``, checkpointing them in ``segments`` pieces, as PyTorch does: each of
    the first ``segments - 1`` pieces of ``len(functions) // segments`` functions keeps only its
    input; the rest runs normally (its activations are needed first by backward anyway).

    Example:
        >>> import chainrule as cr
        >>> from chainrule.utils.checkpoint import checkpoint_sequential
        >>> net = cr.nn.Sequential(*[cr.nn.Linear(3, 3) for _ in range(4)])
        >>> y = checkpoint_sequential(net, 2, cr.randn(5, 3), use_reentrant=False)
        >>> y.shape
        (5, 3)
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("checkpoint_sequential(): unexpected keyword arguments: "
                         + ", ".join(kwargs))
    if hasattr(functions, "children") and callable(functions.children):
        functions = list(functions.children())
    else:
        functions = list(functions)
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise ValueError(f"checkpoint_sequential(): segments must be a positive int, got "
                         f"{segments!r}")
    if segments > len(functions):
        raise ValueError(f"checkpoint_sequential(): {segments} segments for "
                         f"{len(functions)} functions; ask for at most one per function")

    def run(start: int, end: int):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        forward.__qualname__ = f"functions[{start}:{end + 1}]"
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,  # noqa: A001
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)


__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]
