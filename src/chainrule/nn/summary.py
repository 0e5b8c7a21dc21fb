"""``summary``: a table of a model's layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, _wrap
from .modules.module import Module


def _shape_of(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_of(o) for o in out)
    return "--"


def _inputs(input_shape, input_data, dtype):
    if input_data is not None:
        return tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)
    if input_shape is None:
        raise ValueError("summary: give input_shape (including the batch dim) or input_data")
    shapes = input_shape
    if isinstance(shapes, (tuple, list)) and shapes and all(
            isinstance(s, (tuple, list)) for s in shapes):
        shapes = list(shapes)
    else:
        shapes = [tuple(shapes)]
    dt = np.dtype(np.float32) if dtype is None else np.dtype(dtype)
    return tuple(_wrap(np.zeros(tuple(s), dtype=dt)) for s in shapes)


def summary(model: Module, input_shape=None, *, input_data=None, dtype=None,
            print_fn=print) -> str:
    """Print and return a table of ``model``'s layers, output shapes and parameter counts.

    ``input_shape`` includes the batch dim (e.g. ``(1, 784)``), or a list of shapes for a model
    with several inputs; ``dtype`` is the dtype of the zero inputs (int64 for an Embedding
    first). The forward runs once in eval mode under ``no_grad``; the training flags are
    restored afterwards. Shared parameters are counted once.

    Example:
        >>> import chainrule as cr
        >>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
        >>> text = cr.nn.summary(net, (1, 4), print_fn=None)
        >>> text.splitlines()[-3]
        'Trainable params: 58'
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    xs = _inputs(input_shape, input_data, dtype)
    rows: dict[int, list] = {}
    order = []
    handles = []
    for name, m in model.named_modules():
        depth = name.count(".") + 1 if name else 0
        label = type(m).__name__ if not name else f"{name.split('.')[-1]} ({type(m).__name__})"
        own = sum(p._data.size for p in m.parameters(recurse=False))
        rows[id(m)] = [depth, label, "--", sum(p._data.size for p in m.parameters()), own]
        order.append(id(m))

        def hook(mod, args, out):
            row = rows[id(mod)]
            if row[2] == "--":
                row[2] = _shape_of(out)

        handles.append(m.register_forward_hook(hook))
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            model(*xs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.__dict__["training"] = mode
    params = list(model.parameters())
    total = sum(p._data.size for p in params)
    trainable = sum(p._data.size for p in params if p.requires_grad)
    w1 = max([30] + [2 * rows[k][0] + len(rows[k][1]) + 2 for k in order])
    w2 = max([20] + [len(rows[k][2]) + 2 for k in order])
    width = w1 + w2 + 15
    lines = ["=" * width, f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>15}",
             "=" * width]
    for k in order:
        depth, label, shape, rec, own = rows[k]
        # Containers show the total of what they hold; leaves their own parameters.
        count = f"{rec:,}"
        lines.append(f"{'  ' * depth + label:<{w1}}{shape:<{w2}}{count:>15}")
    lines += ["=" * width, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "=" * width]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
