"""The command line's classifiers, and the spec a checkpoint records to rebuild one.

``chainrule train`` writes the spec into the checkpoint (``extra["model_spec"]``): the
architecture and its arguments, the input's shape and the normalization it was trained with.
``chainrule export`` and ``chainrule predict`` need only the file: ``load_classifier`` rebuilds
the network from the spec, loads the weights and wraps them in a ``Classifier``, which takes
raw pixels in [0, 1] and returns class probabilities.

Example:
    >>> import chainrule as cr
    >>> spec = model_spec("cnn", (1, 28, 28), 10, normalize=(0.13, 0.31))
    >>> net = build_network(spec)
    >>> Classifier(net, spec)(cr.rand(2, 1, 28, 28)).shape
    (2, 10)
"""

from __future__ import annotations

import os
from typing import Any

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor

KINDS = ("mlp", "linear", "cnn")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def model_spec(kind: str, input_shape, classes: int, hidden=(256,), activation: str = "relu",
               normalize=(0.0, 1.0), dataset: str | None = None) -> dict:
    """What rebuilds a network: ``kind`` (``mlp``, ``linear`` or ``cnn``), the image shape
    (C, H, W), the number of classes, the MLP's hidden sizes and activation, and the
    normalization ``(mean, std)`` of raw pixels in [0, 1]."""
    if kind not in KINDS:
        raise ValueError(f"model_spec: kind must be one of {KINDS}, got {kind!r}")
    return {"kind": kind, "input_shape": [int(s) for s in input_shape], "classes": int(classes),
            "hidden": [int(h) for h in hidden] if kind == "mlp" else [],
            "activation": activation if kind == "mlp" else None,
            "normalize": [float(normalize[0]), float(normalize[1])], "dataset": dataset}


def cnn(input_shape, classes: int) -> nn.Sequential:
    """Two 3x3 convolutions (32 and 64 channels), each with batch norm, ReLU and 2x2 max
    pooling, then a 128-unit hidden layer with dropout: above 99.2% on MNIST in a few epochs."""
    c, h, w = input_shape
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (h // 4) * (w // 4), 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, classes))


def build_network(spec: dict) -> nn.Sequential:
    """The untrained network a spec describes (flattened inputs for ``mlp`` and ``linear``,
    (N, C, H, W) images for ``cnn``)."""
    kind, shape, classes = spec["kind"], spec["input_shape"], spec["classes"]
    if kind == "cnn":
        return cnn(shape, classes)
    n_in = 1
    for s in shape:
        n_in *= s
    layers: list = []
    if kind == "mlp":
        act = ACTIVATIONS[spec["activation"]]
        for width in spec["hidden"]:
            layers += [nn.Linear(n_in, width), act()]
            n_in = width
    layers.append(nn.Linear(n_in, classes))
    return nn.Sequential(*layers)


class Classifier(nn.Module):
    """A trained network with its input normalization and a softmax: (N, C, H, W) raw pixels
    in [0, 1] -> (N, classes) probabilities. What ``chainrule export`` writes as ONNX."""

    def __init__(self, net: nn.Module, spec: dict) -> None:
        super().__init__()
        self.net = net
        self.mean, self.std = spec["normalize"]
        self.flat = spec["kind"] != "cnn"

    def forward(self, image: Tensor) -> Tensor:
        x = (image - self.mean) / self.std
        if self.flat:
            x = x.flatten(1)
        return F.softmax(self.net(x), dim=1)


def load_classifier(path: str | os.PathLike) -> tuple[Classifier, dict]:
    """The ``Classifier`` (in eval mode) and spec of a checkpoint written by ``chainrule
    train``."""
    from .checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    spec: Any = ckpt["extra"].get("model_spec")
    if not isinstance(spec, dict):
        raise ValueError(f"{os.fspath(path)!r} holds no model spec: it was not written by "
                         f"`chainrule train` (or by a version before checkpoints recorded "
                         f"their model); export your own models with cr.onnx.export")
    net = build_network(spec)
    net.load_state_dict(ckpt["model"])
    model = Classifier(net, spec)
    model.eval()
    return model, spec
