"""The demonstration runs of ``chainrule diagnose``: one MLP, four ways to (mis)build it.

All are ``depth`` Linear layers of ``width`` units between 64 inputs (8x8 digits) and 10
classes; they differ only in activation and initialisation, so the report's differences come
from exactly those choices:

- ``deep-sigmoid``: sigmoid, default init (PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))): the
  textbook case of vanishing gradients;
- ``relu-he``: ReLU with He (Kaiming) normal init and zero biases: the cure;
- ``tanh-big-init``: tanh with weights 5x the Xavier-for-tanh scale: explodes, then saturates;
- ``relu-neg-bias``: ReLU with He init but every hidden bias at -0.5: units die, more in
  each deeper layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MODELS = ("deep-sigmoid", "relu-he", "tanh-big-init", "relu-neg-bias")


def build_model(name: str, depth: int = 10, width: int = 32, in_features: int = 64,
                classes: int = 10, seed: int = 0) -> Any:
    """A ``cr.nn.Sequential`` MLP of the named kind, initialised reproducibly from ``seed``.

    Example:
        >>> model = build_model("relu-he", depth=3, width=8)
        >>> [type(m).__name__ for m in model]
        ['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']
    """
    import chainrule as cr

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if depth < 2:
        raise ValueError(f"depth must be >= 2, got {depth}")
    cr.manual_seed(seed)
    nn, init = cr.nn, cr.nn.init
    act = {"deep-sigmoid": nn.Sigmoid, "tanh-big-init": nn.Tanh}.get(name, nn.ReLU)
    dims = [in_features] + [width] * (depth - 1) + [classes]
    layers: list[Any] = []
    for i in range(depth):
        lin = nn.Linear(dims[i], dims[i + 1])
        last = i == depth - 1
        if name in ("relu-he", "relu-neg-bias"):
            if last:
                init.xavier_normal_(lin.weight)
            else:
                init.kaiming_normal_(lin.weight, nonlinearity="relu")
            init.constant_(lin.bias, -0.5 if name == "relu-neg-bias" and not last else 0.0)
        elif name == "tanh-big-init":
            init.xavier_normal_(lin.weight, gain=5 * init.calculate_gain("tanh"))
            init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(act())
    return nn.Sequential(*layers)


def run_demo(model: str = "deep-sigmoid", steps: int = 300, batch_size: int = 64,
             lr: float = 0.1, optimizer: str = "sgd", clip: float | None = None,
             depth: int = 10, width: int = 32, every: int = 1, seed: int = 0):
    """Train a demo model on the digits with the explicit loop, watched by a monitor.

    The loop is the documented manual one: backward, optional ``clip_grad_norm_``, then
    ``monitor.record(loss, accuracy=...)`` (so the monitor sees the gradient the optimizer will
    use), then ``optimizer.step()``. Returns the ``GradientMonitor``.

    Example:
        >>> monitor = run_demo("relu-he", steps=5, depth=3, width=8)
        >>> len(monitor.records), monitor.layer_names
        (5, ['0', '2', '4'])
    """
    import chainrule as cr

    from .monitor import GradientMonitor

    net = build_model(model, depth=depth, width=width, seed=seed)
    X, y = cr.datasets.digits("train", flatten=True).tensors
    opts = {"sgd": cr.optim.SGD, "adam": cr.optim.Adam}
    if optimizer not in opts:
        raise ValueError(f"optimizer must be one of {', '.join(opts)}, got {optimizer!r}")
    opt = opts[optimizer](net.parameters(), lr=lr)
    loss_fn = cr.nn.CrossEntropyLoss()
    monitor = GradientMonitor(net, every=every)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.integers(0, len(y._data), batch_size)
        xb, yb = cr.tensor(X._data[idx]), cr.tensor(y._data[idx])
        opt.zero_grad()
        logits = net(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        if clip is not None:
            cr.nn.utils.clip_grad_norm_(net.parameters(), clip)
        accuracy = float((logits._data.argmax(1) == yb._data).mean())
        monitor.record(loss, accuracy=accuracy)
        opt.step()
    monitor.record_update()
    return monitor
