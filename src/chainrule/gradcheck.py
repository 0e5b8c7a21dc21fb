"""Finite-difference checks of analytic gradients (first and second order)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autograd.engine import grad as _grad
from .autograd.grad_mode import enable_grad, no_grad
from .tensor import Tensor, _wrap


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _float_outputs(out):
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(fn: Callable, inputs: Sequence[Tensor] | Tensor, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              seed: int = 0) -> bool:
    """Compare autograd's gradients of ``fn`` with central differences in float64.

    Every output is projected on a fixed random direction v, so one backward pass gives
    v^T J and each input entry is checked against (L(x+eps) - L(x-eps)) / 2eps. On a mismatch
    the error names the input, the entry, the analytic and the numeric value.

    Example:
        >>> import chainrule as cr
        >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
        >>> cr.gradcheck(lambda t: (t.sin() * t).sum(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                "inputs (use .double())")
    rng = np.random.default_rng(seed)
    result = fn(*inputs)
    outs = _float_outputs(result)
    if not outs:  # nothing to compare: passing would prove nothing
        raise TypeError(f"gradcheck: fn must return floating-point Tensors, got "
                        f"{type(result).__name__}")
    vs = [rng.standard_normal(o.shape) for o in outs]

    def project(values) -> float:
        return float(sum(np.sum(o._data * v) for o, v in zip(values, vs)))

    diff_outs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    targets = [inputs[i] for i in checked]
    if diff_outs:
        analytic = _grad([o for o, _ in diff_outs], targets,
                         grad_outputs=[_wrap(v.astype(o.dtype)) for o, v in diff_outs],
                         allow_unused=True)
    else:
        analytic = [None] * len(targets)
    for pos, (k, t) in enumerate(zip(checked, targets)):
        a = analytic[pos]
        a = np.zeros(t.shape) if a is None else np.asarray(a._data, dtype=np.float64)
        numeric = np.zeros(t.shape)
        if not (t._data.flags.c_contiguous and t._data.flags.writeable):
            # The entries are perturbed in place through a flat view: a transposed or broadcast
            # array would give a copy (perturbations lost) or refuse writes. Same values, own array.
            t._data = np.array(t._data, order="C")
        flat = t._data.reshape(-1)
        nflat = numeric.reshape(-1)
        with no_grad():
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = project(_float_outputs(fn(*inputs)))
                flat[j] = orig - eps
                minus = project(_float_outputs(fn(*inputs)))
                flat[j] = orig
                nflat[j] = (plus - minus) / (2 * eps)
        bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            j = int(np.argmax(bad.reshape(-1)))
            idx = np.unravel_index(j, t.shape) if t.ndim else ()
            label = f"input {k}" + (f" ({t.name})" if t.name else "")
            msg = (f"gradcheck: gradient mismatch for {label} of shape {t.shape} at index "
                   f"{tuple(int(i) for i in idx)}: analytic {a.reshape(-1)[j]:.10g}, numeric "
                   f"{numeric.reshape(-1)[j]:.10g} ({int(bad.sum())} of {bad.size} entries "
                   f"differ; atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn: Callable, inputs: Sequence[Tensor] | Tensor, grad_outputs=None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 1) -> bool:
    """Check second derivatives: gradcheck of x -> (dfn/dx)^T v, built with create_graph=True.

    Example:
        >>> import chainrule as cr
        >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
        >>> cr.gradgradcheck(lambda t: t.tanh(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    rng = np.random.default_rng(seed)
    fixed_v = None

    def first_order(*xs):
        with enable_grad():
            return _first_order(*xs)

    def _first_order(*xs):
        nonlocal fixed_v
        outs = [o for o in _float_outputs(fn(*xs)) if o.requires_grad]
        if fixed_v is None:
            fixed_v = ([_wrap(rng.standard_normal(o.shape)) for o in outs]
                       if grad_outputs is None else list(_as_tuple(grad_outputs)))
        targets = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
        if not outs:
            return tuple(_wrap(np.zeros(t.shape)) for t in targets)
        gs = _grad(outs, targets, grad_outputs=fixed_v, create_graph=True, allow_unused=True)
        return tuple(_wrap(np.zeros(t.shape)) if g is None else g for t, g in zip(targets, gs))

    return gradcheck(first_order, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, seed=seed)
